// A stand-in for Tauri's event bus. Tests replace `@tauri-apps/api/event` with it through
// `vi.mock` and play the Rust side with `emitEvent`; `src/events.ts` runs unchanged above it.
import type { EventCallback, UnlistenFn } from '@tauri-apps/api/event';

const listeners = new Map<string, Set<EventCallback<unknown>>>();
let nextId = 1;

export function fakeListen<T>(event: string, handler: EventCallback<T>): Promise<UnlistenFn> {
  const callback = handler as EventCallback<unknown>;
  const set = listeners.get(event) ?? new Set();
  set.add(callback);
  listeners.set(event, set);
  return Promise.resolve(() => {
    set.delete(callback);
  });
}

/** Delivers `payload` to every listener of `event`, as the Rust side's `emit` does. */
export function emitEvent(event: string, payload: unknown): void {
  for (const handler of [...(listeners.get(event) ?? [])]) {
    handler({ event, id: nextId++, payload });
  }
}

/** How many listen to `event` now, to wait until a screen has subscribed. */
export function listenerCount(event: string): number {
  return listeners.get(event)?.size ?? 0;
}

export function resetFakeEvents(): void {
  listeners.clear();
}
