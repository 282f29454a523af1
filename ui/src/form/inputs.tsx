// One input per field kind, each turning what the person types into the domain's input shape
// (money `{amount: "12.50", currency}` with the amount a string, a date range
// `{start, end, start_half, end_half}`, a choice by its key, a colleague or department by its
// id, chosen by name in `DirectoryPicker`…). Text-like inputs keep what was
// typed even when the value sent differs ("1,234.50" is sent as "1234.50") or is refused, so
// the person never loses a keystroke to the round trip.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ChangeEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { FieldDef } from '../api';
import { describeError } from '../errors';
import { onFilesDropped } from '../events';
import { CloseIcon } from '../icons';
import { FileState, OpenableFile, useAttachmentStates, useDraftFiles } from './attachments';
import { DirectoryPicker } from './DirectoryPicker';
import { asAttachments, asDateRange, asMoney, fileSizeText, fromLocalInput, toLocalInput } from './format';
import type { DateRangeValue } from './format';
import { labelText } from './schema';

export interface InputProps {
  /** The id of the input (or of the group, for kinds made of several inputs). */
  id: string;
  field: FieldDef;
  value: unknown;
  onChange: (value: unknown) => void;
  /** Leaving the input: the moment to save without waiting. */
  onBlur: () => void;
  describedBy: string | undefined;
  invalid: boolean;
  /** The accessible name when no visible `<label>` points at the input (table cells). */
  ariaLabel?: string;
  /** Labelled by a visible legend (a group), by id. */
  labelledBy?: string;
  /** The field's path in the form (`certificate`, `lines[0].invoice`), for inputs that act
   * on the draft themselves (files). */
  path?: string;
}

/**
 * Typed text that survives the round trip: it follows the value from outside (another
 * draft, a row moved up) but not the echo of what was just typed.
 */
function useTypedText(fromValue: string) {
  const [text, setText] = useState(fromValue);
  const [basis, setBasis] = useState(fromValue);
  if (fromValue !== basis) {
    setBasis(fromValue);
    setText(fromValue);
  }
  const typed = (next: string, sent: string) => {
    setText(next);
    setBasis(sent);
  };
  return [text, typed] as const;
}

const fullWidth: Record<string, string> = { '\uff0e': '.', '\uff0c': ',', '\uff0d': '-', '\u3000': ' ' };

/**
 * What was typed as a decimal string for the core: full-width digits from a Chinese input
 * method become ASCII, and grouping commas and spaces go. Anything else is left for the core
 * to judge (and refuse in words), never silently "fixed".
 */
export function normaliseDecimal(typed: string): string | null {
  const ascii = typed
    .replace(/[\uff10-\uff19]/g, (digit) => String.fromCharCode(digit.charCodeAt(0) - 0xfee0))
    .replace(/[\uff0e\uff0c\uff0d\u3000]/g, (mark) => fullWidth[mark] ?? mark)
    .replace(/[\s,]/g, '');
  return ascii === '' ? null : ascii;
}

