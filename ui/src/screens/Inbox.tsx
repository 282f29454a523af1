// The inbox: the requests waiting for the signed-in person's decision, oldest first, as many
// as there are (a virtualised list reads them from the core a page at a time). Filters by
// template and service level, a search that the core runs over titles, people and figures
// in either language, and approving several at once. All of it works offline: decisions are
// queued, and the sync bar above the list says what waits and what the server refused.
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import type { BulkOutcome, CommandError, InboxEntry, SlaFilter } from '../api';
import { describeError } from '../errors';
import { labelText } from '../form/schema';
import { AlertIcon, CheckIcon, CloseIcon, SearchIcon } from '../icons';
import { formatDuration, formatMoment, secondsSince, useNow } from '../list/format';
import { inboxFilter, useSyncSnapshot } from '../list/live';
import type { InboxList, SyncState } from '../list/live';
import { usePagedList } from '../list/pagedList';
import { ListNotReady } from '../list/ListNotReady';
import { VirtualList } from '../list/VirtualList';
import { refusalReason } from '../list/words';
import { markStart } from '../startMarks';
import type { PaletteEntry } from './CommandPalette';
import { SyncBar } from './InboxSync';

/** Row height in pixels; `.inbox-row` in styles.css is drawn to fit it. */
const ROW_HEIGHT = 76;
/** How long typing must pause before the search runs. */
export const SEARCH_DELAY_MS = 250;

function EmptyInboxIllustration() {
  return (
    <svg className="empty-illustration" viewBox="0 0 160 120" aria-hidden="true" focusable="false">
      <ellipse className="illustration-shadow" cx="80" cy="104" rx="52" ry="6" />
      <path
        className="illustration-paper"
        d="M50 24h60a4 4 0 0 1 4 4v44H46V28a4 4 0 0 1 4-4z"
      />
      <path className="illustration-line" d="M58 38h32M58 48h44M58 58h24" />
      <path
        className="illustration-tray"
        d="M30 66l12-22h6v28h64V44h6l12 22v28a6 6 0 0 1-6 6H36a6 6 0 0 1-6-6z"
      />
      <path className="illustration-tray-lip" d="M30 66h28l6 10h32l6-10h28" />
      <circle className="illustration-badge" cx="118" cy="28" r="14" />
      <path className="illustration-badge-tick" d="M111.5 28.5l4.5 4.5 8.5-9" />
    </svg>
  );
}

/** The text the search box holds, run once typing pauses. */
export function useDebounced(value: string, delay = SEARCH_DELAY_MS): string {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => {
      setSettled(value);
    }, delay);
    return () => {
      window.clearTimeout(timer);
    };
  }, [value, delay]);
  return settled;
}

/** Whether this page load has reported the inbox's first paint (see `Inbox`). */
let firstPaintReported = false;

type Bulk =
  | { stage: 'closed' }
  | { stage: 'confirm'; comment: string; sending: boolean; error: CommandError | null }
  | { stage: 'done'; outcomes: BulkOutcome[]; titles: Map<string, string>; offline: boolean };

interface InboxProps {
  list: InboxList;
  sync: SyncState;
  onOpen: (requestId: string) => void;
  /** Opens a meeting (a refused answer to an invitation, listed with the outbox). */
  onOpenMeeting?: (meetingId: string) => void;
  /** What the inbox adds to the command palette right now ("Approve selected"). */
  onPaletteEntries?: (entries: PaletteEntry[]) => void;
}

