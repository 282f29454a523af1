// Invitation coverage: for the meetings starting in a period, how many people were invited,
// how many invitations reached their person (and how many before the meeting began), were
// opened and answered, whether the materials came in time, and who is still missing — by
// name, so that the organiser can chase them. Above the meetings, the same counts month by
// month. The report is the server's (organisers see their own meetings, report readers
// everyone's), so it needs a connection; a refusal is shown in the server's words.
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import type {
  CommandError,
  CoverageMonthLine,
  MeetingCoverageLine,
  MeetingCoverageView,
  PersonRef,
  Result,
} from '../api';
import { AlertIcon, BackIcon, MeetingsIcon } from '../icons';
import { coverageRange, dayText, localClock, meetingErrorText } from './meetingFormat';
import { dateTimeFormat, numberFormat } from '../intlFormats';

/** The days the report covers, both included, as `YYYY-MM-DD` on this computer's calendar. */
export interface CoveragePeriod {
  from: string;
  to: string;
}

interface MeetingCoverageProps {
  period: CoveragePeriod;
  onPeriod: (period: CoveragePeriod) => void;
  onBack: () => void;
  /** A meeting's title was chosen: its detail opens. */
  onOpen: (meetingId: string) => void;
}

interface Loaded {
  /** The range (as asked) the answer is for, so that a late answer for another is not shown. */
  range: string;
  result: Result<MeetingCoverageView, CommandError>;
}

/** "87.5%" from 875 per mille, with one decimal in the reader's language. */
export function perMilleText(perMille: number, language: string): string {
  return numberFormat(language, {
    style: 'percent',
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
  }).format(perMille / 1000);
}

/** "March 2026" from "2026-03"; the text as sent when it is not a month. */
function monthText(month: string, language: string): string {
  const match = /^(\d{4})-(\d{2})$/.exec(month);
  if (match === null) return month;
  return dateTimeFormat(language, { year: 'numeric', month: 'long' }).format(
    new Date(Number(match[1]), Number(match[2]) - 1, 1),
  );
}

