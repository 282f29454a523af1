// Meetings in words and on the calendar: the week shown (Monday to Sunday in the reader's
// zone), the core's local times ("2026-03-02 09:00") as dates and time ranges in the active
// language, answers and changed fields by name, and errors whose own words matter (a room
// clash naming the other meeting, the line of a calendar file that cannot be read).
import type { TFunction } from 'i18next';
import type {
  CommandError,
  ImportedInvitation,
  MeetingDetail,
  MeetingEntry,
  MeetingField,
  Rsvp,
} from '../api';
import { describeError } from '../errors';
import { dateTimeFormat } from '../intlFormats';

export const answers: readonly Rsvp[] = ['accept', 'tentative', 'decline'];

const answerNames = {
  accept: 'meetings.answer.accept',
  tentative: 'meetings.answer.tentative',
  decline: 'meetings.answer.decline',
} as const;

/** An answer as a state: "Accepted", "已接受"… */
export function answerName(t: TFunction, answer: Rsvp): string {
  return t(answerNames[answer]);
}

const answerActions = {
  accept: 'meetings.rsvp.accept',
  tentative: 'meetings.rsvp.tentative',
  decline: 'meetings.rsvp.decline',
} as const;

/** An answer as a button: "Accept", "接受"… */
export function answerAction(t: TFunction, answer: Rsvp): string {
  return t(answerActions[answer]);
}

const fieldNames: Record<MeetingField, `meetings.field.${MeetingField}`> = {
  title: 'meetings.field.title',
  agenda: 'meetings.field.agenda',
  time: 'meetings.field.time',
  room: 'meetings.field.room',
  place: 'meetings.field.place',
  online_link: 'meetings.field.online_link',
  materials: 'meetings.field.materials',
  invitees: 'meetings.field.invitees',
};

/** What an update changed, by name; a field this build does not know is shown as sent. */
export function fieldName(t: TFunction, field: MeetingField): string {
  return Object.hasOwn(fieldNames, field) ? t(fieldNames[field]) : field;
}

/**
 * An error from a meeting command in words. Refusals and invalid input carry their reason in
 * the core's (or the server's) message — "Room 301 is booked by “Budget review” 10:00–11:00",
 * "This calendar file cannot be read: line 12: …" — which says more than the sentence for
 * the code; so does a server refusal. Everything else goes through `describeError`.
 */
export function meetingErrorText(t: TFunction, error: CommandError): string {
  const told = error.message.trim();
  const ownWords =
    error.code === 'refused' || error.code === 'invalid_input' || error.code === 'server_error';
  return ownWords && told !== '' ? told : describeError(t, error);
}

// ---------- The week ----------

/** Midnight at the start of `date`'s day, in the local zone. */
export function startOfDay(date: Date): Date {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate());
}

/** `date` moved by whole days, keeping midnight at midnight across a clock change. */
export function addDays(date: Date, days: number): Date {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate() + days);
}

/** Monday 00:00 of the week `date` falls in. */
export function mondayOf(date: Date): Date {
  const day = startOfDay(date);
  return addDays(day, -((day.getDay() + 6) % 7));
}

/** The instants the core is asked about for the week starting `monday`: `[from, to)`. */
export function weekRange(monday: Date): { from: string; to: string } {
  return { from: monday.toISOString(), to: addDays(monday, 7).toISOString() };
}

/** `YYYY-MM-DD` of a local date, the form the core's local times start with. */
export function dayKey(date: Date): string {
  const month = String(date.getMonth() + 1).padStart(2, '0');
  const day = String(date.getDate()).padStart(2, '0');
  return `${String(date.getFullYear())}-${month}-${day}`;
}

