// New request: the gallery of forms this person can fill in (searchable, walked with the
// arrow keys), then the chosen form as a draft that saves itself as it is typed. Leaving the
// editor comes back here and says what became of the draft.
import { useEffect, useRef, useState } from 'react';
import type { KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import type { CommandError, DraftView, TemplateInfo } from '../api';
import { describeError } from '../errors';
import { DraftEditor } from '../form/DraftEditor';
import type { DraftOutcome } from '../form/DraftEditor';
import { labelText } from '../form/schema';
import { AlertIcon, CheckIcon, CloseIcon, NewRequestIcon, SearchIcon } from '../icons';

type Templates =
  | { state: 'loading' }
  | { state: 'failed'; error: CommandError }
  | { state: 'ready'; templates: TemplateInfo[] };

/** Every word typed must appear in the form's name, description or id, in either language. */
export function templateMatches(template: TemplateInfo, query: string): boolean {
  const haystack = [
    template.id,
    template.name.en,
    template.name['zh-CN'],
    template.description.en,
    template.description['zh-CN'],
  ]
    .join(' ')
    .toLocaleLowerCase();
  return query
    .toLocaleLowerCase()
    .split(/\s+/)
    .filter((word) => word !== '')
    .every((word) => haystack.includes(word));
}

interface NewRequestProps {
  /** Bumped by each "lists changed" event: a sync may have brought forms (the first one). */
  changes?: number;
  /** Shown after a submission: the way to follow it. */
  onOpenMyRequests?: () => void;
}

export function NewRequest({ changes = 0, onOpenMyRequests }: NewRequestProps) {
  const [editing, setEditing] = useState<{ draft: DraftView; template: TemplateInfo } | null>(null);
  const [outcome, setOutcome] = useState<DraftOutcome | null>(null);

  if (editing !== null) {
    return (
      <DraftEditor
        draftId={editing.draft.id}
        initial={editing}
        onClose={(how) => {
          setOutcome(how ?? null);
          setEditing(null);
        }}
      />
    );
  }
  return (
    <Gallery
      changes={changes}
      outcome={outcome}
      onDismissOutcome={() => {
        setOutcome(null);
      }}
      onOpenMyRequests={onOpenMyRequests}
      onStarted={(draft, template) => {
        setOutcome(null);
        setEditing({ draft, template });
      }}
    />
  );
}

/** What became of the draft just left: submitted, queued offline, or deleted. */
export function DraftOutcomeNotice({
  outcome,
  onDismiss,
  onOpenMyRequests,
}: {
  outcome: DraftOutcome;
  onDismiss: () => void;
  onOpenMyRequests?: () => void;
}) {
  const { t } = useTranslation();
  if (outcome.kind === 'left') return null;
  const resubmitted = outcome.kind !== 'deleted' && outcome.resubmitted === true;
  const text =
    outcome.kind === 'submitted'
      ? resubmitted
        ? t('newRequest.resubmitted')
        : t('newRequest.submitted')
      : outcome.kind === 'queued'
        ? resubmitted
          ? t('newRequest.resubmitQueued')
          : t('newRequest.queued')
        : t('newRequest.deleted');
  const tone = outcome.kind === 'queued' ? 'banner banner-warning' : 'banner banner-success';
  return (
    <div className={`${tone} notice`} role="status" data-testid="draft-outcome">
      {outcome.kind === 'queued' ? <AlertIcon /> : <CheckIcon />}
      <p>
        <strong className="notice-subject">{outcome.title}</strong> {text}
      </p>
      {outcome.kind !== 'deleted' && onOpenMyRequests !== undefined && (
        <button type="button" className="link-button" onClick={onOpenMyRequests}>
          {t('newRequest.openMyRequests')}
        </button>
      )}
      <button type="button" className="icon-button" aria-label={t('shell.dismiss')} onClick={onDismiss}>
        <CloseIcon />
      </button>
    </div>
  );
}

interface GalleryProps {
  changes: number;
  outcome: DraftOutcome | null;
  onDismissOutcome: () => void;
  onOpenMyRequests?: () => void;
  onStarted: (draft: DraftView, template: TemplateInfo) => void;
}

function Gallery({ changes, outcome, onDismissOutcome, onOpenMyRequests, onStarted }: GalleryProps) {
  const { t, i18n } = useTranslation();
  const language = i18n.language;
  const [templates, setTemplates] = useState<Templates>({ state: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const [query, setQuery] = useState('');
  const [starting, setStarting] = useState<string | null>(null);
  const [startError, setStartError] = useState<CommandError | null>(null);
  const list = useRef<HTMLUListElement>(null);

  useEffect(() => {
    const unmounted = new AbortController();
    void (async () => {
      const result = await api.templates();
      if (unmounted.signal.aborted) return;
      // A re-read after a sync that fails keeps the forms already shown.
      setTemplates((shown) =>
        result.status === 'ok'
          ? { state: 'ready', templates: result.data.filter((template) => !template.retired) }
          : shown.state === 'ready'
            ? shown
            : { state: 'failed', error: result.error },
      );
    })();
    return () => {
      unmounted.abort();
    };
  }, [attempt, changes]);

  const start = async (template: TemplateInfo) => {
    if (starting !== null) return;
    setStarting(template.id);
    setStartError(null);
    const result = await api.draftNew(template.id);
    setStarting(null);
    if (result.status === 'error') {
      setStartError(result.error);
      return;
    }
    onStarted(result.data, template);
  };

  const cards = () => Array.from(list.current?.querySelectorAll<HTMLButtonElement>('.template-card') ?? []);

  // The arrows walk the cards as they are laid out: left and right one by one, up and down a
  // row (as many cards as fit across).
  const walk = (event: KeyboardEvent<HTMLUListElement>) => {
    const all = cards();
    const at = all.findIndex((card) => card === document.activeElement);
    if (at === -1) return;
    const top = all[0]?.getBoundingClientRect().top ?? 0;
    const across = Math.max(1, all.filter((card) => card.getBoundingClientRect().top === top).length);
    const targets: Partial<Record<string, number>> = {
      ArrowRight: Math.min(at + 1, all.length - 1),
      ArrowLeft: Math.max(at - 1, 0),
      ArrowDown: Math.min(at + across, all.length - 1),
      ArrowUp: at - across < 0 ? -1 : at - across,
      Home: 0,
      End: all.length - 1,
    };
    const next = targets[event.key];
    if (next === undefined) return;
    event.preventDefault();
    if (next === -1) document.getElementById('template-search')?.focus();
    else all[next]?.focus();
  };

  const shown =
    templates.state === 'ready'
      ? templates.templates.filter((template) => templateMatches(template, query))
      : [];

  return (
    <section className="view view-wide" aria-labelledby="view-title" data-testid="new-request">
      <header className="view-header">
        <h1 id="view-title" className="view-title" tabIndex={-1}>
          {t('newRequest.title')}
        </h1>
        <p className="view-subtitle">{t('newRequest.subtitle')}</p>
      </header>

      {outcome !== null && (
        <DraftOutcomeNotice
          outcome={outcome}
          onDismiss={onDismissOutcome}
          onOpenMyRequests={onOpenMyRequests}
        />
      )}

      <div className="search-field gallery-search">
        <SearchIcon />
        <label htmlFor="template-search" className="visually-hidden">
          {t('newRequest.search')}
        </label>
        <input
          id="template-search"
          className="search-input"
          type="search"
          autoComplete="off"
          spellCheck={false}
          placeholder={t('newRequest.searchPlaceholder')}
          value={query}
          onChange={(event) => {
            setQuery(event.target.value);
          }}
          onKeyDown={(event) => {
            if (event.key === 'ArrowDown') {
              event.preventDefault();
              cards()[0]?.focus();
            } else if (event.key === 'Enter') {
              const only = shown[0];
              if (only !== undefined && shown.length === 1) void start(only);
            }
          }}
        />
      </div>

      {startError !== null && (
        <div className="banner banner-error" role="alert" data-testid="start-error">
          <AlertIcon />
          <p>{t('newRequest.startFailed', { reason: describeError(t, startError) })}</p>
        </div>
      )}

      {templates.state === 'loading' && (
        <ul className="template-grid" aria-busy="true" data-testid="templates-loading">
          {[0, 1, 2].map((n) => (
            <li key={n} className="template-card template-card-skeleton" aria-hidden="true">
              <span className="skeleton skeleton-line" />
              <span className="skeleton skeleton-line skeleton-short" />
            </li>
          ))}
        </ul>
      )}

      {templates.state === 'failed' && (
        <div className="banner banner-error" data-testid="templates-error">
          <AlertIcon />
          <p>{t('newRequest.templatesFailed', { reason: describeError(t, templates.error) })}</p>
          <button
            type="button"
            className="link-button"
            onClick={() => {
              setTemplates({ state: 'loading' });
              setAttempt((n) => n + 1);
            }}
          >
            {t('newRequest.tryAgain')}
          </button>
        </div>
      )}

      {templates.state === 'ready' && templates.templates.length === 0 && (
        <div className="empty-state" data-testid="templates-empty">
          <div className="coming-soon-icon">
            <NewRequestIcon />
          </div>
          <h2 className="empty-title">{t('newRequest.emptyTitle')}</h2>
          <p className="empty-body">{t('newRequest.emptyBody')}</p>
        </div>
      )}

      {templates.state === 'ready' && templates.templates.length > 0 && shown.length === 0 && (
        <p className="no-results" role="status" data-testid="templates-no-match">
          {t('newRequest.noMatch', { query: query.trim() })}
        </p>
      )}

      {shown.length > 0 && (
        <ul className="template-grid" ref={list} onKeyDown={walk} aria-label={t('newRequest.galleryLabel')}>
          {shown.map((template) => (
            <li key={template.id}>
              <button
                type="button"
                className="template-card"
                data-testid={`template-${template.id}`}
                aria-disabled={starting !== null}
                aria-busy={starting === template.id}
                onClick={() => void start(template)}
              >
                <span className="template-card-name">
                  {labelText(template.name, language)}
                  {starting === template.id && (
                    <span className="spinner spinner-small" aria-hidden="true" />
                  )}
                </span>
                <span className="template-card-description">
                  {labelText(template.description, language)}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
