import { describe, expect, it } from 'vitest';
import { i18n } from '../i18n';
import { formatDuration, formatMoment, secondsSince } from './format';
import { statusName } from './words';

describe('formatDuration', () => {
  it('keeps the two largest units, in either language', async () => {
    const t = i18n.t.bind(i18n);
    expect(formatDuration(t, 42)).toBe('under a minute');
    expect(formatDuration(t, 45 * 60 + 59)).toBe('45 min');
    expect(formatDuration(t, 3 * 3600)).toBe('3 h');
    expect(formatDuration(t, 2 * 3600 + 15 * 60 + 30)).toBe('2 h 15 min');
    expect(formatDuration(t, 3 * 86_400 + 4 * 3600 + 59 * 60)).toBe('3 d 4 h');
    expect(formatDuration(t, 2 * 86_400)).toBe('2 d');
    expect(formatDuration(t, -5)).toBe('under a minute');
    await i18n.changeLanguage('zh-CN');
    expect(formatDuration(t, 2 * 3600 + 15 * 60)).toBe('2 小时 15 分');
    expect(formatDuration(t, 26 * 3600)).toBe('1 天 2 小时');
  });
});

describe('times', () => {
  it('counts from an instant, never backwards, and shows unreadable input as it came', () => {
    const now = Date.parse('2026-11-30T10:00:00Z');
    expect(secondsSince('2026-11-30T07:00:00Z', now)).toBe(3 * 3600);
    expect(secondsSince('2026-11-30T11:00:00Z', now)).toBe(0);
    expect(secondsSince('not a time', now)).toBe(0);
    expect(formatMoment('not a time', 'en', now)).toBe('not a time');
  });

  it('shows only the time for today and the date too for other days', () => {
    const now = new Date(2026, 10, 30, 15, 0).getTime();
    const today = new Date(2026, 10, 30, 10, 2).toISOString();
    const earlier = new Date(2026, 10, 2, 10, 2).toISOString();
    expect(formatMoment(today, 'en', now)).toMatch(/^10:02/);
    expect(formatMoment(earlier, 'en', now)).toMatch(/Nov/);
  });
});

describe('words', () => {
  it('shows a status this build does not know as the core sent it', () => {
    const t = i18n.t.bind(i18n);
    expect(statusName(t, 'in_progress')).toBe('In progress');
    expect(statusName(t, 'escalated')).toBe('escalated');
    expect(statusName(t, 'toString')).toBe('toString');
  });
});