/** `HH:MM` for a local time input. */
export function timeKey(date: Date): string {
  return `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
}

/** The day part of a local time from the core ("2026-03-02 09:00" → "2026-03-02"). */
export function localDay(local: string): string {
  return local.slice(0, 10);
}

/** The clock part of a local time from the core ("2026-03-02 09:00" → "09:00"). */
export function localClock(local: string): string {
  return local.slice(11, 16);
}

/** A `YYYY-MM-DD` day as a local date (noon-safe: no clock change moves it to another day). */
export function dateOfDay(day: string): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(day);
  if (match === null) return null;
  return new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
}

/** A day's heading in the week: "Mon, Mar 2", "3月2日周一". */
export function formatWeekday(date: Date, language: string): string {
  return dateTimeFormat(language, {
    weekday: 'short',
    month: 'short',
    day: 'numeric',
  }).format(date);
}

/** A day in full: "Mon, Mar 2, 2026", "2026年3月2日周一". */
export function formatDay(date: Date, language: string): string {
  return dateTimeFormat(language, {
    weekday: 'short',
    year: 'numeric',
    month: 'short',
    day: 'numeric',
  }).format(date);
}

/** The week shown: "March 2 – 8, 2026". */
export function formatWeek(monday: Date, language: string): string {
  return dateTimeFormat(language, {
    year: 'numeric',
    month: 'long',
    day: 'numeric',
  }).formatRange(monday, addDays(monday, 6));
}

/** The day of a local time from the core, in full: "Mon, Mar 2, 2026". */
export function dayText(local: string, language: string): string {
  const date = dateOfDay(local);
  return date === null ? localDay(local) : formatDay(date, language);
}

/** "09:00 – 10:00" on one day; with the end's day when the meeting runs past midnight. */
export function clockRange(start: string, end: string, language: string): string {
  if (localDay(start) === localDay(end)) return `${localClock(start)} – ${localClock(end)}`;
  return `${localClock(start)} – ${dayText(end, language)} ${localClock(end)}`;
}

/** "Mon, Mar 2, 2026, 09:00 – 10:00", with the end's day when it is another one. */
export function whenText(start: string, end: string, language: string): string {
  if (localDay(start) === localDay(end)) {
    return `${dayText(start, language)} ${localClock(start)} – ${localClock(end)}`;
  }
  return `${dayText(start, language)} ${localClock(start)} – ${dayText(end, language)} ${localClock(end)}`;
}

/** The start and end of an instant range as the clock in `zone` reads them, or null when
 * this webview does not know the zone. */
export function clockRangeIn(
  startsAt: string,
  endsAt: string,
  zone: string,
  language: string,
): string | null {
  try {
    const format = dateTimeFormat(language, {
      timeZone: zone,
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    const start = new Date(startsAt);
    const end = new Date(endsAt);
    if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) return null;
    return format.formatRange(start, end);
  } catch {
    return null;
  }
}

/** A local date and time from `<input type="date">` and `<input type="time">` as an ISO
 * instant, or null when either is missing or unreadable. */
export function instantOf(date: string, time: string): string | null {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const clock = /^(\d{2}):(\d{2})/.exec(time);
  if (day === null || clock === null) return null;
  const at = new Date(
    Number(day[1]),
    Number(day[2]) - 1,
    Number(day[3]),
    Number(clock[1]),
    Number(clock[2]),
  );
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
}

/** The meetings of a week by local day (`YYYY-MM-DD`), each day's by start. A meeting that
 * began before the week (and overlaps it) is shown on its first day. */
export function byDay(
  entries: readonly MeetingEntry[],
  days: readonly string[],
): Map<string, MeetingEntry[]> {
  const grouped = new Map<string, MeetingEntry[]>(days.map((day) => [day, []]));
  const first = days[0] ?? '';
  const sorted = [...entries].sort((a, b) => a.starts_at.localeCompare(b.starts_at));
  for (const entry of sorted) {
    const day = localDay(entry.local_start);
    const into = grouped.get(day) ?? (day < first ? grouped.get(first) : undefined);
    into?.push(entry);
  }
  return grouped;
}

/** Only http(s) and mailto links are made clickable; anything else is shown as text. */
export function safeLink(link: string | null): string | null {
  if (link === null) return null;
  const trimmed = link.trim();
  return /^(https?:\/\/|mailto:)/i.test(trimmed) ? trimmed : null;
}

/** Whether a meeting's online link is a web address the app may open in the browser (the
 * core checks it again; anything else is only shown as text). */
export function isWebLink(link: string | null): boolean {
  return link !== null && /^https?:\/\/\S/i.test(link.trim());
}

// ---------- A new meeting, planned from scratch or from a calendar file ----------

/** What the new meeting form starts with. */
export interface MeetingDraft {
  title: string;
  agenda: string;
  date: string;
  start: string;
  end: string;
  place: string;
  link: string;
  /** People to invite, with names when already known. */
  people: { id: string; name: string }[];
  /** Days from `date` to the day the meeting ends (a meeting past midnight); 0 when absent. */
  endDays?: number;
}

/** Today, from the next full hour for an hour. */
export function blankDraft(now: Date = new Date()): MeetingDraft {
  const start = new Date(now.getFullYear(), now.getMonth(), now.getDate(), now.getHours() + 1);
  const end = new Date(start.getTime() + 3600_000);
  return {
    title: '',
    agenda: '',
    date: dayKey(start),
    start: timeKey(start),
    end: dayKey(end) === dayKey(start) ? timeKey(end) : '23:59',
    place: '',
    link: '',
    people: [],
  };
}

/** An event read from a calendar file, as a meeting to plan: its times on this computer's
 * clock, its location as the place, and the attendees found in the directory. */
export function draftFromImported(event: ImportedInvitation): MeetingDraft {
  const start = new Date(event.starts_at);
  const end = new Date(event.ends_at);
  const readable = !Number.isNaN(start.getTime()) && !Number.isNaN(end.getTime());
  const fallback = blankDraft();
  return {
    title: event.title,
    agenda: event.agenda,
    date: readable ? dayKey(start) : fallback.date,
    start: readable ? timeKey(start) : fallback.start,
    end: readable ? timeKey(end) : fallback.end,
    place: event.location ?? '',
    link: event.online_link ?? '',
    people: event.people
      .filter((entry) => entry.kind === 'people')
      .map((entry) => ({ id: entry.id, name: entry.name })),
  };
}

/** Whole calendar days from the local day of `from` to the local day of `to`. */
function daysBetween(from: Date, to: Date): number {
  const start = startOfDay(from);
  const end = startOfDay(to);
  return Math.round((end.getTime() - start.getTime()) / 86_400_000);
}

/** A meeting as the form that changes it starts: its plan on this computer's clock. The
 * invitees are not changed there, so they are only named. */
export function draftFromDetail(detail: MeetingDetail): MeetingDraft {
  const start = new Date(detail.starts_at);
  const end = new Date(detail.ends_at);
  const readable = !Number.isNaN(start.getTime()) && !Number.isNaN(end.getTime());
  const fallback = blankDraft();
  return {
    title: detail.title,
    agenda: detail.agenda,
    date: readable ? dayKey(start) : fallback.date,
    start: readable ? timeKey(start) : fallback.start,
    end: readable ? timeKey(end) : fallback.end,
    endDays: readable ? Math.max(0, daysBetween(start, end)) : 0,
    place: detail.place ?? '',
    link: detail.online_link ?? '',
    people: detail.people.map((person) => ({ id: person.id, name: person.name })),
  };
}

// ---------- Invitation coverage ----------

/** The period the coverage report starts with: the last 30 days, today included. */
export function defaultCoveragePeriod(today: Date = new Date()): { from: string; to: string } {
  return { from: dayKey(addDays(startOfDay(today), -30)), to: dayKey(today) };
}

/** The instants the core is asked about for the local days `from` to `to`, both included:
 * `[from 00:00, the day after to 00:00)`; null while either day is missing or they are the
 * wrong way round. */
export function coverageRange(from: string, to: string): { from: string; to: string } | null {
  const first = /^\d{4}-\d{2}-\d{2}$/.test(from) ? dateOfDay(from) : null;
  const last = /^\d{4}-\d{2}-\d{2}$/.test(to) ? dateOfDay(to) : null;
  if (first === null || last === null || last < first) return null;
  return { from: first.toISOString(), to: addDays(last, 1).toISOString() };
}
