// A draft being written: its title, its form, whether what was typed is saved, and the way to
// submit it or throw it away. Everything answers from the local cache, so it works the same
// offline; a submission made offline waits in the outbox and says so. A draft that corrects a
// request returned to the person says so, and submitting it resubmits that request.
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import type { CommandError, DraftView, FormSchema, TemplateInfo } from '../api';
import { describeError } from '../errors';
import { AlertIcon, CheckIcon, TrashIcon } from '../icons';
import { DraftFilesContext } from './attachments';
import { ConfirmDialog } from './ConfirmDialog';
import { savedTimeText } from './format';
import { FormEditor } from './FormEditor';
import { FormUnavailable } from './FormBoundary';
import { blockingMessages } from './messages';
import type { FieldMessage, MessageSources } from './messages';
import { ReadOnlyForm } from './ReadOnlyForm';
import { labelText } from './schema';
import { TITLE_PATH, useDraftSaving } from './useDraftSaving';

/** How the editor was left, for the screen that opened it to say so. */
export type DraftOutcome =
  | { kind: 'submitted'; title: string; requestId: string; resubmitted?: boolean }
  | { kind: 'queued'; title: string; requestId: string; resubmitted?: boolean }
  | { kind: 'deleted'; title: string }
  | { kind: 'left' };

export interface DraftEditorProps {
  draftId: string;
  onClose: (outcome?: DraftOutcome) => void;
  /** The draft and its template when the caller has them already (a new draft). */
  initial?: { draft: DraftView; template: TemplateInfo | null };
}

type Loaded =
  | { state: 'loading' }
  | { state: 'failed'; error: CommandError }
  | { state: 'ready'; draft: DraftView; template: TemplateInfo | null };

/** Opens draft `draftId` (from the drafts list, or just made from a template) for editing. */
export function DraftEditor({ draftId, onClose, initial }: DraftEditorProps) {
  const { t } = useTranslation();
  const [loaded, setLoaded] = useState<Loaded>(
    initial === undefined ? { state: 'loading' } : { state: 'ready', ...initial },
  );
  const [attempt, setAttempt] = useState(0);
  const needsLoad = initial === undefined;

  useEffect(() => {
    if (!needsLoad) return;
    const unmounted = new AbortController();
    const gone = () => unmounted.signal.aborted;
    void (async () => {
      const draft = await api.draft(draftId);
      if (gone()) return;
      if (draft.status === 'error') {
        setLoaded({ state: 'failed', error: draft.error });
        return;
      }
      const template = await api.template(draft.data.template_id, draft.data.template_version);
      if (gone()) return;
      // Without its template the draft is still shown: the placeholder says why it cannot be
      // edited here.
      setLoaded({
        state: 'ready',
        draft: draft.data,
        template: template.status === 'ok' ? template.data : null,
      });
    })();
    return () => {
      unmounted.abort();
    };
  }, [draftId, needsLoad, attempt]);

  if (loaded.state === 'loading') {
    return (
      <section className="view" aria-labelledby="view-title" aria-busy="true">
        <header className="view-header">
          <h1 id="view-title" className="view-title" tabIndex={-1}>
            {t('newRequest.draftTitle')}
          </h1>
        </header>
        <div className="card skeleton-card" data-testid="draft-loading">
          <span className="skeleton skeleton-line" />
          <span className="skeleton skeleton-line skeleton-short" />
          <span className="skeleton skeleton-block" />
        </div>
      </section>
    );
  }
  if (loaded.state === 'failed') {
    return (
      <section className="view" aria-labelledby="view-title">
        <header className="view-header">
          <h1 id="view-title" className="view-title" tabIndex={-1}>
            {t('newRequest.draftTitle')}
          </h1>
        </header>
        <div className="banner banner-error" role="alert" data-testid="draft-load-error">
          <AlertIcon />
          <p>{t('newRequest.openFailed', { reason: describeError(t, loaded.error) })}</p>
        </div>
        <div className="card-actions">
          <button
            type="button"
            className="button button-secondary"
            onClick={() => {
              setLoaded({ state: 'loading' });
              setAttempt((n) => n + 1);
            }}
          >
            {t('newRequest.tryAgain')}
          </button>
          <button type="button" className="button button-secondary" onClick={() => { onClose({ kind: 'left' }); }}>
            {t('newRequest.back')}
          </button>
        </div>
      </section>
    );
  }
  return <Editor key={loaded.draft.id} initial={loaded.draft} template={loaded.template} onClose={onClose} />;
}

