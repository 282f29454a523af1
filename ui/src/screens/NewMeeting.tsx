// Planning a meeting: what, when (on this computer's clock, sent as UTC with the zone it was
// planned in), where (a bookable room, a place, an online link), who (colleagues and whole
// departments, chosen from the directory by name) and the agenda. Planning needs the server:
// it books the room, refusing a clash by naming the other meeting, and sends the invitations.
// Whatever it refuses is shown beside the form word for word, and nothing typed is lost.
// The same form changes a meeting its organiser planned (`editing`): it starts from the plan
// as it is, names the invitees without changing them, and sends the whole plan as it should
// be now; the server tells everyone what changed.
import { useEffect, useRef, useState } from 'react';
import type { SubmitEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import type {
  CommandError,
  DirectoryKind,
  FieldDef,
  MeetingChange,
  MeetingForm,
  RoomView,
} from '../api';
import { DirectoryPicker } from '../form/DirectoryPicker';
import { useDirectoryNames } from '../form/directory';
import { AlertIcon, BackIcon, CloseIcon } from '../icons';
import { addDays, dateOfDay, dayKey, formatDay, instantOf, meetingErrorText } from './meetingFormat';
import type { MeetingDraft } from './meetingFormat';

/** A meeting already planned, changed by its organiser instead of planning a new one. */
export interface MeetingEditing {
  meetingId: string;
  /** The booked room (id and name), kept chosen even when the rooms cannot be listed. */
  roomId: string | null;
  roomName: string | null;
}

interface NewMeetingProps {
  /** What the form starts with: blank (today, the next hour), an event from a calendar file,
   * or the plan of the meeting being changed. */
  draft: MeetingDraft;
  /** Set to change that meeting rather than plan a new one. */
  editing?: MeetingEditing;
  onCancel: () => void;
  /** The meeting was planned (its new id) or changed (its own id). */
  onCreated: (meetingId: string) => void;
}

type Rooms =
  | { state: 'loading' }
  | { state: 'failed'; error: CommandError }
  | { state: 'ready'; rooms: RoomView[] };

// The pickers are the form renderer's; they describe what they choose as a form field does.
const pickerFields: Record<DirectoryKind, FieldDef> = {
  people: {
    key: 'invite',
    label: { en: 'People', 'zh-CN': '人员' },
    type: { kind: 'person' },
  },
  departments: {
    key: 'departments',
    label: { en: 'Departments', 'zh-CN': '部门' },
    type: { kind: 'department' },
  },
};

/** The browser's IANA zone: what "10:00" means to the person planning. */
function plannersZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return '';
  }
}

