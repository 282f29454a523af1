// The person's own requests, newest change first, those still waiting to be submitted on top:
// where each one stands, the step it waits at and on whom. As long as it needs to be (a
// virtualised list read a page at a time), filtered by status and searched by the core.
import { useCallback, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { labelText } from '../form/schema';
import { SearchIcon } from '../icons';
import { formatMoment, useNow } from '../list/format';
import type { MyRequestsFilter, MyRequestsList } from '../list/live';
import { usePagedList } from '../list/pagedList';
import { ListNotReady } from '../list/ListNotReady';
import { VirtualList } from '../list/VirtualList';
import { statusName } from '../list/words';
import { useDebounced } from './Inbox';

/** Row height in pixels; `.my-request-row` in styles.css is drawn to fit it. */
const ROW_HEIGHT = 76;

export const statusChoices = [
  'queued',
  'in_progress',
  'returned',
  'approved',
  'rejected',
  'withdrawn',
] as const;

interface MyRequestsProps {
  list: MyRequestsList;
  onOpen: (requestId: string) => void;
}

export function MyRequests({ list, onOpen }: MyRequestsProps) {
  const { t, i18n } = useTranslation();
  const language = i18n.language;
  const now = useNow();
  const [search, setSearch] = useState('');
  const searched = useDebounced(search);
  const [statuses, setStatuses] = useState<readonly string[]>([]);
  const [active, setActive] = useState(0);

  const trimmed = searched.trim();
  // Sorted so that the same choice made in another order is the same query.
  const filter: MyRequestsFilter = {
    search: trimmed === '' ? null : trimmed,
    statuses: [...statuses].sort(),
  };
  const filterKey = JSON.stringify(filter);
  const snapshot = usePagedList(list, filter);
  const total = snapshot.total ?? 0;
  const filtered = filter.search !== null || statuses.length > 0;

  const [shownFilter, setShownFilter] = useState(filterKey);
  if (shownFilter !== filterKey) {
    setShownFilter(filterKey);
    setActive(0);
  }

  const showRange = useCallback(
    (first: number, last: number) => {
      list.show(first, last);
    },
    [list],
  );

  const toggleStatus = (status: string) => {
    setStatuses((before) =>
      before.includes(status) ? before.filter((s) => s !== status) : [...before, status],
    );
  };

  const renderRow = (index: number, isActive: boolean) => {
    const entry = list.row(index);
    if (entry === undefined) {
      return (
        <div className="my-request-row row-placeholder" aria-hidden="true">
          <span className="placeholder-bar" />
          <span className="placeholder-bar placeholder-bar-short" />
        </div>
      );
    }
    const template =
      entry.template_name === null ? entry.template_id : labelText(entry.template_name, language);
    const waitingOn = entry.waiting_on.map((person) => person.name).join(t('request.listSeparator'));
    return (
      <div
        role="gridcell"
        className={`my-request-row${isActive ? ' row-active' : ''}`}
        data-testid="my-request-row"
        onClick={() => {
          onOpen(entry.id);
        }}
      >
        <div className="row-main">
          <div className="row-line">
            <span className="row-title">{entry.title}</span>
            <span className={`badge badge-status status-${entry.status}`}>
              {statusName(t, entry.status)}
            </span>
          </div>
          <div className="row-meta">
            <span>{template}</span>
            {entry.current_step !== null && (
              <span>{t('myRequests.atStep', { step: labelText(entry.current_step, language) })}</span>
            )}
            {waitingOn !== '' && <span>{t('myRequests.waitingOn', { people: waitingOn })}</span>}
            {entry.figures.map((figure) => (
              <span key={figure.field} className="row-figure">
                {figure.label === null ? '' : `${labelText(figure.label, language)} `}
                <strong>{figure.text}</strong>
              </span>
            ))}
          </div>
        </div>
        <div className="row-side">
          {t('myRequests.updated', { time: formatMoment(entry.updated_at, language, now) })}
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
        testIdPrefix="my-requests"
        words={{
          failed: (reason) => t('myRequests.loadFailed', { reason }),
          retry: t('myRequests.retry'),
          loading: t('myRequests.loading'),
        }}
      />
    );
  } else if (total === 0) {
    body = (
      <div className="empty-state empty-state-small" data-testid="my-requests-empty">
        <h2 className="empty-title">
          {filtered ? t('myRequests.noMatches') : t('myRequests.emptyTitle')}
        </h2>
        {!filtered && <p className="empty-body">{t('myRequests.emptyBody')}</p>}
      </div>
    );
  } else {
    body = (
      <VirtualList
        id="my-requests-list"
        testId="my-requests-list"
        label={t('myRequests.listLabel')}
        count={total}
        rowHeight={ROW_HEIGHT}
        active={active}
        busy={snapshot.loading}
        stale={snapshot.stale}
        resetKey={filterKey}
        onActiveChange={setActive}
        onOpen={(index) => {
          const entry = list.row(index);
          if (entry !== undefined) onOpen(entry.id);
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
            {t('myRequests.title')}
          </h1>
          {snapshot.total !== null && snapshot.total > 0 && (
            <span className="count-badge" data-testid="my-requests-total">
              {t('myRequests.total', { count: snapshot.total })}
            </span>
          )}
        </div>
        <p className="view-subtitle">{t('myRequests.subtitle')}</p>
      </header>

      <div className="filters" role="search">
        <label className="search-field">
          <SearchIcon />
          <span className="visually-hidden">{t('myRequests.search')}</span>
          <input
            type="search"
            className="search-input"
            data-testid="my-requests-search"
            placeholder={t('myRequests.searchPlaceholder')}
            value={search}
            onChange={(event) => {
              setSearch(event.target.value);
            }}
          />
        </label>
        <div className="chips" role="group" aria-label={t('myRequests.statusFilter')}>
          {statusChoices.map((status) => (
            <button
              key={status}
              type="button"
              className="chip"
              data-testid={`status-chip-${status}`}
              aria-pressed={statuses.includes(status)}
              onClick={() => {
                toggleStatus(status);
              }}
            >
              {statusName(t, status)}
            </button>
          ))}
        </div>
      </div>

      <div className="list-area">{body}</div>
    </section>
  );
}