export function Inbox({ list, sync, onOpen, onOpenMeeting, onPaletteEntries }: InboxProps) {
  const { t, i18n } = useTranslation();
  const language = i18n.language;
  const now = useNow();
  const [search, setSearch] = useState('');
  const searched = useDebounced(search);
  const [templateId, setTemplateId] = useState<string | null>(null);
  const [sla, setSla] = useState<SlaFilter | null>(null);
  const [active, setActive] = useState(0);
  // Keyed by request so that a selection survives pages coming and going while scrolling.
  const [selected, setSelected] = useState<ReadonlyMap<string, InboxEntry>>(new Map());
  const [bulk, setBulk] = useState<Bulk>({ stage: 'closed' });
  const listElement = useRef<HTMLDivElement>(null);
  const { status } = useSyncSnapshot(sync);

  const trimmed = searched.trim();
  const filter = inboxFilter(trimmed === '' ? null : trimmed, templateId, sla);
  const filterKey = JSON.stringify(filter);
  const snapshot = usePagedList(list, filter);
  const total = snapshot.total ?? 0;

  // The first answer on screen (rows or the empty state) since the app started: committed by
  // React here, before the browser lays it out; once painted, the app logs the start's steps.
  useLayoutEffect(() => {
    if (snapshot.total === null || firstPaintReported) return;
    markStart('rendered');
    // Reading a size makes the browser lay the page out now rather than just before its
    // paint: the same work, once, timed apart from the paint.
    document.body.getBoundingClientRect();
    markStart('laid_out');
  }, [snapshot.total]);
  useEffect(() => {
    if (snapshot.total === null || firstPaintReported) return;
    firstPaintReported = true;
    requestAnimationFrame(() => {
      requestAnimationFrame(() => {
        void api.firstPaint('inbox');
      });
    });
  }, [snapshot.total]);
  const filtered = filter.search !== null || templateId !== null || sla !== null;

  // A new filter shows other rows: what was selected is no longer in sight, and approving
  // what one cannot see is not a decision. The cursor goes back to the top.
  const [shownFilter, setShownFilter] = useState(filterKey);
  if (shownFilter !== filterKey) {
    setShownFilter(filterKey);
    setSelected(new Map());
    setActive(0);
  }

  const showRange = useCallback(
    (first: number, last: number) => {
      list.show(first, last);
    },
    [list],
  );

  const toggle = useCallback(
    (index: number) => {
      const entry = list.row(index);
      if (entry === undefined) return;
      setSelected((before) => {
        const after = new Map(before);
        if (after.has(entry.request_id)) after.delete(entry.request_id);
        else after.set(entry.request_id, entry);
        return after;
      });
    },
    [list],
  );

  const openBulk = useCallback(() => {
    setBulk({ stage: 'confirm', comment: '', sending: false, error: null });
  }, []);

  const count = selected.size;
  useEffect(() => {
    if (onPaletteEntries === undefined) return;
    onPaletteEntries(
      count === 0
        ? []
        : [
            {
              id: 'approve-selected',
              label: t('inbox.paletteApproveSelected', { count }),
              keywords: 'approve selected bulk 批量 同意 审批 通过',
              run: openBulk,
            },
          ],
    );
  }, [count, onPaletteEntries, openBulk, t]);
  useEffect(
    () => () => {
      onPaletteEntries?.([]);
    },
    [onPaletteEntries],
  );

  const approveSelected = async (comment: string) => {
    if (bulk.stage !== 'confirm' || bulk.sending) return;
    setBulk({ ...bulk, sending: true, error: null });
    const ids = [...selected.keys()];
    const titles = new Map([...selected].map(([id, entry]) => [id, entry.title]));
    const result = await api.actMany(ids, { kind: 'approve', comment: comment.trim() });
    if (result.status === 'error') {
      setBulk({ stage: 'confirm', comment, sending: false, error: result.error });
      return;
    }
    setBulk({
      stage: 'done',
      outcomes: result.data,
      titles,
      offline: status !== null && !status.online,
    });
    setSelected(new Map());
    // The approved requests leave the inbox at once; the core also says so by an event.
    list.refresh();
    void sync.refresh();
    listElement.current?.querySelector<HTMLElement>('.virtual-list')?.focus();
  };

  const clearFilters = () => {
    setSearch('');
    setTemplateId(null);
    setSla(null);
  };

  // With nothing waiting at all there is nothing to filter: the filters stay out of the way.
  const templates = snapshot.latest?.templates ?? [];
  const templateCount = templates.reduce((sum, template) => sum + template.count, 0);

  const renderRow = (index: number, isActive: boolean) => {
    const entry = list.row(index);
    if (entry === undefined) {
      return (
        <div className="inbox-row row-placeholder" aria-hidden="true">
          <span className="placeholder-bar" />
          <span className="placeholder-bar placeholder-bar-short" />
        </div>
      );
    }
    const checked = selected.has(entry.request_id);
    const template = entry.template_name === null ? entry.template_id : labelText(entry.template_name, language);
    return (
      <div
        className={`inbox-row${isActive ? ' row-active' : ''}${checked ? ' row-checked' : ''}`}
        data-testid="inbox-row"
        onClick={() => {
          onOpen(entry.request_id);
        }}
      >
        <div
          role="gridcell"
          className="row-check"
          onClick={(event) => {
            // Ticking the box selects; it does not open the request.
            event.stopPropagation();
          }}
        >
          <input
            type="checkbox"
            tabIndex={-1}
            checked={checked}
            aria-label={t('inbox.selectRow', { title: entry.title })}
            onChange={() => {
              toggle(index);
            }}
          />
        </div>
        <div role="gridcell" className="row-main">
          <div className="row-line">
            <span className="row-title">{entry.title}</span>
            <SlaBadge sla={entry.sla} dueAt={entry.due_at} now={now} />
          </div>
          <div className="row-meta">
            <span>{entry.initiator.name}</span>
            <span>{template}</span>
            {entry.figures.map((figure) => (
              <span key={figure.field} className="row-figure">
                {figure.label === null ? '' : `${labelText(figure.label, language)} `}
                <strong>{figure.text}</strong>
              </span>
            ))}
          </div>
        </div>
        <div role="gridcell" className="row-side">
          {t('inbox.waiting', {
            duration: formatDuration(t, secondsSince(entry.opened_at, now)),
          })}
        </div>
      </div>
    );
  };

  let body;
  if (snapshot.total === null) {
    body = (
      <ListNotReady
        error={snapshot.error}
        onRetry={() => {
          list.refresh();
        }}
        testIdPrefix="inbox"
        words={{
          failed: (reason) => t('inbox.loadFailed', { reason }),
          retry: t('inbox.retry'),
          loading: t('inbox.loading'),
        }}
      />
    );
  } else if (total === 0 && !filtered) {
    body = (
      <div className="empty-state" data-testid="inbox-empty">
        <EmptyInboxIllustration />
        <h2 className="empty-title">{t('inbox.emptyTitle')}</h2>
        <p className="empty-body">{t('inbox.emptyBody')}</p>
      </div>
    );
  } else if (total === 0) {
    body = (
      <div className="empty-state empty-state-small" data-testid="inbox-no-matches">
        <h2 className="empty-title">{t('inbox.noMatches')}</h2>
        <button type="button" className="button button-secondary" onClick={clearFilters}>
          {t('inbox.clearFilters')}
        </button>
      </div>
    );
  } else {
    body = (
      <VirtualList
        id="inbox-list"
        testId="inbox-list"
        label={t('inbox.listLabel')}
        count={total}
        rowHeight={ROW_HEIGHT}
        active={active}
        busy={snapshot.loading}
        stale={snapshot.stale}
        resetKey={filterKey}
        onActiveChange={setActive}
        onOpen={(index) => {
          const entry = list.row(index);
          if (entry !== undefined) onOpen(entry.request_id);
        }}
        onToggle={toggle}
        isChecked={(index) => {
          const entry = list.row(index);
          return entry !== undefined && selected.has(entry.request_id);
        }}
        onRangeChange={showRange}
        renderRow={renderRow}
      />
    );
  }

  return (
    <section className="view view-fill" aria-labelledby="view-title">
      <header className="view-header">
        <div className="view-header-row">
          <h1 id="view-title" className="view-title" tabIndex={-1}>
            {t('inbox.title')}
          </h1>
          {snapshot.total !== null && snapshot.total > 0 && (
            <span className="count-badge" data-testid="inbox-total">
              {t('inbox.total', { count: snapshot.total })}
            </span>
          )}
        </div>
        <p className="view-subtitle">{t('inbox.subtitle')}</p>
      </header>

      <SyncBar sync={sync} onOpen={onOpen} onOpenMeeting={onOpenMeeting} />

      {(templates.length > 0 || filtered) && (
      <div className="filters" role="search">
        <label className="search-field">
          <SearchIcon />
          <span className="visually-hidden">{t('inbox.search')}</span>
          <input
            type="search"
            className="search-input"
            data-testid="inbox-search"
            placeholder={t('inbox.searchPlaceholder')}
            value={search}
            onChange={(event) => {
              setSearch(event.target.value);
            }}
            onKeyDown={(event) => {
              // Down from the search lands in the list, as in a mail client.
              if (event.key === 'ArrowDown') {
                event.preventDefault();
                listElement.current?.querySelector<HTMLElement>('.virtual-list')?.focus();
              }
            }}
          />
        </label>
        <label className="filter-field">
          <span className="visually-hidden">{t('inbox.templateFilter')}</span>
          <select
            className="select select-compact"
            data-testid="inbox-template"
            value={templateId ?? ''}
            onChange={(event) => {
              setTemplateId(event.target.value === '' ? null : event.target.value);
            }}
          >
            <option value="">{t('inbox.allTemplates', { count: templateCount })}</option>
            {templates.map((template) => (
              <option key={template.template_id} value={template.template_id}>
                {t('inbox.templateOption', {
                  name:
                    template.name === null
                      ? template.template_id
                      : labelText(template.name, language),
                  count: template.count,
                })}
              </option>
            ))}
          </select>
        </label>
        <div className="chips" role="group" aria-label={t('inbox.slaFilter')}>
          {(['due_soon', 'overdue'] as const).map((choice) => (
            <button
              key={choice}
              type="button"
              className="chip"
              data-testid={`inbox-sla-${choice}`}
              aria-pressed={sla === choice}
              onClick={() => {
                setSla(sla === choice ? null : choice);
              }}
            >
              {choice === 'due_soon' ? t('inbox.slaDueSoon') : t('inbox.slaOverdue')}
            </button>
          ))}
        </div>
      </div>
      )}

      {count > 0 && bulk.stage !== 'confirm' && (
        <div className="bulk-bar" data-testid="bulk-bar">
          <span className="bulk-count">{t('inbox.selectedCount', { count })}</span>
          <button
            type="button"
            className="button button-primary button-small"
            data-testid="approve-selected"
            onClick={openBulk}
          >
            <CheckIcon />
            {t('inbox.approveSelected')}
          </button>
          <button
            type="button"
            className="button button-secondary button-small"
            onClick={() => {
              setSelected(new Map());
            }}
          >
            {t('inbox.clearSelection')}
          </button>
        </div>
      )}

      {bulk.stage === 'confirm' && (
        <BulkApprove
          count={count}
          comment={bulk.comment}
          sending={bulk.sending}
          error={bulk.error}
          onComment={(comment) => {
            setBulk({ ...bulk, comment });
          }}
          onApprove={() => void approveSelected(bulk.comment)}
          onCancel={() => {
            setBulk({ stage: 'closed' });
            listElement.current?.querySelector<HTMLElement>('.virtual-list')?.focus();
          }}
        />
      )}

      {bulk.stage === 'done' && (
        <BulkOutcomes
          outcomes={bulk.outcomes}
          titles={bulk.titles}
          offline={bulk.offline}
          onOpen={onOpen}
          onDismiss={() => {
            setBulk({ stage: 'closed' });
          }}
        />
      )}

      <div className="list-area" ref={listElement}>
        {body}
      </div>
      {total > 0 && <p className="list-help" aria-hidden="true">{t('inbox.keyboardHelp')}</p>}
    </section>
  );
}

