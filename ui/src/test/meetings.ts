// Sample meetings, their detail and events read from calendar files, for the meetings tests.
// Times are built on this computer's clock from the week the test runs in, the way the core
// gives them: instants in UTC beside "YYYY-MM-DD HH:MM" in the reader's zone.
import type {
  CoverageMonthLine,
  ImportedInvitation,
  MeetingCoverageLine,
  MeetingCoverageView,
  MeetingDetail,
  MeetingEntry,
  MeetingPerson,
  OutboxItem,
} from '../api';
import { liLei } from './fixtures';

export const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

export const wangFang = { id: '0190d4a0-0000-7000-8000-0000000000a1', name: '王芳' };
export const zhouJie = { id: '0190d4a0-0000-7000-8000-0000000000a2', name: '周杰' };
export const chenLi = { id: '0190d4a0-0000-7000-8000-0000000000a3', name: '陈丽' };

/** A meeting id that sorts with its number. */
export function meetingId(index: number): string {
  return `0190d4a0-3000-7000-8000-${String(index).padStart(12, '0')}`;
}

/** Monday 00:00 of the week `weeks` from the current one, on this computer's clock. */
export function mondayIn(weeks = 0): Date {
  const now = new Date();
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  return new Date(
    today.getFullYear(),
    today.getMonth(),
    today.getDate() - ((today.getDay() + 6) % 7) + weeks * 7,
  );
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

/** `day` days after this week's Monday at `hour`:`minute`, as the core gives it. */
export function at(day: number, hour: number, minute = 0, weeks = 0) {
  const monday = mondayIn(weeks);
  const when = new Date(
    monday.getFullYear(),
    monday.getMonth(),
    monday.getDate() + day,
    hour,
    minute,
  );
  const local = `${String(when.getFullYear())}-${pad(when.getMonth() + 1)}-${pad(when.getDate())} ${pad(when.getHours())}:${pad(when.getMinutes())}`;
  return { iso: when.toISOString(), local };
}

/** A meeting this week on `day` (0 = Monday) from 09:00 to 10:00, Li Lei invited. */
export function meetingEntry(
  index: number,
  overrides: Partial<MeetingEntry> & { day?: number } = {},
): MeetingEntry {
  const { day = 2, ...rest } = overrides;
  const start = at(day, 9);
  const end = at(day, 10);
  return {
    id: meetingId(index),
    title: `Budget review #${String(index)}`,
    starts_at: start.iso,
    ends_at: end.iso,
    local_start: start.local,
    local_end: end.local,
    time_zone: zone,
    room: 'Room 301',
    place: null,
    online_link: null,
    status: 'scheduled',
    my_role: 'invitee',
    my_answer: null,
    organiser_id: wangFang.id,
    organiser_name: wangFang.name,
    ...rest,
  };
}

export function person(
  who: { id: string; name: string },
  overrides: Partial<MeetingPerson> = {},
): MeetingPerson {
  return {
    id: who.id,
    name: who.name,
    via_department: null,
    answer: null,
    note: null,
    reached_at: null,
    opened_at: null,
    ...overrides,
  };
}

/** Meeting #1 as its invitee Li Lei reads it: only his own answer is in it. */
export function meetingDetail(overrides: Partial<MeetingDetail> = {}): MeetingDetail {
  return {
    ...meetingEntry(1),
    agenda: '1. Last quarter\n2. Next quarter',
    organiser_time_zone: zone,
    room_id: '0190d4a0-5000-7000-8000-000000000301',
    people: [person({ id: liLei.id, name: liLei.display_name }), person(zhouJie)],
    materials: [
      {
        id: '0190d4a0-4000-7000-8000-000000000001',
        name: 'budget-2026.xlsx',
        size: 48_128,
        content_type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      },
      {
        id: '0190d4a0-4000-7000-8000-000000000002',
        name: 'minutes.pdf',
        size: 900,
        content_type: 'application/pdf',
      },
    ],
    changed: [],
    cancel_reason: null,
    my_note: null,
    opened_at: null,
    version: 2,
    sequence: 1,
    ...overrides,
  };
}

export function rsvpItem(overrides: Partial<OutboxItem> = {}): OutboxItem {
  return {
    id: '0190d4a0-2000-7000-8000-0000000000f1',
    request_id: meetingId(1),
    task: null,
    action: 'rsvp_accept',
    state: 'pending',
    created_at: new Date().toISOString(),
    attempts: 0,
    last_error: null,
    reason: null,
    ...overrides,
  };
}

/** An Outlook invitation for next Tuesday 14:00–15:00 with two attendees known and one not. */
export function importedInvitation(overrides: Partial<ImportedInvitation> = {}): ImportedInvitation {
  const start = at(1, 14, 0, 1);
  const end = at(1, 15, 0, 1);
  return {
    meeting_id: null,
    title: 'Supplier visit',
    agenda: 'Walk through the new contract.',
    starts_at: start.iso,
    ends_at: end.iso,
    local_start: start.local,
    local_end: end.local,
    time_zone: zone,
    sender_time_zone: 'W. Europe Standard Time',
    all_day: false,
    location: 'Building B, 3rd floor',
    online_link: 'https://meet.example.com/abc',
    organiser: 'Anna Schmidt',
    people: [
      { id: zhouJie.id, kind: 'people', name: zhouJie.name, detail: '财务部', active: true },
      { id: chenLi.id, kind: 'people', name: chenLi.name, detail: '采购部', active: true },
    ],
    not_found: ['Hans Müller <hans@supplier.example>'],
    cancelled: false,
    repeats: null,
    ...overrides,
  };
}

/** Meeting #`index` in the coverage report: six invited, five reached (four before it began),
 * four opened, three answered; 周杰 not reached, 陈丽 and 周杰 not answered. */
export function coverageLine(
  index: number,
  overrides: Partial<MeetingCoverageLine> = {},
): MeetingCoverageLine {
  return {
    meeting_id: meetingId(index),
    title: `Budget review #${String(index)}`,
    organiser: { id: liLei.id, name: liLei.display_name },
    starts_at: '2026-03-04T01:00:00Z',
    local_start: '2026-03-04 09:00',
    status: 'scheduled',
    invited: 6,
    reached: 5,
    reached_before_start: 4,
    opened: 4,
    answered: 3,
    accepted: 2,
    tentative: 1,
    declined: 0,
    materials: 2,
    materials_in_time: true,
    reached_per_mille: 833,
    not_reached: [zhouJie],
    not_answered: [chenLi, zhouJie],
    ...overrides,
  };
}

export function coverageMonth(overrides: Partial<CoverageMonthLine> = {}): CoverageMonthLine {
  return {
    month: '2026-03',
    meetings: 2,
    invited: 8,
    reached: 7,
    opened: 5,
    answered: 4,
    reached_per_mille: 875,
    ...overrides,
  };
}

export function coverageView(overrides: Partial<MeetingCoverageView> = {}): MeetingCoverageView {
  return {
    from: '2026-02-28T16:00:00Z',
    to: '2026-03-31T16:00:00Z',
    time_zone: 'Asia/Shanghai',
    meetings: [
      coverageLine(1),
      coverageLine(2, {
        title: 'Audit kick-off',
        starts_at: '2026-03-10T06:00:00Z',
        local_start: '2026-03-10 14:00',
        organiser: wangFang,
        invited: 2,
        reached: 2,
        reached_before_start: 2,
        opened: 1,
        answered: 1,
        accepted: 0,
        tentative: 0,
        declined: 1,
        materials: 0,
        materials_in_time: false,
        reached_per_mille: 1000,
        not_reached: [],
        not_answered: [],
      }),
    ],
    months: [coverageMonth()],
    ...overrides,
  };
}
