// One meeting in full: when (in the reader's zone, and the organiser's when it differs),
// where, who organises it, whether it still takes place, what the last update changed, the
// agenda, the materials (which open offline once synced) and the people. An invitee answers
// here — accept, tentative or decline, with a note — and the answer is queued like any other
// action, so it works offline. The organiser sees everyone's answers and whether each
// invitation reached its person and was opened. Any meeting can be saved as a calendar file.
// The organiser also changes the plan (in the planning form), adds materials picked in the
// system's file dialog, and cancels the meeting with a reason; all three need the server, and
// whatever it refuses is said in its own words. The online link opens in the system browser
// through the core, which opens only the meeting's own http(s) link.
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import type { CommandError, MeetingDetail as Detail, MeetingPerson, Rsvp } from '../api';
import { OpenableFile } from '../form/attachments';
import { ConfirmDialog } from '../form/ConfirmDialog';
import { fileSizeText } from '../form/format';
import { AlertIcon, BackIcon, CalendarFileIcon, CheckIcon, PlusIcon } from '../icons';
import { formatMoment, useNow } from '../list/format';
import {
  answerAction,
  answerName,
  answers,
  clockRangeIn,
  fieldName,
  isWebLink,
  meetingErrorText,
  whenText,
} from './meetingFormat';

interface MeetingDetailProps {
  meetingId: string;
  /** Bumped when the core says the lists changed: the meeting is read again. */
  changes: number;
  onBack: () => void;
  /** The organiser's "Edit": the screen around shows the planning form with this plan. */
  onEdit?: (detail: Detail) => void;
}