export function NewMeeting({ draft, editing, onCancel, onCreated }: NewMeetingProps) {
  const { t, i18n } = useTranslation();
  const [title, setTitle] = useState(draft.title);
  const [date, setDate] = useState(draft.date);
  const [start, setStart] = useState(draft.start);
  const [end, setEnd] = useState(draft.end);
  const [room, setRoom] = useState(editing?.roomId ?? '');
  const [place, setPlace] = useState(draft.place);
  const [link, setLink] = useState(draft.link);
  const [agenda, setAgenda] = useState(draft.agenda);
  const [people, setPeople] = useState<string[]>(() => draft.people.map((person) => person.id));
  const [departments, setDepartments] = useState<string[]>([]);
  const [rooms, setRooms] = useState<Rooms>({ state: 'loading' });
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const titleInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    titleInput.current?.focus();
  }, []);

  useEffect(() => {
    let gone = false;
    void api.rooms().then((result) => {
      if (gone) return;
      setRooms(
        result.status === 'ok'
          ? { state: 'ready', rooms: result.data }
          : { state: 'failed', error: result.error },
      );
    });
    return () => {
      gone = true;
    };
  }, []);

  // Names for the chips: the calendar file's matches are known; the rest are looked up.
  const looked = useDirectoryNames([...people, ...departments]);
  const known = new Map(draft.people.map((person) => [person.id, person.name]));
  const nameOf = (id: string) =>
    (looked.status === 'ready' ? looked.entries.get(id)?.name : undefined) ?? known.get(id) ?? id;

  // A meeting that runs past midnight keeps ending that many days after the chosen date.
  const endDays = draft.endDays ?? 0;
  const day = dateOfDay(date);
  const endDay = endDays === 0 || day === null ? date : dayKey(addDays(day, endDays));

  const submit = async (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (sending) return;
    const startsAt = instantOf(date, start);
    const endsAt = instantOf(endDay, end);
    if (startsAt === null || endsAt === null) {
      setError(t('meetings.form.timeMissing'));
      return;
    }
    if (editing !== undefined) {
      const change: MeetingChange = {
        title: title.trim(),
        agenda,
        starts_at: startsAt,
        ends_at: endsAt,
        room: room === '' ? null : room,
        place: place.trim() === '' ? null : place.trim(),
        online_link: link.trim() === '' ? null : link.trim(),
      };
      setSending(true);
      setError(null);
      const result = await api.meetingEdit(editing.meetingId, change);
      setSending(false);
      if (result.status === 'error') {
        setError(meetingErrorText(t, result.error));
        return;
      }
      onCreated(editing.meetingId);
      return;
    }
    const form: MeetingForm = {
      title: title.trim(),
      agenda,
      starts_at: startsAt,
      ends_at: endsAt,
      time_zone: plannersZone(),
      room: room === '' ? null : room,
      place: place.trim() === '' ? null : place.trim(),
      online_link: link.trim() === '' ? null : link.trim(),
      invite: [],
      departments: [],
      invite_ids: people,
      department_ids: departments,
    };
    setSending(true);
    setError(null);
    const result = await api.meetingNew(form);
    setSending(false);
    if (result.status === 'error') {
      setError(meetingErrorText(t, result.error));
      return;
    }
    onCreated(result.data);
  };

  const add = (list: string[], set: (next: string[]) => void) => (value: unknown) => {
    if (typeof value === 'string' && value !== '' && !list.includes(value)) set([...list, value]);
  };

  // The booked room stays a choice even when the list of rooms does not name it.
  const listedRooms = rooms.state === 'ready' ? rooms.rooms : [];
  const bookedId = editing?.roomId ?? null;
  const currentRoom =
    bookedId !== null && !listedRooms.some((option) => option.id === bookedId)
      ? { id: bookedId, name: editing?.roomName ?? bookedId }
      : null;

  return (
    <section
      className="view view-editor new-meeting"
      data-testid="new-meeting"
      data-mode={editing === undefined ? 'new' : 'edit'}
      aria-labelledby="view-title"
    >
      <button type="button" className="back-button" onClick={onCancel}>
        <BackIcon />
        {editing === undefined ? t('meetings.back') : t('meetings.form.backToMeeting')}
      </button>
      <header className="view-header">
        <h1 id="view-title" className="view-title" tabIndex={-1}>
          {editing === undefined ? t('meetings.form.title') : t('meetings.form.editTitle')}
        </h1>
        <p className="view-subtitle">
          {editing === undefined ? t('meetings.form.subtitle') : t('meetings.form.editSubtitle')}
        </p>
      </header>

      <form className="card editor-card" onSubmit={(event) => void submit(event)} noValidate>
        <div className="form-fields">
          <div className="form-field form-field-wide">
            <label className="form-field-label" htmlFor="new-meeting-title">
              {t('meetings.form.meetingTitle')}
              <span className="field-required" aria-hidden="true">
                *
              </span>
            </label>
            <input
              id="new-meeting-title"
              ref={titleInput}
              className="input"
              type="text"
              data-testid="new-meeting-title"
              aria-required="true"
              value={title}
              onChange={(event) => {
                setTitle(event.target.value);
              }}
            />
          </div>
          <div className="form-field">
            <label className="form-field-label" htmlFor="new-meeting-date">
              {t('meetings.form.date')}
            </label>
            <input
              id="new-meeting-date"
              className="input"
              type="date"
              data-testid="new-meeting-date"
              value={date}
              onChange={(event) => {
                setDate(event.target.value);
              }}
            />
          </div>
          <div className="form-field new-meeting-times">
            <div className="form-field">
              <label className="form-field-label" htmlFor="new-meeting-start">
                {t('meetings.form.start')}
              </label>
              <input
                id="new-meeting-start"
                className="input"
                type="time"
                data-testid="new-meeting-start"
                value={start}
                onChange={(event) => {
                  setStart(event.target.value);
                }}
              />
            </div>
            <div className="form-field">
              <label className="form-field-label" htmlFor="new-meeting-end">
                {t('meetings.form.end')}
              </label>
              <input
                id="new-meeting-end"
                className="input"
                type="time"
                data-testid="new-meeting-end"
                value={end}
                onChange={(event) => {
                  setEnd(event.target.value);
                }}
              />
            </div>
          </div>
          {endDay !== date && (
            <p className="hint form-field-wide" data-testid="new-meeting-ends-later">
              {t('meetings.form.endsOn', {
                day: formatDay(dateOfDay(endDay) ?? new Date(), i18n.language),
              })}
            </p>
          )}
          <p className="hint form-field-wide">
            {t('meetings.form.zoneHint', { zone: plannersZone() || 'Asia/Shanghai' })}
          </p>
          <div className="form-field">
            <label className="form-field-label" htmlFor="new-meeting-room">
              {t('meetings.form.room')}
            </label>
            <select
              id="new-meeting-room"
              className="select"
              data-testid="new-meeting-room"
              value={room}
              aria-busy={rooms.state === 'loading' || undefined}
              aria-describedby={rooms.state === 'failed' ? 'new-meeting-rooms-failed' : undefined}
              onChange={(event) => {
                setRoom(event.target.value);
              }}
            >
              <option value="">{t('meetings.form.noRoom')}</option>
              {currentRoom !== null && <option value={currentRoom.id}>{currentRoom.name}</option>}
              {rooms.state === 'ready' &&
                rooms.rooms.map((option) => (
                  <option key={option.id} value={option.id}>
                    {option.capacity === null || option.capacity === undefined
                      ? option.name
                      : t('meetings.form.roomWithCapacity', {
                          name: option.name,
                          capacity: option.capacity,
                        })}
                  </option>
                ))}
            </select>
            {rooms.state === 'failed' && (
              <p className="field-error" id="new-meeting-rooms-failed" data-testid="new-meeting-rooms-failed">
                {t('meetings.form.roomsFailed', { reason: meetingErrorText(t, rooms.error) })}
              </p>
            )}
          </div>
          <div className="form-field">
            <label className="form-field-label" htmlFor="new-meeting-place">
              {t('meetings.place')}
            </label>
            <input
              id="new-meeting-place"
              className="input"
              type="text"
              data-testid="new-meeting-place"
              placeholder={t('meetings.form.placePlaceholder')}
              value={place}
              onChange={(event) => {
                setPlace(event.target.value);
              }}
            />
          </div>
          <div className="form-field form-field-wide">
            <label className="form-field-label" htmlFor="new-meeting-link">
              {t('meetings.onlineLink')}
            </label>
            <input
              id="new-meeting-link"
              className="input"
              type="url"
              data-testid="new-meeting-link"
              placeholder="https://"
              value={link}
              onChange={(event) => {
                setLink(event.target.value);
              }}
            />
          </div>
          {editing === undefined ? (
            <>
              <Invitees
                kind="people"
                ids={people}
                nameOf={nameOf}
                onAdd={add(people, setPeople)}
                onRemove={(id) => {
                  setPeople(people.filter((one) => one !== id));
                }}
              />
              <Invitees
                kind="departments"
                ids={departments}
                nameOf={nameOf}
                onAdd={add(departments, setDepartments)}
                onRemove={(id) => {
                  setDepartments(departments.filter((one) => one !== id));
                }}
              />
            </>
          ) : (
            <div className="form-field form-field-wide">
              <span className="form-field-label" id="new-meeting-invitees-label">
                {t('meetings.form.invitees')}
              </span>
              {draft.people.length === 0 ? (
                <p className="hint" data-testid="new-meeting-invitees">
                  {t('meetings.noPeople')}
                </p>
              ) : (
                <ul
                  className="name-chips"
                  data-testid="new-meeting-invitees"
                  aria-labelledby="new-meeting-invitees-label"
                >
                  {draft.people.map((person) => (
                    <li key={person.id} className="name-chip">
                      {person.name}
                    </li>
                  ))}
                </ul>
              )}
              <p className="hint">{t('meetings.form.inviteesNotChanged')}</p>
            </div>
          )}
          <div className="form-field form-field-wide">
            <label className="form-field-label" htmlFor="new-meeting-agenda">
              {t('meetings.agenda')}
            </label>
            <textarea
              id="new-meeting-agenda"
              className="textarea"
              rows={5}
              data-testid="new-meeting-agenda"
              value={agenda}
              onChange={(event) => {
                setAgenda(event.target.value);
              }}
            />
          </div>
        </div>

        {error !== null && (
          <div className="banner banner-error" role="alert" data-testid="new-meeting-error">
            <AlertIcon />
            <p>
              {editing === undefined
                ? t('meetings.form.refused', { reason: error })
                : t('meetings.form.editRefused', { reason: error })}
            </p>
          </div>
        )}

        <div className="card-actions">
          <button
            type="submit"
            className="button button-primary"
            data-testid="new-meeting-submit"
            aria-disabled={sending}
          >
            {sending && <span className="spinner spinner-small" aria-hidden="true" />}
            {editing === undefined ? t('meetings.form.submit') : t('meetings.form.save')}
          </button>
          <button
            type="button"
            className="button button-secondary"
            data-testid="new-meeting-cancel"
            onClick={onCancel}
          >
            {t('meetings.form.cancel')}
          </button>
          <span className="hint">
            {editing === undefined ? t('meetings.form.onlineHint') : t('meetings.form.editHint')}
          </span>
        </div>
      </form>
    </section>
  );
}

