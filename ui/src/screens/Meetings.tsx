// Meetings: the week the person is in (or another one), as seven day columns or as an agenda,
// from the meetings this computer has synced; above it, the invitations still waiting for an
// answer, each answerable in one click. From here a meeting opens in full, a calendar file
// (.ics) from another calendar is read and shown before anything is done with it, and a new
// meeting is planned. An organiser changes a meeting from its detail in the same form, and the
// invitation coverage report (who was reached, opened, answered) opens from the header. The
// screen keeps the week, the way it is shown and the report's period while a meeting, the
// form or the report is open, so coming back finds them as they were left.
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import type {
  CommandError,
  ImportedInvitation,
  MeetingDetail as Detail,
  MeetingEntry,
  Result,
  Rsvp,
} from '../api';
import {
  AlertIcon,
  BackIcon,
  CalendarFileIcon,
  CheckIcon,
  CloseIcon,
  ForwardIcon,
  MeetingsIcon,
  PlusIcon,
} from '../icons';
import { MeetingCoverage } from './MeetingCoverage';
import { MeetingDetail } from './MeetingDetail';
import { ImportPreview } from './MeetingImport';
import { NewMeeting } from './NewMeeting';
import {
  addDays,
  answerAction,
  answerName,
  answers,
  blankDraft,
  byDay,
  clockRange,
  dayKey,
  defaultCoveragePeriod,
  draftFromDetail,
  formatDay,
  formatWeek,
  formatWeekday,
  meetingErrorText,
  mondayOf,
  weekRange,
  whenText,
} from './meetingFormat';
import type { MeetingDraft } from './meetingFormat';

/** A meeting to show, asked for from outside (a notification, the tray, a link). `opening`
 * counts the requests, so that asking for the same meeting again shows it again. */
export interface MeetingOpening {
  id: string;
  opening: number;
}

type Page =
  | { kind: 'list'; returned: boolean }
  /** A meeting; `from` is where its Back button leads. */
  | { kind: 'detail'; id: string; from?: 'coverage' }
  | { kind: 'new'; draft: MeetingDraft }
  | { kind: 'edit'; detail: Detail; from?: 'coverage' }
  | { kind: 'coverage' };

export type MeetingsMode = 'week' | 'agenda';

interface MeetingsProps {
  /** Bumped when the core says the lists changed (a sync brought a change or cancellation). */
  changes: number;
  open?: MeetingOpening | null;
}

export function Meetings({ changes, open = null }: MeetingsProps) {
  const [page, setPage] = useState<Page>(() =>
    open === null ? { kind: 'list', returned: false } : { kind: 'detail', id: open.id },
  );
  const [seenOpening, setSeenOpening] = useState(open?.opening ?? 0);
  if (open !== null && open.opening !== seenOpening) {
    setSeenOpening(open.opening);
    setPage({ kind: 'detail', id: open.id });
  }
  const [monday, setMonday] = useState(() => mondayOf(new Date()));
  const [mode, setMode] = useState<MeetingsMode>('week');
  const [imported, setImported] = useState<ImportedInvitation[] | null>(null);
  const [period, setPeriod] = useState(() => defaultCoveragePeriod());

  const backToList = () => {
    setPage({ kind: 'list', returned: true });
  };

  if (page.kind === 'detail') {
    const { from } = page;
    return (
      <MeetingDetail
        key={page.id}
        meetingId={page.id}
        changes={changes}
        onBack={
          from === 'coverage'
            ? () => {
                setPage({ kind: 'coverage' });
              }
            : backToList
        }
        onEdit={(detail) => {
          setPage({ kind: 'edit', detail, from });
        }}
      />
    );
  }
  if (page.kind === 'edit') {
    const { detail, from } = page;
    const back = () => {
      setPage({ kind: 'detail', id: detail.id, from });
    };
    return (
      <NewMeeting
        draft={draftFromDetail(detail)}
        editing={{ meetingId: detail.id, roomId: detail.room_id, roomName: detail.room }}
        onCancel={back}
        onCreated={back}
      />
    );
  }
  if (page.kind === 'coverage') {
    return (
      <MeetingCoverage
        period={period}
        onPeriod={setPeriod}
        onBack={backToList}
        onOpen={(id) => {
          setPage({ kind: 'detail', id, from: 'coverage' });
        }}
      />
    );
  }
  if (page.kind === 'new') {
    return (
      <NewMeeting
        draft={page.draft}
        onCancel={backToList}
        onCreated={(id) => {
          setPage({ kind: 'detail', id });
        }}
      />
    );
  }
  return (
    <MeetingsList
      changes={changes}
      monday={monday}
      onMonday={setMonday}
      mode={mode}
      onMode={setMode}
      imported={imported}
      onImported={setImported}
      focusHeading={page.returned}
      onOpen={(id) => {
        setPage({ kind: 'detail', id });
      }}
      onNew={(draft) => {
        setPage({ kind: 'new', draft });
      }}
      onCoverage={() => {
        setPage({ kind: 'coverage' });
      }}
    />
  );
}

