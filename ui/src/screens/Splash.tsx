// What the window shows while the core loads preferences and restores the session: never a
// blank page, and nothing that moves the layout when the real screen replaces it.
import { useTranslation } from 'react-i18next';
import { ProductMark } from '../icons';

export function Splash() {
  const { t } = useTranslation();
  return (
    <div className="splash" data-testid="splash" role="status" aria-live="polite">
      <ProductMark className="splash-mark" />
      <p className="splash-name">{t('app.name')}</p>
      <span className="spinner" aria-hidden="true" />
      <span className="visually-hidden">{t('app.starting')}</span>
    </div>
  );
}
