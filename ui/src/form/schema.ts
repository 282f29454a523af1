// What the form renderer knows about a template's form schema: which field kinds it can
// draw, how to tell that a schema from a newer core is beyond it, labels in the UI language,
// and the field paths (`purpose`, `lines[0].amount`) that the core's errors and `draftSet` use.
import type { FieldDef, FieldType, FormSchema, Language, TemplateInfo } from '../api';

type Label = TemplateInfo['name'];

export type FieldKind = FieldType['kind'];

/** Every kind this build can draw. A `Record` so that a kind added to the bindings fails the
 *  type check until the renderer has been taught it. */
const drawable: Record<FieldKind, true> = {
  text: true,
  long_text: true,
  number: true,
  money: true,
  date: true,
  date_range: true,
  datetime: true,
  single_select: true,
  multi_select: true,
  person: true,
  department: true,
  attachments: true,
  table: true,
};

export function isDrawableKind(kind: unknown): kind is FieldKind {
  return typeof kind === 'string' && Object.hasOwn(drawable, kind);
}

/** The label in the UI language; the other language rather than nothing. */
export function labelText(label: Label | null | undefined, language: string): string {
  if (label === null || label === undefined) return '';
  const chosen = language === 'zh-CN' ? label['zh-CN'] : label.en;
  return chosen.trim() === '' ? (language === 'zh-CN' ? label.en : label['zh-CN']) : chosen;
}

/** The UI language as the catalogues name it, for picking labels. */
export function formLanguage(language: string | undefined): Language {
  return language === 'zh-CN' ? 'zh-CN' : 'en';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isLabel(value: unknown): boolean {
  return isObject(value) && typeof value['en'] === 'string' && typeof value['zh-CN'] === 'string';
}

function fieldProblem(field: unknown, where: string, inTable: boolean): string | null {
  if (!isObject(field) || typeof field['key'] !== 'string' || !isLabel(field['label'])) {
    return `${where}: not a field`;
  }
  const type = field['type'];
  if (!isObject(type)) return `${field['key']}: no type`;
  if (!isDrawableKind(type['kind'])) return `${field['key']}: unknown kind “${String(type['kind'])}”`;
  if (type['kind'] === 'single_select' || type['kind'] === 'multi_select') {
    if (!Array.isArray(type['options'])) return `${field['key']}: no options`;
    const bad = type['options'].some(
      (option) => !isObject(option) || typeof option['key'] !== 'string' || !isLabel(option['label']),
    );
    if (bad) return `${field['key']}: an option without a key or label`;
  }
  if (type['kind'] === 'money' && typeof type['currency'] !== 'string') {
    return `${field['key']}: money without a currency`;
  }
  if (type['kind'] === 'table') {
    if (inTable) return `${field['key']}: a table inside a table`;
    if (!Array.isArray(type['columns']) || type['columns'].length === 0) {
      return `${field['key']}: a table without columns`;
    }
    for (const [index, column] of type['columns'].entries()) {
      const problem = fieldProblem(column, `${field['key']}.${String(index)}`, true);
      if (problem !== null) return problem;
    }
  }
  return null;
}

/**
 * Why this build cannot draw `schema`, or `null` when it can. A template made for a newer
 * Countersign (a field kind this build does not know) must say so rather than render a form
 * with a hole in it that could then be submitted.
 */
export function unrenderableReason(schema: unknown): string | null {
  if (!isObject(schema) || !Array.isArray(schema['fields'])) return 'no fields';
  for (const [index, field] of schema['fields'].entries()) {
    const problem = fieldProblem(field, String(index), false);
    if (problem !== null) return problem;
  }
  const computed = schema['computed'] ?? [];
  if (!Array.isArray(computed)) return 'computed is not a list';
  for (const field of computed) {
    if (!isObject(field) || typeof field['key'] !== 'string' || !isLabel(field['label'])) {
      return 'a computed field without a key or label';
    }
  }
  return null;
}

export function computedFields(schema: FormSchema) {
  return schema.computed ?? [];
}

/** The path of a table cell, as the core writes it. */
export function cellPath(table: string, row: number, column: string): string {
  return `${table}[${String(row)}].${column}`;
}

export function rowPath(table: string, row: number): string {
  return `${table}[${String(row)}]`;
}

/** The value at a top-level key or a table cell path, `undefined` when absent. */
export function valueAt(form: unknown, path: string): unknown {
  const match = /^([a-z0-9_]+)(?:\[(\d+)\](?:\.([a-z0-9_]+))?)?$/.exec(path);
  if (match === null || !isObject(form)) return undefined;
  const [, key = '', row, column] = match;
  const top = form[key];
  if (row === undefined) return top;
  if (!Array.isArray(top)) return undefined;
  const cells: unknown = top[Number(row)];
  if (column === undefined) return cells;
  return isObject(cells) ? cells[column] : undefined;
}

/** The rows of a table value (anything else counts as none). */
export function rowsOf(value: unknown): Record<string, unknown>[] {
  if (!Array.isArray(value)) return [];
  return value.map((row) => (isObject(row) ? row : {}));
}

export function fieldId(path: string): string {
  return `field-${path.replace(/[^a-zA-Z0-9_-]/g, '-')}`;
}

export type { FieldDef };
