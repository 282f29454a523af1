// A detail table being filled in (reimbursement lines, purchase items): a row per line, an
// input per cell named "Amount, line 2" for screen readers, the core's message under the cell
// it is about, and lines added and removed with buttons that say which line.
import { useTranslation } from 'react-i18next';
import type { FieldDef } from '../api';
import { AlertIcon, PlusIcon, TrashIcon } from '../icons';
import { numericKind } from './FieldValue';
import { FieldInput } from './inputs';
import { messagesAt } from './messages';
import type { MessageSources } from './messages';
import { cellPath, fieldId, labelText, rowPath, rowsOf } from './schema';

export interface TableEditorProps {
  field: FieldDef;
  columns: FieldDef[];
  /** The rows as shown (the saved table with what is being typed on top). */
  rows: unknown;
  valueOf: (path: string) => unknown;
  messages: MessageSources;
  onChange: (path: string, value: unknown) => void;
  onBlur: (path: string) => void;
  onAddRow: () => void;
  onRemoveRow: (row: number) => void;
  describedBy: string | undefined;
  labelledBy: string;
}

export function TableEditor(props: TableEditorProps) {
  const { t, i18n } = useTranslation();
  const { field, columns } = props;
  const rows = rowsOf(props.rows);
  const language = i18n.language;
  const line = (row: number) => t('form.line', { number: row + 1 });
  const hasFiles = columns.some((column) => column.type.kind === 'attachments');

  return (
    <div className="table-editor" id={fieldId(field.key)} aria-describedby={props.describedBy}>
      <div className="form-table-scroll">
        <table className="form-table form-table-edit" aria-labelledby={props.labelledBy}>
          <thead>
            <tr>
              <th scope="col" className="form-table-index">
                <span className="visually-hidden">{t('form.rowNumber')}</span>#
              </th>
              {columns.map((column) => (
                <th
                  key={column.key}
                  scope="col"
                  className={numericKind(column) ? 'form-cell-number' : undefined}
                >
                  {labelText(column.label, language)}
                  {column.required === true && (
                    <span className="field-required" aria-hidden="true">
                      *
                    </span>
                  )}
                </th>
              ))}
              <th scope="col" className="form-table-actions">
                <span className="visually-hidden">{t('form.rowActions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td className="form-table-empty" colSpan={columns.length + 2}>
                  {t('form.noRows')}
                </td>
              </tr>
            )}
            {rows.map((_, row) => {
              const rowMessages = messagesAt(props.messages, rowPath(field.key, row));
              return (
                <tr key={row} data-path={rowPath(field.key, row)}>
                  <td className="form-table-index">
                    {row + 1}
                    {rowMessages.length > 0 && (
                      <span className="field-error" title={rowMessages.map((m) => m.message).join(' ')}>
                        <AlertIcon />
                        <span className="visually-hidden">
                          {rowMessages.map((m) => m.message).join(' ')}
                        </span>
                      </span>
                    )}
                  </td>
                  {columns.map((column) => {
                    const path = cellPath(field.key, row, column.key);
                    const messages = messagesAt(props.messages, path);
                    const errorId = `${fieldId(path)}-error`;
                    return (
                      <td
                        key={column.key}
                        data-path={path}
                        className={numericKind(column) ? 'form-cell-number' : undefined}
                      >
                        <FieldInput
                          id={fieldId(path)}
                          path={path}
                          field={column}
                          value={props.valueOf(path)}
                          inTable
                          ariaLabel={t('form.cellLabel', {
                            column: labelText(column.label, language),
                            line: line(row),
                          })}
                          invalid={messages.length > 0}
                          describedBy={messages.length > 0 ? errorId : undefined}
                          onChange={(value) => {
                            props.onChange(path, value);
                          }}
                          onBlur={() => {
                            props.onBlur(path);
                          }}
                        />
                        {messages.length > 0 && (
                          <p className="field-error" id={errorId}>
                            {messages.map((m) => m.message).join(' ')}
                          </p>
                        )}
                      </td>
                    );
                  })}
                  <td className="form-table-actions">
                    <button
                      type="button"
                      className="icon-button"
                      aria-label={t('form.removeRow', { line: line(row) })}
                      onClick={() => {
                        props.onRemoveRow(row);
                      }}
                    >
                      <TrashIcon />
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <div className="table-editor-footer">
        <button type="button" className="button button-secondary button-small" onClick={props.onAddRow}>
          <PlusIcon />
          {t('form.addRow')}
        </button>
        {hasFiles && <p className="hint">{t('form.attachingUnavailable')}</p>}
      </div>
    </div>
  );
}
