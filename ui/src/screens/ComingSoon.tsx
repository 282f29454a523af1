// The page behind a navigation entry whose screen is not built yet: it names the feature,
// says it is coming, and offers the way back.
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

interface ComingSoonProps {
  feature: string;
  icon: ReactNode;
  onBack: () => void;
}

export function ComingSoon({ feature, icon, onBack }: ComingSoonProps) {
  const { t } = useTranslation();
  return (
    <section className="view" aria-labelledby="view-title">
      <header className="view-header">
        <h1 id="view-title" className="view-title" tabIndex={-1}>
          {feature}
        </h1>
      </header>
      <div className="empty-state" data-testid="coming-soon">
        <div className="coming-soon-icon">{icon}</div>
        <h2 className="empty-title">{t('comingSoon.title')}</h2>
        <p className="empty-body">{t('comingSoon.body', { feature })}</p>
        <button type="button" className="button button-secondary" onClick={onBack}>
          {t('comingSoon.back')}
        </button>
      </div>
    </section>
  );
}
