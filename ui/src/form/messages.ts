// Which message belongs at which field. The core reports every problem of a draft by path
// (`purpose`, `lines[0].amount`, `lines[0]` for a whole row, `lines` for the table), already
// in the UI language; a value it refused outright comes back as an `invalid_input` error
// whose message names the path. Both end up next to the input they are about.
import type { CommandError, DraftView } from '../api';

export type DraftError = DraftView['errors'][number];

export interface FieldMessage {
  path: string;
  key: string;
  message: string;
  /** The value typed was refused and is not saved (the draft kept the previous one). */
  refused: boolean;
}

/**
 * The sentence to show at the field for a refused value. The core writes
 * `lines[0].amount: Must be at least 0.01 — the draft was not changed.`; the field only needs
 * the middle. A message in another shape is shown whole rather than guessed at.
 */
export function refusalText(error: CommandError, path: string): string {
  const message = error.message.trim();
  const body = message.replace(/\s*[—-]+\s*the draft was not changed\.?$/i, '');
  const parts = body
    .split('; ')
    .map((part) => {
      const colon = part.indexOf(': ');
      if (colon === -1) return part;
      const where = part.slice(0, colon);
      return where === path || where.startsWith(`${path}.`) || where.startsWith(`${path}[`)
        ? part.slice(colon + 2)
        : part;
    })
    .filter((part) => part !== '');
  return parts.length === 0 ? message : parts.join(' ');
}

export interface MessageSources {
  errors: readonly DraftError[];
  /** Refused values by path: the message to show there. */
  refused: Readonly<Record<string, string>>;
  /** Paths whose typed value is not answered yet: the core's word on them is out of date. */
  pending: ReadonlySet<string>;
  /** Paths the person has been to; "required" waits for them (or for a submit attempt). */
  touched: ReadonlySet<string>;
  showAll: boolean;
}

/** Whether a path is `path` or inside it (a table's rows and cells). */
export function isWithin(candidate: string, path: string): boolean {
  return candidate === path || candidate.startsWith(`${path}[`) || candidate.startsWith(`${path}.`);
}

/** The messages to show at `path` exactly. */
export function messagesAt(sources: MessageSources, path: string): FieldMessage[] {
  const refused = sources.refused[path];
  if (refused !== undefined) return [{ path, key: 'refused', message: refused, refused: true }];
  if (sources.pending.has(path)) return [];
  return sources.errors
    .filter((error) => error.path === path)
    .filter((error) => error.key !== 'required' || sources.showAll || sources.touched.has(path))
    .map((error) => ({ ...error, refused: false }));
}

/** Everything that stops a submit, in form order, refused values first. */
export function blockingMessages(
  errors: readonly DraftError[],
  refused: Readonly<Record<string, string>>,
): FieldMessage[] {
  const fromRefused = Object.entries(refused).map(([path, message]) => ({
    path,
    key: 'refused',
    message,
    refused: true,
  }));
  const fromErrors = errors
    .filter((error) => refused[error.path] === undefined)
    .map((error) => ({ ...error, refused: false }));
  return [...fromRefused, ...fromErrors];
}
