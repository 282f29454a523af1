// The drafts kept on this computer: what each one is, when it was last saved, whether it still
// has problems to fix, whether it already waits in the outbox to be submitted, and whether it
// is the correction of a request returned to the person. Opening one continues it in the draft
// editor; deleting one asks first, because it cannot be undone. Another screen can ask for a
// draft to be opened at once (a returned request's "Correct and resubmit").
import { useEffect, useRef, useState } from 'react';
import type { KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import type { CommandError, DraftView, Label } from '../api';
import { describeError } from '../errors';
import { labelText } from '../form/schema';
import { ConfirmDialog } from '../form/ConfirmDialog';
import { DraftEditor } from '../form/DraftEditor';
import type { DraftOutcome } from '../form/DraftEditor';
import { AlertIcon, DraftsIcon, TrashIcon } from '../icons';
import { formatMoment, useNow } from '../list/format';
import { DraftOutcomeNotice } from './NewRequest';

type Drafts =
  | { state: 'loading' }
  | { state: 'failed'; error: CommandError }
  | { state: 'ready'; drafts: DraftView[] };

/** A draft to open, asked for from another screen. `opening` counts the requests, so that
 * asking for the same draft again opens it again. */
export interface DraftOpening {
  id: string;
  opening: number;
}

interface DraftsProps {
  /** Bumped when the core says the lists changed (a queued submission was sent). */
  changes: number;
  open?: DraftOpening | null;
  onNewRequest?: () => void;
  onOpenMyRequests?: () => void;
}

export function Drafts({ changes, open = null, onNewRequest, onOpenMyRequests }: DraftsProps) {
  const { t, i18n } = useTranslation();
  const language = i18n.language;
  const now = useNow();
  const [drafts, setDrafts] = useState<Drafts>({ state: 'loading' });
  // Template names by id; drafts name only the template id. Missing names fall back to it.
  const [names, setNames] = useState<ReadonlyMap<string, Label>>(new Map());
  const [reloads, setReloads] = useState(0);
  const [editing, setEditing] = useState<string | null>(open?.id ?? null);
  const [seenOpening, setSeenOpening] = useState(open?.opening ?? 0);
  if (open !== null && open.opening !== seenOpening) {
    setSeenOpening(open.opening);
    setEditing(open.id);
  }
  const [outcome, setOutcome] = useState<DraftOutcome | null>(null);
  const [deleting, setDeleting] = useState<DraftView | null>(null);
  const [deleteBusy, setDeleteBusy] = useState(false);
  const [deleteError, setDeleteError] = useState<CommandError | null>(null);
  const list = useRef<HTMLUListElement>(null);

  useEffect(() => {
    const unmounted = new AbortController();
    void (async () => {
      const [loaded, templates] = await Promise.all([api.drafts(), api.templates()]);
      if (unmounted.signal.aborted) return;
      if (templates.status === 'ok') {
        setNames(new Map(templates.data.map((template) => [template.id, template.name])));
      }
      setDrafts(
        loaded.status === 'ok'
          ? {
              state: 'ready',
              drafts: [...loaded.data].sort((a, b) => b.updated_at.localeCompare(a.updated_at)),
            }
          : { state: 'failed', error: loaded.error },
      );
    })();
    return () => {
      unmounted.abort();
    };
  }, [changes, reloads]);

  const titleOf = (draft: DraftView) => {
    const title = draft.title?.trim() ?? '';
    return title === '' ? t('drafts.untitled') : title;
  };

  if (editing !== null) {
    return (
      <DraftEditor
        draftId={editing}
        onClose={(how) => {
          setOutcome(how ?? null);
          setEditing(null);
          setReloads((count) => count + 1);
        }}
      />
    );
  }

  const remove = async () => {
    if (deleting === null || deleteBusy) return;
    setDeleteBusy(true);
    setDeleteError(null);
    const result = await api.draftDelete(deleting.id);
    setDeleteBusy(false);
    if (result.status === 'error') {
      setDeleteError(result.error);
      return;
    }
    setOutcome({ kind: 'deleted', title: titleOf(deleting) });
    setDeleting(null);
    setReloads((count) => count + 1);
  };

  const templateOf = (draft: DraftView) => {
    const name = names.get(draft.template_id);
    return name === undefined ? draft.template_id : labelText(name, language);
  };

  // Up and down walk the drafts' open buttons, as in the navigation.
  const walk = (event: KeyboardEvent<HTMLUListElement>) => {
    const items = Array.from(list.current?.querySelectorAll<HTMLButtonElement>('.draft-open') ?? []);
    const at = items.findIndex((item) => item === document.activeElement);
    if (at === -1) return;
    const next = event.key === 'ArrowDown' ? at + 1 : event.key === 'ArrowUp' ? at - 1 : null;
    if (next === null || next < 0 || next >= items.length) return;
    event.preventDefault();
    items[next]?.focus();
  };

  let body;
  if (drafts.state === 'loading') {
    body = (
      <div className="list-loading" role="status" data-testid="drafts-loading">
        <span className="spinner spinner-small" aria-hidden="true" />
        {t('drafts.loading')}
      </div>
    );
  } else if (drafts.state === 'failed') {
    body = (
      <div className="banner banner-error" role="alert" data-testid="drafts-error">
        <AlertIcon />
        <p>{t('drafts.loadFailed', { reason: describeError(t, drafts.error) })}</p>
        <button
          type="button"
          className="button button-secondary button-small"
          onClick={() => {
            setReloads((count) => count + 1);
          }}
        >
          {t('drafts.retry')}
        </button>
      </div>
    );
  } else if (drafts.drafts.length === 0) {
    body = (
      <div className="empty-state" data-testid="drafts-empty">
        <div className="coming-soon-icon" aria-hidden="true">
          <DraftsIcon />
        </div>
        <h2 className="empty-title">{t('drafts.emptyTitle')}</h2>
        <p className="empty-body">{t('drafts.emptyBody')}</p>
        {onNewRequest !== undefined && (
          <button type="button" className="button button-primary" onClick={onNewRequest}>
            {t('drafts.newRequest')}
          </button>
        )}
      </div>
    );
  } else {
    body = (
      <ul className="draft-list" ref={list} onKeyDown={walk} aria-label={t('drafts.listLabel')}>
        {drafts.drafts.map((draft) => {
          const queued = draft.submitted_as !== null;
          const correction = draft.resubmits !== null;
          return (
            <li key={draft.id} className="draft-item" data-testid="draft-item">
              <button
                type="button"
                className="draft-open"
                onClick={() => {
                  setOutcome(null);
                  setEditing(draft.id);
                }}
              >
                <span className="draft-title">{titleOf(draft)}</span>
                <span className="row-meta">
                  <span>{templateOf(draft)}</span>
                  <span>{t('drafts.saved', { time: formatMoment(draft.updated_at, language, now) })}</span>
                </span>
              </button>
              <span className="draft-badges">
                {correction && (
                  <span
                    className="badge badge-status status-returned"
                    data-testid="draft-correction"
                    title={t('drafts.correctionHint')}
                  >
                    {t('drafts.correction')}
                  </span>
                )}
                {queued && (
                  <span className="badge badge-status status-queued" data-testid="draft-item-queued">
                    {t('drafts.queued')}
                  </span>
                )}
                {!queued && draft.template_retired && (
                  <span className="badge badge-sla badge-overdue" data-testid="draft-item-retired">
                    {t('drafts.retired')}
                  </span>
                )}
                {!queued && draft.errors.length > 0 && (
                  <span className="badge badge-sla badge-due_soon" data-testid="draft-item-errors">
                    {t('drafts.errors', { count: draft.errors.length })}
                  </span>
                )}
              </span>
              {!queued && (
                <button
                  type="button"
                  className="icon-button"
                  data-testid="draft-delete"
                  aria-label={t('drafts.delete', { title: titleOf(draft) })}
                  onClick={() => {
                    setDeleteError(null);
                    setDeleting(draft);
                  }}
                >
                  <TrashIcon />
                </button>
              )}
            </li>
          );
        })}
      </ul>
    );
  }

  return (
    <section className="view" aria-labelledby="view-title">
      <header className="view-header">
        <h1 id="view-title" className="view-title" tabIndex={-1}>
          {t('drafts.title')}
        </h1>
        <p className="view-subtitle">{t('drafts.subtitle')}</p>
      </header>
      {outcome !== null && (
        <DraftOutcomeNotice
          outcome={outcome}
          onDismiss={() => {
            setOutcome(null);
          }}
          onOpenMyRequests={onOpenMyRequests}
        />
      )}
      {body}
      {deleting !== null && (
        <ConfirmDialog
          testId="draft-delete-confirm"
          title={t('drafts.deleteTitle')}
          body={t('drafts.deleteBody', { title: titleOf(deleting) })}
          confirmLabel={t('drafts.deleteConfirm')}
          cancelLabel={t('drafts.deleteCancel')}
          danger
          busy={deleteBusy}
          error={deleteError === null ? null : t('drafts.deleteFailed', { reason: describeError(t, deleteError) })}
          onConfirm={() => void remove()}
          onCancel={() => {
            setDeleting(null);
          }}
        />
      )}
    </section>
  );
}
