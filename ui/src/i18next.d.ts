// Typed translation keys: `t('a.missing.key')` fails the type check. The English catalogue
// is the reference; the parity test keeps zh-CN's keys identical to it.
import 'i18next';
import type en from './locales/en.json';

declare module 'i18next' {
  interface CustomTypeOptions {
    defaultNS: 'translation';
    resources: { translation: typeof en };
  }
}
