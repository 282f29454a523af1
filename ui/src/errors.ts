// Turns a `CommandError` from the core into a sentence a clerk understands, in the active
// language. The code picks the sentence; `url` and `retry_after_secs` fill it in. A code this
// build does not know (a newer core) falls back to the core's own message.
import type { TFunction } from 'i18next';
import type { CommandError, CommandErrorCode } from './api';
import type en from './locales/en.json';

type ErrorKey = `errors.${keyof typeof en.errors}`;

// A `Record` so that a code added to the bindings fails the type check until it is explained.
const sentences: Record<CommandErrorCode, ErrorKey> = {
  invalid_server_url: 'errors.invalid_server_url',
  server_unreachable: 'errors.server_unreachable',
  server_untrusted: 'errors.server_untrusted',
  not_countersign: 'errors.not_countersign',
  invalid_credentials: 'errors.invalid_credentials',
  login_throttled: 'errors.login_throttled',
  account_disabled: 'errors.account_disabled',
  session_expired: 'errors.session_expired',
  session_revoked: 'errors.session_revoked',
  signed_out: 'errors.signed_out',
  keyring_unavailable: 'errors.keyring_unavailable',
  server_error: 'errors.server_error',
  settings: 'errors.settings',
  cache: 'errors.cache',
  invalid_input: 'errors.invalid_input',
  not_found: 'errors.not_found',
  refused: 'errors.refused',
  file_unreadable: 'errors.file_unreadable',
  file_too_large: 'errors.file_too_large',
  file_type_not_accepted: 'errors.file_type_not_accepted',
  internal: 'errors.internal',
};

/** Codes whose message the core words in the person's language with the details (the file,
 * the size limit, the accepted types); the sentence is only the fallback. */
const toldByTheCore: ReadonlySet<string> = new Set([
  'file_unreadable',
  'file_too_large',
  'file_type_not_accepted',
]);

/** Sentences that name the server, and their wording for when no address is known. */
const withoutUrl: Partial<Record<CommandErrorCode, ErrorKey>> = {
  invalid_server_url: 'errors.invalid_server_url_no_url',
  server_unreachable: 'errors.server_unreachable_no_url',
  server_untrusted: 'errors.server_untrusted_no_url',
  not_countersign: 'errors.not_countersign_no_url',
};

export const explainedCodes = Object.keys(sentences) as CommandErrorCode[];

function isExplained(code: string): code is CommandErrorCode {
  return Object.hasOwn(sentences, code);
}

export interface ErrorContext {
  /** The server address the user typed, for errors that arrive without one. */
  server?: string;
}

export function describeError(
  t: TFunction,
  error: CommandError,
  context: ErrorContext = {},
): string {
  const code: string = error.code;
  if (!isExplained(code)) return error.message.trim() || t('errors.unknown');
  if (toldByTheCore.has(code) && error.message.trim() !== '') return error.message;

  if (code === 'login_throttled') {
    return error.retry_after_secs === null
      ? t('errors.login_throttled_later')
      : t('errors.login_throttled', { seconds: Math.max(1, Math.ceil(error.retry_after_secs)) });
  }

  const url = error.url ?? context.server?.trim() ?? '';
  const fallback = withoutUrl[code];
  if (fallback !== undefined && url === '') return t(fallback);
  return t(sentences[code], { url });
}
