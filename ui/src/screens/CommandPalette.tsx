// The command palette (Ctrl+K, or ⌘K on a Mac): type a few letters of what you want to do,
// pick it with the arrows, run it with Enter. The entries come from the shell, which knows
// how to do each thing; the palette only finds and runs them.
import { useEffect, useRef, useState } from 'react';
import type { KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { CheckIcon, SearchIcon } from '../icons';

export interface PaletteEntry {
  id: string;
  label: string;
  /** Other words, in either language, that should find this entry. */
  keywords: string;
  /** Marks the entry that describes how things are now (e.g. the language in use). */
  current?: boolean;
  run: () => void;
}

/** Every word typed must appear in the entry's label or keywords, in any order. */
export function matchesQuery(entry: PaletteEntry, query: string): boolean {
  const haystack = `${entry.label} ${entry.keywords}`.toLocaleLowerCase();
  return query
    .toLocaleLowerCase()
    .split(/\s+/)
    .filter((word) => word !== '')
    .every((word) => haystack.includes(word));
}

/** True for the key press that opens or closes the palette. */
export function isPaletteShortcut(event: globalThis.KeyboardEvent): boolean {
  const key = event.key.toLowerCase() === 'k' || event.code === 'KeyK';
  return key && (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey;
}

interface CommandPaletteProps {
  entries: readonly PaletteEntry[];
  onClose: () => void;
}

export function CommandPalette({ entries, onClose }: CommandPaletteProps) {
  const { t } = useTranslation();
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);

  const matches = entries.filter((entry) => matchesQuery(entry, query));
  const activeIndex = Math.min(active, matches.length - 1);
  const activeEntry = matches[activeIndex];

  // Take the focus while open and give it back on close, unless what ran moved it on.
  useEffect(() => {
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    input.current?.focus();
    return () => {
      if (before?.isConnected) before.focus();
    };
  }, []);

  const run = (entry: PaletteEntry) => {
    onClose();
    entry.run();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    const count = matches.length;
    switch (event.key) {
      case 'ArrowDown':
        if (count > 0) setActive((activeIndex + 1) % count);
        break;
      case 'ArrowUp':
        if (count > 0) setActive((activeIndex - 1 + count) % count);
        break;
      case 'Enter':
        if (activeEntry !== undefined) run(activeEntry);
        break;
      case 'Escape':
        onClose();
        break;
      case 'Tab':
        // The palette is modal: the focus stays in its search field.
        break;
      default:
        return;
    }
    event.preventDefault();
    event.stopPropagation();
  };

  return (
    <div
      className="palette-backdrop"
      onMouseDown={(event) => {
        if (event.target === event.currentTarget) onClose();
      }}
    >
      <div
        className="palette"
        role="dialog"
        aria-modal="true"
        aria-label={t('palette.title')}
        data-testid="command-palette"
      >
        <div className="palette-search">
          <SearchIcon />
          <input
            ref={input}
            className="palette-input"
            type="text"
            role="combobox"
            aria-label={t('palette.title')}
            aria-expanded="true"
            aria-controls="palette-options"
            aria-autocomplete="list"
            aria-activedescendant={
              activeEntry === undefined ? undefined : `palette-option-${activeEntry.id}`
            }
            autoComplete="off"
            spellCheck={false}
            placeholder={t('palette.placeholder')}
            value={query}
            onChange={(event) => {
              setQuery(event.target.value);
              setActive(0);
            }}
            onKeyDown={onKeyDown}
          />
        </div>
        <ul id="palette-options" className="palette-list" role="listbox" aria-label={t('palette.title')}>
          {matches.map((entry, index) => (
            <li
              key={entry.id}
              id={`palette-option-${entry.id}`}
              className="palette-option"
              role="option"
              aria-selected={index === activeIndex}
              onMouseMove={() => {
                if (index !== activeIndex) setActive(index);
              }}
              onClick={() => {
                run(entry);
              }}
            >
              <span className="palette-label">{entry.label}</span>
              {entry.current === true && (
                <span className="palette-current">
                  <CheckIcon />
                  {t('palette.current')}
                </span>
              )}
            </li>
          ))}
        </ul>
        {matches.length === 0 && (
          <p className="palette-empty" role="status">
            {t('palette.noResults')}
          </p>
        )}
        <p className="palette-help" aria-hidden="true">
          {t('palette.help')}
        </p>
      </div>
    </div>
  );
}
