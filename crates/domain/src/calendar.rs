//! The working-day calendar: which days are worked, which hours of them, and the arithmetic
//! that SLAs and leave durations are counted in.
//!
//! A calendar is data (working hours with a lunch break, the weekend, public holidays and the
//! make-up working days 调休 that move a weekend day into the week), loaded from JSON. The
//! 2026 mainland-China schedule ships with the crate; further years are added from a file when
//! the State Council publishes them. A date in a year the calendar has no data for is an error
//! ([`CalendarError::OutOfRange`]), never a silent weekday guess: a guess would put an SLA on a
//! public holiday.
//!
//! Local times are computed with the calendar's fixed UTC offset. China has kept one offset
//! (+08:00, no daylight saving) since 1991, so a fixed offset is exact here and spares the crate
//! a time-zone database; a calendar for a region with daylight saving would need one.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The mainland-China calendar shipped with the crate (2026, from the State Council notice).
const CN_MAINLAND_JSON: &str = include_str!("../data/calendar/cn-mainland.json");

/// Longest holiday span a schedule may declare; guards against a typo spanning a year.
const MAX_HOLIDAY_DAYS: i64 = 31;
/// Longest span one working-time computation may cover, so a bad input cannot spin for long.
const MAX_SPAN_DAYS: i64 = 366 * 20;

/// Why a calendar could not be loaded or could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum CalendarError {
    #[error("calendar data is not valid JSON of the expected shape: {message}")]
    Parse { message: String },
    #[error("{date} is outside the calendar's data (covered years: {covered})")]
    OutOfRange { date: NaiveDate, covered: String },
    #[error("utc offset {value:?} is not of the form +HH:MM")]
    InvalidOffset { value: String },
    #[error("working hours are invalid: {reason}")]
    InvalidWorkHours { reason: String },
    #[error("year {year} is already loaded")]
    DuplicateYear { year: i32 },
    #[error("holiday {name:?} ends before it starts or is longer than 31 days")]
    InvalidHoliday { name: String },
    #[error("{date} is declared both a holiday and a make-up working day")]
    ConflictingDay { date: NaiveDate },
    #[error("file is for calendar {found:?}, not {expected:?}")]
    WrongCalendar { expected: String, found: String },
    #[error("interval ends ({to}) before it starts ({from})")]
    ReversedInterval {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
    #[error("interval is too long to count in working time")]
    SpanTooLong,
}

impl CalendarError {
    /// The stable snake_case code of this error, for logs and API bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Parse { .. } => "parse",
            Self::OutOfRange { .. } => "out_of_range",
            Self::InvalidOffset { .. } => "invalid_offset",
            Self::InvalidWorkHours { .. } => "invalid_work_hours",
            Self::DuplicateYear { .. } => "duplicate_year",
            Self::InvalidHoliday { .. } => "invalid_holiday",
            Self::ConflictingDay { .. } => "conflicting_day",
            Self::WrongCalendar { .. } => "wrong_calendar",
            Self::ReversedInterval { .. } => "reversed_interval",
            Self::SpanTooLong => "span_too_long",
        }
    }
}

/// The morning or afternoon half of a working day, for leave that starts or ends at noon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HalfDay {
    Am,
    Pm,
}

/// What kind of day a date is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DayKind {
    Workday,
    Weekend,
    Holiday {
        name: String,
        name_en: String,
    },
    /// A weekend day worked to make up for a bridged holiday (调休上班).
    MakeupWorkday,
}

impl DayKind {
    pub fn is_working(&self) -> bool {
        matches!(self, Self::Workday | Self::MakeupWorkday)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum DayName {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl DayName {
    fn index(self) -> usize {
        self as usize
    }
}

/// One block of working time in a day, as "HH:MM" local times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkPeriod {
    pub start: String,
    pub end: String,
}

/// One holiday as a schedule declares it: an inclusive span of days off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidaySpan {
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    pub first: NaiveDate,
    pub last: NaiveDate,
}

/// A year's published schedule: its holidays and make-up working days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearSchedule {
    pub year: i32,
    /// Where the dates come from (the notice, its date); shown to an admin who asks why.
    pub source: String,
    pub holidays: Vec<HolidaySpan>,
    #[serde(default)]
    pub makeup_workdays: Vec<NaiveDate>,
}

