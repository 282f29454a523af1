import { beforeEach, describe, expect, it } from 'vitest';
import type { CommandError, CommandErrorCode } from './api';
import { describeError, explainedCodes } from './errors';
import { i18n } from './i18n';

function error(code: CommandErrorCode, extra: Partial<CommandError> = {}): CommandError {
  return { code, message: `core says ${code}`, url: null, retry_after_secs: null, ...extra };
}

describe('describeError', () => {
  beforeEach(async () => {
    await i18n.changeLanguage('en');
  });

  it('explains every code in both languages without showing the core message or raw placeholders', async () => {
    for (const language of ['en', 'zh-CN']) {
      await i18n.changeLanguage(language);
      for (const code of explainedCodes) {
        const text = describeError(
          i18n.t,
          error(code, { url: 'https://oa.example.com', retry_after_secs: 30 }),
        );
        // A file's refusal is worded by the core in the person's language, with the limit or
        // the accepted types; the sentence is only its fallback.
        if (code.startsWith('file_')) {
          expect(text, `${language}/${code}`).toContain('core says');
          expect(describeError(i18n.t, error(code, { message: '' }))).not.toBe('');
          continue;
        }
        expect(text, `${language}/${code}`).not.toContain('core says');
        expect(text, `${language}/${code}`).not.toMatch(/\{\{|errors\./);
      }
    }
  });

  it('names the server and the wait in the sentence', () => {
    expect(
      describeError(i18n.t, error('server_unreachable', { url: 'https://oa.example.com' })),
    ).toBe('Cannot reach https://oa.example.com. Check the address and your network.');
    expect(describeError(i18n.t, error('login_throttled', { retry_after_secs: 42 }))).toBe(
      'Too many failed sign-ins. Try again in 42 s.',
    );
  });

  it('uses the address the user typed when the error carries none', () => {
    expect(
      describeError(i18n.t, error('not_countersign'), { server: ' https://intranet.local ' }),
    ).toBe('https://intranet.local is not a Countersign server.');
    expect(describeError(i18n.t, error('not_countersign'))).toBe(
      'That address is not a Countersign server.',
    );
  });

  it('says "later" when the server gave no retry time', () => {
    expect(describeError(i18n.t, error('login_throttled'))).toBe(
      'Too many failed sign-ins. Try again in a few minutes.',
    );
  });

  it('falls back to the core message for a code this build does not know', () => {
    const fromNewerCore = { ...error('internal'), code: 'quota_exceeded' } as unknown as CommandError;
    expect(describeError(i18n.t, { ...fromNewerCore, message: 'Quota exceeded.' })).toBe(
      'Quota exceeded.',
    );
    expect(describeError(i18n.t, { ...fromNewerCore, message: '' })).toBe(
      'Something went wrong. Try again.',
    );
  });

  it('speaks Chinese when the language is zh-CN', async () => {
    await i18n.changeLanguage('zh-CN');
    expect(describeError(i18n.t, error('invalid_credentials'))).toBe('用户名或密码错误。');
    expect(describeError(i18n.t, error('login_throttled', { retry_after_secs: 5 }))).toBe(
      '登录失败次数过多，请 5 秒后再试。',
    );
  });
});
