// About Countersign: which build this is and where it keeps its files, which is what IT
// support asks first. A button copies it all as plain text for a support ticket.
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import type { AboutInfo, CommandError } from '../api';
import { describeError } from '../errors';
import { AlertIcon, CheckIcon, CopyIcon, ProductMark } from '../icons';

interface AboutProps {
  onBack: () => void;
}

export function About({ onBack }: AboutProps) {
  const { t } = useTranslation();
  const [about, setAbout] = useState<AboutInfo | null>(null);
  const [error, setError] = useState<CommandError | null>(null);
  const [copied, setCopied] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    heading.current?.focus();
    const unmounted = new AbortController();
    void (async () => {
      const result = await api.about();
      if (unmounted.signal.aborted) return;
      if (result.status === 'ok') setAbout(result.data);
      else setError(result.error);
    })();
    return () => {
      unmounted.abort();
    };
  }, []);

  const unknown = t('about.unknown');
  const facts: [string, string, string][] =
    about === null
      ? []
      : [
          ['version', t('about.version'), about.version],
          ['commit', t('about.commit'), about.commit ?? unknown],
          ['tauri', t('about.tauri'), about.tauri_version],
          ['os', t('about.os'), about.os],
          ['profile', t('about.profileDir'), about.profile_dir ?? unknown],
          ['logs', t('about.logDir'), about.log_dir ?? unknown],
          [
            'keyring',
            t('about.signIn'),
            about.remembers_sign_in ? t('about.keyringYes') : t('about.keyringNo'),
          ],
        ];

  const copy = async () => {
    const text = facts.map(([, label, value]) => `${label}: ${value}`).join('\n');
    try {
      await navigator.clipboard.writeText(`Countersign\n${text}`);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };

  return (
    <section className="view" aria-labelledby="view-title" data-testid="about">
      <header className="view-header">
        <button type="button" className="back-button" onClick={onBack}>
          <span aria-hidden="true">←</span> {t('about.back')}
        </button>
        <h1 id="view-title" className="view-title" tabIndex={-1} ref={heading}>
          {t('about.title')}
        </h1>
      </header>

      <section className="card about-card" aria-labelledby="about-product">
        <div className="about-product">
          <ProductMark className="about-mark" />
          <div>
            <h2 id="about-product" className="card-title">
              {t('app.name')}
            </h2>
            <p className="hint">{t('app.tagline')}</p>
          </div>
        </div>

        {error !== null && (
          <div className="banner banner-error" role="alert" data-testid="about-error">
            <AlertIcon />
            <p>{t('about.failed', { reason: describeError(t, error) })}</p>
          </div>
        )}
        {about === null && error === null && (
          <div aria-busy="true">
            <span className="skeleton skeleton-line" />
            <span className="skeleton skeleton-line skeleton-short" />
          </div>
        )}
        {about !== null && (
          <>
            <dl className="facts">
              {facts.map(([key, label, value]) => (
                <div key={key}>
                  <dt>{label}</dt>
                  <dd
                    className={key === 'profile' || key === 'logs' || key === 'commit' ? 'facts-url' : undefined}
                    data-testid={`about-${key}`}
                  >
                    {value}
                  </dd>
                </div>
              ))}
            </dl>
            {!about.remembers_sign_in && (
              <p className="banner banner-warning" data-testid="about-keyring-warning">
                <AlertIcon />
                <span>{t('about.keyringHint')}</span>
              </p>
            )}
            <div className="card-actions">
              <button type="button" className="button button-secondary" onClick={() => void copy()}>
                {copied ? <CheckIcon /> : <CopyIcon />}
                {copied ? t('about.copied') : t('about.copy')}
              </button>
            </div>
          </>
        )}
      </section>
    </section>
  );
}
