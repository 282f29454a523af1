// Settings: the language (applied at once, kept by the core), notifications and starting
// with the computer, the account this computer is signed in with and the way out of it, the
// other devices signed in to it, and help (about this version, reporting a problem).
import { useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import type { AppSettings, CommandError, LanguagePreference, Me, Preferences } from '../api';
import { describeError } from '../errors';
import { InfoIcon, ReportIcon, SignOutIcon } from '../icons';
import { LanguageSelect } from './LanguageSelect';
import { SettingsSessions } from './SettingsSessions';

interface SettingsProps {
  me: Me;
  server: string;
  preferences: Preferences;
  signingOut: boolean;
  onLanguageChange: (language: LanguagePreference) => void;
  onSignOut: () => void;
  /** The core's answer to a preference change, for the app to keep. */
  onPreferencesChange?: (preferences: Preferences) => void;
  onOpenAbout?: () => void;
  onReportProblem?: () => void;
}

interface ToggleProps {
  id: string;
  label: string;
  hint: string;
  checked: boolean;
  /** Not known yet (still loading) or being changed. */
  busy: boolean;
  error: CommandError | null;
  onChange: (on: boolean) => void;
}

/** An on/off setting: a switch, what it does, and why a change did not take. */
function Toggle({ id, label, hint, checked, busy, error, onChange }: ToggleProps) {
  const { t } = useTranslation();
  return (
    <div className="toggle-row">
      <input
        id={id}
        className="toggle"
        type="checkbox"
        role="switch"
        checked={checked}
        aria-disabled={busy}
        aria-describedby={`${id}-hint${error === null ? '' : ` ${id}-error`}`}
        onChange={(event) => {
          if (!busy) onChange(event.target.checked);
        }}
      />
      <div className="toggle-text">
        <label htmlFor={id}>{label}</label>
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
        {error !== null && (
          <p id={`${id}-error`} className="field-error" role="alert">
            {t('settings.changeFailed', { reason: describeError(t, error) })}
          </p>
        )}
      </div>
    </div>
  );
}

type Changing = 'notifications' | 'paused' | 'startAtLogin';

function Card({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id} className="card-title">
        {title}
      </h2>
      {children}
    </section>
  );
}

