// A keyboard-first list of any length: only the rows in view (and a few around them) are in
// the page, placed by @tanstack/react-virtual inside a spacer as tall as the whole list. The
// focus stays on the list itself; the arrows move the active row (announced through
// aria-activedescendant), Enter opens it, Space and x toggle its check box where rows have one.
//
// Rows are positioned with React's `style` prop. React applies it through the CSSOM
// (`element.style`), which the app's CSP (`style-src 'self'`) does not govern: only `style`
// attributes in markup are blocked, and React never writes those in the browser.
import { useEffect, useRef } from 'react';
import type { KeyboardEvent, ReactNode } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';

interface VirtualListProps {
  /** Rows in all (the list's length, not the rows loaded). */
  count: number;
  /** Every row's height in pixels: fixed, so the spacer is exact without measuring. */
  rowHeight: number;
  label: string;
  /** Unique per list on the page: the rows' ids derive from it. */
  id: string;
  active: number;
  onActiveChange: (index: number) => void;
  onOpen: (index: number) => void;
  /** Space or x on a row: toggles its check box. Lists without check boxes leave it out. */
  onToggle?: (index: number) => void;
  /** Whether a row's check box is ticked, for lists that have them. */
  isChecked?: (index: number) => boolean;
  /** The rows `first`..`last` are on screen (with a margin); ask for their data. */
  onRangeChange: (first: number, last: number) => void;
  renderRow: (index: number, active: boolean) => ReactNode;
  testId?: string;
  busy?: boolean;
  /** The rows shown answer the previous filter: drawn faded until the new answer is in. */
  stale?: boolean;
  /** Changes with the filter: the list goes back to its top, where the new answer starts. */
  resetKey?: string;
}

export function rowId(listId: string, index: number): string {
  return `${listId}-row-${index}`;
}

export function VirtualList({
  count,
  rowHeight,
  label,
  id,
  active,
  onActiveChange,
  onOpen,
  onToggle,
  isChecked,
  onRangeChange,
  renderRow,
  testId,
  busy = false,
  stale = false,
  resetKey = '',
}: VirtualListProps) {
  const scroller = useRef<HTMLDivElement>(null);
  // The virtualiser keeps its state outside React; the React Compiler must not memoise
  // around it, which the hook's own implementation already accounts for.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scroller.current,
    estimateSize: () => rowHeight,
    overscan: 8,
  });
  const rows = virtualizer.getVirtualItems();
  const first = rows[0]?.index ?? 0;
  const last = rows[rows.length - 1]?.index ?? -1;

  useEffect(() => {
    if (last >= first) onRangeChange(first, last);
  }, [first, last, count, onRangeChange]);

  useEffect(() => {
    virtualizer.scrollToOffset(0);
  }, [resetKey, virtualizer]);

  const clamped = Math.min(Math.max(active, 0), count - 1);

  const move = (index: number) => {
    if (count === 0) return;
    const next = Math.min(Math.max(index, 0), count - 1);
    onActiveChange(next);
    virtualizer.scrollToIndex(next, { align: 'auto' });
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.target !== event.currentTarget) return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const pageRows = Math.max(1, Math.floor(event.currentTarget.clientHeight / rowHeight) - 1);
    switch (event.key) {
      case 'ArrowDown':
      case 'j':
        move(clamped + 1);
        break;
      case 'ArrowUp':
      case 'k':
        move(clamped - 1);
        break;
      case 'PageDown':
        move(clamped + pageRows);
        break;
      case 'PageUp':
        move(clamped - pageRows);
        break;
      case 'Home':
        move(0);
        break;
      case 'End':
        move(count - 1);
        break;
      case 'Enter':
        if (count > 0) onOpen(clamped);
        break;
      case ' ':
      case 'x':
        if (onToggle === undefined || count === 0) return;
        onToggle(clamped);
        break;
      default:
        return;
    }
    event.preventDefault();
  };

  return (
    <div
      ref={scroller}
      id={id}
      className={stale ? 'virtual-list virtual-list-stale' : 'virtual-list'}
      role="grid"
      aria-label={label}
      aria-rowcount={count}
      aria-busy={busy}
      aria-activedescendant={count > 0 ? rowId(id, clamped) : undefined}
      tabIndex={0}
      data-testid={testId}
      onKeyDown={onKeyDown}
    >
      <div className="virtual-spacer" style={{ height: virtualizer.getTotalSize() }}>
        {rows.map((row) => (
          <div
            key={row.index}
            id={rowId(id, row.index)}
            className="virtual-row"
            role="row"
            aria-rowindex={row.index + 1}
            aria-current={row.index === clamped ? 'true' : undefined}
            aria-selected={isChecked?.(row.index)}
            data-index={row.index}
            style={{ height: row.size, transform: `translateY(${row.start}px)` }}
            onMouseDown={() => {
              onActiveChange(row.index);
            }}
          >
            {renderRow(row.index, row.index === clamped)}
          </div>
        ))}
      </div>
    </div>
  );
}