/** Where a path is, in words: "Purpose", or "Expense lines, line 2: Amount". */
function pathLabel(schema: FormSchema, path: string, language: string, line: (n: number) => string) {
  const match = /^([a-z0-9_]+)(?:\[(\d+)\](?:\.([a-z0-9_]+))?)?$/.exec(path);
  if (match === null) return path === '' ? '' : path;
  const [, key = '', row, column] = match;
  const field = schema.fields.find((f) => f.key === key);
  const computed = (schema.computed ?? []).find((f) => f.key === key);
  const name = labelText(field?.label ?? computed?.label, language) || key;
  if (row === undefined) return name;
  const at = `${name}, ${line(Number(row) + 1)}`;
  if (column === undefined || field?.type.kind !== 'table') return at;
  const cell = field.type.columns.find((c) => c.key === column);
  return `${at}: ${labelText(cell?.label, language) || column}`;
}

/** Moves the keyboard to the input a message is about. */
function focusPath(path: string) {
  // Paths are keys, dots and row numbers: safe inside a quoted attribute selector.
  const holder = document.querySelector(`[data-path="${path}"]`);
  const input = holder?.querySelector<HTMLElement>('input, select, textarea, button');
  input?.focus();
}

interface EditorProps {
  initial: DraftView;
  template: TemplateInfo | null;
  onClose: (outcome?: DraftOutcome) => void;
}