/// The JSON form of a whole calendar (see `data/calendar/cn-mainland.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarFile {
    pub calendar: String,
    #[serde(default)]
    pub comment: String,
    pub utc_offset: String,
    pub work_hours: Vec<WorkPeriod>,
    weekend: Vec<DayName>,
    pub years: Vec<YearSchedule>,
}

/// The JSON form of further years for an existing calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearsFile {
    pub calendar: String,
    #[serde(default)]
    pub comment: String,
    pub years: Vec<YearSchedule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Holiday {
    name: String,
    name_en: String,
}

/// A loaded working-day calendar. Cheap to share by reference; immutable once built except
/// for [`WorkingCalendar::add_years`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingCalendar {
    id: String,
    zone: FixedOffset,
    periods: Vec<(NaiveTime, NaiveTime)>,
    day_total: TimeDelta,
    weekend: [bool; 7],
    years: BTreeSet<i32>,
    holidays: BTreeMap<NaiveDate, Holiday>,
    makeup: BTreeSet<NaiveDate>,
    sources: BTreeMap<i32, String>,
}

fn parse_offset(value: &str) -> Result<FixedOffset, CalendarError> {
    let bad = || CalendarError::InvalidOffset {
        value: value.to_owned(),
    };
    let bytes = value.as_bytes();
    if bytes.len() != 6 || bytes[3] != b':' {
        return Err(bad());
    }
    let sign = match bytes[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return Err(bad()),
    };
    let hours: i32 = value
        .get(1..3)
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    let minutes: i32 = value
        .get(4..6)
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    if hours > 14 || minutes > 59 {
        return Err(bad());
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60)).ok_or_else(bad)
}

fn parse_clock(value: &str) -> Result<NaiveTime, CalendarError> {
    NaiveTime::parse_from_str(value, "%H:%M").map_err(|_| CalendarError::InvalidWorkHours {
        reason: format!("{value:?} is not an HH:MM time"),
    })
}

fn parse_periods(work_hours: &[WorkPeriod]) -> Result<Vec<(NaiveTime, NaiveTime)>, CalendarError> {
    if work_hours.is_empty() {
        return Err(CalendarError::InvalidWorkHours {
            reason: "no working period".into(),
        });
    }
    let mut periods = Vec::with_capacity(work_hours.len());
    for period in work_hours {
        let start = parse_clock(&period.start)?;
        let end = parse_clock(&period.end)?;
        if end <= start {
            return Err(CalendarError::InvalidWorkHours {
                reason: format!("{} ends before it starts", period.start),
            });
        }
        if let Some(&(_, previous_end)) = periods.last()
            && start < previous_end
        {
            return Err(CalendarError::InvalidWorkHours {
                reason: "periods overlap or are out of order".into(),
            });
        }
        periods.push((start, end));
    }
    Ok(periods)
}

impl WorkingCalendar {
    /// The mainland-China calendar shipped with the crate (2026 from the State Council notice).
    pub fn cn_mainland() -> Result<Self, CalendarError> {
        Self::from_json(CN_MAINLAND_JSON)
    }

    /// Loads a whole calendar from its JSON form ([`CalendarFile`]).
    pub fn from_json(json: &str) -> Result<Self, CalendarError> {
        let file: CalendarFile =
            serde_json::from_str(json).map_err(|error| CalendarError::Parse {
                message: error.to_string(),
            })?;
        Self::from_file(file)
    }

    pub fn from_file(file: CalendarFile) -> Result<Self, CalendarError> {
        let zone = parse_offset(&file.utc_offset)?;
        let periods = parse_periods(&file.work_hours)?;
        let mut weekend = [false; 7];
        for day in &file.weekend {
            weekend[day.index()] = true;
        }
        let mut calendar = Self {
            id: file.calendar,
            zone,
            day_total: TimeDelta::zero(),
            periods,
            weekend,
            years: BTreeSet::new(),
            holidays: BTreeMap::new(),
            makeup: BTreeSet::new(),
            sources: BTreeMap::new(),
        };
        calendar.day_total = calendar.periods.iter().map(|(s, e)| *e - *s).sum();
        calendar.add_years(file.years)?;
        Ok(calendar)
    }