function SlaBadge({ sla, dueAt, now }: { sla: InboxEntry['sla']; dueAt: string | null; now: number }) {
  const { t, i18n } = useTranslation();
  if (sla !== 'due_soon' && sla !== 'overdue') return null;
  const due = dueAt === null ? null : formatMoment(dueAt, i18n.language, now);
  const text =
    sla === 'overdue'
      ? due === null
        ? t('inbox.overdue')
        : t('inbox.overdueSince', { time: due })
      : due === null
        ? t('inbox.dueSoon')
        : t('inbox.dueAt', { time: due });
  return (
    <span className={`badge badge-sla badge-${sla}`} data-testid={`sla-${sla}`}>
      {text}
    </span>
  );
}

interface BulkApproveProps {
  count: number;
  comment: string;
  sending: boolean;
  error: CommandError | null;
  onComment: (comment: string) => void;
  onApprove: () => void;
  onCancel: () => void;
}

function BulkApprove({ count, comment, sending, error, onComment, onApprove, onCancel }: BulkApproveProps) {
  const { t } = useTranslation();
  const field = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    field.current?.focus();
  }, []);
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      onCancel();
    } else if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      onApprove();
    }
  };
  return (
    <div
      className="card bulk-approve"
      role="group"
      aria-labelledby="bulk-approve-title"
      data-testid="bulk-approve"
      onKeyDown={onKeyDown}
    >
      <h2 className="card-title" id="bulk-approve-title">
        {t('inbox.bulkTitle', { count })}
      </h2>
      <div className="field">
        <label htmlFor="bulk-comment">{t('inbox.bulkComment')}</label>
        <textarea
          id="bulk-comment"
          ref={field}
          className="textarea"
          rows={2}
          value={comment}
          onChange={(event) => {
            onComment(event.target.value);
          }}
        />
      </div>
      {error !== null && (
        <div className="banner banner-error" role="alert">
          <AlertIcon />
          <p>{t('inbox.bulkFailed', { reason: describeError(t, error) })}</p>
        </div>
      )}
      <div className="card-actions">
        <button
          type="button"
          className="button button-primary"
          data-testid="bulk-approve-confirm"
          aria-disabled={sending}
          onClick={onApprove}
        >
          {sending && <span className="spinner spinner-small" aria-hidden="true" />}
          {t('inbox.bulkConfirm', { count })}
        </button>
        <button type="button" className="button button-secondary" onClick={onCancel}>
          {t('inbox.cancel')}
        </button>
      </div>
    </div>
  );
}

