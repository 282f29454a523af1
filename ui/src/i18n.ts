// The UI's languages: the two catalogues, the shared i18next instance, and the link between
// the active language and the document (`<html lang>` drives fonts, hyphenation and screen
// readers; the title is what the window and the task switcher show).
import i18next from 'i18next';
import { initReactI18next } from 'react-i18next';
import type { Language } from './api';
import en from './locales/en.json';
import zhCN from './locales/zh-CN.json';

export const languages: readonly Language[] = ['zh-CN', 'en'];

export const resources = {
  en: { translation: en },
  'zh-CN': { translation: zhCN },
} as const;

/**
 * The best guess at the OS language from the webview, used only until the core has answered
 * with the resolved preference. Every Chinese locale maps to Simplified Chinese, the only
 * Chinese the catalogues carry; everything else falls back to English.
 */
export function guessSystemLanguage(preferred: readonly string[] = navigator.languages): Language {
  for (const tag of preferred) {
    const lower = tag.toLowerCase();
    if (lower === 'zh' || lower.startsWith('zh-')) return 'zh-CN';
    if (lower === 'en' || lower.startsWith('en-')) return 'en';
  }
  return 'en';
}

export const i18n = i18next.createInstance();

i18n.on('languageChanged', (language) => {
  document.documentElement.lang = language;
  document.title = i18n.t('app.name');
});

void i18n.use(initReactI18next).init({
  resources,
  lng: guessSystemLanguage(),
  fallbackLng: 'en',
  supportedLngs: languages,
  load: 'currentOnly',
  // React escapes what it renders; escaping here too would show "&amp;" in server URLs.
  interpolation: { escapeValue: false },
  // The catalogues are bundled, so initialisation finishes before the first render.
  initAsync: false,
  returnNull: false,
});

export function applyLanguage(language: Language): void {
  if (i18n.language !== language) void i18n.changeLanguage(language);
}
