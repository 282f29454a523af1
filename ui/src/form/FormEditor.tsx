// A form being filled in: every field of the template with its label, help and messages, and
// the computed figures (totals, leave days) exactly as the core last computed them. It holds
// no state of its own beyond what each input is typing: the draft editor owns the values, the
// saving and the messages, and tells this what to show.
import { useTranslation } from 'react-i18next';
import type { FieldDef, TemplateInfo } from '../api';
import { computedAt } from './format';
import { ComputedText } from './FieldValue';
import { FormBoundary, FormUnavailable } from './FormBoundary';
import { FieldInput, isGroupKind } from './inputs';
import { messagesAt } from './messages';
import type { FieldMessage, MessageSources } from './messages';
import { computedFields, fieldId, labelText, unrenderableReason } from './schema';
import { TableEditor } from './TableEditor';

export interface FormEditorProps {
  template: TemplateInfo;
  /** The value shown at a path: the saved one, or what is being typed there. */
  valueOf: (path: string) => unknown;
  /** The core's computed values by key. */
  computed: unknown;
  messages: MessageSources;
  onChange: (path: string, value: unknown) => void;
  onBlur: (path: string) => void;
  onAddRow: (table: string) => void;
  onRemoveRow: (table: string, row: number) => void;
}

export function FormEditor(props: FormEditorProps) {
  return (
    <FormBoundary templateId={props.template.id}>
      <CheckedEditor {...props} />
    </FormBoundary>
  );
}

function CheckedEditor(props: FormEditorProps) {
  const problem = unrenderableReason(props.template.form);
  if (problem !== null) return <FormUnavailable templateId={props.template.id} detail={problem} />;
  return <Fields {...props} />;
}

function Messages({ id, messages }: { id: string; messages: FieldMessage[] }) {
  if (messages.length === 0) return null;
  return (
    <p className="field-error" id={id} data-testid={id}>
      {messages.map((message) => message.message).join(' ')}
    </p>
  );
}

function Fields(props: FormEditorProps) {
  const { i18n } = useTranslation();
  const language = i18n.language;
  const figures = computedFields(props.template.form);

  const field = (def: FieldDef) => {
    const path = def.key;
    const id = fieldId(path);
    const messages = messagesAt(props.messages, path);
    const errorId = `${id}-error`;
    const helpId = `${id}-help`;
    const labelId = `${id}-label`;
    const help = labelText(def.help, language);
    const describedBy =
      [help === '' ? null : helpId, messages.length > 0 ? errorId : null]
        .filter((part) => part !== null)
        .join(' ') || undefined;
    const group = isGroupKind(def);
    const text = labelText(def.label, language);
    // Inputs carry aria-required; the star, outside the label, is for the eyes.
    const star = def.required === true && (
      <span className="field-required" aria-hidden="true">
        *
      </span>
    );
    const input =
      def.type.kind === 'table' ? (
        <TableEditor
          field={def}
          columns={def.type.columns}
          rows={props.valueOf(path)}
          valueOf={props.valueOf}
          messages={props.messages}
          onChange={props.onChange}
          onBlur={props.onBlur}
          onAddRow={() => {
            props.onAddRow(path);
          }}
          onRemoveRow={(row) => {
            props.onRemoveRow(path, row);
          }}
          describedBy={describedBy}
          labelledBy={labelId}
        />
      ) : (
        <FieldInput
          id={id}
          path={path}
          field={def}
          value={props.valueOf(path)}
          invalid={messages.length > 0}
          describedBy={describedBy}
          labelledBy={group ? labelId : undefined}
          onChange={(value) => {
            props.onChange(path, value);
          }}
          onBlur={() => {
            props.onBlur(path);
          }}
        />
      );
    return (
      <div
        key={path}
        className={def.type.kind === 'table' ? 'form-field form-field-wide' : 'form-field'}
        data-path={path}
      >
        <span className="form-field-label">
          {group ? (
            <span id={labelId}>{text}</span>
          ) : (
            <label htmlFor={id} id={labelId}>
              {text}
            </label>
          )}
          {star}
        </span>
        {input}
        {help !== '' && (
          <p className="hint" id={helpId}>
            {help}
          </p>
        )}
        <Messages id={errorId} messages={messages} />
      </div>
    );
  };

  return (
    <div className="form-editor" data-testid="form-editor">
      <div className="form-fields">{props.template.form.fields.map(field)}</div>
      {figures.length > 0 && (
        <dl className="form-figures" aria-live="polite">
          {figures.map((figure) => {
            const messages = messagesAt(props.messages, figure.key);
            return (
              <div key={figure.key} className="form-figure" data-path={figure.key}>
                <dt>{labelText(figure.label, language)}</dt>
                <dd data-testid={`computed-${figure.key}`}>
                  <ComputedText field={figure} value={computedAt(props.computed, figure.key)} />
                </dd>
                {messages.length > 0 && (
                  <dd>
                    <Messages id={`${fieldId(figure.key)}-error`} messages={messages} />
                  </dd>
                )}
              </div>
            );
          })}
        </dl>
      )}
    </div>
  );
}
