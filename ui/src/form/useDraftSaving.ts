// Saving a draft as it is typed. Each field's change waits ~400 ms for the next keystroke,
// then goes to the core with `draftSet`; leaving the field, submitting or leaving the screen
// sends it at once. Saves go one after another, so the last answer is the draft as it now is;
// each answer replaces the draft (computed totals and leave days follow the typing). A value
// the core refuses stays on screen with the reason at its field; the saved draft keeps the
// previous one.
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, toCommandError } from '../api';
import type { AttachOutcome, CommandError, DraftView, Result } from '../api';
import { refusalText } from './messages';
import { rowsOf, valueAt } from './schema';

export const DEBOUNCE_MS = 400;

/** The draft's title travels with the fields' saves under a key no field can have. */
export const TITLE_PATH = '#title';

export interface Latest {
  draft: DraftView;
  refused: Readonly<Record<string, string>>;
  failure: CommandError | null;
}

/** Moves what is typed in rows after `removed` of `table` up by one row, and drops its own. */
function shiftRows<T>(entries: Iterable<[string, T]>, table: string, removed: number): [string, T][] {
  const cell = new RegExp(`^${table}\\[(\\d+)\\](.*)$`);
  const out: [string, T][] = [];
  for (const [path, value] of entries) {
    const match = cell.exec(path);
    if (match === null) {
      out.push([path, value]);
      continue;
    }
    const row = Number(match[1]);
    if (row === removed) continue;
    out.push([row > removed ? `${table}[${String(row - 1)}]${match[2] ?? ''}` : path, value]);
  }
  return out;
}

