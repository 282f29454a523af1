// A filled-in value as text, by its field's kind: what a read-only form shows and what an
// approver reads. A value of the wrong shape (an old draft, a newer server) is shown as
// "not filled in" rather than breaking the page.
import { useTranslation } from 'react-i18next';
import type { ComputedField, FieldDef } from '../api';
import { FileState, OpenableFile, useAttachmentStates } from './attachments';
import {
  type Attachment,
  asAttachments,
  asDateRange,
  asMoney,
  dateTimeText,
  fileSizeText,
  groupDigits,
  moneyText,
} from './format';
import type { ComputedValue } from './format';
import { useDirectoryNamesInForm } from './directory';
import { labelText, rowsOf } from './schema';

export function NotFilled() {
  const { t } = useTranslation();
  return (
    <span className="form-empty-value">
      <span aria-hidden="true">—</span>
      <span className="visually-hidden">{t('form.notFilled')}</span>
    </span>
  );
}

/** A colleague or department by name, as the form's directory lookup found it; the id itself
 *  when the directory does not know it (or could not be read). */
function DirectoryName({ id }: { id: string }) {
  const { t } = useTranslation();
  const names = useDirectoryNamesInForm();
  if (names?.status === 'loading') {
    return (
      <span className="form-empty-value" aria-busy="true">
        …
      </span>
    );
  }
  const entry = names?.status === 'ready' ? names.entries.get(id) : undefined;
  if (entry === undefined) {
    return (
      <span>
        <span className="form-id">{id}</span>
        {names?.status === 'ready' && (
          <span className="form-directory-note"> {t('form.notInDirectory')}</span>
        )}
      </span>
    );
  }
  return (
    <span>
      {entry.name}
      {entry.detail !== null && <span className="form-directory-detail"> {entry.detail}</span>}
      {!entry.active && <span className="form-directory-left">{t('form.leftCompany')}</span>}
    </span>
  );
}

function halfText(half: 'am' | 'pm' | undefined, t: ReturnType<typeof useTranslation>['t']) {
  return half === 'am' ? t('form.halfAm') : t('form.halfPm');
}

export function FieldValue({ field, value }: { field: FieldDef; value: unknown }) {
  const { t, i18n } = useTranslation();
  const type = field.type;
  if (value === undefined || value === null || value === '') return <NotFilled />;

  switch (type.kind) {
    case 'text':
    case 'number':
      if (typeof value !== 'string' && typeof value !== 'number') return <NotFilled />;
      if (type.kind === 'number') return <span className="form-number">{groupDigits(String(value))}</span>;
      return <span>{String(value)}</span>;
    case 'person':
    case 'department':
      return typeof value === 'string' ? <DirectoryName id={value} /> : <NotFilled />;
    case 'long_text':
      return typeof value === 'string' ? <span className="form-long-text">{value}</span> : <NotFilled />;
    case 'money': {
      const money = asMoney(value);
      return money === null ? <NotFilled /> : <span className="form-number">{moneyText(money)}</span>;
    }
    case 'date':
      return typeof value === 'string' ? <span>{value}</span> : <NotFilled />;
    case 'datetime':
      return typeof value === 'string' ? <span>{dateTimeText(value)}</span> : <NotFilled />;
    case 'date_range': {
      const range = asDateRange(value);
      if (range === null || (range.start === undefined && range.end === undefined)) {
        return <NotFilled />;
      }
      // Halves only matter where the form allows them, and only when not the whole day.
      const startHalf =
        type.half_days === true && range.start_half === 'pm' ? ` ${halfText('pm', t)}` : '';
      const endHalf =
        type.half_days === true && range.end_half === 'am' ? ` ${halfText('am', t)}` : '';
      return (
        <span>
          {range.start ?? '?'}
          {startHalf} – {range.end ?? '?'}
          {endHalf}
        </span>
      );
    }
    case 'single_select': {
      if (typeof value !== 'string') return <NotFilled />;
      const option = type.options.find((o) => o.key === value);
      return <span>{option === undefined ? value : labelText(option.label, i18n.language)}</span>;
    }
    case 'multi_select': {
      if (!Array.isArray(value) || value.length === 0) return <NotFilled />;
      const names = value.map((key) => {
        const option = type.options.find((o) => o.key === key);
        return option === undefined ? String(key) : labelText(option.label, i18n.language);
      });
      return <span>{names.join(i18n.language === 'zh-CN' ? '、' : ', ')}</span>;
    }
    case 'attachments': {
      const files = asAttachments(value);
      if (files.length === 0) return <NotFilled />;
      return <SentFiles files={files} />;
    }
    case 'table':
      return <ReadOnlyTable field={field} columns={type.columns} value={value} />;
  }
}

function ReadOnlyTable({
  field,
  columns,
  value,
}: {
  field: FieldDef;
  columns: FieldDef[];
  value: unknown;
}) {
  const { t, i18n } = useTranslation();
  const rows = rowsOf(value);
  if (rows.length === 0) return <NotFilled />;
  return (
    <div className="form-table-scroll">
      <table className="form-table" aria-label={labelText(field.label, i18n.language)}>
        <thead>
          <tr>
            <th scope="col" className="form-table-index">
              <span className="visually-hidden">{t('form.rowNumber')}</span>#
            </th>
            {columns.map((column) => (
              <th key={column.key} scope="col" className={numericKind(column) ? 'form-cell-number' : undefined}>
                {labelText(column.label, i18n.language)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, index) => (
            <tr key={index}>
              <td className="form-table-index">{index + 1}</td>
              {columns.map((column) => (
                <td key={column.key} className={numericKind(column) ? 'form-cell-number' : undefined}>
                  <FieldValue field={column} value={row[column.key]} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function numericKind(field: FieldDef): boolean {
  return field.type.kind === 'money' || field.type.kind === 'number';
}

/** A computed value (a total, leave days) as the core computed it. */
export function ComputedText({
  field,
  value,
}: {
  field: ComputedField;
  value: ComputedValue | null;
}) {
  const { t } = useTranslation();
  if (value === null) return <NotFilled />;
  if (value.kind === 'money') return <span className="form-number">{moneyText(value.money)}</span>;
  if (value.kind === 'number') {
    if (field.formula.kind === 'working_days') {
      return (
        <span className="form-number">
          {/^1(\.0*)?$/.test(value.number)
            ? t('form.oneWorkingDay')
            : t('form.workingDays', { days: groupDigits(value.number) })}
        </span>
      );
    }
    return <span className="form-number">{groupDigits(value.number)}</span>;
  }
  return <span>{value.text}</span>;
}

/** A sent request's files, each saying whether it opens without a connection. */
function SentFiles({ files }: { files: Attachment[] }) {
  const states = useAttachmentStates(files);
  return (
    <ul className="form-files">
      {files.map((file, index) => (
        <li key={file.id === '' ? index : file.id}>
          <OpenableFile id={file.id} name={file.name} />
          <span className="form-file-size">{fileSizeText(file.size)}</span>
          <FileState state={states.get(file.id)} sent />
        </li>
      ))}
    </ul>
  );
}