function stringOf(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

function common(props: InputProps) {
  return {
    id: props.id,
    'aria-invalid': props.invalid || undefined,
    'aria-describedby': props.describedBy,
    'aria-label': props.ariaLabel,
    'aria-required': props.field.required === true || undefined,
    onBlur: props.onBlur,
  };
}

function TextInput(props: InputProps & { multiline?: boolean }) {
  const fromValue = stringOf(props.value);
  const [text, typed] = useTypedText(fromValue);
  const change = (event: ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => {
    const next = event.target.value;
    // Whitespace alone is no answer; the core treats it as empty too.
    const value = next.trim() === '' ? null : next;
    typed(next, value ?? '');
    props.onChange(value);
  };
  if (props.multiline === true) {
    return (
      <textarea
        className="input textarea"
        rows={4}
        value={text}
        onChange={change}
        {...common(props)}
      />
    );
  }
  return (
    <input
      className="input"
      type="text"
      value={text}
      onChange={change}
      {...common(props)}
    />
  );
}

function DecimalInput(props: InputProps) {
  const fromValue = stringOf(props.value);
  const [text, typed] = useTypedText(fromValue);
  return (
    <input
      className="input input-number"
      type="text"
      inputMode="decimal"
      autoComplete="off"
      value={text}
      onChange={(event) => {
        const value = normaliseDecimal(event.target.value);
        typed(event.target.value, value ?? '');
        props.onChange(value);
      }}
      {...common(props)}
    />
  );
}

function MoneyInput(props: InputProps & { currency: string }) {
  const fromValue = asMoney(props.value)?.amount ?? '';
  const [text, typed] = useTypedText(fromValue);
  return (
    <span className="input-money">
      <span className="input-money-currency" aria-hidden="true">
        {props.currency}
      </span>
      <input
        className="input input-number"
        type="text"
        inputMode="decimal"
        autoComplete="off"
        value={text}
        onChange={(event) => {
          const amount = normaliseDecimal(event.target.value);
          typed(event.target.value, amount ?? '');
          props.onChange(amount === null ? null : { amount, currency: props.currency });
        }}
        {...common(props)}
      />
    </span>
  );
}

function DateInput(props: InputProps) {
  return (
    <input
      className="input input-date"
      type="date"
      value={stringOf(props.value)}
      onChange={(event) => {
        props.onChange(event.target.value === '' ? null : event.target.value);
      }}
      {...common(props)}
    />
  );
}

function DateTimeInput(props: InputProps) {
  return (
    <input
      className="input input-date"
      type="datetime-local"
      value={toLocalInput(props.value)}
      onChange={(event) => {
        props.onChange(fromLocalInput(event.target.value));
      }}
      {...common(props)}
    />
  );
}

function DateRangeInput(props: InputProps & { halfDays: boolean }) {
  const { t } = useTranslation();
  const range: DateRangeValue = asDateRange(props.value) ?? {};
  const name = props.ariaLabel === undefined ? '' : `${props.ariaLabel}: `;
  const change = (part: Partial<DateRangeValue>) => {
    const next: DateRangeValue = { ...range, ...part };
    const cleaned = Object.fromEntries(
      Object.entries(next).filter(([, v]) => v !== undefined && v !== ''),
    ) as DateRangeValue;
    // Halves alone are not a range: nothing is filled in until a date is.
    props.onChange(cleaned.start === undefined && cleaned.end === undefined ? null : cleaned);
  };
  const describe = {
    'aria-invalid': props.invalid || undefined,
    'aria-describedby': props.describedBy,
    onBlur: props.onBlur,
  };
  return (
    <div
      className="input-range"
      id={props.id}
      role="group"
      aria-labelledby={props.labelledBy}
      aria-label={props.labelledBy === undefined ? props.ariaLabel : undefined}
    >
      <label className="input-range-part">
        <span className="input-range-label">{t('form.rangeStart')}</span>
        <input
          className="input input-date"
          type="date"
          aria-label={`${name}${t('form.rangeStart')}`}
          value={range.start ?? ''}
          onChange={(event) => {
            change({ start: event.target.value });
          }}
          {...describe}
        />
        {props.halfDays && (
          <select
            className="select select-half"
            aria-label={`${name}${t('form.rangeStartHalf')}`}
            value={range.start_half ?? 'am'}
            onChange={(event) => {
              change({ start_half: event.target.value === 'pm' ? 'pm' : 'am' });
            }}
            {...describe}
          >
            <option value="am">{t('form.startAm')}</option>
            <option value="pm">{t('form.startPm')}</option>
          </select>
        )}
      </label>
      <span className="input-range-dash" aria-hidden="true">
        –
      </span>
      <label className="input-range-part">
        <span className="input-range-label">{t('form.rangeEnd')}</span>
        <input
          className="input input-date"
          type="date"
          aria-label={`${name}${t('form.rangeEnd')}`}
          value={range.end ?? ''}
          min={range.start}
          onChange={(event) => {
            change({ end: event.target.value });
          }}
          {...describe}
        />
        {props.halfDays && (
          <select
            className="select select-half"
            aria-label={`${name}${t('form.rangeEndHalf')}`}
            value={range.end_half ?? 'pm'}
            onChange={(event) => {
              change({ end_half: event.target.value === 'am' ? 'am' : 'pm' });
            }}
            {...describe}
          >
            <option value="am">{t('form.endAm')}</option>
            <option value="pm">{t('form.endPm')}</option>
          </select>
        )}
      </label>
    </div>
  );
}

function SelectInput(props: InputProps) {
  const { t, i18n } = useTranslation();
  if (props.field.type.kind !== 'single_select') return null;
  const value = stringOf(props.value);
  const known = props.field.type.options.some((option) => option.key === value);
  return (
    <select
      className="select"
      value={value}
      onChange={(event) => {
        props.onChange(event.target.value === '' ? null : event.target.value);
      }}
      {...common(props)}
    >
      <option value="">{t('form.choose')}</option>
      {/* A choice this template no longer offers is still shown, not silently replaced. */}
      {!known && value !== '' && <option value={value}>{value}</option>}
      {props.field.type.options.map((option) => (
        <option key={option.key} value={option.key}>
          {labelText(option.label, i18n.language)}
        </option>
      ))}
    </select>
  );
}

function MultiSelectInput(props: InputProps) {
  const { i18n } = useTranslation();
  if (props.field.type.kind !== 'multi_select') return null;
  const options = props.field.type.options;
  const chosen = Array.isArray(props.value) ? props.value.filter((v) => typeof v === 'string') : [];
  const toggle = (key: string, on: boolean) => {
    const next = options
      .map((option) => option.key)
      .filter((option) => (option === key ? on : chosen.includes(option)));
    props.onChange(next.length === 0 ? null : next);
  };
  return (
    <div
      className="input-choices"
      id={props.id}
      role="group"
      aria-labelledby={props.labelledBy}
      aria-label={props.labelledBy === undefined ? props.ariaLabel : undefined}
      aria-describedby={props.describedBy}
      aria-invalid={props.invalid || undefined}
    >
      {options.map((option) => (
        <label key={option.key} className="input-choice">
          <input
            type="checkbox"
            checked={chosen.includes(option.key)}
            onChange={(event) => {
              toggle(option.key, event.target.checked);
            }}
            onBlur={props.onBlur}
          />
          <span>{labelText(option.label, i18n.language)}</span>
        </label>
      ))}
    </div>
  );
}

function AttachmentsInput(props: InputProps & { compact: boolean }) {
  const { t } = useTranslation();
  const files = asAttachments(props.value);
  const draftFiles = useDraftFiles();
  const states = useAttachmentStates(files);
  const [busy, setBusy] = useState(false);
  const [problems, setProblems] = useState<string[]>([]);
  const root = useRef<HTMLDivElement>(null);
  const path = props.path;

  const attach = useCallback(
    async (how: 'pick' | 'dropped') => {
      if (draftFiles === null || path === undefined) return;
      setBusy(true);
      const result = await draftFiles.attach(path, how);
      setBusy(false);
      setProblems(
        result.status === 'ok'
          ? result.data.refused.map((error) => describeError(t, error))
          : [describeError(t, result.error)],
      );
    },
    [draftFiles, path, t],
  );

  // Files dropped on the window are this field's when they fell on it.
  useEffect(() => {
    if (draftFiles === null || path === undefined) return;
    return onFilesDropped(({ x, y }) => {
      const box = root.current?.getBoundingClientRect();
      if (box === undefined) return;
      if (x >= box.left && x <= box.right && y >= box.top && y <= box.bottom) void attach('dropped');
    });
  }, [attach, draftFiles, path]);

  const remove = (index: number, id: string) => {
    setProblems([]);
    if (draftFiles !== null && path !== undefined && id !== '') {
      void draftFiles.detach(path, id).then((result) => {
        if (result.status === 'error') setProblems([describeError(t, result.error)]);
      });
      return;
    }
    const rest = Array.isArray(props.value) ? props.value.filter((_, at) => at !== index) : [];
    props.onChange(rest.length === 0 ? null : rest);
  };

  return (
    <div
      ref={root}
      className="input-files"
      id={props.id}
      role="group"
      data-attach-path={path}
      aria-labelledby={props.labelledBy}
      aria-label={props.labelledBy === undefined ? props.ariaLabel : undefined}
      aria-describedby={props.describedBy}
      aria-invalid={props.invalid || undefined}
      aria-busy={busy || undefined}
    >
      {files.length === 0 ? (
        <p className="input-files-empty">{t('form.noFiles')}</p>
      ) : (
        <ul className="form-files">
          {files.map((file, index) => (
            <li key={file.id === '' ? index : file.id}>
              <OpenableFile id={file.id} name={file.name} />
              <span className="form-file-size">{fileSizeText(file.size)}</span>
              <FileState state={states.get(file.id)} />
              <button
                type="button"
                className="icon-button"
                aria-label={t('form.removeFile', { name: file.name })}
                onClick={() => {
                  remove(index, file.id);
                }}
              >
                <CloseIcon />
              </button>
            </li>
          ))}
        </ul>
      )}
      {draftFiles !== null && path !== undefined ? (
        <>
          <button
            type="button"
            className="button"
            disabled={busy}
            onClick={() => void attach('pick')}
            onBlur={props.onBlur}
          >
            {busy ? t('form.attaching') : t('form.addFiles')}
          </button>
          {!props.compact && <p className="hint">{t('form.dropFilesHint')}</p>}
        </>
      ) : (
        !props.compact && <p className="hint">{t('form.attachingUnavailable')}</p>
      )}
      {problems.length > 0 && (
        <p className="field-error" role="alert">
          {problems.join(' ')}
        </p>
      )}
    </div>
  );
}

/** The input for a field of any kind but a table (tables are drawn by `TableEditor`). */
export function FieldInput(props: InputProps & { inTable?: boolean }) {
  const { t } = useTranslation();
  const type = props.field.type;
  switch (type.kind) {
    case 'text':
      return <TextInput {...props} />;
    case 'long_text':
      return <TextInput {...props} multiline />;
    case 'number':
      return <DecimalInput {...props} />;
    case 'money':
      return <MoneyInput {...props} currency={type.currency} />;
    case 'date':
      return <DateInput {...props} />;
    case 'datetime':
      return <DateTimeInput {...props} />;
    case 'date_range':
      return <DateRangeInput {...props} halfDays={type.half_days === true} />;
    case 'single_select':
      return <SelectInput {...props} />;
    case 'multi_select':
      return <MultiSelectInput {...props} />;
    case 'person':
      return <DirectoryPicker {...props} kind="people" placeholder={t('form.personPlaceholder')} />;
    case 'department':
      return (
        <DirectoryPicker
          {...props}
          kind="departments"
          placeholder={t('form.departmentPlaceholder')}
        />
      );
    case 'attachments':
      return <AttachmentsInput {...props} compact={props.inTable === true} />;
    case 'table':
      // Tables do not nest; the schema check refuses such a form before it gets here.
      throw new Error(`a table inside ${props.field.key}`);
  }
}

/** Kinds drawn as a group of inputs, named by a legend rather than a `<label>`. */
export function isGroupKind(field: FieldDef): boolean {
  const kind = field.type.kind;
  return kind === 'date_range' || kind === 'multi_select' || kind === 'attachments' || kind === 'table';
}
