// Settings: the language (applied at once, kept by the core), the account this computer is
// signed in with and the way out of it, and which version is running.
import { useTranslation } from 'react-i18next';
import type { LanguagePreference, Me, Preferences } from '../api';
import { SignOutIcon } from '../icons';
import { LanguageSelect } from './LanguageSelect';

interface SettingsProps {
  me: Me;
  server: string;
  preferences: Preferences;
  signingOut: boolean;
  onLanguageChange: (language: LanguagePreference) => void;
  onSignOut: () => void;
}

export function Settings({
  me,
  server,
  preferences,
  signingOut,
  onLanguageChange,
  onSignOut,
}: SettingsProps) {
  const { t } = useTranslation();
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

      <section className="card" aria-labelledby="settings-about">
        <h2 id="settings-about" className="card-title">
          {t('settings.aboutSection')}
        </h2>
        <p className="about-line">
          <span className="about-name">{t('app.name')}</span>
          <span className="about-version" data-testid="app-version">
            {preferences.app_version === ''
              ? t('settings.versionUnknown')
              : t('settings.version', { version: preferences.app_version })}
          </span>
        </p>
      </section>
    </section>
  );
}
