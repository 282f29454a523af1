// The devices signed in to this account, as the server knows them, and the way to sign one
// out (a lost laptop, an old office PC). The list needs the server: offline, it says so in
// words and offers to try again rather than showing an empty list that would mislead.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import type { CommandError, SessionInfo } from '../api';
import { describeError } from '../errors';
import { ConfirmDialog } from '../form/ConfirmDialog';
import { AlertIcon } from '../icons';
import { dateTimeFormat } from '../intlFormats';

type Sessions =
  | { state: 'loading' }
  | { state: 'failed'; error: CommandError }
  | { state: 'ready'; sessions: SessionInfo[] };

export function whenText(instant: string, language: string): string {
  const at = new Date(instant);
  if (Number.isNaN(at.getTime())) return instant;
  return dateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' }).format(at);
}

/** This device first, then the most recently seen. */
function ordered(sessions: SessionInfo[]): SessionInfo[] {
  return [...sessions].sort((a, b) => {
    if (a.current === true) return -1;
    if (b.current === true) return 1;
    return b.last_seen_at.localeCompare(a.last_seen_at);
  });
}

export function SettingsSessions() {
  const { t, i18n } = useTranslation();
  const [sessions, setSessions] = useState<Sessions>({ state: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const [revoking, setRevoking] = useState<SessionInfo | null>(null);
  const [busy, setBusy] = useState(false);
  const [revokeError, setRevokeError] = useState<CommandError | null>(null);
  const [revoked, setRevoked] = useState<string | null>(null);

  useEffect(() => {
    const unmounted = new AbortController();
    void (async () => {
      const result = await api.sessions();
      if (unmounted.signal.aborted) return;
      setSessions(
        result.status === 'ok'
          ? { state: 'ready', sessions: ordered(result.data) }
          : { state: 'failed', error: result.error },
      );
    })();
    return () => {
      unmounted.abort();
    };
  }, [attempt]);

  const revoke = async (session: SessionInfo) => {
    setBusy(true);
    setRevokeError(null);
    const result = await api.revokeSession(session.id);
    setBusy(false);
    if (result.status === 'error') {
      setRevokeError(result.error);
      return;
    }
    setRevoking(null);
    setRevoked(session.device_name);
    setSessions((before) =>
      before.state === 'ready'
        ? { state: 'ready', sessions: before.sessions.filter((s) => s.id !== session.id) }
        : before,
    );
  };

  return (
    <section className="card" aria-labelledby="settings-sessions" data-testid="sessions">
      <h2 id="settings-sessions" className="card-title">
        {t('settings.sessionsSection')}
      </h2>
      <p className="hint">{t('settings.sessionsHint')}</p>

      {revoked !== null && (
        <p className="banner banner-success" role="status" data-testid="session-revoked">
          {t('settings.sessionRevoked', { device: revoked })}
        </p>
      )}

      {sessions.state === 'loading' && (
        <ul className="session-list" aria-busy="true">
          {[0, 1].map((n) => (
            <li key={n} className="session" aria-hidden="true">
              <span className="skeleton skeleton-line" />
            </li>
          ))}
        </ul>
      )}

      {sessions.state === 'failed' && (
        <div className="banner banner-error" data-testid="sessions-error">
          <AlertIcon />
          <p>{t('settings.sessionsFailed', { reason: describeError(t, sessions.error) })}</p>
          <button
            type="button"
            className="link-button"
            onClick={() => {
              setSessions({ state: 'loading' });
              setAttempt((n) => n + 1);
            }}
          >
            {t('settings.tryAgain')}
          </button>
        </div>
      )}

      {sessions.state === 'ready' && (
        <ul className="session-list">
          {sessions.sessions.map((session) => (
            <li key={session.id} className="session" data-testid={`session-${session.id}`}>
              <div className="session-text">
                <span className="session-device">
                  {session.device_name === '' ? t('settings.unnamedDevice') : session.device_name}
                  {session.current === true && (
                    <span className="badge badge-this-device">{t('settings.thisDevice')}</span>
                  )}
                </span>
                <span className="session-meta">
                  {t('settings.lastSeen', { when: whenText(session.last_seen_at, i18n.language) })}
                  {session.source !== undefined && session.source !== null && session.source !== ''
                    ? ` · ${session.source}`
                    : ''}
                </span>
              </div>
              {session.current === true ? (
                <span className="hint">{t('settings.thisDeviceHint')}</span>
              ) : (
                <button
                  type="button"
                  className="button button-danger button-small"
                  aria-label={t('settings.revokeDevice', { device: session.device_name })}
                  onClick={() => {
                    setRevoked(null);
                    setRevokeError(null);
                    setRevoking(session);
                  }}
                >
                  {t('settings.revoke')}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}

      {revoking !== null && (
        <ConfirmDialog
          testId="confirm-revoke"
          title={t('settings.revokeTitle', { device: revoking.device_name })}
          body={<p>{t('settings.revokeBody')}</p>}
          confirmLabel={t('settings.revokeConfirm')}
          cancelLabel={t('settings.cancel')}
          danger
          busy={busy}
          error={revokeError === null ? null : describeError(t, revokeError)}
          onConfirm={() => void revoke(revoking)}
          onCancel={() => {
            setRevoking(null);
          }}
        />
      )}
    </section>
  );
}