export function MeetingDetail({ meetingId, changes, onBack, onEdit }: MeetingDetailProps) {
  const { t, i18n } = useTranslation();
  const language = i18n.language;
  const [detail, setDetail] = useState<Detail | null>(null);
  const [loadError, setLoadError] = useState<CommandError | null>(null);
  const [reloads, setReloads] = useState(0);
  /** The note as typed; null until the person types, showing the note already sent. */
  const [note, setNote] = useState<string | null>(null);
  const [answering, setAnswering] = useState<Rsvp | null>(null);
  const [answered, setAnswered] = useState<Rsvp | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [exporting, setExporting] = useState(false);
  const [exported, setExported] = useState<string | null>(null);
  const [addingMaterials, setAddingMaterials] = useState(false);
  const [openingLink, setOpeningLink] = useState(false);
  /** The cancellation dialog: the reason as typed, and what the last try came to. */
  const [cancelling, setCancelling] = useState<{
    reason: string;
    busy: boolean;
    error: string | null;
  } | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    let gone = false;
    void api.meetingDetail(meetingId).then((result) => {
      if (gone) return;
      if (result.status === 'ok') {
        setDetail(result.data);
        setLoadError(null);
      } else {
        setLoadError(result.error);
      }
    });
    return () => {
      gone = true;
    };
  }, [meetingId, changes, reloads]);

  // A meeting is a page of its own: the keyboard starts at its title once it is there.
  const loaded = detail !== null;
  useEffect(() => {
    if (loaded) heading.current?.focus();
  }, [loaded]);

  if (detail === null && loadError !== null) {
    return (
      <section className="view" data-testid="meeting-detail" aria-labelledby="view-title">
        <BackButton onBack={onBack} />
        {loadError.code === 'not_found' ? (
          <div className="empty-state" data-testid="meeting-not-found">
            <h1 id="view-title" className="empty-title" tabIndex={-1}>
              {t('meetings.notFoundTitle')}
            </h1>
            <p className="empty-body">{t('meetings.notFoundBody')}</p>
          </div>
        ) : (
          <div className="banner banner-error" role="alert" data-testid="meeting-error">
            <AlertIcon />
            <p id="view-title">
              {t('meetings.detailFailed', { reason: meetingErrorText(t, loadError) })}
            </p>
            <button
              type="button"
              className="button button-secondary button-small"
              onClick={() => {
                setReloads((count) => count + 1);
              }}
            >
              {t('meetings.retry')}
            </button>
          </div>
        )}
      </section>
    );
  }

  if (detail === null) {
    return (
      <section className="view" data-testid="meeting-detail" aria-busy="true">
        <BackButton onBack={onBack} />
        <div className="list-loading" role="status" data-testid="meeting-loading">
          <span className="spinner spinner-small" aria-hidden="true" />
          {t('meetings.loadingOne')}
        </div>
      </section>
    );
  }

  const cancelled = detail.status === 'cancelled';
  const organiser = detail.my_role === 'organiser';
  const canAnswer = detail.my_role === 'invitee' && !cancelled;
  const canChange = organiser && !cancelled;
  const webLink = isWebLink(detail.online_link);
  const organiserClock =
    detail.organiser_time_zone !== '' && detail.organiser_time_zone !== detail.time_zone
      ? clockRangeIn(detail.starts_at, detail.ends_at, detail.organiser_time_zone, language)
      : null;
  const noteText = note ?? detail.my_note ?? '';

  const answer = async (rsvp: Rsvp) => {
    if (answering !== null) return;
    setAnswering(rsvp);
    setActionError(null);
    setAnswered(null);
    const typed = noteText.trim();
    const result = await api.rsvp(detail.id, rsvp, typed === '' ? null : typed);
    setAnswering(null);
    if (result.status === 'error') {
      setActionError(t('meetings.answerRefused', { reason: meetingErrorText(t, result.error) }));
      return;
    }
    if (result.data.state === 'refused') {
      setActionError(
        t('meetings.answerRefused', {
          reason: result.data.reason?.message ?? result.data.last_error ?? t('outbox.noReason'),
        }),
      );
    } else {
      setAnswered(rsvp);
      setNote(null);
    }
    setReloads((count) => count + 1);
  };

  const exportFile = async () => {
    if (exporting) return;
    setExporting(true);
    setActionError(null);
    setExported(null);
    const result = await api.meetingExport(detail.id);
    setExporting(false);
    if (result.status === 'error') {
      setActionError(t('meetings.exportFailed', { reason: meetingErrorText(t, result.error) }));
      return;
    }
    // Null: the person closed the save dialog; nothing was written and nothing is said.
    if (result.data !== null) setExported(result.data);
  };

  const addMaterials = async () => {
    if (addingMaterials) return;
    setAddingMaterials(true);
    setActionError(null);
    const result = await api.meetingAddMaterials(detail.id);
    setAddingMaterials(false);
    if (result.status === 'error') {
      setActionError(t('meetings.addMaterialsFailed', { reason: meetingErrorText(t, result.error) }));
      return;
    }
    // False: the person closed the file dialog; nothing was added.
    if (result.data) setReloads((count) => count + 1);
  };

  const openLink = async () => {
    if (openingLink) return;
    setOpeningLink(true);
    setActionError(null);
    const result = await api.openMeetingLink(detail.id);
    setOpeningLink(false);
    if (result.status === 'error') {
      setActionError(t('meetings.openLinkFailed', { reason: meetingErrorText(t, result.error) }));
    }
  };

  const cancelMeeting = async () => {
    if (cancelling === null || cancelling.busy) return;
    const typed = cancelling.reason.trim();
    setCancelling({ ...cancelling, busy: true, error: null });
    const result = await api.meetingCancel(detail.id, typed === '' ? null : typed);
    if (result.status === 'error') {
      // The dialog stays, with the reason as typed, and says why.
      setCancelling({
        reason: cancelling.reason,
        busy: false,
        error: t('meetings.cancelFailed', { reason: meetingErrorText(t, result.error) }),
      });
      return;
    }
    setCancelling(null);
    setReloads((count) => count + 1);
  };

  return (
    <section className="view meeting-detail" data-testid="meeting-detail" aria-labelledby="view-title">
      <BackButton onBack={onBack} />
      <header className="view-header">
        <div className="view-header-row">
          <h1
            id="view-title"
            className={cancelled ? 'view-title meeting-title-cancelled' : 'view-title'}
            data-testid="meeting-title"
            tabIndex={-1}
            ref={heading}
          >
            {detail.title}
          </h1>
          {!cancelled && (
            <span className="badge badge-status status-in_progress" data-testid="meeting-status">
              {t('meetings.scheduled')}
            </span>
          )}
          <div className="view-header-actions">
            {canChange && onEdit !== undefined && (
              <button
                type="button"
                className="button button-secondary button-small"
                data-testid="meeting-edit"
                onClick={() => {
                  onEdit(detail);
                }}
              >
                {t('meetings.edit')}
              </button>
            )}
            {canChange && (
              <button
                type="button"
                className="button button-danger button-small"
                data-testid="meeting-cancel"
                onClick={() => {
                  setActionError(null);
                  setCancelling({ reason: '', busy: false, error: null });
                }}
              >
                {t('meetings.cancelMeeting')}
              </button>
            )}
            <button
              type="button"
              className="button button-secondary button-small"
              data-testid="meeting-export"
              aria-disabled={exporting}
              onClick={() => void exportFile()}
            >
              <CalendarFileIcon />
              {t('meetings.export')}
            </button>
          </div>
        </div>
        <dl className="request-facts meeting-facts">
          <div className="meeting-fact-wide">
            <dt>{t('meetings.when')}</dt>
            <dd data-testid="meeting-when">
              {whenText(detail.local_start, detail.local_end, language)}
              <span className="meeting-zone"> {t('meetings.inZone', { zone: detail.time_zone })}</span>
              {detail.organiser_time_zone !== '' && detail.organiser_time_zone !== detail.time_zone && (
                <span className="meeting-zone-note" data-testid="meeting-organiser-zone">
                  {organiserClock === null
                    ? t('meetings.organiserZone', { zone: detail.organiser_time_zone })
                    : t('meetings.organiserClock', {
                        time: organiserClock,
                        zone: detail.organiser_time_zone,
                      })}
                </span>
              )}
            </dd>
          </div>
          {detail.room !== null && (
            <div>
              <dt>{t('meetings.room')}</dt>
              <dd data-testid="meeting-room">{detail.room}</dd>
            </div>
          )}
          {detail.place !== null && detail.place.trim() !== '' && (
            <div>
              <dt>{t('meetings.place')}</dt>
              <dd data-testid="meeting-place">{detail.place}</dd>
            </div>
          )}
          {detail.online_link !== null && detail.online_link.trim() !== '' && (
            <div>
              <dt>{t('meetings.onlineLink')}</dt>
              <dd className="meeting-link" data-testid="meeting-link">
                {webLink ? (
                  <button
                    type="button"
                    className="link-button meeting-link-button"
                    data-testid="meeting-open-link"
                    title={t('meetings.openLink')}
                    aria-disabled={openingLink}
                    onClick={() => void openLink()}
                  >
                    {detail.online_link.trim()}
                  </button>
                ) : (
                  detail.online_link
                )}
              </dd>
            </div>
          )}
          <div>
            <dt>{t('meetings.organiser')}</dt>
            <dd data-testid="meeting-organiser">{detail.organiser_name}</dd>
          </div>
        </dl>
      </header>

      {cancelled && (
        <div className="banner banner-error meeting-cancelled-banner" role="status" data-testid="meeting-status">
          <AlertIcon />
          <p>
            <strong>{t('meetings.cancelledTitle')}</strong>{' '}
            {detail.cancel_reason !== null && detail.cancel_reason.trim() !== ''
              ? t('meetings.cancelledReason', { reason: detail.cancel_reason })
              : t('meetings.cancelledNoReason')}
          </p>
        </div>
      )}

      {!cancelled && detail.changed.length > 0 && (
        <div className="banner banner-warning" role="status" data-testid="meeting-changed">
          <AlertIcon />
          <p>
            {t('meetings.changed', {
              fields: detail.changed
                .map((field) => fieldName(t, field))
                .join(t('meetings.listSeparator')),
            })}
          </p>
        </div>
      )}

      {exported !== null && (
        <div className="banner banner-success" role="status" data-testid="meeting-export-done">
          <CheckIcon />
          <p>{t('meetings.exported', { name: exported })}</p>
        </div>
      )}

      {actionError !== null && (
        <div className="banner banner-error" role="alert" data-testid="meeting-error">
          <AlertIcon />
          <p>{actionError}</p>
        </div>
      )}

      {canAnswer && (
        <section className="card rsvp" aria-labelledby="rsvp-title">
          <div className="view-header-row">
            <h2 className="card-title" id="rsvp-title">
              {t('meetings.yourAnswer')}
            </h2>
            <span
              className={detail.my_answer === null ? 'meeting-mark mark-to-answer' : `meeting-mark mark-${detail.my_answer}`}
              data-testid="meeting-my-answer"
            >
              {detail.my_answer === null ? t('meetings.notAnswered') : answerName(t, detail.my_answer)}
            </span>
          </div>
          <div className="field">
            <label htmlFor="rsvp-note">{t('meetings.noteLabel')}</label>
            <input
              id="rsvp-note"
              className="input"
              type="text"
              data-testid="rsvp-note"
              value={noteText}
              placeholder={t('meetings.notePlaceholder')}
              onChange={(event) => {
                setNote(event.target.value);
              }}
            />
          </div>
          <div className="action-buttons" role="group" aria-label={t('meetings.yourAnswer')}>
            {answers.map((rsvp) => (
              <button
                key={rsvp}
                type="button"
                className={
                  rsvp === 'accept'
                    ? 'button button-primary'
                    : rsvp === 'decline'
                      ? 'button button-danger'
                      : 'button button-secondary'
                }
                data-testid={`rsvp-${rsvp}`}
                aria-pressed={detail.my_answer === rsvp}
                aria-disabled={answering !== null}
                onClick={() => void answer(rsvp)}
              >
                {answering === rsvp && <span className="spinner spinner-small" aria-hidden="true" />}
                {detail.my_answer === rsvp && <CheckIcon />}
                {answerAction(t, rsvp)}
              </button>
            ))}
          </div>
          {answered !== null && (
            <p className="hint" role="status" data-testid="rsvp-saved">
              {t('meetings.answerSaved', { answer: answerName(t, answered) })}
            </p>
          )}
        </section>
      )}

      <section className="card" aria-labelledby="meeting-agenda-title">
        <h2 className="card-title" id="meeting-agenda-title">
          {t('meetings.agenda')}
        </h2>
        {detail.agenda.trim() === '' ? (
          <p className="hint" data-testid="meeting-agenda">
            {t('meetings.noAgenda')}
          </p>
        ) : (
          <p className="meeting-agenda" data-testid="meeting-agenda">
            {detail.agenda}
          </p>
        )}
      </section>

      <section className="card" aria-labelledby="meeting-materials-title">
        <div className="view-header-row">
          <h2 className="card-title" id="meeting-materials-title">
            {t('meetings.materials')}
          </h2>
          {canChange && (
            <button
              type="button"
              className="button button-secondary button-small"
              data-testid="meeting-add-materials"
              aria-disabled={addingMaterials}
              onClick={() => void addMaterials()}
            >
              {addingMaterials ? (
                <span className="spinner spinner-small" aria-hidden="true" />
              ) : (
                <PlusIcon />
              )}
              {t('meetings.addMaterials')}
            </button>
          )}
        </div>
        {detail.materials.length === 0 ? (
          <p className="hint" data-testid="meeting-materials">
            {t('meetings.noMaterials')}
          </p>
        ) : (
          <ul className="form-files meeting-materials" data-testid="meeting-materials">
            {detail.materials.map((file) => (
              <li key={file.id} data-testid="material" data-attachment-id={file.id}>
                <OpenableFile id={file.id} name={file.name} />
                {file.size !== null && <span className="form-file-size">{fileSizeText(file.size)}</span>}
              </li>
            ))}
          </ul>
        )}
        {detail.materials.length > 0 && <p className="hint">{t('meetings.materialsHint')}</p>}
      </section>

      <section className="card" aria-labelledby="meeting-people-title">
        <div className="view-header-row">
          <h2 className="card-title" id="meeting-people-title">
            {t('meetings.people')}
          </h2>
          <span className="count-badge">{detail.people.length}</span>
        </div>
        {organiser && detail.people.length > 0 && <AnswerSummary people={detail.people} />}
        {detail.people.length === 0 ? (
          <p className="hint" data-testid="meeting-people">
            {t('meetings.noPeople')}
          </p>
        ) : (
          <ul className="meeting-people" data-testid="meeting-people">
            {detail.people.map((person) => (
              <Person key={person.id} person={person} organiser={organiser} />
            ))}
          </ul>
        )}
      </section>

      {cancelling !== null && (
        <ConfirmDialog
          testId="meeting-cancel-dialog"
          confirmTestId="meeting-cancel-confirm"
          title={t('meetings.cancelTitle', { title: detail.title })}
          body={
            <>
              <p>{t('meetings.cancelBody')}</p>
              <div className="field">
                <label htmlFor="meeting-cancel-reason">{t('meetings.cancelReasonLabel')}</label>
                <textarea
                  id="meeting-cancel-reason"
                  className="textarea"
                  rows={3}
                  data-testid="meeting-cancel-reason"
                  value={cancelling.reason}
                  onChange={(event) => {
                    setCancelling({ ...cancelling, reason: event.target.value });
                  }}
                />
              </div>
            </>
          }
          confirmLabel={t('meetings.cancelConfirm')}
          cancelLabel={t('meetings.cancelKeep')}
          danger
          busy={cancelling.busy}
          error={cancelling.error}
          onConfirm={() => void cancelMeeting()}
          onCancel={() => {
            setCancelling(null);
          }}
        />
      )}
    </section>
  );
}