export function Settings({
  me,
  server,
  preferences,
  signingOut,
  onLanguageChange,
  onSignOut,
  onPreferencesChange,
  onOpenAbout,
  onReportProblem,
}: SettingsProps) {
  const { t } = useTranslation();
  const [app, setApp] = useState<AppSettings | null>(null);
  const [appError, setAppError] = useState<CommandError | null>(null);
  const [notifications, setNotifications] = useState(preferences.notifications);
  const [changing, setChanging] = useState<Changing | null>(null);
  const [failed, setFailed] = useState<{ about: Changing; error: CommandError } | null>(null);

  useEffect(() => {
    const unmounted = new AbortController();
    void (async () => {
      const result = await api.appSettings();
      if (unmounted.signal.aborted) return;
      if (result.status === 'ok') setApp(result.data);
      else setAppError(result.error);
    })();
    return () => {
      unmounted.abort();
    };
  }, []);

  // The switch moves at once; if the core cannot keep the change it moves back and says why.
  const change = async (about: Changing, on: boolean) => {
    setChanging(about);
    setFailed(null);
    if (about === 'notifications') {
      setNotifications(on);
      const result = await api.setNotifications(on);
      setChanging(null);
      if (result.status === 'ok') {
        setNotifications(result.data.notifications);
        onPreferencesChange?.(result.data);
      } else {
        setNotifications(!on);
        setFailed({ about, error: result.error });
      }
      return;
    }
    const before = app;
    if (before !== null) {
      setApp(
        about === 'paused'
          ? { ...before, notifications_paused: on }
          : { ...before, start_at_login: on },
      );
    }
    const result =
      about === 'paused' ? await api.setNotificationsPaused(on) : await api.setStartAtLogin(on);
    setChanging(null);
    if (result.status === 'ok') {
      setApp(result.data);
    } else {
      setApp(before);
      setFailed({ about, error: result.error });
    }
  };
  const errorOf = (about: Changing) => (failed?.about === about ? failed.error : null);

  return (
    <section className="view" aria-labelledby="view-title">
      <header className="view-header">
        <h1 id="view-title" className="view-title" tabIndex={-1}>
          {t('settings.title')}
        </h1>
      </header>

      <section className="card" aria-labelledby="settings-language">
        <h2 id="settings-language" className="card-title">
          {t('settings.languageSection')}
        </h2>
        <div className="field field-inline">
          <label htmlFor="language">{t('settings.languageField')}</label>
          <LanguageSelect
            id="language"
            value={preferences.language}
            onChange={onLanguageChange}
            describedBy="language-hint"
          />
        </div>
        <p id="language-hint" className="hint">
          {t('settings.languageHint')}
        </p>
      </section>

      <Card id="settings-notifications" title={t('settings.notificationsSection')}>
        <Toggle
          id="notifications"
          label={t('settings.notifications')}
          hint={t('settings.notificationsHint')}
          checked={notifications}
          busy={changing === 'notifications'}
          error={errorOf('notifications')}
          onChange={(on) => void change('notifications', on)}
        />
        <Toggle
          id="notifications-paused"
          label={t('settings.pause')}
          hint={t('settings.pauseHint')}
          checked={app?.notifications_paused ?? false}
          busy={app === null || changing === 'paused'}
          error={errorOf('paused')}
          onChange={(on) => void change('paused', on)}
        />
      </Card>

      <Card id="settings-computer" title={t('settings.computerSection')}>
        <Toggle
          id="start-at-login"
          label={t('settings.startAtLogin')}
          hint={t('settings.startAtLoginHint')}
          checked={app?.start_at_login ?? false}
          busy={app === null || changing === 'startAtLogin'}
          error={errorOf('startAtLogin')}
          onChange={(on) => void change('startAtLogin', on)}
        />
        {appError !== null && (
          <p className="field-error" data-testid="app-settings-error">
            {t('settings.appSettingsFailed', { reason: describeError(t, appError) })}
          </p>
        )}
      </Card>

      <section className="card" aria-labelledby="settings-account">
        <h2 id="settings-account" className="card-title">
          {t('settings.accountSection')}
        </h2>
        <dl className="facts">
          <div>
            <dt>{t('settings.displayName')}</dt>
            <dd>{me.display_name}</dd>
          </div>
          <div>
            <dt>{t('settings.username')}</dt>
            <dd>{me.username}</dd>
          </div>
          {me.department && (
            <div>
              <dt>{t('settings.department')}</dt>
              <dd>{me.department.name}</dd>
            </div>
          )}
          <div>
            <dt>{t('settings.server')}</dt>
            <dd className="facts-url">{server}</dd>
          </div>
        </dl>
        <div className="card-actions">
          <button
            id="sign-out"
            type="button"
            className="button button-danger"
            aria-disabled={signingOut}
            aria-describedby="sign-out-hint"
            onClick={() => {
              if (!signingOut) onSignOut();
            }}
          >
            {signingOut ? (
              <span className="spinner spinner-small" aria-hidden="true" />
            ) : (
              <SignOutIcon />
            )}
            {signingOut ? t('settings.signingOut') : t('settings.signOut')}
          </button>
          <p id="sign-out-hint" className="hint">
            {t('settings.signOutHint')}
          </p>
        </div>
      </section>

      <SettingsSessions />

      <section className="card" aria-labelledby="settings-about">
        <h2 id="settings-about" className="card-title">
          {t('settings.helpSection')}
        </h2>
        <p className="about-line">
          <span className="about-name">{t('app.name')}</span>
          <span className="about-version" data-testid="app-version">
            {preferences.app_version === ''
              ? t('settings.versionUnknown')
              : t('settings.version', { version: preferences.app_version })}
          </span>
        </p>
        <div className="card-actions">
          {onOpenAbout !== undefined && (
            <button
              type="button"
              className="button button-secondary"
              data-testid="open-about"
              onClick={onOpenAbout}
            >
              <InfoIcon />
              {t('settings.aboutOpen')}
            </button>
          )}
          {onReportProblem !== undefined && (
            <button
              type="button"
              className="button button-secondary"
              data-testid="report-problem-open"
              onClick={onReportProblem}
            >
              <ReportIcon />
              {t('settings.reportOpen')}
            </button>
          )}
        </div>
      </section>
    </section>
  );
}