    /// Adds further years from their JSON form ([`YearsFile`]); the file must name this
    /// calendar. Nothing is added unless every year in the file is valid.
    pub fn add_years_from_json(&mut self, json: &str) -> Result<(), CalendarError> {
        let file: YearsFile = serde_json::from_str(json).map_err(|error| CalendarError::Parse {
            message: error.to_string(),
        })?;
        if file.calendar != self.id {
            return Err(CalendarError::WrongCalendar {
                expected: self.id.clone(),
                found: file.calendar,
            });
        }
        self.add_years(file.years)
    }

    /// Adds published years; all or nothing.
    pub fn add_years(&mut self, years: Vec<YearSchedule>) -> Result<(), CalendarError> {
        let mut next = self.clone();
        for schedule in years {
            if !next.years.insert(schedule.year) {
                return Err(CalendarError::DuplicateYear {
                    year: schedule.year,
                });
            }
            for span in &schedule.holidays {
                let length = (span.last - span.first).num_days();
                if !(0..MAX_HOLIDAY_DAYS).contains(&length) {
                    return Err(CalendarError::InvalidHoliday {
                        name: span.name.clone(),
                    });
                }
                for day in span.first.iter_days().take(length as usize + 1) {
                    next.holidays.insert(
                        day,
                        Holiday {
                            name: span.name.clone(),
                            name_en: span.name_en.clone(),
                        },
                    );
                }
            }
            next.makeup.extend(schedule.makeup_workdays.iter().copied());
            next.sources.insert(schedule.year, schedule.source);
        }
        if let Some(date) = next.makeup.iter().find(|d| next.holidays.contains_key(d)) {
            return Err(CalendarError::ConflictingDay { date: *date });
        }
        *self = next;
        Ok(())
    }

    /// Replaces the working hours (an organisation whose day is not 09:00–18:00).
    pub fn with_work_hours(mut self, work_hours: &[WorkPeriod]) -> Result<Self, CalendarError> {
        self.periods = parse_periods(work_hours)?;
        self.day_total = self.periods.iter().map(|(s, e)| *e - *s).sum();
        Ok(self)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The calendar's UTC offset; civil dates and working hours are read in it.
    pub fn zone(&self) -> FixedOffset {
        self.zone
    }

    /// The years this calendar has published data for.
    pub fn covered_years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    /// The published source of a year's dates.
    pub fn source_of(&self, year: i32) -> Option<&str> {
        self.sources.get(&year).map(String::as_str)
    }

    /// Working time in one full working day.
    pub fn working_day_length(&self) -> TimeDelta {
        self.day_total
    }

    fn covered_list(&self) -> String {
        let years: Vec<String> = self.years.iter().map(i32::to_string).collect();
        if years.is_empty() {
            "none".into()
        } else {
            years.join(", ")
        }
    }

    fn ensure_covered(&self, date: NaiveDate) -> Result<(), CalendarError> {
        if self.years.contains(&date.year()) {
            Ok(())
        } else {
            Err(CalendarError::OutOfRange {
                date,
                covered: self.covered_list(),
            })
        }
    }

    /// What kind of day `date` is; an error outside the published years.
    pub fn day_kind(&self, date: NaiveDate) -> Result<DayKind, CalendarError> {
        self.ensure_covered(date)?;
        if let Some(holiday) = self.holidays.get(&date) {
            return Ok(DayKind::Holiday {
                name: holiday.name.clone(),
                name_en: holiday.name_en.clone(),
            });
        }
        if self.makeup.contains(&date) {
            return Ok(DayKind::MakeupWorkday);
        }
        if self.weekend[date.weekday().num_days_from_monday() as usize] {
            Ok(DayKind::Weekend)
        } else {
            Ok(DayKind::Workday)
        }
    }

    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        self.ensure_covered(date)?;
        Ok(self.working_unchecked(date))
    }

    fn working_unchecked(&self, date: NaiveDate) -> bool {
        if self.holidays.contains_key(&date) {
            return false;
        }
        self.makeup.contains(&date) || !self.weekend[date.weekday().num_days_from_monday() as usize]
    }

    /// Working time on `date` before local time `time` (0 on a day off).
    fn worked_before(&self, date: NaiveDate, time: NaiveTime) -> TimeDelta {
        if !self.working_unchecked(date) {
            return TimeDelta::zero();
        }
        self.periods
            .iter()
            .filter(|(start, _)| *start < time)
            .map(|(start, end)| (*end).min(time) - *start)
            .sum()
    }

    fn day_length(&self, date: NaiveDate) -> TimeDelta {
        if self.working_unchecked(date) {
            self.day_total
        } else {
            TimeDelta::zero()
        }
    }