function BackButton({ onBack }: { onBack: () => void }) {
  const { t } = useTranslation();
  return (
    <button type="button" className="back-button" data-testid="meeting-back" onClick={onBack}>
      <BackIcon />
      {t('meetings.back')}
    </button>
  );
}

/** "3 accepted · 1 tentative · 1 declined · 2 not answered", for the organiser. */
function AnswerSummary({ people }: { people: MeetingPerson[] }) {
  const { t } = useTranslation();
  const count = (answer: Rsvp | null) => people.filter((person) => person.answer === answer).length;
  return (
    <p className="row-meta meeting-summary" data-testid="meeting-answer-summary">
      <span>{t('meetings.summary.accept', { count: count('accept') })}</span>
      <span>{t('meetings.summary.tentative', { count: count('tentative') })}</span>
      <span>{t('meetings.summary.decline', { count: count('decline') })}</span>
      <span>{t('meetings.summary.none', { count: count(null) })}</span>
    </p>
  );
}

/** One person invited. The organiser sees each answer and note, and whether the invitation
 * reached the person and was opened; an invitee's data holds only their own answer. */
function Person({ person, organiser }: { person: MeetingPerson; organiser: boolean }) {
  const { t, i18n } = useTranslation();
  const now = useNow();
  const when = (iso: string) => formatMoment(iso, i18n.language, now);
  let delivery: string | null = null;
  if (organiser) {
    delivery =
      person.opened_at !== null
        ? t('meetings.opened', { time: when(person.opened_at) })
        : person.reached_at !== null
          ? t('meetings.reached', { time: when(person.reached_at) })
          : t('meetings.notReached');
  }
  return (
    <li className="meeting-person" data-testid="meeting-person">
      <span className="meeting-person-name">{person.name}</span>
      {person.via_department !== null && (
        <span className="meeting-person-via">{t('meetings.viaDepartment')}</span>
      )}
      {(organiser || person.answer !== null) && (
        <span
          className={
            person.answer === null ? 'meeting-mark mark-none' : `meeting-mark mark-${person.answer}`
          }
          data-testid="meeting-person-answer"
        >
          {person.answer === null ? t('meetings.notAnswered') : answerName(t, person.answer)}
        </span>
      )}
      {delivery !== null && (
        <span className="meeting-person-delivery" data-testid="meeting-person-delivery">
          {delivery}
        </span>
      )}
      {person.note !== null && person.note.trim() !== '' && (
        <blockquote className="history-comment meeting-person-note">{person.note}</blockquote>
      )}
    </li>
  );
}
