// The sign-in screen: server address, user name and password, with the reason the user was
// signed out (if any) above the form and what went wrong with the last attempt below it.
// It owns the attempt; the session that results is handed up to the app.
import { useEffect, useRef, useState } from 'react';
import type { SubmitEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import type { CommandError, LanguagePreference, SessionView } from '../api';
import { describeError } from '../errors';
import { AlertIcon, GlobeIcon, ProductMark } from '../icons';
import { LanguageSelect } from './LanguageSelect';

type Field = 'server' | 'username' | 'password';

type Problem =
  | { kind: 'missing'; field: Field }
  | { kind: 'refused'; error: CommandError; server: string };

/** Which field a refusal is about, so it can be marked and focused. */
function fieldOf(error: CommandError): Field | null {
  switch (error.code) {
    case 'invalid_server_url':
    case 'server_unreachable':
    case 'server_untrusted':
    case 'not_countersign':
      return 'server';
    case 'invalid_credentials':
      return 'password';
    default:
      return null;
  }
}

/** Why a sign-in that did not fail still left the user signed out. */
function refusalOf(session: SessionView): CommandError {
  const fallback: CommandError = { code: 'internal', message: '', url: null, retry_after_secs: null };
  return session.state === 'signed_out' ? (session.reason ?? fallback) : fallback;
}

const missingSentence = {
  server: 'signIn.missingServer',
  username: 'signIn.missingUsername',
  password: 'signIn.missingPassword',
} as const;

interface SignInProps {
  server: string | null;
  username: string | null;
  /** Why the user is signed out (session revoked, expired…), shown until they try again. */
  reason: CommandError | null;
  language: LanguagePreference;
  onLanguageChange: (language: LanguagePreference) => void;
  onSignedIn: (session: SessionView) => void;
}

export function SignIn(props: SignInProps) {
  const { t } = useTranslation();
  const [server, setServer] = useState(props.server ?? '');
  const [username, setUsername] = useState(props.username ?? '');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [reason, setReason] = useState(props.reason);

  const serverInput = useRef<HTMLInputElement>(null);
  const usernameInput = useRef<HTMLInputElement>(null);
  const passwordInput = useRef<HTMLInputElement>(null);

  const focus = (field: Field, select = false) => {
    const input = { server: serverInput, username: usernameInput, password: passwordInput }[field]
      .current;
    input?.focus();
    if (select) input?.select();
  };

  // Start where the user has something to type: a returning user only needs the password.
  const firstEmpty: Field =
    (props.server ?? '') === '' ? 'server' : (props.username ?? '') === '' ? 'username' : 'password';
  const [initialFocus] = useState(firstEmpty);
  useEffect(() => {
    focus(initialFocus);
    // Only on mount: later focus follows what the user does.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const submit = async (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    await attempt('remember');
  };

  /**
   * One sign-in attempt: remembered in the OS keyring, or — when the keyring cannot be used
   * and the person chose so — for this session only, with nothing secret written anywhere.
   */
  const attempt = async (how: 'remember' | 'session') => {
    if (busy) return;

    const typed = { server: server.trim(), username: username.trim(), password };
    const missing = (['server', 'username', 'password'] as const).find((f) => typed[f] === '');
    if (missing !== undefined) {
      setProblem({ kind: 'missing', field: missing });
      focus(missing);
      return;
    }

    setBusy(true);
    setProblem(null);
    setReason(null);
    const result =
      how === 'remember'
        ? await api.signIn(typed.server, typed.username, typed.password)
        : await api.signInForThisSession(typed.server, typed.username, typed.password);
    if (result.status === 'ok' && result.data.state === 'signed_in') {
      props.onSignedIn(result.data);
      return;
    }

    const error = result.status === 'error' ? result.error : refusalOf(result.data);
    setBusy(false);
    setProblem({ kind: 'refused', error, server: typed.server });
    const field = fieldOf(error);
    if (field === 'password') {
      setPassword('');
      focus('password');
    } else if (field !== null) {
      focus(field, true);
    }
  };

  const problemField =
    problem === null ? null : problem.kind === 'missing' ? problem.field : fieldOf(problem.error);
  const problemText =
    problem === null
      ? null
      : problem.kind === 'missing'
        ? t(missingSentence[problem.field])
        : describeError(t, problem.error, { server: problem.server });

  // The keyring is locked, missing or refused: the person can still work, for this session.
  const keyringUnavailable = problem?.kind === 'refused' && problem.error.code === 'keyring_unavailable';

  const invalid = (field: Field) =>
    problemField === field ? { 'aria-invalid': true, 'aria-describedby': 'sign-in-error' } : {};

  return (
    <div className="sign-in-page">
      <div className="sign-in-language">
        <GlobeIcon />
        <label className="visually-hidden" htmlFor="sign-in-language">
          {t('language.label')}
        </label>
        <LanguageSelect
          id="sign-in-language"
          className="select-quiet"
          value={props.language}
          onChange={props.onLanguageChange}
        />
      </div>

      <main className="sign-in-card">
        <header className="sign-in-brand">
          <ProductMark className="sign-in-mark" />
          <p className="sign-in-product">{t('app.name')}</p>
          <p className="sign-in-tagline">{t('app.tagline')}</p>
        </header>

        <h1 className="sign-in-title">{t('signIn.title')}</h1>
        <p className="sign-in-subtitle">{t('signIn.subtitle')}</p>

        {reason !== null && (
          <div className="banner banner-warning" data-testid="signed-out-reason" role="status">
            <AlertIcon />
            <p>{describeError(t, reason, { server })}</p>
          </div>
        )}

        <form className="form" onSubmit={(event) => void submit(event)} aria-busy={busy} noValidate>
          <div className="field">
            <label htmlFor="server">{t('signIn.server')}</label>
            <input
              id="server"
              ref={serverInput}
              className="input"
              type="text"
              inputMode="url"
              autoComplete="url"
              autoCapitalize="off"
              autoCorrect="off"
              spellCheck={false}
              placeholder={t('signIn.serverPlaceholder')}
              value={server}
              readOnly={busy}
              onChange={(event) => {
                setServer(event.target.value);
              }}
              {...invalid('server')}
            />
          </div>
          <div className="field">
            <label htmlFor="username">{t('signIn.username')}</label>
            <input
              id="username"
              ref={usernameInput}
              className="input"
              type="text"
              autoComplete="username"
              autoCapitalize="off"
              autoCorrect="off"
              spellCheck={false}
              value={username}
              readOnly={busy}
              onChange={(event) => {
                setUsername(event.target.value);
              }}
              {...invalid('username')}
            />
          </div>
          <div className="field">
            <label htmlFor="password">{t('signIn.password')}</label>
            <input
              id="password"
              ref={passwordInput}
              className="input"
              type="password"
              autoComplete="current-password"
              value={password}
              readOnly={busy}
              onChange={(event) => {
                setPassword(event.target.value);
              }}
              {...invalid('password')}
            />
          </div>

          <button
            id="sign-in"
            className="button button-primary button-block"
            type="submit"
            aria-disabled={busy}
          >
            {busy && <span className="spinner spinner-small" aria-hidden="true" />}
            {busy ? t('signIn.submitting') : t('signIn.submit')}
          </button>

          {keyringUnavailable ? (
            <div
              id="sign-in-error"
              className="banner banner-warning keyring-choice"
              data-testid="sign-in-error"
              role="alert"
            >
              <AlertIcon />
              <div>
                <p>{t('signIn.keyringUnavailable')}</p>
                <button
                  id="sign-in-session"
                  type="button"
                  className="button button-secondary"
                  aria-disabled={busy}
                  onClick={() => void attempt('session')}
                >
                  {t('signIn.sessionOnly')}
                </button>
                <p className="hint">{t('signIn.sessionOnlyHint')}</p>
              </div>
            </div>
          ) : (
            problemText !== null && (
              <div
                id="sign-in-error"
                className="banner banner-error"
                data-testid="sign-in-error"
                role="alert"
              >
                <AlertIcon />
                <p>{problemText}</p>
              </div>
            )
          )}
        </form>

        <p className="sign-in-footer">{t('signIn.footer')}</p>
      </main>
    </div>
  );
}
