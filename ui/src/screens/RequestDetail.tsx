// One request as its approver or its initiator reads it: what it is (title, status, who asked,
// the key figures), the form as submitted, the route it takes (each step, who had it, how long
// they took, whether they were late) and its history with the comments. From here the person
// decides (approve, reject, return), hands the task to a colleague (transfer), comments, or —
// for their own open request — withdraws or urges it. Every action is queued first and sent
// when the device is online; the screen says which of the two happened, and if the server
// later refuses it, says why in plain words. A request returned to the person who started it
// shows why it was returned at the top, with the way to correct and resubmit it (a draft).
import { useEffect, useRef, useState } from 'react';
import type { KeyboardEvent } from 'react';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import type {
  Act,
  CommandError,
  DraftView,
  EventView,
  FieldDef,
  OutboxItem,
  RequestDetail as Detail,
  StepView,
  TaskView,
} from '../api';
import { describeError } from '../errors';
import { DirectoryPicker } from '../form/DirectoryPicker';
import { useDirectoryNames } from '../form/directory';
import { labelText } from '../form/schema';
import { ReadOnlyForm } from '../form/ReadOnlyForm';
import { AlertIcon, BackIcon, CheckIcon } from '../icons';
import { formatDuration, formatMoment, useNow } from '../list/format';
import {
  actionName,
  doneName,
  eventName,
  outcomeName,
  refusalReason,
  statusName,
  stepKindName,
} from '../list/words';

export type ActKind = Act['kind'];
/** What this screen lets the person do. */
type Composable = ActKind;

/** Actions that are refused without a comment: the core insists, so the screen asks first. */
const commentRequired: ReadonlySet<Composable> = new Set(['reject', 'return', 'comment']);

/** Decisions only whoever holds the pending task can make. */
const decisions: ReadonlySet<Composable> = new Set(['approve', 'reject', 'return', 'transfer']);

function actOf(kind: Composable, text: string, to: string): Act {
  const comment = text.trim();
  switch (kind) {
    case 'comment':
      return { kind, text: comment };
    case 'transfer':
      return { kind, to, comment };
    case 'approve':
    case 'reject':
    case 'return':
    case 'withdraw':
    case 'urge':
      return { kind, comment };
  }
}

const composerWords = {
  approve: { label: 'request.compose.approveLabel', send: 'request.compose.approveSend' },
  reject: { label: 'request.compose.rejectLabel', send: 'request.compose.rejectSend' },
  return: { label: 'request.compose.returnLabel', send: 'request.compose.returnSend' },
  transfer: { label: 'request.compose.transferLabel', send: 'request.compose.transferSend' },
  comment: { label: 'request.compose.commentLabel', send: 'request.compose.commentSend' },
  withdraw: { label: 'request.compose.withdrawLabel', send: 'request.compose.withdrawSend' },
  urge: { label: 'request.compose.urgeLabel', send: 'request.compose.urgeSend' },
} as const;

const missingWords = {
  reject: 'request.compose.rejectMissing',
  return: 'request.compose.returnMissing',
  comment: 'request.compose.commentMissing',
} as const;

interface RequestDetailProps {
  requestId: string;
  /** Open with the reject box ready (Reject chosen from a notification or the tray). */
  startWith?: 'reject' | null;
  /** Bumped when the core says the lists changed: the request is read again. */
  changes: number;
  /** Whether the device is online, for "waiting to be sent" versus "sending". */
  online: boolean | null;
  onBack: () => void;
  /** The signed-in person's id: whoever started a returned request may correct it. */
  meId?: string | null;
  /** Opens a draft in the draft editor (the correction of a returned request). */
  onOpenDraft?: (draft: DraftView) => void;
}

/** The colleague picker describes what it chooses as a form field does. */
const transferField: FieldDef = {
  key: 'transfer_to',
  label: { en: 'Hand it to', 'zh-CN': '转交给' },
  required: true,
  type: { kind: 'person' },
};