/** Colleagues or departments invited: the chosen ones as chips, and a picker to add one. */
function Invitees({
  kind,
  ids,
  nameOf,
  onAdd,
  onRemove,
}: {
  kind: DirectoryKind;
  ids: string[];
  nameOf: (id: string) => string;
  onAdd: (value: unknown) => void;
  onRemove: (id: string) => void;
}) {
  const { t } = useTranslation();
  const id = kind === 'people' ? 'new-meeting-people' : 'new-meeting-departments';
  return (
    <div className="form-field form-field-wide">
      <label className="form-field-label" htmlFor={id}>
        {kind === 'people' ? t('meetings.form.invitePeople') : t('meetings.form.inviteDepartments')}
      </label>
      {ids.length > 0 && (
        <ul className="name-chips" data-testid={`${id}-chosen`}>
          {ids.map((chosen) => (
            <li key={chosen} className="name-chip">
              {nameOf(chosen)}
              <button
                type="button"
                className="icon-button name-chip-remove"
                aria-label={t('meetings.form.remove', { name: nameOf(chosen) })}
                onClick={() => {
                  onRemove(chosen);
                }}
              >
                <CloseIcon />
              </button>
            </li>
          ))}
        </ul>
      )}
      <DirectoryPicker
        id={id}
        field={pickerFields[kind]}
        kind={kind}
        value={null}
        onChange={onAdd}
        onBlur={() => undefined}
        describedBy={undefined}
        invalid={false}
        placeholder={
          kind === 'people' ? t('form.personPlaceholder') : t('form.departmentPlaceholder')
        }
      />
    </div>
  );
}