    fn ensure_span_covered(&self, first: NaiveDate, last: NaiveDate) -> Result<(), CalendarError> {
        if (last - first).num_days() > MAX_SPAN_DAYS {
            return Err(CalendarError::SpanTooLong);
        }
        for year in first.year()..=last.year() {
            if !self.years.contains(&year) {
                let date = if year == first.year() {
                    first
                } else {
                    NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(last)
                };
                return Err(CalendarError::OutOfRange {
                    date,
                    covered: self.covered_list(),
                });
            }
        }
        Ok(())
    }

    /// Working time between two instants (`b` not before `a`), counting only working hours
    /// of working days.
    pub fn working_time_between(
        &self,
        a: DateTime<Utc>,
        b: DateTime<Utc>,
    ) -> Result<TimeDelta, CalendarError> {
        if b < a {
            return Err(CalendarError::ReversedInterval { from: a, to: b });
        }
        let (la, lb) = (a.with_timezone(&self.zone), b.with_timezone(&self.zone));
        let (da, db) = (la.date_naive(), lb.date_naive());
        self.ensure_span_covered(da, db)?;
        if da == db {
            return Ok(self.worked_before(db, lb.time()) - self.worked_before(da, la.time()));
        }
        let mut total = self.day_length(da) - self.worked_before(da, la.time());
        let mut day = da.succ_opt();
        while let Some(d) = day {
            if d >= db {
                break;
            }
            total += self.day_length(d);
            day = d.succ_opt();
        }
        Ok(total + self.worked_before(db, lb.time()))
    }

    /// The instant when `amount` of working time has passed after `t`. Time outside working
    /// hours does not count, so a task opened on a Friday evening is due on a working day.
    pub fn add_working_time(
        &self,
        t: DateTime<Utc>,
        amount: TimeDelta,
    ) -> Result<DateTime<Utc>, CalendarError> {
        let local = t.with_timezone(&self.zone);
        let mut date = local.date_naive();
        self.ensure_covered(date)?;
        if amount <= TimeDelta::zero() {
            return Ok(t);
        }
        let mut remaining = amount;
        let mut from = local.time();
        loop {
            if self.working_unchecked(date) {
                for (start, end) in &self.periods {
                    if from >= *end {
                        continue;
                    }
                    let begin = from.max(*start);
                    let available = *end - begin;
                    if remaining <= available {
                        return self.to_utc(date, begin + remaining);
                    }
                    remaining -= available;
                }
            }
            date = date.succ_opt().ok_or(CalendarError::SpanTooLong)?;
            self.ensure_covered(date)?;
            from = NaiveTime::MIN;
        }
    }

    /// The instant `hours` working hours after `t` (an SLA's due time).
    pub fn add_working_hours(
        &self,
        t: DateTime<Utc>,
        hours: u32,
    ) -> Result<DateTime<Utc>, CalendarError> {
        self.add_working_time(t, TimeDelta::hours(i64::from(hours)))
    }

