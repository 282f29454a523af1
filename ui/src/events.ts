// What the Rust side tells the window without being asked: the lists may have changed (a sync
// brought something, a decision left the outbox), a request should be shown (a notification,
// the tray or a countersign:// link), the server describes the signed-in person differently
// from what this device remembered, or the sign-in ended while the app ran.
//
// Screens subscribe here, never to `@tauri-apps/api/event` directly, so that the event names
// and payload types live in one place and tests can fake the one function underneath.
// Outside Tauri (tests, a plain browser) `listen` fails; that simply means no events arrive.
import { listen } from '@tauri-apps/api/event';
import { api, toCommandError } from './api';
import type { CommandError, OpenRequest, SessionView } from './api';

export const CHANGED = 'countersign://changed';
export const OPEN_REQUEST = 'countersign://open-request';
export const SESSION_ENDED = 'countersign://session-ended';
export const SESSION_CHANGED = 'countersign://session-changed';
export const FILES_DROPPED = 'countersign://files-dropped';

/** Files dropped on the window: their names and where they fell (CSS pixels). The paths stay
 * in Rust; the form asks to attach "the dropped files" to the field under the drop. */
export interface FilesDropped {
  names: string[];
  x: number;
  y: number;
}

export type Unsubscribe = () => void;

/**
 * Calls `handler` with each payload of `event` until the returned function is called. The
 * subscription is made asynchronously; unsubscribing before it is made still undoes it.
 */
function subscribe(event: string, handler: (payload: unknown) => void): Unsubscribe {
  let stopped = false;
  let unlisten: (() => void) | null = null;
  listen(event, (received) => {
    if (!stopped) handler(received.payload);
  }).then(
    (done) => {
      if (stopped) done();
      else unlisten = done;
    },
    () => {
      // Not running inside Tauri: there is nothing to listen to.
    },
  );
  return () => {
    stopped = true;
    unlisten?.();
    unlisten = null;
  };
}

/** Lists (inbox, my requests, drafts) and the sync status may have changed. */
export function onChanged(handler: () => void): Unsubscribe {
  return subscribe(CHANGED, () => {
    handler();
  });
}

/**
 * Show a request (from a notification, the tray or a link), or say why one cannot be.
 *
 * The core keeps what is to be opened until the window takes it, because a link can arrive
 * before the window listens (the link that started the app) or while nobody is signed in.
 * So the event is only a nudge: each nudge, and subscribing itself, takes what waits.
 */
export function onOpenRequest(handler: (request: OpenRequest) => void): Unsubscribe {
  let stopped = false;
  const take = () => {
    void api.takeOpenedRequest().then((result) => {
      if (!stopped && result.status === 'ok' && result.data !== null) handler(result.data);
    });
  };
  const unsubscribe = subscribe(OPEN_REQUEST, take);
  take();
  return () => {
    stopped = true;
    unsubscribe();
  };
}

/** The sign-in ended (expired, revoked): the window goes back to signing in, with why. */
export function onSessionEnded(handler: (reason: CommandError) => void): Unsubscribe {
  return subscribe(SESSION_ENDED, (reason) => {
    handler(toCommandError(reason));
  });
}

/**
 * The signed-in person as the server now describes them. The window starts on the identity
 * this device remembered (it does not wait for the server); this brings a changed name or
 * roles once the server has answered.
 */
export function onSessionChanged(handler: (session: SessionView) => void): Unsubscribe {
  return subscribe(SESSION_CHANGED, (payload) => {
    const session = payload as Partial<SessionView> | null;
    if (session?.state === 'signed_in' && typeof session.me?.username === 'string') {
      handler(session as SessionView);
    }
  });
}

/** Files were dropped on the window. */
export function onFilesDropped(handler: (dropped: FilesDropped) => void): Unsubscribe {
  return subscribe(FILES_DROPPED, (payload) => {
    const { names, x, y } = (payload ?? {}) as Partial<FilesDropped>;
    if (Array.isArray(names) && typeof x === 'number' && typeof y === 'number') {
      handler({ names, x, y });
    }
  });
}