interface BulkOutcomesProps {
  outcomes: BulkOutcome[];
  titles: ReadonlyMap<string, string>;
  offline: boolean;
  onOpen: (requestId: string) => void;
  onDismiss: () => void;
}

function BulkOutcomes({ outcomes, titles, offline, onOpen, onDismiss }: BulkOutcomesProps) {
  const { t } = useTranslation();
  const queued = outcomes.filter((outcome) => outcome.error === null);
  const refused = outcomes.filter((outcome) => outcome.error !== null);
  return (
    <div
      className={refused.length > 0 ? 'banner banner-warning bulk-outcomes' : 'banner banner-success bulk-outcomes'}
      role="status"
      data-testid="bulk-outcomes"
    >
      {refused.length > 0 ? <AlertIcon /> : <CheckIcon />}
      <div className="bulk-outcomes-body">
        <p>
          {offline
            ? t('inbox.bulkQueuedOffline', { count: queued.length })
            : t('inbox.bulkQueued', { count: queued.length })}
          {refused.length > 0 && ` ${t('inbox.bulkRefused', { count: refused.length })}`}
        </p>
        {refused.length > 0 && (
          <ul className="bulk-refused-list">
            {refused.map((outcome) => (
              <li key={outcome.request_id} data-testid="bulk-refused">
                <button
                  type="button"
                  className="link-button"
                  onClick={() => {
                    onOpen(outcome.request_id);
                  }}
                >
                  {titles.get(outcome.request_id) ?? outcome.request_id}
                </button>
                {': '}
                {outcome.error === null ? '' : refusalReason(t, outcome.error)}
              </li>
            ))}
          </ul>
        )}
      </div>
      <button type="button" className="icon-button" aria-label={t('inbox.dismiss')} onClick={onDismiss}>
        <CloseIcon />
      </button>
    </div>
  );
}
