// Sample people, sessions and answers for the UI tests.
import type {
  CommandError,
  CommandErrorCode,
  Me,
  Preferences,
  Result,
  SessionView,
} from '../api';

export const liLei: Me = {
  id: '0190d4a0-0000-7000-8000-000000000001',
  username: 'li.lei',
  display_name: '李雷',
  department: { id: '0190d4a0-0000-7000-8000-0000000000d1', name: '财务部' },
  roles: ['employee'],
};

export const englishPreferences: Preferences = {
  language: 'system',
  resolved_language: 'en',
  app_version: '0.1.0',
  notifications: true,
  meeting_reminder_minutes: 15,
};

export function signedIn(overrides: Partial<Extract<SessionView, { state: 'signed_in' }>> = {}) {
  return {
    state: 'signed_in',
    me: liLei,
    server: 'https://oa.example.com',
    offline: false,
    ...overrides,
  } satisfies SessionView;
}

export function signedOut(
  overrides: Partial<Extract<SessionView, { state: 'signed_out' }>> = {},
) {
  return {
    state: 'signed_out',
    reason: null,
    server: null,
    username: null,
    ...overrides,
  } satisfies SessionView;
}

export function commandError(
  code: CommandErrorCode,
  extra: Partial<CommandError> = {},
): CommandError {
  return { code, message: `core: ${code}`, url: null, retry_after_secs: null, ...extra };
}

export function ok<T>(data: T): Result<T, CommandError> {
  return { status: 'ok', data };
}

export function failed<T>(error: CommandError): Result<T, CommandError> {
  return { status: 'error', error };
}

/** A promise the test settles by hand, to look at the UI while a command is in flight. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}