function Editor({ initial, template, onClose }: EditorProps) {
  const { t, i18n } = useTranslation();
  const language = i18n.language;
  const saving = useDraftSaving(initial);
  const { draft } = saving;
  const [touched, setTouched] = useState<ReadonlySet<string>>(new Set());
  const [showAll, setShowAll] = useState(false);
  const [submitting, setSubmitting] = useState(false);
  const [submitError, setSubmitError] = useState<CommandError | null>(null);
  const [confirm, setConfirm] = useState<'delete' | 'leave' | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<CommandError | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const { attach, detach } = saving;
  const files = useMemo(() => ({ attach, detach }), [attach, detach]);

  useEffect(() => {
    heading.current?.focus();
  }, []);

  // The core words its messages in the UI language: a new language needs a fresh read.
  const shownLanguage = useRef(language);
  const { reload } = saving;
  useEffect(() => {
    if (shownLanguage.current === language) return;
    shownLanguage.current = language;
    void reload();
  }, [language, reload]);

  const templateName = template === null ? draft.template_id : labelText(template.name, language);
  // The title as typed: the core trims what it keeps, and echoing that back mid-word would eat
  // the space just typed.
  const [title, setTitle] = useState(initial.title ?? '');
  const shownTitle = title.trim() === '' ? templateName : title.trim();

  const touch = (path: string) => {
    setTouched((before) => (before.has(path) ? before : new Set(before).add(path)));
  };

  const sources: MessageSources = {
    errors: draft.errors,
    refused: saving.refused,
    pending: new Set(saving.pending.keys()),
    touched,
    showAll,
  };
  const problems = blockingMessages(draft.errors, saving.refused);
  const queuedAlready = draft.submitted_as !== null;
  /** The draft corrects a request returned to the person: submitting resubmits it. */
  const correcting = draft.resubmits !== null;
  const editable = template !== null && !queuedAlready;
  const blockedReason: string | null = draft.template_retired
    ? t('newRequest.blockedRetired')
    : problems.length > 0
      ? t('newRequest.blockedProblems', { number: problems.length })
      : saving.failure !== null
        ? t('newRequest.blockedNotSaved')
        : null;

  const submit = async () => {
    if (submitting) return;
    setSubmitError(null);
    if (blockedReason !== null) {
      setShowAll(true);
      const first = problems[0];
      if (first !== undefined) focusPath(first.path);
      return;
    }
    setSubmitting(true);
    const after = await saving.flushAll();
    const left = blockingMessages(after.draft.errors, after.refused);
    if (left.length > 0 || after.failure !== null) {
      setSubmitting(false);
      setShowAll(true);
      return;
    }
    const result = await api.submitDraft(after.draft.id);
    if (result.status === 'error') {
      setSubmitting(false);
      setSubmitError(result.error);
      return;
    }
    // Queued while offline: it goes when the connection returns, and the person should know.
    let offline = false;
    if (result.data.state === 'pending') {
      const status = await api.syncStatus();
      offline = status.status === 'error' || !status.data.online;
    }
    onClose({
      kind: offline ? 'queued' : 'submitted',
      title: after.draft.title ?? templateName,
      requestId: result.data.request_id,
      ...(correcting ? { resubmitted: true } : {}),
    });
  };

  const leave = async () => {
    const after = await saving.flushAll();
    if (Object.keys(after.refused).length > 0 || after.failure !== null) {
      setConfirm('leave');
      return;
    }
    onClose({ kind: 'left' });
  };

  const remove = async () => {
    setDeleting(true);
    setDeleteError(null);
    const result = await api.draftDelete(draft.id);
    if (result.status === 'error') {
      setDeleting(false);
      setDeleteError(result.error);
      return;
    }
    onClose({ kind: 'deleted', title: shownTitle });
  };

  const line = (n: number) => t('form.line', { number: n });
  const problemLabel = (problem: FieldMessage) =>
    template === null ? problem.path : pathLabel(template.form, problem.path, language, line);

  return (
    <section className="view view-editor" aria-labelledby="view-title" data-testid="draft-editor">
      <header className="view-header editor-header">
        <button type="button" className="back-button" onClick={() => void leave()}>
          <span aria-hidden="true">←</span> {t('newRequest.back')}
        </button>
        <h1 id="view-title" className="view-title" tabIndex={-1} ref={heading}>
          {shownTitle}
        </h1>
        {template !== null && (
          <p className="view-subtitle">
            {/* The form's name only when the heading is the person's own title. */}
            {title.trim() === ''
              ? labelText(template.description, language)
              : `${labelText(template.name, language)} · ${labelText(template.description, language)}`}
          </p>
        )}
      </header>

      {correcting && (
        <div className="banner banner-info" role="status" data-testid="draft-resubmits">
          <AlertIcon />
          <p>{t('newRequest.correcting', { title: shownTitle })}</p>
        </div>
      )}
      {draft.template_retired && (
        <div className="banner banner-warning" role="status">
          <AlertIcon />
          <p>{t('newRequest.retired')}</p>
        </div>
      )}
      {queuedAlready && (
        <div className="banner banner-warning" role="status" data-testid="draft-queued">
          <AlertIcon />
          <p>{t('newRequest.alreadyQueued')}</p>
        </div>
      )}

      <div className="card editor-card">
        {template === null ? (
          <FormUnavailable templateId={draft.template_id} missing />
        ) : !editable ? (
          <ReadOnlyForm template={template} form={draft.form} computed={draft.computed} />
        ) : (
          <>
            <div className="field">
              <label htmlFor="draft-title">{t('newRequest.titleLabel')}</label>
              <input
                id="draft-title"
                className="input"
                type="text"
                value={title}
                placeholder={templateName}
                maxLength={200}
                aria-describedby="draft-title-hint"
                onChange={(event) => {
                  setTitle(event.target.value);
                  saving.change(TITLE_PATH, event.target.value);
                }}
                onBlur={() => void saving.flush(TITLE_PATH)}
              />
              <p id="draft-title-hint" className="hint">
                {t('newRequest.titleHint')}
              </p>
            </div>
            <DraftFilesContext.Provider value={files}>
              <FormEditor
                template={template}
                valueOf={saving.valueOf}
                computed={draft.computed}
                messages={sources}
                onChange={(path, value) => {
                  touch(path);
                  saving.change(path, value);
                }}
                onBlur={(path) => {
                  touch(path);
                  void saving.flush(path);
                }}
                onAddRow={(table) => void saving.addRow(table)}
                onRemoveRow={(table, row) => void saving.removeRow(table, row)}
              />
            </DraftFilesContext.Provider>
          </>
        )}
      </div>

      {showAll && problems.length > 0 && (
        <section className="card problems" aria-labelledby="problems-title" data-testid="draft-problems">
          <h2 id="problems-title" className="card-title">
            {t('newRequest.problemsTitle')}
          </h2>
          <ul className="problem-list">
            {problems.map((problem) => (
              <li key={`${problem.path}:${problem.key}:${problem.message}`}>
                <button
                  type="button"
                  className="link-button"
                  onClick={() => {
                    focusPath(problem.path);
                  }}
                >
                  {problemLabel(problem) === ''
                    ? problem.message
                    : t('newRequest.problem', { field: problemLabel(problem), message: problem.message })}
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}

      {submitError !== null && (
        <div className="banner banner-error" role="alert" data-testid="submit-error">
          <AlertIcon />
          <p>{t('newRequest.submitFailed', { reason: describeError(t, submitError) })}</p>
        </div>
      )}

      {editable && (
        <div className="editor-bar">
          <SaveState
            saving={saving.saving}
            failure={saving.failure}
            refusedCount={Object.keys(saving.refused).length}
            savedAt={draft.updated_at}
            onRetry={saving.retry}
          />
          <div className="editor-actions">
            <button
              type="button"
              className="button button-danger"
              data-testid="delete-draft"
              onClick={() => {
                setDeleteError(null);
                setConfirm('delete');
              }}
            >
              <TrashIcon />
              {t('newRequest.delete')}
            </button>
            <button
              type="button"
              id="submit-draft"
              className="button button-primary"
              aria-disabled={blockedReason !== null || submitting}
              aria-describedby={blockedReason === null ? undefined : 'submit-reason'}
              onClick={() => void submit()}
            >
              {submitting && <span className="spinner spinner-small" aria-hidden="true" />}
              {submitting
                ? correcting
                  ? t('newRequest.resubmitting')
                  : t('newRequest.submitting')
                : correcting
                  ? t('newRequest.resubmit')
                  : t('newRequest.submit')}
            </button>
          </div>
          {blockedReason !== null && (
            <p id="submit-reason" className="editor-reason" data-testid="submit-reason">
              {blockedReason}
            </p>
          )}
        </div>
      )}

      {confirm === 'delete' && (
        <ConfirmDialog
          testId="confirm-delete"
          title={t('newRequest.deleteTitle')}
          body={<p>{t('newRequest.deleteBody', { title: shownTitle })}</p>}
          confirmLabel={t('newRequest.deleteConfirm')}
          cancelLabel={t('newRequest.cancel')}
          danger
          busy={deleting}
          error={deleteError === null ? null : describeError(t, deleteError)}
          onConfirm={() => void remove()}
          onCancel={() => {
            setConfirm(null);
          }}
        />
      )}
      {confirm === 'leave' && (
        <ConfirmDialog
          testId="confirm-leave"
          title={t('newRequest.leaveTitle')}
          body={<p>{t('newRequest.leaveBody')}</p>}
          confirmLabel={t('newRequest.leaveConfirm')}
          cancelLabel={t('newRequest.stay')}
          danger
          onConfirm={() => {
            onClose({ kind: 'left' });
          }}
          onCancel={() => {
            setConfirm(null);
          }}
        />
      )}
    </section>
  );
}

interface SaveStateProps {
  saving: boolean;
  failure: CommandError | null;
  refusedCount: number;
  savedAt: string;
  onRetry: () => void;
}

/** Whether what is on screen is kept: "Saving…", "Saved at 10:42", or what went wrong. */
function SaveState({ saving, failure, refusedCount, savedAt, onRetry }: SaveStateProps) {
  const { t, i18n } = useTranslation();
  let content;
  let tone = 'save-state';
  if (failure !== null) {
    tone += ' save-state-error';
    content = (
      <>
        <AlertIcon />
        <span>{t('newRequest.saveFailed', { reason: describeError(t, failure) })}</span>
        <button type="button" className="link-button" onClick={onRetry}>
          {t('newRequest.tryAgain')}
        </button>
      </>
    );
  } else if (saving) {
    content = (
      <>
        <span className="spinner spinner-small" aria-hidden="true" />
        <span>{t('newRequest.saving')}</span>
      </>
    );
  } else if (refusedCount > 0) {
    tone += ' save-state-error';
    content = (
      <>
        <AlertIcon />
        <span>{t('newRequest.notSavedFields')}</span>
      </>
    );
  } else {
    content = (
      <>
        <CheckIcon />
        <span>{t('newRequest.savedAt', { time: savedTimeText(savedAt, i18n.language) })}</span>
      </>
    );
  }
  return (
    <p className={tone} role="status" data-testid="autosave-state">
      {content}
    </p>
  );
}