export function RequestDetail({
  requestId,
  startWith = null,
  changes,
  online,
  onBack,
  meId = null,
  onOpenDraft,
}: RequestDetailProps) {
  const { t, i18n } = useTranslation();
  const language = i18n.language;
  const now = useNow();
  const [detail, setDetail] = useState<Detail | null>(null);
  const [loadError, setLoadError] = useState<CommandError | null>(null);
  const [reloads, setReloads] = useState(0);
  const [composing, setComposing] = useState<Composable | null>(startWith);
  const [text, setText] = useState('');
  const [missing, setMissing] = useState(false);
  const [sending, setSending] = useState(false);
  const [actError, setActError] = useState<CommandError | null>(null);
  // What the person just did here, to say "sent" once it has left the outbox. Only a reading
  // of the request made after the action can tell; `afterLoad` is the last one before it.
  const [lastAct, setLastAct] = useState<{ item: OutboxItem; afterLoad: number } | null>(null);
  const loadsStarted = useRef(0);
  const [loadedUpTo, setLoadedUpTo] = useState(0);
  const composer = useRef<HTMLTextAreaElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  /** The colleague chosen to hand the task to, and what is wrong with the choice. */
  const [transferTo, setTransferTo] = useState<string | null>(null);
  const [pickProblem, setPickProblem] = useState<'missing' | 'left' | 'self' | null>(null);
  const transferNames = useDirectoryNames(transferTo === null ? [] : [transferTo]);
  const [resubmitting, setResubmitting] = useState(false);
  const [resubmitError, setResubmitError] = useState<CommandError | null>(null);

  useEffect(() => {
    let gone = false;
    const load = ++loadsStarted.current;
    void api.requestDetail(requestId).then((result) => {
      if (gone) return;
      if (result.status === 'ok') {
        setDetail(result.data);
        setLoadError(null);
        setLoadedUpTo((before) => Math.max(before, load));
      } else {
        setLoadError(result.error);
      }
    });
    return () => {
      gone = true;
    };
  }, [requestId, changes, reloads]);

  const loaded = detail !== null;
  useEffect(() => {
    if (!loaded) return;
    if (composing === 'transfer') document.getElementById('transfer-to')?.focus();
    else if (composing !== null) composer.current?.focus();
  }, [composing, loaded]);

  const startComposing = (kind: Composable) => {
    setComposing(kind);
    setText('');
    setMissing(false);
    setActError(null);
    setTransferTo(null);
    setPickProblem(null);
  };

  const chosen =
    transferTo !== null && transferNames.status === 'ready'
      ? transferNames.entries.get(transferTo)
      : undefined;

  const send = async () => {
    if (composing === null || sending) return;
    if (composing === 'transfer') {
      // One active colleague, not the person themselves: the core would refuse the others.
      const problem =
        transferTo === null
          ? 'missing'
          : transferTo === meId
            ? 'self'
            : chosen?.active === false
              ? 'left'
              : null;
      if (problem !== null) {
        setPickProblem(problem);
        document.getElementById('transfer-to')?.focus();
        return;
      }
    }
    if (commentRequired.has(composing) && text.trim() === '') {
      setMissing(true);
      composer.current?.focus();
      return;
    }
    setSending(true);
    setActError(null);
    const result = await api.act(requestId, actOf(composing, text, transferTo ?? ''));
    setSending(false);
    if (result.status === 'error') {
      setActError(result.error);
      return;
    }
    setLastAct({ item: result.data, afterLoad: loadsStarted.current });
    setComposing(null);
    setText('');
    setTransferTo(null);
    setReloads((count) => count + 1);
    heading.current?.focus();
  };

  const resubmit = async () => {
    if (resubmitting || onOpenDraft === undefined) return;
    setResubmitting(true);
    setResubmitError(null);
    const result = await api.draftResubmit(requestId);
    setResubmitting(false);
    if (result.status === 'error') {
      setResubmitError(result.error);
      return;
    }
    onOpenDraft(result.data);
  };

  if (detail === null && loadError !== null) {
    return (
      <section className="view" aria-labelledby="view-title">
        <BackButton onBack={onBack} />
        {loadError.code === 'not_found' ? (
          <div className="empty-state" data-testid="request-not-found">
            <h1 id="view-title" className="empty-title" tabIndex={-1}>
              {t('request.notFoundTitle')}
            </h1>
            <p className="empty-body">{t('request.notFoundBody')}</p>
          </div>
        ) : (
          <div className="banner banner-error" role="alert" data-testid="request-error">
            <AlertIcon />
            <p id="view-title">{t('request.loadFailed', { reason: describeError(t, loadError) })}</p>
            <button
              type="button"
              className="button button-secondary button-small"
              onClick={() => {
                setReloads((count) => count + 1);
              }}
            >
              {t('request.retry')}
            </button>
          </div>
        )}
      </section>
    );
  }

  if (detail === null) {
    return (
      <section className="view" aria-busy="true">
        <BackButton onBack={onBack} />
        <div className="list-loading" role="status" data-testid="request-loading">
          <span className="spinner spinner-small" aria-hidden="true" />
          {t('request.loading')}
        </div>
      </section>
    );
  }

  const canDecide = detail.my_tasks.length > 0;
  const returned = detail.status === 'returned';
  const returnedToMe = returned && meId !== null && detail.initiator.id === meId;
  // The latest return says what to correct; the history keeps the earlier ones.
  const lastReturn = detail.events.reduce<EventView | null>(
    (latest, event) =>
      event.kind === 'returned' && (latest === null || event.at >= latest.at) ? event : latest,
    null,
  );
  const template =
    detail.template === null ? detail.template_id : labelText(detail.template.name, language);
  const when = (iso: string) => formatMoment(iso, language, now);
  const lastActState =
    lastAct === null || loadedUpTo <= lastAct.afterLoad
      ? null
      : detail.queued.some((item) => item.id === lastAct.item.id)
        ? 'queued'
        : detail.refused.some((item) => item.id === lastAct.item.id)
          ? 'refused'
          : 'sent';

  const onComposerKey = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      setComposing(null);
    } else if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void send();
    }
  };

  return (
    <section className="view request-detail" aria-labelledby="view-title">
      <BackButton onBack={onBack} />
      <header className="view-header">
        <div className="view-header-row">
          <h1 id="view-title" className="view-title" tabIndex={-1} ref={heading}>
            {detail.title}
          </h1>
          <span className={`badge badge-status status-${detail.status}`} data-testid="request-status">
            {statusName(t, detail.status)}
          </span>
        </div>
        <dl className="request-facts">
          <div>
            <dt>{t('request.template')}</dt>
            <dd>{template}</dd>
          </div>
          <div>
            <dt>{t('request.initiator')}</dt>
            <dd data-testid="request-initiator">{detail.initiator.name}</dd>
          </div>
          <div>
            <dt>{t('request.submitted')}</dt>
            <dd>{when(detail.submitted_at ?? detail.created_at)}</dd>
          </div>
          <div>
            <dt>{t('request.updated')}</dt>
            <dd>{when(detail.updated_at)}</dd>
          </div>
          {detail.finished_at !== null && (
            <div>
              <dt>{t('request.finished')}</dt>
              <dd>{when(detail.finished_at)}</dd>
            </div>
          )}
          {detail.figures.map((figure) => (
            <div key={figure.field} className="request-figure">
              <dt>{figure.label === null ? figure.field : labelText(figure.label, language)}</dt>
              <dd>{figure.text}</dd>
            </div>
          ))}
        </dl>
      </header>

      {returned && (
        <section
          className="card request-returned"
          data-testid="request-returned"
          aria-labelledby="request-returned-title"
        >
          <div className="request-returned-head">
            <h2 className="card-title" id="request-returned-title">
              {returnedToMe ? t('request.returnedToYou') : t('request.returnedTitle')}
            </h2>
            {returnedToMe && onOpenDraft !== undefined && (
              <button
                type="button"
                className="button button-primary"
                data-testid="request-resubmit"
                aria-disabled={resubmitting}
                onClick={() => void resubmit()}
              >
                {resubmitting && <span className="spinner spinner-small" aria-hidden="true" />}
                {t('request.resubmit')}
              </button>
            )}
          </div>
          {lastReturn !== null && (
            <p className="hint">
              {t('request.returnedBy', {
                name: lastReturn.actor.name,
                time: when(lastReturn.at),
              })}
            </p>
          )}
          {lastReturn !== null && lastReturn.comment.trim() !== '' ? (
            <blockquote className="history-comment" data-testid="request-return-comment">
              {lastReturn.comment}
            </blockquote>
          ) : (
            <p className="hint" data-testid="request-return-comment">
              {t('request.returnedNoComment')}
            </p>
          )}
          {resubmitError !== null && (
            <div className="banner banner-error" role="alert" data-testid="resubmit-error">
              <AlertIcon />
              <p>{t('request.resubmitFailed', { reason: refusalReason(t, resubmitError) })}</p>
            </div>
          )}
        </section>
      )}

      {(detail.queued.length > 0 || detail.refused.length > 0 || lastActState === 'sent') && (
        <div className="request-outbox">
          {detail.queued.map((item) => (
            <div key={item.id} className="banner banner-info" role="status" data-testid="request-queued">
              <span className="spinner spinner-small" aria-hidden="true" />
              <p>
                {online === false
                  ? t('request.queuedOffline', { action: doneName(t, item.action) })
                  : t('request.queuedSending', { action: doneName(t, item.action) })}
              </p>
            </div>
          ))}
          {detail.refused.map((item) => (
            <div key={item.id} className="banner banner-error" role="alert" data-testid="request-refused">
              <AlertIcon />
              <p>
                {t('request.refused', {
                  action: actionName(t, item.action),
                  reason: item.reason?.message ?? item.last_error ?? t('outbox.noReason'),
                })}
              </p>
            </div>
          ))}
          {lastAct !== null && lastActState === 'sent' && (
            <div className="banner banner-success" role="status" data-testid="request-sent">
              <CheckIcon />
              <p>{t('request.sent', { action: doneName(t, lastAct.item.action) })}</p>
            </div>
          )}
        </div>
      )}

      <div className="card request-actions" data-testid="request-actions">
        {startWith === 'reject' && !canDecide && (
          <p className="hint" data-testid="nothing-to-decide">
            {t('request.nothingToDecide')}
          </p>
        )}
        <div className="action-buttons">
          {canDecide && (
            <>
              <button
                type="button"
                className="button button-primary"
                data-testid="act-approve"
                aria-pressed={composing === 'approve'}
                onClick={() => {
                  startComposing('approve');
                }}
              >
                {t('request.approve')}
              </button>
              <button
                type="button"
                className="button button-danger"
                data-testid="act-reject"
                aria-pressed={composing === 'reject'}
                onClick={() => {
                  startComposing('reject');
                }}
              >
                {t('request.reject')}
              </button>
              <button
                type="button"
                className="button button-secondary"
                data-testid="act-return"
                aria-pressed={composing === 'return'}
                onClick={() => {
                  startComposing('return');
                }}
              >
                {t('request.return')}
              </button>
              <button
                type="button"
                className="button button-secondary"
                data-testid="act-transfer"
                aria-pressed={composing === 'transfer'}
                onClick={() => {
                  startComposing('transfer');
                }}
              >
                {t('request.transfer')}
              </button>
            </>
          )}
          <button
            type="button"
            className="button button-secondary"
            data-testid="act-comment"
            aria-pressed={composing === 'comment'}
            onClick={() => {
              startComposing('comment');
            }}
          >
            {t('request.comment')}
          </button>
          {detail.mine_and_open && (
            <>
              <button
                type="button"
                className="button button-secondary"
                data-testid="act-urge"
                aria-pressed={composing === 'urge'}
                onClick={() => {
                  startComposing('urge');
                }}
              >
                {t('request.urge')}
              </button>
              <button
                type="button"
                className="button button-danger"
                data-testid="act-withdraw"
                aria-pressed={composing === 'withdraw'}
                onClick={() => {
                  startComposing('withdraw');
                }}
              >
                {t('request.withdraw')}
              </button>
            </>
          )}
        </div>
        {composing !== null && (canDecide || !decisions.has(composing)) && (
          <div className="composer" data-testid="composer">
            {composing === 'transfer' && (
              <div className="field transfer-picker" data-testid="transfer-picker">
                <label htmlFor="transfer-to">{t('request.compose.transferTo')}</label>
                <DirectoryPicker
                  id="transfer-to"
                  field={transferField}
                  kind="people"
                  value={transferTo}
                  onChange={(value) => {
                    setTransferTo(typeof value === 'string' && value !== '' ? value : null);
                    setPickProblem(null);
                  }}
                  onBlur={() => undefined}
                  describedBy={pickProblem === null ? undefined : 'transfer-to-problem'}
                  invalid={pickProblem !== null}
                  placeholder={t('form.personPlaceholder')}
                />
                {pickProblem !== null && (
                  <p
                    className="field-error"
                    id="transfer-to-problem"
                    role="alert"
                    data-testid="transfer-problem"
                  >
                    {pickProblem === 'missing'
                      ? t('request.compose.transferMissing')
                      : pickProblem === 'self'
                        ? t('request.compose.transferSelf')
                        : t('request.compose.transferLeft', { name: chosen?.name ?? '' })}
                  </p>
                )}
              </div>
            )}
            <div className="field">
              <label htmlFor="act-text">{t(composerWords[composing].label)}</label>
              <textarea
                id="act-text"
                ref={composer}
                className="textarea"
                rows={3}
                value={text}
                aria-invalid={missing}
                aria-describedby={missing ? 'act-text-missing' : undefined}
                onChange={(event) => {
                  setText(event.target.value);
                  if (event.target.value.trim() !== '') setMissing(false);
                }}
                onKeyDown={onComposerKey}
              />
              {missing && composing in missingWords && (
                <p className="field-error" id="act-text-missing" role="alert" data-testid="comment-missing">
                  {t(missingWords[composing as keyof typeof missingWords])}
                </p>
              )}
            </div>
            {actError !== null && (
              <div className="banner banner-error" role="alert" data-testid="act-error">
                <AlertIcon />
                <p>{refusalReason(t, actError)}</p>
              </div>
            )}
            <div className="card-actions">
              <button
                type="button"
                className={
                  composing === 'reject' || composing === 'withdraw'
                    ? 'button button-danger'
                    : 'button button-primary'
                }
                data-testid="act-send"
                aria-disabled={sending}
                onClick={() => void send()}
              >
                {sending && <span className="spinner spinner-small" aria-hidden="true" />}
                {t(composerWords[composing].send)}
              </button>
              <button
                type="button"
                className="button button-secondary"
                onClick={() => {
                  setComposing(null);
                }}
              >
                {t('request.cancel')}
              </button>
              <span className="hint">{t('request.composeHint')}</span>
            </div>
          </div>
        )}
      </div>

      <section className="card" aria-labelledby="request-form-title">
        <h2 className="card-title" id="request-form-title">
          {t('request.formTitle')}
        </h2>
        <ReadOnlyForm
          template={detail.template}
          form={detail.form}
          computed={detail.computed}
          templateId={detail.template_id}
        />
      </section>

      <section className="card" aria-labelledby="request-route-title">
        <h2 className="card-title" id="request-route-title">
          {t('request.routeTitle')}
        </h2>
        <ol className="timeline" data-testid="timeline">
          {detail.steps.map((step) => (
            <Step key={step.step_id} step={step} now={now} />
          ))}
        </ol>
      </section>

      <section className="card" aria-labelledby="request-history-title">
        <h2 className="card-title" id="request-history-title">
          {t('request.historyTitle')}
        </h2>
        {detail.events.length === 0 ? (
          <p className="hint">{t('request.noHistory')}</p>
        ) : (
          <ol className="history" data-testid="history">
            {detail.events.map((event, index) => (
              <HistoryEntry key={`${event.at}-${index}`} event={event} now={now} />
            ))}
          </ol>
        )}
      </section>
    </section>
  );
}

