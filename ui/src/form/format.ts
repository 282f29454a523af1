// Form values in words and figures. Amounts stay the decimal strings the core sent: grouping
// digits is done on the text, so a displayed total is exactly the core's total, never a
// floating-point round trip of it.
import { dateTimeFormat } from '../intlFormats';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `1234567.5` → `1,234,567.5`; anything that is not a plain decimal is shown as it is. */
export function groupDigits(decimal: string): string {
  const match = /^(-?)(\d+)(\.\d+)?$/.exec(decimal.trim());
  if (match === null) return decimal;
  const [, sign = '', whole = '', fraction = ''] = match;
  return sign + whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + fraction;
}

export interface Money {
  amount: string;
  currency: string;
}

export function asMoney(value: unknown): Money | null {
  if (!isObject(value)) return null;
  const { amount, currency } = value;
  if (typeof amount !== 'string' && typeof amount !== 'number') return null;
  return { amount: String(amount), currency: typeof currency === 'string' ? currency : '' };
}

/** `CNY 1,234.50`, as the core's own figures write money. */
export function moneyText(money: Money): string {
  const amount = groupDigits(money.amount);
  return money.currency === '' ? amount : `${money.currency} ${amount}`;
}

export interface DateRangeValue {
  start?: string;
  end?: string;
  start_half?: 'am' | 'pm';
  end_half?: 'am' | 'pm';
}

export function asDateRange(value: unknown): DateRangeValue | null {
  if (!isObject(value)) return null;
  const text = (key: string) => (typeof value[key] === 'string' ? value[key] : undefined);
  const half = (key: string) => {
    const found = value[key];
    return found === 'am' || found === 'pm' ? found : undefined;
  };
  return {
    start: text('start'),
    end: text('end'),
    start_half: half('start_half'),
    end_half: half('end_half'),
  };
}

const pad = (n: number) => String(n).padStart(2, '0');

/** An RFC 3339 instant as the value of a `datetime-local` input, in this computer's zone. */
export function toLocalInput(instant: unknown): string {
  if (typeof instant !== 'string') return '';
  const at = new Date(instant);
  if (Number.isNaN(at.getTime())) return '';
  return `${String(at.getFullYear())}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

/**
 * A `datetime-local` input's value as RFC 3339 with this computer's offset
 * (`2026-03-02T18:30:00+08:00`): the core wants an instant, and the offset keeps what the
 * person meant readable in the stored form.
 */
export function fromLocalInput(local: string): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local);
  if (match === null) return null;
  const [, y, mo, d, h, mi] = match.map(Number) as [number, number, number, number, number, number];
  const at = new Date(y, mo - 1, d, h, mi);
  const offset = -at.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const zone = `${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return `${local.slice(0, 16)}:00${zone}`;
}

/** `2026-03-02 18:30` in this computer's zone. */
export function dateTimeText(instant: unknown): string {
  const local = toLocalInput(instant);
  return local === '' ? (typeof instant === 'string' ? instant : '') : local.replace('T', ' ');
}

/** `10:42` today, `3月2日 10:42` / `2 Mar 10:42` on another day. */
export function savedTimeText(instant: string, language: string, now = new Date()): string {
  const at = new Date(instant);
  if (Number.isNaN(at.getTime())) return instant;
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}`;
  if (at.toDateString() === now.toDateString()) return time;
  const day = dateTimeFormat(language, { month: 'short', day: 'numeric' }).format(at);
  return `${day} ${time}`;
}

/** `340 KB`, `1.2 MB`: a size to read, not to compute with. */
export function fileSizeText(bytes: unknown): string {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1024) return `${String(bytes)} B`;
  const units = ['KB', 'MB', 'GB'];
  let size = bytes / 1024;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit += 1;
  }
  return `${size >= 10 ? size.toFixed(0) : size.toFixed(1)} ${units[unit] ?? 'GB'}`;
}

export interface Attachment {
  id: string;
  name: string;
  size: number | null;
  content_type: string;
}

export function asAttachments(value: unknown): Attachment[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isObject).map((file) => ({
    id: typeof file['id'] === 'string' ? file['id'] : '',
    name: typeof file['name'] === 'string' ? file['name'] : '',
    size: typeof file['size'] === 'number' ? file['size'] : null,
    content_type: typeof file['content_type'] === 'string' ? file['content_type'] : '',
  }));
}

/** A computed value as the core sends it: `{kind: "money" | "number", value}`. */
export type ComputedValue =
  | { kind: 'money'; money: Money }
  | { kind: 'number'; number: string }
  | { kind: 'other'; text: string };

export function asComputed(value: unknown): ComputedValue | null {
  if (!isObject(value)) return null;
  if (value['kind'] === 'money') {
    const money = asMoney(value['value']);
    return money === null ? null : { kind: 'money', money };
  }
  if (value['kind'] === 'number' && (typeof value['value'] === 'string' || typeof value['value'] === 'number')) {
    return { kind: 'number', number: String(value['value']) };
  }
  return value['value'] === undefined ? null : { kind: 'other', text: JSON.stringify(value['value']) };
}

/** The computed value of `key`, when the core could compute it. */
export function computedAt(computed: unknown, key: string): ComputedValue | null {
  return isObject(computed) ? asComputed(computed[key]) : null;
}