export function useDraftSaving(initial: DraftView) {
  const [draft, setDraft] = useState(initial);
  const [pending, setPending] = useState<ReadonlyMap<string, unknown>>(new Map());
  const [refused, setRefused] = useState<Readonly<Record<string, string>>>({});
  const [failure, setFailure] = useState<CommandError | null>(null);
  const [inFlight, setInFlight] = useState(0);

  const id = initial.id;
  const timers = useRef(new Map<string, ReturnType<typeof setTimeout>>());
  /** Changes typed but not yet handed to the save queue. */
  const unsent = useRef(new Map<string, unknown>());
  const queue = useRef<Promise<unknown>>(Promise.resolve());
  const latest = useRef<Latest>({ draft: initial, refused: {}, failure: null });

  const send = useCallback(
    async (path: string, value: unknown) => {
      setInFlight((count) => count + 1);
      const result =
        path === TITLE_PATH
          ? await api.draftTitle(id, typeof value === 'string' ? value : '')
          : await api.draftSet(id, path, JSON.stringify(value ?? null));
      setInFlight((count) => count - 1);
      if (result.status === 'ok') {
        latest.current = {
          draft: result.data,
          refused: Object.fromEntries(
            Object.entries(latest.current.refused).filter(([at]) => at !== path),
          ),
          failure: null,
        };
        setDraft(result.data);
        setFailure(null);
        setRefused(latest.current.refused);
        // What is on screen is now saved, unless the person has typed on since.
        setPending((before) => {
          if (before.get(path) !== value || unsent.current.has(path)) return before;
          const after = new Map(before);
          after.delete(path);
          return after;
        });
        return;
      }
      if (result.error.code === 'invalid_input' && path !== TITLE_PATH) {
        latest.current = {
          ...latest.current,
          refused: { ...latest.current.refused, [path]: refusalText(result.error, path) },
        };
        setRefused(latest.current.refused);
        return;
      }
      latest.current = { ...latest.current, failure: result.error };
      setFailure(result.error);
    },
    [id],
  );

  const enqueue = useCallback((work: () => Promise<unknown>) => {
    const next = queue.current.then(work, work);
    queue.current = next;
    return next;
  }, []);

  const flush = useCallback(
    (path: string) => {
      const timer = timers.current.get(path);
      if (timer !== undefined) clearTimeout(timer);
      timers.current.delete(path);
      if (!unsent.current.has(path)) return queue.current;
      const value = unsent.current.get(path);
      unsent.current.delete(path);
      return enqueue(() => send(path, value));
    },
    [enqueue, send],
  );

  /** Sends every waiting change and resolves once all are answered. */
  const flushAll = useCallback(async (): Promise<Latest> => {
    for (const path of [...unsent.current.keys()]) void flush(path);
    await queue.current;
    return latest.current;
  }, [flush]);

  const change = useCallback(
    (path: string, value: unknown) => {
      setPending((before) => new Map(before).set(path, value));
      unsent.current.set(path, value);
      const timer = timers.current.get(path);
      if (timer !== undefined) clearTimeout(timer);
      timers.current.set(
        path,
        setTimeout(() => void flush(path), DEBOUNCE_MS),
      );
    },
    [flush],
  );

  /** Sends again what failed to save (the cache was busy, the disk full…). */
  const retry = useCallback(() => {
    for (const [path, value] of pending) {
      if (!unsent.current.has(path) && refused[path] === undefined) {
        unsent.current.set(path, value);
        void flush(path);
      }
    }
  }, [flush, pending, refused]);

  const addRow = useCallback(
    async (table: string) => {
      await flushAll();
      const rows = rowsOf(valueAt(latest.current.draft.form, table));
      await enqueue(() => send(`${table}[${String(rows.length)}]`, {}));
    },
    [enqueue, flushAll, send],
  );

  const removeRow = useCallback(
    async (table: string, row: number) => {
      await flushAll();
      const rows = rowsOf(valueAt(latest.current.draft.form, table)).filter((_, at) => at !== row);
      latest.current = {
        ...latest.current,
        refused: Object.fromEntries(shiftRows(Object.entries(latest.current.refused), table, row)),
      };
      setRefused(latest.current.refused);
      setPending((before) => new Map(shiftRows(before, table, row)));
      await enqueue(() => send(table, rows.length === 0 ? null : rows));
    },
    [enqueue, flushAll, send],
  );

  /** The draft as the core answered an attach or a detach (no field is typed at). */
  const replaced = useCallback((next: DraftView) => {
    latest.current = { ...latest.current, draft: next };
    setDraft(next);
  }, []);

  /** Adds files to the attachments field at `path`: picked in the system's dialog, or the
   * ones just dropped on the window. Waits for the saves before it, like every change. */
  const attach = useCallback(
    async (path: string, how: 'pick' | 'dropped'): Promise<Result<AttachOutcome, CommandError>> => {
      await flushAll();
      let result: Result<AttachOutcome, CommandError> | undefined;
      await enqueue(async () => {
        result =
          how === 'pick' ? await api.draftAttachPick(id, path) : await api.draftAttachDropped(id, path);
      });
      if (result === undefined) return { status: 'error', error: toCommandError('not attached') };
      if (result.status === 'ok') replaced(result.data.draft);
      return result;
    },
    [enqueue, flushAll, id, replaced],
  );

  /** Takes a file out of the field at `path` (its copy goes when nothing needs it). */
  const detach = useCallback(
    async (path: string, attachment: string): Promise<Result<DraftView, CommandError>> => {
      await flushAll();
      let result: Result<DraftView, CommandError> | undefined;
      await enqueue(async () => {
        result = await api.draftDetach(id, path, attachment);
      });
      if (result === undefined) return { status: 'error', error: toCommandError('not removed') };
      if (result.status === 'ok') replaced(result.data);
      return result;
    },
    [enqueue, flushAll, id, replaced],
  );

  /** Replaces the draft with a fresh read (the language changed: messages come anew). */
  const reload = useCallback(async () => {
    const result = await api.draft(id);
    if (result.status === 'ok') {
      latest.current = { ...latest.current, draft: result.data };
      setDraft(result.data);
    }
  }, [id]);

  // Leaving the screen must not lose the last keystrokes: send what is still waiting.
  useEffect(() => {
    const waiting = timers.current;
    return () => {
      for (const timer of waiting.values()) clearTimeout(timer);
      waiting.clear();
      void flushAll();
    };
  }, [flushAll]);

  const valueOf = useCallback(
    (path: string) => (pending.has(path) ? pending.get(path) : valueAt(draft.form, path)),
    [draft.form, pending],
  );

  const unsaved = [...pending.keys()].some((path) => refused[path] === undefined);

  return {
    draft,
    pending,
    refused,
    failure,
    saving: inFlight > 0 || (unsaved && failure === null),
    valueOf,
    change,
    flush,
    flushAll,
    retry,
    addRow,
    removeRow,
    reload,
    attach,
    detach,
  };
}
