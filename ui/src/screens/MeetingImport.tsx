// What a calendar file (.ics) holds, before anything is done with it: each event in the
// reader's own time (and the zone it was sent in), where and with whom, who of the attendees
// the directory knows and who it does not. An event that is a Countersign meeting already on
// this computer opens; any other can be planned as a new meeting, the form filled in from it.
// Reading a file saves nothing.
import { useTranslation } from 'react-i18next';
import type { ImportedInvitation } from '../api';
import { CloseIcon } from '../icons';
import { dayText, draftFromImported, safeLink, whenText } from './meetingFormat';
import type { MeetingDraft } from './meetingFormat';

interface ImportPreviewProps {
  events: ImportedInvitation[];
  onOpen: (meetingId: string) => void;
  onPlan: (draft: MeetingDraft) => void;
  onClose: () => void;
}

export function ImportPreview({ events, onOpen, onPlan, onClose }: ImportPreviewProps) {
  const { t } = useTranslation();
  return (
    <section className="card import-preview" data-testid="import-preview" aria-labelledby="import-title">
      <div className="import-preview-head">
        <h2 className="card-title" id="import-title">
          {t('meetings.imported.title', { count: events.length })}
        </h2>
        <button
          type="button"
          className="icon-button"
          data-testid="import-close"
          aria-label={t('meetings.imported.close')}
          onClick={onClose}
        >
          <CloseIcon />
        </button>
      </div>
      <p className="hint">{t('meetings.imported.nothingSaved')}</p>
      {events.length === 0 ? (
        <p className="hint" data-testid="import-empty">
          {t('meetings.imported.noEvents')}
        </p>
      ) : (
        <ul className="imported-list">
          {events.map((event, index) => (
            <ImportedEvent
              key={`${event.meeting_id ?? ''}-${event.starts_at}-${String(index)}`}
              event={event}
              onOpen={onOpen}
              onPlan={onPlan}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

function ImportedEvent({
  event,
  onOpen,
  onPlan,
}: {
  event: ImportedInvitation;
  onOpen: (meetingId: string) => void;
  onPlan: (draft: MeetingDraft) => void;
}) {
  const { t, i18n } = useTranslation();
  const language = i18n.language;
  const link = safeLink(event.online_link);
  const title = event.title.trim() === '' ? t('meetings.untitled') : event.title;
  const when = event.all_day
    ? t('meetings.imported.allDay', { day: dayText(event.local_start, language) })
    : whenText(event.local_start, event.local_end, language);
  return (
    <li className="imported-event" data-testid="imported-event">
      <div className="imported-event-head">
        <span className="imported-event-title">
          {event.cancelled ? <s>{title}</s> : title}
        </span>
        {event.cancelled && (
          <span className="badge badge-status status-rejected" data-testid="imported-cancelled">
            {t('meetings.cancelled')}
          </span>
        )}
        {event.meeting_id !== null && (
          <span className="badge badge-status status-queued">{t('meetings.imported.ours')}</span>
        )}
      </div>
      <dl className="request-facts imported-facts">
        <div>
          <dt>{t('meetings.when')}</dt>
          <dd data-testid="imported-when">
            {when}
            <span className="meeting-zone"> {t('meetings.inZone', { zone: event.time_zone })}</span>
            {event.sender_time_zone !== null && event.sender_time_zone !== event.time_zone && (
              <span className="meeting-zone-note">
                {t('meetings.imported.sentIn', { zone: event.sender_time_zone })}
              </span>
            )}
          </dd>
        </div>
        {event.location !== null && event.location.trim() !== '' && (
          <div>
            <dt>{t('meetings.place')}</dt>
            <dd>{event.location}</dd>
          </div>
        )}
        {event.online_link !== null && event.online_link.trim() !== '' && (
          <div>
            <dt>{t('meetings.onlineLink')}</dt>
            <dd className="meeting-link">
              {link === null ? (
                event.online_link
              ) : (
                <a href={link} target="_blank" rel="noopener noreferrer">
                  {event.online_link}
                </a>
              )}
            </dd>
          </div>
        )}
        {event.organiser !== null && (
          <div>
            <dt>{t('meetings.organiser')}</dt>
            <dd>{event.organiser}</dd>
          </div>
        )}
      </dl>
      <div className="imported-people">
        <span className="imported-people-label">{t('meetings.imported.matched')}</span>
        {event.people.length === 0 ? (
          <span className="hint">{t('meetings.imported.noneMatched')}</span>
        ) : (
          <ul className="name-chips" data-testid="imported-matched">
            {event.people.map((person) => (
              <li key={person.id} className="name-chip">
                {person.name}
                {person.detail !== null && <span className="picker-detail">{person.detail}</span>}
              </li>
            ))}
          </ul>
        )}
      </div>
      {event.not_found.length > 0 && (
        <div className="imported-people" data-testid="imported-not-found">
          <span className="imported-people-label">{t('meetings.imported.notFound')}</span>
          <ul className="name-chips">
            {event.not_found.map((who) => (
              <li key={who} className="name-chip name-chip-missing">
                {who}
                <span className="picker-unknown">{t('form.notInDirectory')}</span>
              </li>
            ))}
          </ul>
        </div>
      )}
      {event.repeats !== null && (
        <p className="banner banner-warning imported-repeats" data-testid="imported-repeats">
          {t('meetings.imported.repeats')}
        </p>
      )}
      <div className="card-actions">
        {event.meeting_id !== null ? (
          <button
            type="button"
            className="button button-primary button-small"
            data-testid="imported-open"
            onClick={() => {
              if (event.meeting_id !== null) onOpen(event.meeting_id);
            }}
          >
            {t('meetings.imported.open')}
          </button>
        ) : (
          <button
            type="button"
            className="button button-secondary button-small"
            data-testid="imported-plan"
            onClick={() => {
              onPlan(draftFromImported(event));
            }}
          >
            {t('meetings.imported.plan')}
          </button>
        )}
      </div>
    </li>
  );
}
