import { describe, expect, it } from 'vitest';
import { applyLanguage, guessSystemLanguage, i18n } from './i18n';

describe('guessSystemLanguage', () => {
  it('maps every Chinese locale to Simplified Chinese and the rest to English', () => {
    expect(guessSystemLanguage(['zh-CN'])).toBe('zh-CN');
    expect(guessSystemLanguage(['zh-Hans-CN', 'en-US'])).toBe('zh-CN');
    expect(guessSystemLanguage(['zh'])).toBe('zh-CN');
    expect(guessSystemLanguage(['en-GB', 'zh-CN'])).toBe('en');
    expect(guessSystemLanguage(['de-DE', 'zh-TW'])).toBe('zh-CN');
    expect(guessSystemLanguage(['fr-FR'])).toBe('en');
    expect(guessSystemLanguage([])).toBe('en');
  });
});

describe('applyLanguage', () => {
  it('follows the active language in <html lang> and the window title', async () => {
    applyLanguage('zh-CN');
    await Promise.resolve();
    expect(document.documentElement.lang).toBe('zh-CN');
    expect(document.title).toBe('会签 Countersign');
    applyLanguage('en');
    await Promise.resolve();
    expect(document.documentElement.lang).toBe('en');
    expect(document.title).toBe('Countersign');
    expect(i18n.language).toBe('en');
  });
});
