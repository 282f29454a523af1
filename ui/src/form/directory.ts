// Names for the ids a form holds (a colleague, a department), looked up in the directory the
// core caches. A form stores ids, as the domain expects; people read names. An id the
// directory does not know (someone removed from it, a value from an old draft) is still shown,
// as the id, never dropped.
import { createContext, useContext, useEffect, useState } from 'react';
import { api } from '../api';
import type { DirectoryEntry, DirectoryKind, FieldDef } from '../api';
import { rowsOf, valueAt } from './schema';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` can be a directory id; anything else is not asked about (the core would
 *  refuse the whole question). */
export function isDirectoryId(value: unknown): value is string {
  return typeof value === 'string' && uuid.test(value);
}

/** The part of the directory a field of this kind chooses from. */
export function directoryKindOf(field: FieldDef): DirectoryKind | null {
  switch (field.type.kind) {
    case 'person':
      return 'people';
    case 'department':
      return 'departments';
    default:
      return null;
  }
}

/** What is known of the ids asked about: `loading` until the answer; `failed` when the
 *  directory could not be read (the ids are then shown as they are). */
export type DirectoryNames =
  | { status: 'loading' }
  | { status: 'failed' }
  | { status: 'ready'; entries: ReadonlyMap<string, DirectoryEntry> };

/** The names of `ids`, asked for once per distinct set of ids. */
export function useDirectoryNames(ids: readonly string[]): DirectoryNames {
  const wanted = [...new Set(ids.filter(isDirectoryId))].sort();
  const key = wanted.join(',');
  const [answer, setAnswer] = useState<{ key: string; names: DirectoryNames } | null>(null);
  useEffect(() => {
    if (key === '') return;
    let current = true;
    void api.directoryNames(key.split(',')).then((result) => {
      if (!current) return;
      setAnswer({
        key,
        names:
          result.status === 'ok'
            ? { status: 'ready', entries: new Map(result.data.map((entry) => [entry.id, entry])) }
            : { status: 'failed' },
      });
    });
    return () => {
      current = false;
    };
  }, [key]);
  if (key === '') return { status: 'ready', entries: new Map() };
  return answer?.key === key ? answer.names : { status: 'loading' };
}

/** The person and department ids of a filled-in form, table cells included. */
export function directoryIdsOf(fields: readonly FieldDef[], form: unknown): string[] {
  const ids: string[] = [];
  for (const field of fields) {
    const value = valueAt(form, field.key);
    if (field.type.kind === 'table') {
      const columns = field.type.columns.filter((column) => directoryKindOf(column) !== null);
      for (const row of rowsOf(value)) {
        for (const column of columns) {
          const cell = row[column.key];
          if (isDirectoryId(cell)) ids.push(cell);
        }
      }
    } else if (directoryKindOf(field) !== null && isDirectoryId(value)) {
      ids.push(value);
    }
  }
  return ids;
}

/** The names a read-only form shows, looked up once for the whole form. Without a provider
 *  (a value drawn on its own) ids are shown as they are. */
export const DirectoryNamesContext = createContext<DirectoryNames | null>(null);

export function useDirectoryNamesInForm(): DirectoryNames | null {
  return useContext(DirectoryNamesContext);
}
