// How the lists and the request detail put times and durations into words, in the active
// language. Durations are rounded to the two largest units ("2 h 15 min", "3 d 4 h"): a clerk
// wants to know how long, not to the second.
import { useEffect, useState } from 'react';
import type { TFunction } from 'i18next';
import { dateTimeFormat } from '../intlFormats';

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A length of time in words: "under a minute", "45 min", "2 h 15 min", "3 d 4 h". */
export function formatDuration(t: TFunction, seconds: number): string {
  const secs = Math.max(0, Math.floor(seconds));
  if (secs < MINUTE) return t('request.duration.underMinute');
  if (secs < HOUR) return t('request.duration.minutes', { minutes: Math.floor(secs / MINUTE) });
  if (secs < DAY) {
    const hours = Math.floor(secs / HOUR);
    const minutes = Math.floor((secs % HOUR) / MINUTE);
    return minutes === 0
      ? t('request.duration.hours', { hours })
      : t('request.duration.hoursMinutes', { hours, minutes });
  }
  const days = Math.floor(secs / DAY);
  const hours = Math.floor((secs % DAY) / HOUR);
  return hours === 0
    ? t('request.duration.days', { days })
    : t('request.duration.daysHours', { days, hours });
}

/** Seconds from `since` (an ISO time) to `now` (milliseconds), never negative. */
export function secondsSince(since: string, now: number): number {
  const at = Date.parse(since);
  return Number.isNaN(at) ? 0 : Math.max(0, (now - at) / 1000);
}

function sameDay(a: Date, b: Date): boolean {
  return (
    a.getFullYear() === b.getFullYear() &&
    a.getMonth() === b.getMonth() &&
    a.getDate() === b.getDate()
  );
}

/**
 * A moment in the reader's time zone: only the time for today ("10:02"), the date and time
 * otherwise. Unreadable input is shown as it came rather than as "Invalid Date".
 */
export function formatMoment(iso: string, language: string, now: number): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const options: Intl.DateTimeFormatOptions = sameDay(at, new Date(now))
    ? { hour: '2-digit', minute: '2-digit' }
    : { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' };
  return dateTimeFormat(language, options).format(at);
}

/**
 * The time now, in milliseconds, moving on every minute: ages ("waiting 3 h") stay true while
 * the window is left open, without re-rendering more often than they can change.
 */
export function useNow(stepMs = 60_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => {
      setNow(Date.now());
    }, stepMs);
    return () => {
      window.clearInterval(timer);
    };
  }, [stepMs]);
  return now;
}