interface MeetingsListProps {
  changes: number;
  monday: Date;
  onMonday: (monday: Date) => void;
  mode: MeetingsMode;
  onMode: (mode: MeetingsMode) => void;
  imported: ImportedInvitation[] | null;
  onImported: (imported: ImportedInvitation[] | null) => void;
  /** Back from a meeting or the form: the keyboard goes to the heading. */
  focusHeading: boolean;
  onOpen: (id: string) => void;
  onNew: (draft: MeetingDraft) => void;
  onCoverage: () => void;
}

interface Loaded {
  /** The week (its Monday, as the core was asked) the answer is for. */
  week: string;
  result: Result<MeetingEntry[], CommandError>;
}

function MeetingsList({
  changes,
  monday,
  onMonday,
  mode,
  onMode,
  imported,
  onImported,
  focusHeading,
  onOpen,
  onNew,
  onCoverage,
}: MeetingsListProps) {
  const { t, i18n } = useTranslation();
  const language = i18n.language;
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [invitations, setInvitations] = useState<MeetingEntry[]>([]);
  const [reloads, setReloads] = useState(0);
  const [answering, setAnswering] = useState<string | null>(null);
  const [importing, setImporting] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  const { from, to } = weekRange(monday);

  useEffect(() => {
    let gone = false;
    void api.meetings(from, to).then((result) => {
      if (!gone) setLoaded({ week: from, result });
    });
    return () => {
      gone = true;
    };
  }, [from, to, changes, reloads]);

  useEffect(() => {
    let gone = false;
    void api.invitationsToAnswer().then((result) => {
      // The strip is a shortcut: when it cannot be read, the week still shows every meeting.
      if (!gone && result.status === 'ok') setInvitations(result.data);
    });
    return () => {
      gone = true;
    };
  }, [changes, reloads]);

  useEffect(() => {
    if (focusHeading) heading.current?.focus();
  }, [focusHeading]);

  const days = Array.from({ length: 7 }, (_, index) => addDays(monday, index));
  const dayKeys = days.map(dayKey);
  const today = dayKey(new Date());
  const thisWeek = dayKey(mondayOf(new Date())) === dayKey(monday);
  const current = loaded?.week === from ? loaded.result : null;

  const answer = async (entry: MeetingEntry, rsvp: Rsvp) => {
    if (answering !== null) return;
    setAnswering(entry.id);
    setNotice(null);
    const result = await api.rsvp(entry.id, rsvp, null);
    setAnswering(null);
    if (result.status === 'error') {
      setNotice(
        t('meetings.answerFailed', { title: entry.title, reason: meetingErrorText(t, result.error) }),
      );
    } else if (result.data.state === 'refused') {
      setNotice(
        t('meetings.answerFailed', {
          title: entry.title,
          reason: result.data.reason?.message ?? result.data.last_error ?? t('outbox.noReason'),
        }),
      );
    }
    setReloads((count) => count + 1);
  };

  const importFile = async () => {
    if (importing) return;
    setImporting(true);
    setNotice(null);
    const result = await api.meetingImport();
    setImporting(false);
    if (result.status === 'error') {
      setNotice(t('meetings.importFailed', { reason: meetingErrorText(t, result.error) }));
      return;
    }
    // Null: the person closed the file dialog without choosing.
    if (result.data !== null) onImported(result.data);
  };

  let body;
  if (current === null) {
    body = (
      <div className="list-loading" role="status" data-testid="meetings-loading">
        <span className="spinner spinner-small" aria-hidden="true" />
        {t('meetings.loading')}
      </div>
    );
  } else if (current.status === 'error') {
    body = (
      <div className="banner banner-error" role="alert" data-testid="meetings-error">
        <AlertIcon />
        <p>{t('meetings.loadFailed', { reason: meetingErrorText(t, current.error) })}</p>
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
    );
  } else if (current.data.length === 0) {
    body = (
      <div className="empty-state" data-testid="meetings-empty">
        <div className="coming-soon-icon" aria-hidden="true">
          <MeetingsIcon />
        </div>
        <h2 className="empty-title">
          {thisWeek ? t('meetings.emptyThisWeek') : t('meetings.emptyWeek')}
        </h2>
        <p className="empty-body">{t('meetings.emptyBody')}</p>
      </div>
    );
  } else {
    const grouped = byDay(current.data, dayKeys);
    const open = (entry: MeetingEntry) => {
      onOpen(entry.id);
    };
    body =
      mode === 'week' ? (
        <div className="week-scroll">
          <div className="week-grid" data-testid="meetings-week">
            {days.map((day, index) => {
              const key = dayKeys[index] ?? '';
              const entries = grouped.get(key) ?? [];
              return (
                <section
                  key={key}
                  className={key === today ? 'week-day week-today' : 'week-day'}
                  data-testid="meetings-day"
                  data-day={key}
                  aria-label={formatDay(day, language)}
                >
                  <h3 className="week-day-head" aria-hidden="true">
                    {formatWeekday(day, language)}
                  </h3>
                  {entries.length > 0 && (
                    <ul className="week-day-list">
                      {entries.map((entry) => (
                        <li key={entry.id}>
                          <MeetingItem entry={entry} compact onOpen={open} />
                        </li>
                      ))}
                    </ul>
                  )}
                </section>
              );
            })}
          </div>
        </div>
      ) : (
        <div className="agenda" data-testid="meetings-agenda">
          {days.map((day, index) => {
            const key = dayKeys[index] ?? '';
            const entries = grouped.get(key) ?? [];
            if (entries.length === 0) return null;
            return (
              <section
                key={key}
                className="agenda-day"
                data-day={key}
                aria-labelledby={`agenda-day-${key}`}
              >
                <h3 className="agenda-day-head" id={`agenda-day-${key}`}>
                  {formatDay(day, language)}
                  {key === today && <span className="badge badge-current">{t('meetings.today')}</span>}
                </h3>
                <ul className="agenda-list">
                  {entries.map((entry) => (
                    <li key={entry.id}>
                      <MeetingItem entry={entry} compact={false} onOpen={open} />
                    </li>
                  ))}
                </ul>
              </section>
            );
          })}
        </div>
      );
  }

  return (
    <section className="view view-wide meetings" data-testid="meetings" aria-labelledby="view-title">
      <header className="view-header">
        <div className="view-header-row">
          <h1 id="view-title" className="view-title" tabIndex={-1} ref={heading}>
            {t('meetings.title')}
          </h1>
          <div className="view-header-actions">
            <button
              type="button"
              className="button button-secondary"
              data-testid="meetings-coverage"
              onClick={onCoverage}
            >
              <CheckIcon />
              {t('meetings.coverage.open')}
            </button>
            <button
              type="button"
              className="button button-secondary"
              data-testid="meetings-import"
              aria-disabled={importing}
              onClick={() => void importFile()}
            >
              <CalendarFileIcon />
              {t('meetings.import')}
            </button>
            <button
              type="button"
              className="button button-primary"
              data-testid="meetings-new"
              onClick={() => {
                onNew(blankDraft());
              }}
            >
              <PlusIcon />
              {t('meetings.new')}
            </button>
          </div>
        </div>
        <p className="view-subtitle">{t('meetings.subtitle')}</p>
      </header>

      {notice !== null && (
        <div className="banner banner-error" role="alert" data-testid="meetings-error">
          <AlertIcon />
          <p>{notice}</p>
          <button
            type="button"
            className="icon-button"
            aria-label={t('shell.dismiss')}
            onClick={() => {
              setNotice(null);
            }}
          >
            <CloseIcon />
          </button>
        </div>
      )}

      {imported !== null && (
        <ImportPreview
          events={imported}
          onOpen={onOpen}
          onPlan={onNew}
          onClose={() => {
            onImported(null);
          }}
        />
      )}

      {invitations.length > 0 && (
        <section
          className="card invitations"
          data-testid="invitations-to-answer"
          aria-labelledby="invitations-title"
        >
          <div className="view-header-row">
            <h2 className="card-title" id="invitations-title">
              {t('meetings.toAnswer')}
            </h2>
            <span className="count-badge">{invitations.length}</span>
          </div>
          <ul className="invitation-list">
            {invitations.map((entry) => (
              <li
                key={entry.id}
                className="invitation"
                data-testid="invitation"
                data-meeting-id={entry.id}
              >
                <div className="invitation-text">
                  <button
                    type="button"
                    className="link-button invitation-title"
                    onClick={() => {
                      onOpen(entry.id);
                    }}
                  >
                    {entry.title}
                  </button>
                  <span className="invitation-when">
                    {whenText(entry.local_start, entry.local_end, language)}
                  </span>
                  <span className="row-meta">
                    {whereText(entry) !== '' && <span>{whereText(entry)}</span>}
                    <span>{t('meetings.organisedBy', { name: entry.organiser_name })}</span>
                  </span>
                </div>
                <div
                  className="invitation-actions"
                  role="group"
                  aria-label={t('meetings.answerFor', { title: entry.title })}
                >
                  {answers.map((rsvp) => (
                    <button
                      key={rsvp}
                      type="button"
                      className={
                        rsvp === 'decline'
                          ? 'button button-danger button-small'
                          : rsvp === 'accept'
                            ? 'button button-primary button-small'
                            : 'button button-secondary button-small'
                      }
                      data-testid={`invitation-${rsvp}`}
                      aria-disabled={answering === entry.id}
                      onClick={() => void answer(entry, rsvp)}
                    >
                      {answerAction(t, rsvp)}
                    </button>
                  ))}
                </div>
              </li>
            ))}
          </ul>
        </section>
      )}

      <div className="week-toolbar">
        <div className="week-nav">
          <button
            type="button"
            className="button button-secondary button-small"
            data-testid="meetings-prev"
            onClick={() => {
              onMonday(addDays(monday, -7));
            }}
          >
            <BackIcon />
            {t('meetings.previousWeek')}
          </button>
          <button
            type="button"
            className="button button-secondary button-small"
            data-testid="meetings-today"
            aria-pressed={thisWeek}
            onClick={() => {
              onMonday(mondayOf(new Date()));
            }}
          >
            {t('meetings.thisWeek')}
          </button>
          <button
            type="button"
            className="button button-secondary button-small"
            data-testid="meetings-next"
            onClick={() => {
              onMonday(addDays(monday, 7));
            }}
          >
            {t('meetings.nextWeek')}
            <ForwardIcon />
          </button>
          <h2 className="week-label" data-testid="meetings-week-label" aria-live="polite">
            {formatWeek(monday, language)}
          </h2>
        </div>
        <div className="chips" role="group" aria-label={t('meetings.showAs')}>
          <button
            type="button"
            className="chip"
            data-testid="meetings-view-week"
            aria-pressed={mode === 'week'}
            onClick={() => {
              onMode('week');
            }}
          >
            {t('meetings.viewWeek')}
          </button>
          <button
            type="button"
            className="chip"
            data-testid="meetings-view-agenda"
            aria-pressed={mode === 'agenda'}
            onClick={() => {
              onMode('agenda');
            }}
          >
            {t('meetings.viewAgenda')}
          </button>
        </div>
      </div>

      {body}
    </section>
  );
}