    /// Whether a step opened at `opened_at` with an SLA of `sla_hours` working hours is
    /// overdue at `now`.
    pub fn is_overdue(
        &self,
        opened_at: DateTime<Utc>,
        sla_hours: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, CalendarError> {
        Ok(now > self.add_working_hours(opened_at, sla_hours)?)
    }

    fn to_utc(&self, date: NaiveDate, time: NaiveTime) -> Result<DateTime<Utc>, CalendarError> {
        self.zone
            .from_local_datetime(&date.and_time(time))
            .single()
            .map(|local| local.with_timezone(&Utc))
            .ok_or(CalendarError::SpanTooLong)
    }

    /// Number of working days in the inclusive range `first..=last`.
    pub fn working_days_in(&self, first: NaiveDate, last: NaiveDate) -> Result<u32, CalendarError> {
        if last < first {
            return Ok(0);
        }
        self.ensure_span_covered(first, last)?;
        let days = (last - first).num_days() as usize + 1;
        Ok(first
            .iter_days()
            .take(days)
            .filter(|d| self.working_unchecked(*d))
            .count() as u32)
    }

    /// Leave duration in working days for a leave from `start` (morning or afternoon) to
    /// `end` (morning or afternoon), counted in half days. Days off inside the range cost
    /// nothing; a half-day boundary on a day off costs nothing either.
    pub fn leave_days(
        &self,
        start: NaiveDate,
        start_half: HalfDay,
        end: NaiveDate,
        end_half: HalfDay,
    ) -> Result<Decimal, CalendarError> {
        let whole = Decimal::from(self.working_days_in(start, end)?);
        let half = Decimal::new(5, 1);
        let mut days = whole;
        if start_half == HalfDay::Pm && self.working_unchecked(start) {
            days -= half;
        }
        if end_half == HalfDay::Am && self.working_unchecked(end) {
            days -= half;
        }
        Ok(days.max(Decimal::ZERO))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cn() -> WorkingCalendar {
        WorkingCalendar::cn_mainland().expect("shipped calendar loads")
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    /// Beijing local time as UTC.
    fn bj(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        FixedOffset::east_opt(8 * 3600)
            .expect("offset")
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("valid local time")
            .with_timezone(&Utc)
    }

    #[test]
    fn shipped_2026_schedule_has_the_notice_dates() {
        let cal = cn();
        assert_eq!(cal.covered_years().collect::<Vec<_>>(), vec![2026]);
        assert!(
            cal.source_of(2026)
                .is_some_and(|s| s.contains("国务院办公厅关于2026年部分节假日安排的通知")),
            "the data names its source"
        );
        // Every holiday day listed in the notice is off, every make-up day is worked.
        let holidays = [
            (1, 1, 3),
            (2, 15, 9),
            (4, 4, 3),
            (5, 1, 5),
            (6, 19, 3),
            (9, 25, 3),
            (10, 1, 7),
        ];
        for (month, first, days) in holidays {
            for offset in 0..days {
                let d = date(2026, month, first) + TimeDelta::days(offset);
                assert!(
                    matches!(cal.day_kind(d), Ok(DayKind::Holiday { .. })),
                    "{d} is a public holiday in the 2026 notice"
                );
            }
        }
        for (month, day) in [(1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10)] {
            assert_eq!(
                cal.day_kind(date(2026, month, day)),
                Ok(DayKind::MakeupWorkday),
                "2026-{month}-{day} is a make-up working day in the notice"
            );
        }
        // Weekdays, less holidays on weekdays, plus the six make-up days.
        let worked = cal
            .working_days_in(date(2026, 1, 1), date(2026, 12, 31))
            .expect("2026 covered");
        let weekdays = date(2026, 1, 1)
            .iter_days()
            .take(365)
            .filter(|d| d.weekday().num_days_from_monday() < 5)
            .count() as u32;
        let holiday_weekdays = cal
            .holidays
            .keys()
            .filter(|d| d.weekday().num_days_from_monday() < 5)
            .count() as u32;
        assert_eq!(worked, weekdays - holiday_weekdays + 6);
    }

    #[test]
    fn dates_outside_the_data_are_an_error_not_a_guess() {
        let cal = cn();
        let err = cal
            .is_working_day(date(2027, 1, 4))
            .expect_err("2027 not loaded");
        assert_eq!(err.code(), "out_of_range");
        assert!(
            cal.working_time_between(bj(2026, 12, 31, 9, 0), bj(2027, 1, 5, 9, 0))
                .is_err()
        );
        // An SLA that runs past the end of the data cannot be placed.
        assert!(cal.add_working_hours(bj(2026, 12, 31, 9, 0), 16).is_err());
        assert!(cal.add_working_hours(bj(2026, 12, 31, 9, 0), 8).is_ok());
    }

    #[test]
    fn national_day_holiday_and_makeup_days() {
        let cal = cn();
        // Sunday 20 Sept is worked; Monday 5 Oct is a holiday; Saturday 10 Oct is worked.
        assert_eq!(cal.is_working_day(date(2026, 9, 20)), Ok(true));
        assert_eq!(cal.is_working_day(date(2026, 10, 5)), Ok(false));
        assert_eq!(cal.is_working_day(date(2026, 10, 10)), Ok(true));
        assert_eq!(cal.is_working_day(date(2026, 10, 11)), Ok(false));
        // Wednesday 30 Sept 17:00 + 2 working hours: 1 h that day, then nothing until
        // Thursday 8 Oct at 09:00, so due 8 Oct 10:00.
        assert_eq!(
            cal.add_working_hours(bj(2026, 9, 30, 17, 0), 2),
            Ok(bj(2026, 10, 8, 10, 0))
        );
        // From Wednesday 30 Sept 09:00 to Friday 9 Oct 18:00: 30 Sept, 8 Oct, 9 Oct worked.
        assert_eq!(
            cal.working_time_between(bj(2026, 9, 30, 9, 0), bj(2026, 10, 9, 18, 0)),
            Ok(TimeDelta::hours(24))
        );
        // 8 working hours from Friday 9 Oct 09:00 end at 18:00; 9 more reach the make-up
        // Saturday 10 Oct 10:00.
        assert_eq!(
            cal.add_working_hours(bj(2026, 10, 9, 9, 0), 9),
            Ok(bj(2026, 10, 10, 10, 0))
        );
        assert_eq!(
            cal.working_days_in(date(2026, 9, 28), date(2026, 10, 11)),
            Ok(6),
            "28, 29, 30 Sept and 8, 9, 10 Oct"
        );
    }

    #[test]
    fn spring_festival_holiday_and_makeup_days() {
        let cal = cn();
        // Saturday 14 Feb is a make-up day, 15–23 Feb off, Saturday 28 Feb worked.
        assert_eq!(cal.day_kind(date(2026, 2, 14)), Ok(DayKind::MakeupWorkday));
        assert_eq!(cal.is_working_day(date(2026, 2, 23)), Ok(false));
        assert_eq!(cal.is_working_day(date(2026, 2, 24)), Ok(true));
        // Friday 13 Feb 16:00 + 4 h: 2 h on Friday, 2 h on make-up Saturday → 11:00.
        assert_eq!(
            cal.add_working_hours(bj(2026, 2, 13, 16, 0), 4),
            Ok(bj(2026, 2, 14, 11, 0))
        );
        // Saturday 14 Feb 17:00 + 3 h: 1 h, then Tuesday 24 Feb 09:00 + 2 h.
        assert_eq!(
            cal.add_working_hours(bj(2026, 2, 14, 17, 0), 3),
            Ok(bj(2026, 2, 24, 11, 0))
        );
        // A leave over the whole festival costs only the working days around it:
        // 12, 13, 14 (make-up Saturday), 24 and 25 Feb.
        assert_eq!(
            cal.leave_days(
                date(2026, 2, 12),
                HalfDay::Am,
                date(2026, 2, 25),
                HalfDay::Pm
            ),
            Ok(Decimal::from(5))
        );
    }

    #[test]
    fn lunch_break_and_evenings_do_not_count() {
        let cal = cn();
        // Monday 9 March 2026.
        assert_eq!(
            cal.working_time_between(bj(2026, 3, 9, 11, 30), bj(2026, 3, 9, 13, 30)),
            Ok(TimeDelta::hours(1))
        );
        assert_eq!(
            cal.add_working_hours(bj(2026, 3, 9, 11, 0), 2),
            Ok(bj(2026, 3, 9, 14, 0)),
            "one hour before lunch, one after"
        );
        assert_eq!(
            cal.add_working_hours(bj(2026, 3, 9, 20, 0), 1),
            Ok(bj(2026, 3, 10, 10, 0)),
            "an evening start counts from the next morning"
        );
        assert_eq!(
            cal.working_time_between(bj(2026, 3, 7, 10, 0), bj(2026, 3, 8, 10, 0)),
            Ok(TimeDelta::zero()),
            "a weekend contains no working time"
        );
        assert_eq!(
            cal.add_working_hours(bj(2026, 3, 9, 20, 0), 0),
            Ok(bj(2026, 3, 9, 20, 0))
        );
    }

    #[test]
    fn reversed_interval_is_an_error() {
        let cal = cn();
        let err = cal
            .working_time_between(bj(2026, 3, 9, 12, 0), bj(2026, 3, 9, 11, 0))
            .expect_err("reversed");
        assert_eq!(err.code(), "reversed_interval");
    }

    #[test]
    fn half_day_leave() {
        let cal = cn();
        let monday = date(2026, 3, 9);
        let half = Decimal::new(5, 1);
        assert_eq!(
            cal.leave_days(monday, HalfDay::Am, monday, HalfDay::Am),
            Ok(half)
        );
        assert_eq!(
            cal.leave_days(monday, HalfDay::Pm, monday, HalfDay::Pm),
            Ok(half)
        );
        assert_eq!(
            cal.leave_days(monday, HalfDay::Am, monday, HalfDay::Pm),
            Ok(Decimal::ONE)
        );
        assert_eq!(
            cal.leave_days(monday, HalfDay::Pm, date(2026, 3, 11), HalfDay::Am),
            Ok(Decimal::from(2)),
            "Monday afternoon to Wednesday morning"
        );
        // Starting the afternoon of a Saturday costs nothing extra off the total.
        assert_eq!(
            cal.leave_days(date(2026, 3, 7), HalfDay::Pm, monday, HalfDay::Pm),
            Ok(Decimal::ONE)
        );
    }

    #[test]
    fn further_years_load_from_a_file_all_or_nothing() {
        let mut cal = cn();
        let wrong = r#"{"calendar":"elsewhere","years":[]}"#;
        assert_eq!(
            cal.add_years_from_json(wrong).map_err(|e| e.code()),
            Err("wrong_calendar")
        );
        let conflicting = r#"{"calendar":"cn-mainland","years":[
            {"year":2027,"source":"test","holidays":[{"name":"x","first":"2027-01-01","last":"2027-01-02"}],
             "makeup_workdays":["2027-01-02"]}]}"#;
        assert_eq!(
            cal.add_years_from_json(conflicting).map_err(|e| e.code()),
            Err("conflicting_day")
        );
        assert!(
            cal.is_working_day(date(2027, 1, 4)).is_err(),
            "nothing was added"
        );
        let good = r#"{"calendar":"cn-mainland","years":[
            {"year":2027,"source":"test data","holidays":[{"name":"元旦","first":"2027-01-01","last":"2027-01-01"}]}]}"#;
        cal.add_years_from_json(good).expect("valid year");
        assert_eq!(cal.is_working_day(date(2027, 1, 1)), Ok(false));
        assert_eq!(cal.is_working_day(date(2027, 1, 4)), Ok(true));
        assert_eq!(
            cal.add_years_from_json(good).map_err(|e| e.code()),
            Err("duplicate_year")
        );
        // Now an SLA can cross the new year.
        assert_eq!(
            cal.add_working_hours(bj(2026, 12, 31, 17, 0), 2),
            Ok(bj(2027, 1, 4, 10, 0))
        );
    }

    #[test]
    fn bad_calendar_files_are_typed_errors() {
        let cases = [
            ("not json", "parse"),
            (
                r#"{"calendar":"x","utc_offset":"8","work_hours":[{"start":"09:00","end":"12:00"}],"weekend":[],"years":[]}"#,
                "invalid_offset",
            ),
            (
                r#"{"calendar":"x","utc_offset":"+08:00","work_hours":[{"start":"12:00","end":"09:00"}],"weekend":[],"years":[]}"#,
                "invalid_work_hours",
            ),
            (
                r#"{"calendar":"x","utc_offset":"+08:00","work_hours":[],"weekend":[],"years":[]}"#,
                "invalid_work_hours",
            ),
            (
                r#"{"calendar":"x","utc_offset":"+08:00","work_hours":[{"start":"09:00","end":"12:00"},{"start":"11:00","end":"13:00"}],"weekend":[],"years":[]}"#,
                "invalid_work_hours",
            ),
            (
                r#"{"calendar":"x","utc_offset":"+08:00","work_hours":[{"start":"09:00","end":"12:00"}],"weekend":[],"years":[{"year":2026,"source":"","holidays":[{"name":"h","first":"2026-03-01","last":"2026-02-01"}]}]}"#,
                "invalid_holiday",
            ),
            (
                r#"{"calendar":"x","utc_offset":"+08:00","work_hours":[{"start":"09:00","end":"12:00"}],"weekend":[],"years":[],"extra":1}"#,
                "parse",
            ),
        ];
        for (json, code) in cases {
            assert_eq!(
                WorkingCalendar::from_json(json)
                    .map(|_| ())
                    .map_err(|e| e.code()),
                Err(code),
                "{json}"
            );
        }
    }

    #[test]
    fn other_work_hours() {
        let cal = cn()
            .with_work_hours(&[
                WorkPeriod {
                    start: "08:30".into(),
                    end: "12:00".into(),
                },
                WorkPeriod {
                    start: "13:30".into(),
                    end: "17:30".into(),
                },
            ])
            .expect("valid hours");
        assert_eq!(cal.working_day_length(), TimeDelta::minutes(450));
    }
}
