// Choosing a colleague or a department for a form: a combobox that searches the directory the
// core caches (so it works offline) as the person types, and sets the field to the chosen id,
// the value the domain expects. Made for the keyboard: type, arrows to move, Enter to choose,
// Escape to close; the mouse works too. What is typed is only a search: leaving the field
// without choosing keeps the value it had, and emptying the box empties the field.
import { useEffect, useState } from 'react';
import type { KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import type { CommandError, DirectoryEntry, DirectoryKind, Result } from '../api';
import { describeError } from '../errors';
import { isDirectoryId, useDirectoryNames } from './directory';
import type { InputProps } from './inputs';

/** Long enough to let a name be typed, short enough to feel immediate. */
export const SEARCH_DELAY_MS = 200;
const LIMIT = 20;

/** The field's value as the picker shows it. */
type Shown =
  | { state: 'empty' }
  | { state: 'loading' }
  | { state: 'found'; entry: DirectoryEntry }
  /** The directory does not know it (or it is not an id at all): shown as it is. */
  | { state: 'unknown'; id: string }
  /** The directory could not be read: shown as it is, without claiming anything. */
  | { state: 'unread'; id: string };

function useShown(value: unknown, picked: DirectoryEntry | null): Shown {
  const id = typeof value === 'string' && value.trim() !== '' ? value : null;
  const lookUp = id !== null && picked?.id !== id && isDirectoryId(id);
  const names = useDirectoryNames(lookUp ? [id] : []);
  if (id === null) return { state: 'empty' };
  if (picked?.id === id) return { state: 'found', entry: picked };
  if (!isDirectoryId(id)) return { state: 'unknown', id };
  if (names.status === 'loading') return { state: 'loading' };
  if (names.status === 'failed') return { state: 'unread', id };
  const entry = names.entries.get(id);
  return entry === undefined ? { state: 'unknown', id } : { state: 'found', entry };
}

export function DirectoryPicker(
  props: InputProps & { kind: DirectoryKind; placeholder: string },
) {
  const { t } = useTranslation();
  const { kind } = props;
  const [picked, setPicked] = useState<DirectoryEntry | null>(null);
  const shown = useShown(props.value, picked);
  /** What is typed in the box while searching; null shows the chosen name. */
  const [typed, setTyped] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const [found, setFound] = useState<{
    query: string;
    result: Result<DirectoryEntry[], CommandError>;
  } | null>(null);

  const query = (typed ?? '').trim();
  useEffect(() => {
    if (!open) return;
    let current = true;
    const timer = setTimeout(() => {
      void api.directorySearch({ kind, text: query, limit: LIMIT }).then((result) => {
        if (current) setFound({ query, result });
      });
    }, SEARCH_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [open, query, kind]);

  // The last answer stays listed while the next search is on its way: no flicker per keystroke.
  const options = found?.result.status === 'ok' ? found.result.data : [];
  const searching = found?.query !== query;
  const last = Math.max(options.length - 1, 0);
  const activeIndex = Math.min(active, last);
  const activeEntry = open ? options[activeIndex] : undefined;
  const listId = `${props.id}-options`;
  const noteId = `${props.id}-note`;
  const optionId = (entry: DirectoryEntry) => `${props.id}-option-${entry.id}`;

  const close = () => {
    setOpen(false);
    setTyped(null);
  };
  const choose = (entry: DirectoryEntry) => {
    setPicked(entry);
    close();
    props.onChange(entry.id);
    // A choice is finished: it is saved at once, not after the typing pause.
    props.onBlur();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    switch (event.key) {
      case 'ArrowDown':
        if (!open) {
          setOpen(true);
          setActive(0);
        } else {
          setActive(Math.min(activeIndex + 1, last));
        }
        break;
      case 'ArrowUp':
        if (!open) return;
        setActive(Math.max(activeIndex - 1, 0));
        break;
      case 'Enter':
        // Closed, Enter is the form's; open, it chooses (and never submits the form).
        if (!open) return;
        if (activeEntry !== undefined) choose(activeEntry);
        break;
      case 'Escape':
        if (!open && typed === null) return;
        close();
        // The list is closed, not the dialog or screen around it.
        event.stopPropagation();
        break;
      default:
        return;
    }
    event.preventDefault();
  };

  let status: string | null = null;
  if (found?.result.status === 'error') {
    status = t('form.pickerFailed', { reason: describeError(t, found.result.error) });
  } else if (options.length === 0) {
    status = searching
      ? t('form.pickerSearching')
      : query === ''
        ? t('form.pickerEmptyDirectory')
        : t(kind === 'people' ? 'form.pickerNoPeople' : 'form.pickerNoDepartments', { text: query });
  }

  const boxText =
    typed ??
    (shown.state === 'found'
      ? shown.entry.name
      : shown.state === 'unknown' || shown.state === 'unread'
        ? shown.id
        : '');
  const note =
    typed !== null ? null : shown.state === 'found' ? (
      <>
        {shown.entry.detail !== null && <span className="picker-detail">{shown.entry.detail}</span>}
        {!shown.entry.active && <span className="picker-left">{t('form.leftCompany')}</span>}
      </>
    ) : shown.state === 'unknown' ? (
      <span className="picker-unknown">{t('form.notInDirectory')}</span>
    ) : null;
  const describedBy =
    [props.describedBy, note === null ? undefined : noteId]
      .filter((id): id is string => id !== undefined)
      .join(' ') || undefined;

  return (
    <div className="picker">
      <input
        id={props.id}
        className="input"
        type="text"
        role="combobox"
        aria-expanded={open}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={activeEntry === undefined ? undefined : optionId(activeEntry)}
        aria-invalid={props.invalid || undefined}
        aria-describedby={describedBy}
        aria-label={props.ariaLabel}
        aria-required={props.field.required === true || undefined}
        aria-busy={shown.state === 'loading' || undefined}
        autoComplete="off"
        spellCheck={false}
        placeholder={props.placeholder}
        value={boxText}
        onChange={(event) => {
          const next = event.target.value;
          setTyped(next);
          setOpen(true);
          setActive(0);
          if (next.trim() === '' && shown.state !== 'empty') props.onChange(null);
        }}
        onClick={() => {
          if (!open) {
            setOpen(true);
            setActive(0);
          }
        }}
        onKeyDown={onKeyDown}
        onBlur={() => {
          close();
          props.onBlur();
        }}
      />
      <ul
        id={listId}
        className="picker-list"
        role="listbox"
        aria-label={t(kind === 'people' ? 'form.peopleList' : 'form.departmentsList')}
        hidden={!open || options.length === 0}
        // Choosing with the mouse must not take the focus from the box first.
        onMouseDown={(event) => {
          event.preventDefault();
        }}
      >
        {options.map((entry, index) => (
          <li
            key={entry.id}
            id={optionId(entry)}
            className="picker-option"
            role="option"
            aria-selected={index === activeIndex}
            onMouseMove={() => {
              if (index !== activeIndex) setActive(index);
            }}
            onClick={() => {
              choose(entry);
            }}
          >
            <span className="picker-name">{entry.name}</span>
            {entry.detail !== null && <span className="picker-detail">{entry.detail}</span>}
            {!entry.active && <span className="picker-left">{t('form.leftCompany')}</span>}
          </li>
        ))}
      </ul>
      {open && status !== null && (
        <p className="picker-status" role="status">
          {status}
        </p>
      )}
      {note !== null && (
        <p className="picker-note" id={noteId}>
          {note}
        </p>
      )}
    </div>
  );
}