function BackButton({ onBack }: { onBack: () => void }) {
  const { t } = useTranslation();
  return (
    <button type="button" className="back-button" data-testid="request-back" onClick={onBack}>
      <BackIcon />
      {t('request.back')}
    </button>
  );
}

function Step({ step, now }: { step: StepView; now: number }) {
  const { t, i18n } = useTranslation();
  const people = step.people.map((person) => person.name).join(t('request.listSeparator'));
  return (
    <li
      className={`timeline-step step-${step.kind}${step.current ? ' step-current' : ''}`}
      aria-current={step.current ? 'step' : undefined}
      data-testid="timeline-step"
    >
      <div className="step-head">
        <span className="step-name">{labelText(step.name, i18n.language)}</span>
        <span className="step-kind">{stepKindName(t, step.kind)}</span>
        {step.current && <span className="badge badge-current">{t('request.currentStep')}</span>}
      </div>
      {step.tasks.length === 0 && people !== '' && (
        <p className="step-people">
          {step.kind === 'cc'
            ? t('request.copiedTo', { people })
            : t('request.plannedFor', { people })}
        </p>
      )}
      {step.tasks.length > 0 && (
        <ul className="step-tasks">
          {step.tasks.map((task) => (
            <Task key={`${task.task}-${task.round}`} task={task} now={now} />
          ))}
        </ul>
      )}
    </li>
  );
}