export function MeetingCoverage({ period, onPeriod, onBack, onOpen }: MeetingCoverageProps) {
  const { t, i18n } = useTranslation();
  const language = i18n.language;
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [reloads, setReloads] = useState(0);
  const heading = useRef<HTMLHeadingElement>(null);

  const range = coverageRange(period.from, period.to);
  const rangeKey = range === null ? null : `${range.from}/${range.to}`;

  useEffect(() => {
    heading.current?.focus();
  }, []);

  useEffect(() => {
    if (rangeKey === null) return;
    const [from = '', to = ''] = rangeKey.split('/');
    let gone = false;
    void api.meetingCoverage(from, to).then((result) => {
      if (!gone) setLoaded({ range: rangeKey, result });
    });
    return () => {
      gone = true;
    };
  }, [rangeKey, reloads]);

  const current = loaded !== null && loaded.range === rangeKey ? loaded.result : null;
  const number = (value: number) => numberFormat(language).format(value);

  let body;
  if (range === null) {
    body = (
      <p className="field-error" role="alert" data-testid="coverage-period-invalid">
        {t('meetings.coverage.periodInvalid')}
      </p>
    );
  } else if (current === null) {
    body = (
      <div className="list-loading" role="status" data-testid="coverage-loading">
        <span className="spinner spinner-small" aria-hidden="true" />
        {t('meetings.coverage.loading')}
      </div>
    );
  } else if (current.status === 'error') {
    body = (
      <div className="banner banner-error" role="alert" data-testid="coverage-error">
        <AlertIcon />
        <p>{t('meetings.coverage.failed', { reason: meetingErrorText(t, current.error) })}</p>
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
  } else if (current.data.meetings.length === 0) {
    body = (
      <div className="empty-state" data-testid="coverage-empty">
        <div className="coming-soon-icon" aria-hidden="true">
          <MeetingsIcon />
        </div>
        <h2 className="empty-title">{t('meetings.coverage.emptyTitle')}</h2>
        <p className="empty-body">{t('meetings.coverage.emptyBody')}</p>
      </div>
    );
  } else {
    const report = current.data;
    body = (
      <>
        <p className="hint" data-testid="coverage-zone">
          {t('meetings.coverage.zone', { zone: report.time_zone })}
        </p>
        {report.months.length > 0 && (
          <section className="card" aria-labelledby="coverage-months-title">
            <h2 className="card-title" id="coverage-months-title">
              {t('meetings.coverage.monthsTitle')}
            </h2>
            <div className="form-table-scroll">
              <table className="form-table coverage-table" data-testid="coverage-months">
                <thead>
                  <tr>
                    <th scope="col">{t('meetings.coverage.month')}</th>
                    <th scope="col" className="form-cell-number">
                      {t('meetings.coverage.meetings')}
                    </th>
                    <th scope="col" className="form-cell-number">
                      {t('meetings.coverage.invited')}
                    </th>
                    <th scope="col" className="form-cell-number">
                      {t('meetings.coverage.reached')}
                    </th>
                    <th scope="col" className="form-cell-number">
                      {t('meetings.coverage.reachedShare')}
                    </th>
                    <th scope="col" className="form-cell-number">
                      {t('meetings.coverage.opened')}
                    </th>
                    <th scope="col" className="form-cell-number">
                      {t('meetings.coverage.answered')}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {report.months.map((month) => (
                    <MonthRow key={month.month} month={month} language={language} number={number} />
                  ))}
                </tbody>
              </table>
            </div>
            <p className="hint">{t('meetings.coverage.monthsHint')}</p>
          </section>
        )}
        <section className="card" aria-labelledby="coverage-meetings-title">
          <h2 className="card-title" id="coverage-meetings-title">
            {t('meetings.coverage.meetingsTitle')}
          </h2>
          <div className="form-table-scroll">
            <table className="form-table coverage-table" data-testid="coverage-meetings">
              <thead>
                <tr>
                  <th scope="col">{t('meetings.coverage.starts')}</th>
                  <th scope="col">{t('meetings.coverage.meeting')}</th>
                  <th scope="col">{t('meetings.organiser')}</th>
                  <th scope="col" className="form-cell-number">
                    {t('meetings.coverage.invited')}
                  </th>
                  <th scope="col" className="form-cell-number">
                    {t('meetings.coverage.reached')}
                  </th>
                  <th scope="col" className="form-cell-number">
                    {t('meetings.coverage.opened')}
                  </th>
                  <th scope="col" className="form-cell-number">
                    {t('meetings.coverage.answered')}
                  </th>
                  <th scope="col">{t('meetings.coverage.materialsInTime')}</th>
                  <th scope="col">{t('meetings.coverage.missing')}</th>
                </tr>
              </thead>
              <tbody>
                {report.meetings.map((line) => (
                  <MeetingRow
                    key={line.meeting_id}
                    line={line}
                    language={language}
                    number={number}
                    onOpen={onOpen}
                  />
                ))}
              </tbody>
            </table>
          </div>
        </section>
      </>
    );
  }

  return (
    <section className="view view-wide coverage" data-testid="coverage" aria-labelledby="view-title">
      <button type="button" className="back-button" data-testid="coverage-back" onClick={onBack}>
        <BackIcon />
        {t('meetings.back')}
      </button>
      <header className="view-header">
        <h1 id="view-title" className="view-title" tabIndex={-1} ref={heading}>
          {t('meetings.coverage.title')}
        </h1>
        <p className="view-subtitle">{t('meetings.coverage.subtitle')}</p>
      </header>

      <div className="coverage-period" role="group" aria-label={t('meetings.coverage.period')}>
        <div className="field">
          <label htmlFor="coverage-from">{t('meetings.coverage.from')}</label>
          <input
            id="coverage-from"
            className="input"
            type="date"
            data-testid="coverage-from"
            value={period.from}
            max={period.to === '' ? undefined : period.to}
            onChange={(event) => {
              onPeriod({ ...period, from: event.target.value });
            }}
          />
        </div>
        <div className="field">
          <label htmlFor="coverage-to">{t('meetings.coverage.to')}</label>
          <input
            id="coverage-to"
            className="input"
            type="date"
            data-testid="coverage-to"
            value={period.to}
            min={period.from === '' ? undefined : period.from}
            onChange={(event) => {
              onPeriod({ ...period, to: event.target.value });
            }}
          />
        </div>
      </div>

      {body}
    </section>
  );
}

function MonthRow({
  month,
  language,
  number,
}: {
  month: CoverageMonthLine;
  language: string;
  number: (value: number) => string;
}) {
  return (
    <tr data-testid="coverage-month" data-month={month.month}>
      <th scope="row">{monthText(month.month, language)}</th>
      <td className="form-cell-number">{number(month.meetings)}</td>
      <td className="form-cell-number">{number(month.invited)}</td>
      <td className="form-cell-number">{number(month.reached)}</td>
      <td className="form-cell-number" data-testid="coverage-month-share">
        {perMilleText(month.reached_per_mille, language)}
      </td>
      <td className="form-cell-number">{number(month.opened)}</td>
      <td className="form-cell-number">{number(month.answered)}</td>
    </tr>
  );
}

function MeetingRow({
  line,
  language,
  number,
  onOpen,
}: {
  line: MeetingCoverageLine;
  language: string;
  number: (value: number) => string;
  onOpen: (meetingId: string) => void;
}) {
  const { t } = useTranslation();
  const cancelled = line.status === 'cancelled';
  return (
    <tr data-testid="coverage-meeting" data-meeting-id={line.meeting_id}>
      <td className="coverage-when">
        {dayText(line.local_start, language)} {localClock(line.local_start)}
      </td>
      <td>
        <button
          type="button"
          className="link-button coverage-title"
          data-testid="coverage-meeting-title"
          onClick={() => {
            onOpen(line.meeting_id);
          }}
        >
          {cancelled ? <s>{line.title}</s> : line.title}
        </button>
        {cancelled && <span className="meeting-mark mark-cancelled">{t('meetings.cancelled')}</span>}
      </td>
      <td>{line.organiser.name}</td>
      <td className="form-cell-number" data-testid="coverage-invited">
        {number(line.invited)}
      </td>
      <td className="form-cell-number" data-testid="coverage-reached">
        {t('meetings.coverage.reachedCell', {
          reached: number(line.reached),
          share: perMilleText(line.reached_per_mille, language),
        })}
        <span className="coverage-sub">
          {t('meetings.coverage.beforeStart', { count: line.reached_before_start })}
        </span>
      </td>
      <td className="form-cell-number" data-testid="coverage-opened">
        {number(line.opened)}
      </td>
      <td className="form-cell-number" data-testid="coverage-answered">
        {number(line.answered)}
        <span className="coverage-sub">
          {t('meetings.coverage.answers', {
            accepted: line.accepted,
            tentative: line.tentative,
            declined: line.declined,
          })}
        </span>
      </td>
      <td data-testid="coverage-materials">
        <span
          className={line.materials_in_time ? 'coverage-mark coverage-yes' : 'coverage-mark coverage-no'}
          aria-hidden="true"
        >
          {line.materials_in_time ? '✓' : '✗'}
        </span>
        <span className="visually-hidden">
          {line.materials_in_time ? t('meetings.coverage.inTime') : t('meetings.coverage.notInTime')}
        </span>
        <span className="coverage-sub">
          {t('meetings.coverage.files', { count: line.materials })}
        </span>
      </td>
      <td className="coverage-missing">
        {line.not_reached.length === 0 && line.not_answered.length === 0 && (
          <span className="coverage-sub">{t('meetings.coverage.nobodyMissing')}</span>
        )}
        <Names
          label={t('meetings.coverage.notReached')}
          people={line.not_reached}
          testId="coverage-not-reached"
        />
        <Names
          label={t('meetings.coverage.notAnswered')}
          people={line.not_answered}
          testId="coverage-not-answered"
        />
      </td>
    </tr>
  );
}

/** Who is still missing, named: "Not reached: 周杰, 陈丽". */
function Names({ label, people, testId }: { label: string; people: PersonRef[]; testId: string }) {
  if (people.length === 0) return null;
  return (
    <div className="coverage-names">
      <span className="coverage-names-label">{label}</span>
      <ul className="coverage-name-list" data-testid={testId} aria-label={label}>
        {people.map((person) => (
          <li key={person.id}>{person.name}</li>
        ))}
      </ul>
    </div>
  );
}