/** Where a meeting is: its room, its place, or both. */
function whereText(entry: MeetingEntry): string {
  return [entry.room, entry.place]
    .filter((part): part is string => part !== null && part.trim() !== '')
    .join(' · ');
}

/** One meeting in the week or the agenda: when, what, where, and where the person stands. */
function MeetingItem({
  entry,
  compact,
  onOpen,
}: {
  entry: MeetingEntry;
  compact: boolean;
  onOpen: (entry: MeetingEntry) => void;
}) {
  const { t, i18n } = useTranslation();
  const cancelled = entry.status === 'cancelled';
  const where = whereText(entry);
  let mark: { text: string; tone: string };
  if (cancelled) {
    mark = { text: t('meetings.cancelled'), tone: 'cancelled' };
  } else if (entry.my_role === 'organiser') {
    mark = { text: t('meetings.organiser'), tone: 'organiser' };
  } else if (entry.my_answer === null) {
    mark = { text: t('meetings.toAnswerMark'), tone: 'to-answer' };
  } else {
    mark = { text: answerName(t, entry.my_answer), tone: entry.my_answer };
  }
  return (
    <button
      type="button"
      className={[
        'meeting-item',
        compact ? 'meeting-item-compact' : 'meeting-item-wide',
        cancelled ? 'meeting-cancelled' : '',
        entry.my_answer === 'decline' ? 'meeting-declined' : '',
      ]
        .filter((name) => name !== '')
        .join(' ')}
      data-testid="meeting-entry"
      data-meeting-id={entry.id}
      onClick={() => {
        onOpen(entry);
      }}
    >
      <span className="meeting-item-time">
        {clockRange(entry.local_start, entry.local_end, i18n.language)}
      </span>
      <span className="meeting-item-title">
        {cancelled ? <s>{entry.title}</s> : entry.title}
      </span>
      {where !== '' && <span className="meeting-item-where">{where}</span>}
      <span className={`meeting-mark mark-${mark.tone}`} data-testid="meeting-mark">
        {mark.text}
      </span>
    </button>
  );
}