function Task({ task, now }: { task: TaskView; now: number }) {
  const { t, i18n } = useTranslation();
  const when = (iso: string) => formatMoment(iso, i18n.language, now);
  const open = task.closed_at === null;
  const late = task.sla === 'overdue';
  return (
    <li className={`step-task${open ? ' task-open' : ''}`} data-testid="timeline-task">
      <div className="task-line">
        <span className="task-assignee">{task.assignee.name}</span>
        {task.on_behalf_of !== null && (
          <span className="task-behalf">{t('request.onBehalfOf', { name: task.on_behalf_of.name })}</span>
        )}
        <span className="task-outcome">
          {task.outcome === null ? t('request.pending') : outcomeName(t, task.outcome)}
        </span>
        {task.closed_by !== null && task.closed_by.id !== task.assignee.id && (
          <span className="task-behalf">{t('request.closedBy', { name: task.closed_by.name })}</span>
        )}
        {late && (
          <span className="badge badge-sla badge-overdue" data-testid="task-late">
            {open ? t('request.overdue') : t('request.late')}
          </span>
        )}
        {task.sla === 'due_soon' && (
          <span className="badge badge-sla badge-due_soon">{t('request.dueSoon')}</span>
        )}
        {task.round > 1 && <span className="task-round">{t('request.round', { round: task.round })}</span>}
      </div>
      <div className="task-times">
        <span>{t('request.opened', { time: when(task.opened_at) })}</span>
        {task.closed_at !== null && <span>{t('request.closed', { time: when(task.closed_at) })}</span>}
        {task.due_at !== null && open && <span>{t('request.due', { time: when(task.due_at) })}</span>}
        {task.elapsed_secs !== null && (
          <span className="task-duration" data-testid="task-duration">
            {taskDuration(t, open, task.elapsed_secs, task.working_secs)}
          </span>
        )}
      </div>
    </li>
  );
}

/** How long a task took (or has waited), with the working time beside it when known. */
function taskDuration(t: TFunction, open: boolean, elapsed: number, working: number | null) {
  const duration = formatDuration(t, elapsed);
  if (working === null) {
    return open ? t('request.waitingSoFar', { duration }) : t('request.took', { duration });
  }
  const workingTime = formatDuration(t, working);
  return open
    ? t('request.waitingSoFarWorking', { duration, working: workingTime })
    : t('request.tookWorking', { duration, working: workingTime });
}

function HistoryEntry({ event, now }: { event: EventView; now: number }) {
  const { t, i18n } = useTranslation();
  return (
    <li className="history-entry" data-testid="history-entry">
      <div className="history-line">
        <span className="history-actor">{event.actor.name}</span>
        <span>{eventName(t, event.kind)}</span>
        {event.other !== null && <span className="history-actor">{event.other.name}</span>}
        <time className="history-time" dateTime={event.at}>
          {formatMoment(event.at, i18n.language, now)}
        </time>
      </div>
      {event.comment.trim() !== '' && <blockquote className="history-comment">{event.comment}</blockquote>}
    </li>
  );
}
