// The one door from the screens to the Rust core. Everything else imports commands and types
// from here, never from `./bindings`, so that regenerating the bindings touches one file.
//
// It also gives every command a single failure shape: the generated bindings throw when the
// IPC call itself fails (or when the page runs outside Tauri) and pass through whatever the
// core rejected with, which for a Tauri-level failure is a bare string. Screens only ever see
// a well-formed `CommandError`.
import { commands } from './bindings';
import type {
  ClientError,
  ClientErrorCode,
  LanguagePreference,
  Preferences,
  SessionView,
} from './bindings';

export type {
  DepartmentRef,
  Language,
  LanguagePreference,
  Me,
  Preferences,
  SessionView,
} from './bindings';

// The form renderer, new request, settings and about screens.
export type {
  AboutInfo,
  AppSettings,
  ComputedField,
  FieldDef,
  FieldType,
  FormSchema,
  ProblemReport,
  SelectOption,
  SessionInfo,
  TemplateInfo,
} from './bindings';

/** The core's error as the screens see it (`ClientError` in Rust). */
export type CommandError = ClientError;
export type CommandErrorCode = ClientErrorCode;

/** What every command resolves to: tauri-specta's result shape. */
export type Result<T, E> = { status: 'ok'; data: T } | { status: 'error'; error: E };

function isCommandError(value: unknown): value is CommandError {
  if (typeof value !== 'object' || value === null) return false;
  const { code, message } = value as Record<string, unknown>;
  return typeof code === 'string' && typeof message === 'string';
}

/** Turns anything a command rejected or threw with into a `CommandError`. */
export function toCommandError(value: unknown): CommandError {
  if (isCommandError(value)) {
    return {
      code: value.code,
      message: value.message,
      url: value.url ?? null,
      retry_after_secs: value.retry_after_secs ?? null,
    };
  }
  const message =
    value instanceof Error ? value.message : typeof value === 'string' ? value : String(value);
  return { code: 'internal', message, url: null, retry_after_secs: null };
}

async function settle<T>(
  call: () => Promise<Result<T, CommandError>>,
): Promise<Result<T, CommandError>> {
  try {
    const result = await call();
    return result.status === 'ok'
      ? result
      : { status: 'error', error: toCommandError(result.error) };
  } catch (thrown) {
    return { status: 'error', error: toCommandError(thrown) };
  }
}

export const api = {
  getPreferences: (): Promise<Result<Preferences, CommandError>> =>
    settle(() => commands.getPreferences()),
  setLanguage: (language: LanguagePreference): Promise<Result<Preferences, CommandError>> =>
    settle(() => commands.setLanguage(language)),
  restoreSession: (): Promise<Result<SessionView, CommandError>> =>
    settle(() => commands.restoreSession()),
  signIn: (
    server: string,
    username: string,
    password: string,
  ): Promise<Result<SessionView, CommandError>> =>
    settle(() => commands.signIn(server, username, password)),
  signOut: (): Promise<Result<SessionView, CommandError>> => settle(() => commands.signOut()),
};

