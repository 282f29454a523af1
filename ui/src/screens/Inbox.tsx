// The inbox: the requests waiting for the signed-in person's decision. Until sync lands it
// is always empty, and says so plainly instead of looking broken.
import { useTranslation } from 'react-i18next';

function EmptyInboxIllustration() {
  return (
    <svg className="empty-illustration" viewBox="0 0 160 120" aria-hidden="true" focusable="false">
      <ellipse className="illustration-shadow" cx="80" cy="104" rx="52" ry="6" />
      <path
        className="illustration-paper"
        d="M50 24h60a4 4 0 0 1 4 4v44H46V28a4 4 0 0 1 4-4z"
      />
      <path className="illustration-line" d="M58 38h32M58 48h44M58 58h24" />
      <path
        className="illustration-tray"
        d="M30 66l12-22h6v28h64V44h6l12 22v28a6 6 0 0 1-6 6H36a6 6 0 0 1-6-6z"
      />
      <path className="illustration-tray-lip" d="M30 66h28l6 10h32l6-10h28" />
      <circle className="illustration-badge" cx="118" cy="28" r="14" />
      <path className="illustration-badge-tick" d="M111.5 28.5l4.5 4.5 8.5-9" />
    </svg>
  );
}

export function Inbox() {
  const { t } = useTranslation();
  return (
    <section className="view" aria-labelledby="view-title">
      <header className="view-header">
        <h1 id="view-title" className="view-title" tabIndex={-1}>
          {t('inbox.title')}
        </h1>
        <p className="view-subtitle">{t('inbox.subtitle')}</p>
      </header>
      <div className="empty-state" data-testid="inbox-empty">
        <EmptyInboxIllustration />
        <h2 className="empty-title">{t('inbox.emptyTitle')}</h2>
        <p className="empty-body">{t('inbox.emptyBody')}</p>
      </div>
    </section>
  );
}
