import { describe, expect, it } from 'vitest';
import { dateTimeFormat, numberFormat } from './intlFormats';

describe('kept Intl formatters', () => {
  const at = new Date(Date.UTC(2026, 2, 2, 9, 5));

  it('format as a new formatter would, per language and options', () => {
    const options: Intl.DateTimeFormatOptions = {
      timeZone: 'Asia/Shanghai',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
    };
    for (const language of ['zh-CN', 'en']) {
      expect(dateTimeFormat(language, options).format(at)).toBe(
        new Intl.DateTimeFormat(language, options).format(at),
      );
    }
    expect(dateTimeFormat('zh-CN', options).format(at)).not.toBe(
      dateTimeFormat('en', options).format(at),
    );
    expect(numberFormat('en', { style: 'percent' }).format(0.875)).toBe('88%');
    expect(numberFormat('en').format(0.875)).toBe('0.875');
  });

  it('are made once for the same language and options', () => {
    expect(dateTimeFormat('en', { year: 'numeric' })).toBe(
      dateTimeFormat('en', { year: 'numeric' }),
    );
    expect(dateTimeFormat('en', { year: 'numeric' })).not.toBe(
      dateTimeFormat('en', { month: 'long' }),
    );
  });

  it('still refuse an unknown time zone, every time', () => {
    const unknown = { timeZone: 'Mars/Olympus_Mons' };
    expect(() => dateTimeFormat('en', unknown)).toThrow(RangeError);
    expect(() => dateTimeFormat('en', unknown)).toThrow(RangeError);
  });
});
