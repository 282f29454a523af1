// A submitted form as an approver reads it: every field's label and value in the template's
// order, tables as tables, colleagues and departments by name, and the computed figures
// (totals, leave days) as the core computed them. The UI never works a figure out itself.
import { useTranslation } from 'react-i18next';
import type { TemplateInfo } from '../api';
import { DirectoryNamesContext, directoryIdsOf, useDirectoryNames } from './directory';
import { computedAt } from './format';
import { ComputedText, FieldValue } from './FieldValue';
import { FormBoundary, FormUnavailable } from './FormBoundary';
import { computedFields, labelText, unrenderableReason, valueAt } from './schema';

interface ReadOnlyFormProps {
  /** The template the form was filled in on; `null` when this computer does not have it. */
  template: TemplateInfo | null;
  /** The form in the domain's input shape. */
  form: unknown;
  /** The core's computed values by key (`{kind, value}` each). */
  computed: unknown;
  /** Names the template in the placeholder when `template` is null. */
  templateId?: string | null;
}

export function ReadOnlyForm({ template, form, computed, templateId = null }: ReadOnlyFormProps) {
  const id = template?.id ?? templateId;
  // Everything that reads the template runs inside the boundary: a template this build does
  // not understand must end in the placeholder however it fails.
  return (
    <FormBoundary templateId={id}>
      {template === null ? (
        <FormUnavailable templateId={id} missing />
      ) : (
        <CheckedFields template={template} form={form} computed={computed} />
      )}
    </FormBoundary>
  );
}

function CheckedFields(props: { template: TemplateInfo; form: unknown; computed: unknown }) {
  const problem = unrenderableReason(props.template.form);
  if (problem !== null) return <FormUnavailable templateId={props.template.id} detail={problem} />;
  return <ReadOnlyFields {...props} />;
}

function ReadOnlyFields({
  template,
  form,
  computed,
}: {
  template: TemplateInfo;
  form: unknown;
  computed: unknown;
}) {
  const { i18n } = useTranslation();
  const language = i18n.language;
  const figures = computedFields(template.form);
  // One lookup for every colleague and department in the form, table cells included.
  const names = useDirectoryNames(directoryIdsOf(template.form.fields, form));
  return (
    <DirectoryNamesContext value={names}>
      <dl className="form-values" data-testid="read-only-form">
        {template.form.fields.map((field) => (
          <div
            key={field.key}
            className={field.type.kind === 'table' ? 'form-value form-value-wide' : 'form-value'}
            data-field={field.key}
          >
            <dt>{labelText(field.label, language)}</dt>
            <dd>
              <FieldValue field={field} value={valueAt(form, field.key)} />
            </dd>
          </div>
        ))}
        {figures.map((field) => (
          <div key={field.key} className="form-value form-value-computed" data-field={field.key}>
            <dt>{labelText(field.label, language)}</dt>
            <dd>
              <ComputedText field={field} value={computedAt(computed, field.key)} />
            </dd>
          </div>
        ))}
      </dl>
    </DirectoryNamesContext>
  );
}
