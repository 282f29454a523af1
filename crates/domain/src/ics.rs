//! Calendar files (iCalendar, RFC 5545): reading the meeting invitations other calendar
//! programs send us, and writing ours so that Outlook, Google and Apple calendars read them.
//!
//! [`read_invitations`] turns a `.ics` text into [`Invitation`]s with exact instants;
//! [`write_invitation`] turns one back into a VCALENDAR with one VEVENT, written with the
//! `icalendar` crate.
//!
//! # Time policy
//!
//! - `...Z` times are UTC.
//! - `TZID=` names are looked up in this order: an IANA name (`Asia/Shanghai`); a Windows
//!   name as Outlook and Exchange send it (`China Standard Time`), mapped through the Unicode
//!   CLDR windowsZones table; the file's own `VTIMEZONE` of that TZID; finally the IANA name
//!   at the end of a path-like TZID (`/mozilla.org/20070129_1/America/New_York`). A name none
//!   of these know is an [`IcsError::UnknownZone`], never a guess.
//! - Floating times (no `Z`, no `TZID`) and all-day dates are read in the zone the caller
//!   passes (the reader's own zone): RFC 5545 says they mean the same wall-clock time
//!   wherever the reader is.
//! - A `VTIMEZONE` is understood when each STANDARD/DAYLIGHT part has a DTSTART, offsets and
//!   at most a yearly RRULE by month and (n-th) weekday or month day, with UNTIL or COUNT,
//!   plus RDATEs: that is what real senders write. Any other rule is refused
//!   ([`IcsError::UnsupportedZoneRule`]) rather than read an hour off.
//! - A wall-clock time that happens twice (autumn) is the first; one that does not exist
//!   (spring gap) is read with the offset before the gap (RFC 5545 §3.3.5).
//! - Recurring events are read as their first occurrence; the rule is kept as text.
//!
//! # Why a hand parser
//!
//! The `icalendar` crate's parser gives a tree without line numbers and one error string for
//! the whole file, so an error could not say where the problem is; the content-line grammar
//! (unfolding, `;`-parameters with quoted values, `:` value) is small enough to read here,
//! with every failure a typed error and no panic on any input.

use std::collections::HashMap;

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime,
    Offset as _, TimeZone, Timelike, Utc, Weekday,
};
use serde::{Deserialize, Serialize};

/// Re-exported so callers pass a zone without depending on chrono-tz themselves.
pub use chrono_tz::Tz;

/// Largest file accepted: a real invitation is a few KiB; a bigger file is a calendar dump,
/// not an invitation, and is refused before any parsing work.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;
/// Most events one file may hold, for the same reason.
pub const MAX_EVENTS: usize = 500;
/// Deepest nesting of BEGIN/END accepted; real files nest three deep (VCALENDAR, VEVENT, VALARM).
const MAX_NESTING: usize = 16;
/// Longest DURATION accepted (ten years), so arithmetic on it cannot overflow.
const MAX_DURATION_DAYS: i64 = 3660;

/// Why a calendar file could not be read. Line numbers count physical lines from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum IcsError {
    #[error("the file is {bytes} bytes; at most {limit} are accepted")]
    TooLarge { bytes: usize, limit: usize },
    #[error("the file holds {events} events; at most {limit} are accepted")]
    TooManyEvents { events: usize, limit: usize },
    #[error("line {line}: {reason}")]
    MalformedLine { line: usize, reason: String },
    #[error("line {line}: END:{found} closes BEGIN:{expected}")]
    MismatchedEnd {
        line: usize,
        expected: String,
        found: String,
    },
    #[error("line {line}: BEGIN:{name} is never closed")]
    UnclosedComponent { line: usize, name: String },
    #[error("line {line}: components nest deeper than {limit}")]
    TooDeep { line: usize, limit: usize },
    #[error("the file has no VCALENDAR")]
    NoCalendar,
    #[error("the calendar has no VEVENT")]
    NoEvent,
    #[error("line {line}: the event has no {property}")]
    MissingProperty { line: usize, property: String },
    #[error("line {line}: {property} value {value:?} is not a valid date or time")]
    InvalidDate {
        line: usize,
        property: String,
        value: String,
    },
    #[error("line {line}: DURATION value {value:?} is not a valid duration")]
    InvalidDuration { line: usize, value: String },
    #[error("line {line}: the event ends ({end}) before it starts ({start})")]
    EndBeforeStart {
        line: usize,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    #[error("line {line}: time zone {zone:?} is neither IANA, Windows nor defined in the file")]
    UnknownZone { line: usize, zone: String },
    #[error("line {line}: time zone {zone:?} cannot be read: {reason}")]
    UnsupportedZoneRule {
        line: usize,
        zone: String,
        reason: String,
    },
}

impl IcsError {
    /// The stable snake_case code of this error, for logs and API bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too_large",
            Self::TooManyEvents { .. } => "too_many_events",
            Self::MalformedLine { .. } => "malformed_line",
            Self::MismatchedEnd { .. } => "mismatched_end",
            Self::UnclosedComponent { .. } => "unclosed_component",
            Self::TooDeep { .. } => "too_deep",
            Self::NoCalendar => "no_calendar",
            Self::NoEvent => "no_event",
            Self::MissingProperty { .. } => "missing_property",
            Self::InvalidDate { .. } => "invalid_date",
            Self::InvalidDuration { .. } => "invalid_duration",
            Self::EndBeforeStart { .. } => "end_before_start",
            Self::UnknownZone { .. } => "unknown_zone",
            Self::UnsupportedZoneRule { .. } => "unsupported_zone_rule",
        }
    }
}

/// What the sender asks of the receiver (iTIP, RFC 5546), from the calendar's METHOD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Publish,
    Request,
    Reply,
    Add,
    Cancel,
    Refresh,
    Counter,
    DeclineCounter,
    /// A method this module does not know, as written (upper case).
    Other(String),
}

impl Method {
    fn parse(value: &str) -> Self {
        match value.trim().to_ascii_uppercase().as_str() {
            "PUBLISH" => Self::Publish,
            "REQUEST" => Self::Request,
            "REPLY" => Self::Reply,
            "ADD" => Self::Add,
            "CANCEL" => Self::Cancel,
            "REFRESH" => Self::Refresh,
            "COUNTER" => Self::Counter,
            "DECLINECOUNTER" => Self::DeclineCounter,
            other => Self::Other(other.to_string()),
        }
    }

    fn as_ics(&self) -> String {
        match self {
            Self::Publish => "PUBLISH".into(),
            Self::Request => "REQUEST".into(),
            Self::Reply => "REPLY".into(),
            Self::Add => "ADD".into(),
            Self::Cancel => "CANCEL".into(),
            Self::Refresh => "REFRESH".into(),
            Self::Counter => "COUNTER".into(),
            Self::DeclineCounter => "DECLINECOUNTER".into(),
            // Only token characters, so a caller's odd value cannot break the line.
            Self::Other(name) => name
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect(),
        }
    }
}

/// Whether the meeting is on (VEVENT STATUS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingStatus {
    Confirmed,
    Tentative,
    Cancelled,
}

/// What part a person plays in the meeting (ROLE). Unknown values read as required, as
/// RFC 5545 asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttendeeRole {
    Chair,
    Required,
    Optional,
    NonParticipant,
}

/// A person's answer to the invitation (PARTSTAT). Unknown values read as needs-action, as
/// RFC 5545 asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    NeedsAction,
    Accepted,
    Declined,
    Tentative,
    Delegated,
}

/// A person named in the invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// The display name (CN), if given.
    pub name: Option<String>,
    /// The e-mail address of a `mailto:` address; any other address as written.
    pub email: String,
}

/// A person invited to the meeting, with their part and answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendee {
    pub person: Person,
    pub role: AttendeeRole,
    pub response: Response,
    /// Whether the organiser asks for an answer (RSVP=TRUE).
    pub answer_requested: bool,
}

/// One meeting read from a calendar file, or to be written to one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// The meeting's identity across updates and cancellations.
    pub uid: String,
    /// Revision; a higher sequence supersedes a lower one for the same uid.
    pub sequence: u32,
    /// The calendar's METHOD, if any.
    pub method: Option<Method>,
    pub status: Option<MeetingStatus>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub location: Option<String>,
    /// The online-meeting link: a Teams or Google conference property or RFC 7986 CONFERENCE
    /// when present (they name the call itself), else the event's URL.
    pub url: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The TZID the start was written in, as written; `None` for UTC, floating and all-day.
    pub time_zone: Option<String>,
    /// Whole days (DATE values): start and end are midnights in the reader's zone, end exclusive.
    pub all_day: bool,
    pub organiser: Option<Person>,
    pub attendees: Vec<Attendee>,
    /// When the sender wrote this revision (DTSTAMP), if readable.
    pub stamp: Option<DateTime<Utc>>,
    /// The RRULE as written: this module reads only the first occurrence.
    pub recurrence_rule: Option<String>,
    /// For a changed occurrence of a recurring meeting, the occurrence it replaces.
    pub recurrence_id: Option<DateTime<Utc>>,
}

// ---------------------------------------------------------------------------------------------
// Content lines and components
// ---------------------------------------------------------------------------------------------

/// One unfolded content line: `NAME;PARAM=v1,"v2":value`.
#[derive(Debug, Clone)]
struct ContentLine {
    /// Physical line where it starts.
    line: usize,
    /// Upper-cased.
    name: String,
    /// Names upper-cased; values unquoted and RFC 6868-decoded.
    params: Vec<(String, Vec<String>)>,
    value: String,
}

impl ContentLine {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .and_then(|(_, values)| values.first())
            .map(String::as_str)
    }
}

#[derive(Debug, Default)]
struct Component {
    name: String,
    line: usize,
    properties: Vec<ContentLine>,
    children: Vec<Component>,
    /// Lines inside this component that are not content lines; see [`parse_components`].
    broken: Vec<IcsError>,
}

impl Component {
    fn property(&self, name: &str) -> Option<&ContentLine> {
        self.properties.iter().find(|p| p.name == name)
    }

    fn properties_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a ContentLine> {
        self.properties.iter().filter(move |p| p.name == name)
    }

    fn text(&self, name: &str) -> Option<String> {
        self.property(name).map(|p| unescape_text(&p.value))
    }
}

/// Joins folded lines (a line starting with a space or tab continues the one before), with
/// the physical line number where each logical line starts. Accepts CRLF and LF.
fn unfold(text: &str) -> Vec<(usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match (raw.strip_prefix([' ', '\t']), lines.last_mut()) {
            (Some(rest), Some((_, current))) => current.push_str(rest),
            _ => {
                if !raw.trim().is_empty() {
                    lines.push((index + 1, raw.to_string()));
                }
            }
        }
    }
    lines
}

fn malformed(line: usize, reason: &str) -> IcsError {
    IcsError::MalformedLine {
        line,
        reason: reason.to_string(),
    }
}

/// Splits one logical line into name, parameters and value.
fn parse_content_line(line: usize, text: &str) -> Result<ContentLine, IcsError> {
    let name_end = text
        .find([';', ':'])
        .ok_or_else(|| malformed(line, "no ':' between the property name and its value"))?;
    let name = text[..name_end].trim();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(malformed(line, "the property name is empty or not a name"));
    }
    let mut params = Vec::new();
    let mut rest = &text[name_end..];
    while let Some(after) = rest.strip_prefix(';') {
        let eq = after
            .find('=')
            .ok_or_else(|| malformed(line, "a parameter has no '='"))?;
        let key = after[..eq].trim().to_ascii_uppercase();
        rest = &after[eq + 1..];
        let mut values = Vec::new();
        loop {
            rest = rest.trim_start_matches(' ');
            let value;
            if let Some(quoted) = rest.strip_prefix('"') {
                let close = quoted
                    .find('"')
                    .ok_or_else(|| malformed(line, "a quoted parameter value is not closed"))?;
                value = &quoted[..close];
                rest = &quoted[close + 1..];
            } else {
                let end = rest
                    .find([',', ';', ':'])
                    .ok_or_else(|| malformed(line, "no ':' before the property value"))?;
                value = rest[..end].trim();
                rest = &rest[end..];
            }
            values.push(decode_param_value(value));
            match rest.strip_prefix(',') {
                Some(next) => rest = next,
                None => break,
            }
        }
        params.push((key, values));
    }
    let value = rest
        .strip_prefix(':')
        .ok_or_else(|| malformed(line, "no ':' before the property value"))?;
    Ok(ContentLine {
        line,
        name: name.to_ascii_uppercase(),
        params,
        value: value.to_string(),
    })
}

/// RFC 6868: `^n` newline, `^'` double quote, `^^` caret inside parameter values.
fn decode_param_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '^' {
            match chars.peek() {
                Some('n') | Some('N') => {
                    out.push('\n');
                    chars.next();
                }
                Some('\'') => {
                    out.push('"');
                    chars.next();
                }
                Some('^') => {
                    out.push('^');
                    chars.next();
                }
                _ => out.push('^'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Builds the BEGIN/END tree. A broken BEGIN/END refuses the file: nothing after it could be
/// placed. Any other line that is not a content line is set aside on its component (and text
/// outside every component is dropped), as calendar programs do: a sender's stray
/// `X-APPLE-RADIUS=49.9` must not cost the meeting. An event missing what it needs then
/// reports its first broken line, the likely cause.
fn parse_components(text: &str) -> Result<Vec<Component>, IcsError> {
    let mut roots = Vec::new();
    let mut stack: Vec<Component> = Vec::new();
    for (line, logical) in unfold(text) {
        let content = match parse_content_line(line, &logical) {
            Ok(content) => content,
            Err(error) => {
                if is_structure_line(&logical) {
                    return Err(error);
                }
                if let Some(current) = stack.last_mut() {
                    current.broken.push(error);
                }
                continue;
            }
        };
        match content.name.as_str() {
            "BEGIN" => {
                if stack.len() >= MAX_NESTING {
                    return Err(IcsError::TooDeep {
                        line,
                        limit: MAX_NESTING,
                    });
                }
                stack.push(Component {
                    name: content.value.trim().to_ascii_uppercase(),
                    line,
                    ..Component::default()
                });
            }
            "END" => {
                let found = content.value.trim().to_ascii_uppercase();
                let Some(open) = stack.pop() else {
                    return Err(malformed(line, "END without a BEGIN"));
                };
                if open.name != found {
                    return Err(IcsError::MismatchedEnd {
                        line,
                        expected: open.name,
                        found,
                    });
                }
                match stack.last_mut() {
                    Some(parent) => parent.children.push(open),
                    None => roots.push(open),
                }
            }
            _ => {
                if let Some(current) = stack.last_mut() {
                    current.properties.push(content);
                }
            }
        }
    }
    if let Some(open) = stack.pop() {
        return Err(IcsError::UnclosedComponent {
            line: open.line,
            name: open.name,
        });
    }
    Ok(roots)
}

/// Whether a line that failed to parse was meant as BEGIN or END.
fn is_structure_line(text: &str) -> bool {
    let name: String = text
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    name.eq_ignore_ascii_case("BEGIN") || name.eq_ignore_ascii_case("END")
}

/// TEXT values: `\n` newline, `\,` `\;` `\\` themselves. An unknown escape keeps its
/// character rather than refuse a whole invitation over a sender's slip.
fn unescape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') | Some('N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Dates, times, durations and zones
// ---------------------------------------------------------------------------------------------

/// A DATE or DATE-TIME value before its zone is applied.
#[derive(Debug, Clone, Copy, PartialEq)]
enum WrittenTime {
    Date(NaiveDate),
    Utc(NaiveDateTime),
    /// Floating, or in the zone of the TZID parameter.
    Local(NaiveDateTime),
}

fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    if text.len() != 8 || !text.is_ascii() {
        return None;
    }
    NaiveDate::from_ymd_opt(
        i32::try_from(digits(&text[0..4])?).ok()?,
        digits(&text[4..6])?,
        digits(&text[6..8])?,
    )
}

fn parse_written_time(text: &str) -> Option<WrittenTime> {
    let text = text.trim();
    if !text.is_ascii() {
        return None;
    }
    if text.len() == 8 {
        return parse_date(text).map(WrittenTime::Date);
    }
    let (body, utc) = match text.strip_suffix(['Z', 'z']) {
        Some(body) => (body, true),
        None => (text, false),
    };
    if body.len() != 15 || !matches!(&body[8..9], "T" | "t") {
        return None;
    }
    let date = parse_date(&body[..8])?;
    let time = NaiveTime::from_hms_opt(
        digits(&body[9..11])?,
        digits(&body[11..13])?,
        digits(&body[13..15])?,
    )?;
    let at = date.and_time(time);
    Some(if utc {
        WrittenTime::Utc(at)
    } else {
        WrittenTime::Local(at)
    })
}

/// RFC 5545 DURATION: `[+-]P[nW]` or `[+-]P[nD][T[nH][nM][nS]]`.
fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (negative, text) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let body = text.strip_prefix(['P', 'p'])?;
    let mut seconds: i64 = 0;
    let mut number = String::new();
    let mut in_time = false;
    let mut any = false;
    for c in body.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            if number.len() > 9 {
                return None;
            }
            continue;
        }
        let unit: i64 = match (c.to_ascii_uppercase(), in_time) {
            ('T', false) if number.is_empty() => {
                in_time = true;
                continue;
            }
            ('W', false) => 7 * 86_400,
            ('D', false) => 86_400,
            ('H', true) => 3_600,
            ('M', true) => 60,
            ('S', true) => 1,
            _ => return None,
        };
        let n: i64 = number.parse().ok()?;
        number.clear();
        seconds = seconds.checked_add(n.checked_mul(unit)?)?;
        any = true;
    }
    if !number.is_empty() || !any || seconds > MAX_DURATION_DAYS * 86_400 {
        return None;
    }
    Duration::try_seconds(if negative { -seconds } else { seconds })
}

/// A UTC offset `+HHMM` or `+HHMMSS` (TZOFFSETFROM/TO).
fn parse_offset(text: &str) -> Option<i32> {
    let text = text.trim();
    if !text.is_ascii() || !(text.len() == 5 || text.len() == 7) {
        return None;
    }
    let sign = match &text[..1] {
        "+" => 1,
        "-" => -1,
        _ => return None,
    };
    let hours = digits(&text[1..3])?;
    let minutes = digits(&text[3..5])?;
    let secs = if text.len() == 7 {
        digits(&text[5..7])?
    } else {
        0
    };
    if hours > 23 || minutes > 59 || secs > 59 {
        return None;
    }
    i32::try_from(hours * 3600 + minutes * 60 + secs)
        .ok()
        .map(|s| sign * s)
}

/// A yearly rule of a VTIMEZONE observance: the forms senders actually write.
#[derive(Debug, Clone)]
struct YearlyRule {
    month: u32,
    /// `(n, weekday)`: the n-th weekday of the month, counted from the end when negative;
    /// n = 0 means any such weekday (narrowed by `month_days`).
    weekday: Option<(i32, Weekday)>,
    month_days: Vec<i32>,
    until: Option<NaiveDateTime>,
    count: Option<u32>,
}

/// One STANDARD or DAYLIGHT part of a VTIMEZONE.
#[derive(Debug, Clone)]
struct Observance {
    /// Local wall-clock time of the first onset.
    onset: NaiveDateTime,
    offset_from: i32,
    offset_to: i32,
    rule: Option<YearlyRule>,
    extra_onsets: Vec<NaiveDateTime>,
}

/// A zone defined in the file itself.
#[derive(Debug, Clone)]
struct CustomZone {
    observances: Vec<Observance>,
}

fn parse_weekday(text: &str) -> Option<Weekday> {
    Some(match text.to_ascii_uppercase().as_str() {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}

fn parse_yearly_rule(text: &str, onset: NaiveDateTime) -> Result<YearlyRule, String> {
    let mut rule = YearlyRule {
        month: onset.month(),
        weekday: None,
        month_days: Vec::new(),
        until: None,
        count: None,
    };
    let mut yearly = false;
    for part in text.split(';').filter(|p| !p.trim().is_empty()) {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| format!("RRULE part {part:?} has no '='"))?;
        let value = value.trim();
        match key.trim().to_ascii_uppercase().as_str() {
            "FREQ" => yearly = value.eq_ignore_ascii_case("YEARLY"),
            "INTERVAL" if value == "1" => {}
            "WKST" => {}
            // Restating the onset's own time changes nothing (khal writes these).
            "BYHOUR" if digits(value) == Some(onset.hour()) => {}
            "BYMINUTE" if digits(value) == Some(onset.minute()) => {}
            "BYSECOND" if digits(value) == Some(onset.second()) => {}
            "BYMONTH" => {
                rule.month = digits(value)
                    .filter(|m| (1..=12).contains(m))
                    .ok_or_else(|| format!("BYMONTH={value} is not one month"))?;
            }
            "BYDAY" => {
                let split = value
                    .find(|c: char| c.is_ascii_alphabetic())
                    .ok_or_else(|| format!("BYDAY={value} names no weekday"))?;
                let (number, day) = value.split_at(split);
                let n = if number.is_empty() {
                    0
                } else {
                    number
                        .trim_start_matches('+')
                        .parse::<i32>()
                        .ok()
                        .filter(|n| (-5..=5).contains(n) && *n != 0)
                        .ok_or_else(|| format!("BYDAY={value} is not one weekday"))?
                };
                let day = parse_weekday(day).ok_or_else(|| format!("BYDAY={value}"))?;
                rule.weekday = Some((n, day));
            }
            "BYMONTHDAY" => {
                for day in value.split(',') {
                    let d = day
                        .trim()
                        .parse::<i32>()
                        .ok()
                        .filter(|d| (1..=31).contains(&d.abs()))
                        .ok_or_else(|| format!("BYMONTHDAY={value}"))?;
                    rule.month_days.push(d);
                }
            }
            "UNTIL" => {
                rule.until = match parse_written_time(value) {
                    Some(WrittenTime::Date(d)) => d.and_hms_opt(23, 59, 59),
                    Some(WrittenTime::Utc(t)) | Some(WrittenTime::Local(t)) => Some(t),
                    None => return Err(format!("UNTIL={value} is not a date")),
                };
            }
            "COUNT" => {
                rule.count = Some(digits(value).ok_or_else(|| format!("COUNT={value}"))?);
            }
            other => return Err(format!("RRULE part {other} is not supported")),
        }
    }
    if !yearly {
        return Err(format!("RRULE {text:?} is not yearly"));
    }
    Ok(rule)
}

impl YearlyRule {
    /// The day this rule falls on in `year`, if any.
    fn day_in(&self, year: i32) -> Option<NaiveDate> {
        let first = NaiveDate::from_ymd_opt(year, self.month, 1)?;
        let days_in_month = first
            .checked_add_months(chrono::Months::new(1))?
            .signed_duration_since(first)
            .num_days();
        let days_in_month = i32::try_from(days_in_month).ok()?;
        let matches_month_day = |day: i32| {
            self.month_days.is_empty()
                || self
                    .month_days
                    .iter()
                    .any(|&d| d == day || (d < 0 && days_in_month + 1 + d == day))
        };
        let candidates: Vec<NaiveDate> = (1..=days_in_month)
            .filter(|&day| matches_month_day(day))
            .filter_map(|day| NaiveDate::from_ymd_opt(year, self.month, u32::try_from(day).ok()?))
            .filter(|date| match self.weekday {
                Some((_, weekday)) => date.weekday() == weekday,
                None => true,
            })
            .collect();
        match self.weekday {
            Some((n, _)) if n > 0 => candidates.get(usize::try_from(n - 1).ok()?).copied(),
            Some((n, _)) if n < 0 => {
                let back = usize::try_from(-n).ok()?;
                candidates
                    .len()
                    .checked_sub(back)
                    .and_then(|i| candidates.get(i).copied())
            }
            _ => candidates.first().copied(),
        }
    }
}

impl Observance {
    /// The latest onset of this observance at or before the wall-clock time `at`.
    fn latest_onset(&self, at: NaiveDateTime) -> Option<NaiveDateTime> {
        let mut best: Option<NaiveDateTime> = None;
        let mut consider = |onset: NaiveDateTime| {
            if onset <= at && best.is_none_or(|b| onset > b) {
                best = Some(onset);
            }
        };
        consider(self.onset);
        for extra in &self.extra_onsets {
            consider(*extra);
        }
        if let Some(rule) = &self.rule {
            for year in [at.year() - 1, at.year()] {
                if year < self.onset.year() {
                    continue;
                }
                if let Some(count) = rule.count {
                    // One onset a year from the first: the n-th year is the n-th occurrence.
                    let index = i64::from(year) - i64::from(self.onset.year());
                    if index >= i64::from(count) {
                        continue;
                    }
                }
                let Some(day) = rule.day_in(year) else {
                    continue;
                };
                let onset = day.and_time(self.onset.time());
                if onset < self.onset || rule.until.is_some_and(|until| onset > until) {
                    continue;
                }
                consider(onset);
            }
        }
        best
    }
}

impl CustomZone {
    fn from_component(component: &Component, zone: &str) -> Result<Self, String> {
        let mut observances = Vec::new();
        for part in &component.children {
            if part.name != "STANDARD" && part.name != "DAYLIGHT" {
                continue;
            }
            let onset = match part
                .property("DTSTART")
                .map(|p| parse_written_time(&p.value))
            {
                Some(Some(WrittenTime::Local(t))) | Some(Some(WrittenTime::Utc(t))) => t,
                Some(Some(WrittenTime::Date(d))) => d.and_time(NaiveTime::MIN),
                _ => return Err(format!("{} has no readable DTSTART", part.name)),
            };
            let offset = |name: &str| {
                part.property(name)
                    .and_then(|p| parse_offset(&p.value))
                    .ok_or_else(|| format!("{} has no readable {name}", part.name))
            };
            let offset_to = offset("TZOFFSETTO")?;
            let offset_from = offset("TZOFFSETFROM").unwrap_or(offset_to);
            let rule = match part.property("RRULE") {
                Some(p) => Some(parse_yearly_rule(&p.value, onset)?),
                None => None,
            };
            let mut extra_onsets = Vec::new();
            for rdate in part.properties_named("RDATE") {
                for value in rdate.value.split(',') {
                    match parse_written_time(value) {
                        Some(WrittenTime::Local(t)) | Some(WrittenTime::Utc(t)) => {
                            extra_onsets.push(t)
                        }
                        Some(WrittenTime::Date(d)) => extra_onsets.push(d.and_time(onset.time())),
                        None => return Err(format!("RDATE {value:?} is not a date")),
                    }
                }
            }
            observances.push(Observance {
                onset,
                offset_from,
                offset_to,
                rule,
                extra_onsets,
            });
        }
        if observances.is_empty() {
            return Err(format!(
                "VTIMEZONE {zone:?} has no STANDARD or DAYLIGHT part"
            ));
        }
        Ok(Self { observances })
    }

    /// The UTC offset in seconds in force at the wall-clock time `at`.
    fn offset_at(&self, at: NaiveDateTime) -> i32 {
        let latest = self
            .observances
            .iter()
            .filter_map(|o| o.latest_onset(at).map(|onset| (onset, o.offset_to)))
            .max_by_key(|(onset, _)| *onset);
        match latest {
            Some((_, offset)) => offset,
            // Before every onset: the offset the earliest observance changes from.
            None => self
                .observances
                .iter()
                .min_by_key(|o| o.onset)
                .map_or(0, |o| o.offset_from),
        }
    }
}

/// How a TZID is turned into instants.
#[derive(Debug, Clone)]
enum Zone {
    Known(Tz),
    Custom(CustomZone),
}

/// The zones a calendar defines (VTIMEZONE by TZID), kept raw until an event needs one.
struct ZoneBook<'a> {
    defined: HashMap<String, &'a Component>,
}

impl<'a> ZoneBook<'a> {
    fn new(calendars: &[&'a Component]) -> Self {
        let mut defined = HashMap::new();
        for calendar in calendars {
            for child in calendar.children.iter().filter(|c| c.name == "VTIMEZONE") {
                if let Some(tzid) = child.property("TZID") {
                    defined
                        .entry(tzid.value.trim().to_string())
                        .or_insert(child);
                }
            }
        }
        Self { defined }
    }

    fn resolve(&self, tzid: &str, line: usize) -> Result<Zone, IcsError> {
        let tzid = tzid.trim();
        if let Some(tz) = known_zone(tzid) {
            return Ok(Zone::Known(tz));
        }
        if let Some(component) = self.defined.get(tzid) {
            return CustomZone::from_component(component, tzid)
                .map(Zone::Custom)
                .map_err(|reason| IcsError::UnsupportedZoneRule {
                    line: component.line,
                    zone: tzid.to_string(),
                    reason,
                });
        }
        // Globally unique TZIDs (`/mozilla.org/20070129_1/America/New_York`) end in an IANA name.
        let segments: Vec<&str> = tzid.split('/').collect();
        for first in 1..segments.len() {
            if let Ok(tz) = segments[first..].join("/").parse::<Tz>() {
                return Ok(Zone::Known(tz));
            }
        }
        Err(IcsError::UnknownZone {
            line,
            zone: tzid.to_string(),
        })
    }
}

/// An IANA name, or a Windows name through the CLDR table.
fn known_zone(name: &str) -> Option<Tz> {
    if let Ok(tz) = name.parse::<Tz>() {
        return Some(tz);
    }
    let windows: windows_timezones::WindowsTimezone = name.parse().ok()?;
    windows.tzdb_id().parse::<Tz>().ok()
}

/// The instant of a wall-clock time in an IANA zone, by RFC 5545's rules for repeated and
/// skipped times.
fn instant_in(tz: Tz, at: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&at) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
        LocalResult::None => {
            // In a gap: the offset in force just before it (gaps are at most a few hours).
            let before = tz
                .from_local_datetime(&(at - Duration::hours(6)))
                .earliest()?;
            let offset = FixedOffset::east_opt(before.offset().fix().local_minus_utc())?;
            offset
                .from_local_datetime(&at)
                .single()
                .map(|t| t.with_timezone(&Utc))
        }
    }
}

/// Reads a DATE/DATE-TIME property into an instant; the second value tells whether it was a DATE.
fn read_instant(
    property: &ContentLine,
    zones: &ZoneBook<'_>,
    reader_zone: Tz,
) -> Result<(DateTime<Utc>, bool), IcsError> {
    let invalid = || IcsError::InvalidDate {
        line: property.line,
        property: property.name.clone(),
        value: property.value.clone(),
    };
    // A list (RECURRENCE-ID never is one; DTSTART must not be): the first value counts.
    let value = property.value.split(',').next().unwrap_or_default();
    let written = parse_written_time(value).ok_or_else(invalid)?;
    let declared_date = property
        .param("VALUE")
        .is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
    match written {
        WrittenTime::Utc(at) => Ok((at.and_utc(), false)),
        WrittenTime::Date(date) => {
            let at = date.and_time(NaiveTime::MIN);
            instant_in(reader_zone, at)
                .map(|t| (t, true))
                .ok_or_else(invalid)
        }
        WrittenTime::Local(_) if declared_date => Err(invalid()),
        WrittenTime::Local(at) => {
            let zone = match property.param("TZID") {
                Some(tzid) => zones.resolve(tzid, property.line)?,
                None => Zone::Known(reader_zone),
            };
            let instant = match zone {
                Zone::Known(tz) => instant_in(tz, at),
                Zone::Custom(custom) => FixedOffset::east_opt(custom.offset_at(at))
                    .and_then(|offset| offset.from_local_datetime(&at).single())
                    .map(|t| t.with_timezone(&Utc)),
            };
            instant.map(|t| (t, false)).ok_or_else(invalid)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// Reads every event of a calendar file as an invitation.
///
/// `reader_zone` is the zone floating times and all-day dates are read in: the zone of the
/// person importing the file. Refused before parsing: files over [`MAX_FILE_BYTES`] or with
/// more than [`MAX_EVENTS`] events. A file whose calendars hold no VEVENT is an
/// [`IcsError::NoEvent`]; one bad event refuses the whole file, so that an import is never
/// silently partial.
pub fn read_invitations(text: &str, reader_zone: Tz) -> Result<Vec<Invitation>, IcsError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(IcsError::TooLarge {
            bytes: text.len(),
            limit: MAX_FILE_BYTES,
        });
    }
    let events = text
        .lines()
        .filter(|l| l.trim().eq_ignore_ascii_case("BEGIN:VEVENT"))
        .count();
    if events > MAX_EVENTS {
        return Err(IcsError::TooManyEvents {
            events,
            limit: MAX_EVENTS,
        });
    }
    let roots = parse_components(text)?;
    let calendars: Vec<&Component> = roots.iter().filter(|c| c.name == "VCALENDAR").collect();
    if calendars.is_empty() {
        return Err(IcsError::NoCalendar);
    }
    let zones = ZoneBook::new(&calendars);
    let mut invitations = Vec::new();
    for calendar in &calendars {
        let method = calendar.property("METHOD").map(|p| Method::parse(&p.value));
        for event in calendar.children.iter().filter(|c| c.name == "VEVENT") {
            invitations.push(read_event(event, method.clone(), &zones, reader_zone)?);
        }
    }
    if invitations.is_empty() {
        return Err(IcsError::NoEvent);
    }
    Ok(invitations)
}

fn read_event(
    event: &Component,
    method: Option<Method>,
    zones: &ZoneBook<'_>,
    reader_zone: Tz,
) -> Result<Invitation, IcsError> {
    let missing = |property: &str| match event.broken.first() {
        Some(broken) => broken.clone(),
        None => IcsError::MissingProperty {
            line: event.line,
            property: property.to_string(),
        },
    };
    let uid = event
        .text("UID")
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| missing("UID"))?;
    let start_property = event
        .property("DTSTART")
        .ok_or_else(|| missing("DTSTART"))?;
    let (start, all_day) = read_instant(start_property, zones, reader_zone)?;
    let end = if let Some(end_property) = event.property("DTEND") {
        read_instant(end_property, zones, reader_zone)?.0
    } else if let Some(duration) = event.property("DURATION") {
        let length = parse_duration(&duration.value).ok_or_else(|| IcsError::InvalidDuration {
            line: duration.line,
            value: duration.value.clone(),
        })?;
        start
            .checked_add_signed(length)
            .ok_or_else(|| IcsError::InvalidDuration {
                line: duration.line,
                value: duration.value.clone(),
            })?
    } else if all_day {
        // RFC 5545 §3.6.1: a DATE start with no end lasts the one day.
        let next_day = start.with_timezone(&reader_zone).date_naive().succ_opt();
        next_day
            .and_then(|day| instant_in(reader_zone, day.and_time(NaiveTime::MIN)))
            .ok_or_else(|| IcsError::InvalidDate {
                line: start_property.line,
                property: start_property.name.clone(),
                value: start_property.value.clone(),
            })?
    } else {
        start
    };
    if end < start {
        return Err(IcsError::EndBeforeStart {
            line: event.line,
            start,
            end,
        });
    }
    let time_zone = if all_day {
        None
    } else {
        start_property.param("TZID").map(|z| z.trim().to_string())
    };
    let sequence = event
        .property("SEQUENCE")
        .and_then(|p| p.value.trim().parse::<u32>().ok())
        .unwrap_or(0);
    let status =
        event
            .property("STATUS")
            .and_then(|p| match p.value.trim().to_ascii_uppercase().as_str() {
                "CONFIRMED" => Some(MeetingStatus::Confirmed),
                "TENTATIVE" => Some(MeetingStatus::Tentative),
                "CANCELLED" | "CANCELED" => Some(MeetingStatus::Cancelled),
                _ => None,
            });
    // A conference property may also be a dial-in (`tel:`): only a web link is a call to join.
    let web_link = |p: &&ContentLine| {
        let value = p.value.trim().to_ascii_lowercase();
        value.starts_with("https://") || value.starts_with("http://")
    };
    let url = [
        "X-MICROSOFT-SKYPETEAMSMEETINGURL",
        "X-GOOGLE-CONFERENCE",
        "CONFERENCE",
    ]
    .iter()
    .find_map(|name| event.properties_named(name).find(web_link))
    .or_else(|| event.property("URL"))
    .map(|p| p.value.trim().to_string())
    .filter(|u| !u.is_empty());
    let stamp = event
        .property("DTSTAMP")
        .and_then(|p| match parse_written_time(&p.value) {
            Some(WrittenTime::Utc(t)) => Some(t.and_utc()),
            _ => None,
        });
    let recurrence_id = match event.property("RECURRENCE-ID") {
        Some(p) => Some(read_instant(p, zones, reader_zone)?.0),
        None => None,
    };
    Ok(Invitation {
        uid,
        sequence,
        method,
        status,
        summary: event.text("SUMMARY"),
        description: event.text("DESCRIPTION"),
        location: event.text("LOCATION"),
        url,
        start,
        end,
        time_zone,
        all_day,
        organiser: event.property("ORGANIZER").map(read_person),
        attendees: event
            .properties_named("ATTENDEE")
            .map(read_attendee)
            .collect(),
        stamp,
        recurrence_rule: event.property("RRULE").map(|p| p.value.trim().to_string()),
        recurrence_id,
    })
}

fn read_person(property: &ContentLine) -> Person {
    let address = property.value.trim();
    let email = match address.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("mailto:") => &address[7..],
        _ => address,
    };
    Person {
        name: property
            .param("CN")
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string),
        email: email.to_string(),
    }
}

fn read_attendee(property: &ContentLine) -> Attendee {
    let upper = |name: &str| property.param(name).map(|v| v.trim().to_ascii_uppercase());
    let role = match upper("ROLE").as_deref() {
        Some("CHAIR") => AttendeeRole::Chair,
        Some("OPT-PARTICIPANT") => AttendeeRole::Optional,
        Some("NON-PARTICIPANT") => AttendeeRole::NonParticipant,
        _ => AttendeeRole::Required,
    };
    let response = match upper("PARTSTAT").as_deref() {
        Some("ACCEPTED") => Response::Accepted,
        Some("DECLINED") => Response::Declined,
        Some("TENTATIVE") => Response::Tentative,
        Some("DELEGATED") => Response::Delegated,
        _ => Response::NeedsAction,
    };
    Attendee {
        person: read_person(property),
        role,
        response,
        answer_requested: upper("RSVP").as_deref() == Some("TRUE"),
    }
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// Writes one invitation as a calendar file (CRLF lines, folded at 75 octets), built with the
/// `icalendar` crate, which escapes the texts and folds the lines.
///
/// Times are written in UTC, which every calendar program reads without a VTIMEZONE;
/// `organiser_zone` is named in X-WR-TIMEZONE and gives the dates of an all-day meeting.
/// A CANCEL is always written with STATUS:CANCELLED, as RFC 5546 requires. `stamp` is the
/// DTSTAMP: when this revision was made (the crate would otherwise read the clock).
pub fn write_invitation(
    invitation: &Invitation,
    method: &Method,
    stamp: DateTime<Utc>,
    organiser_zone: Tz,
) -> String {
    use icalendar::{Component as _, EventLike as _};

    let mut event = icalendar::Event::new();
    event
        .uid(&clean_text(&invitation.uid))
        .sequence(invitation.sequence)
        .timestamp(stamp);
    if invitation.all_day {
        let date = |t: DateTime<Utc>| t.with_timezone(&organiser_zone).date_naive();
        event
            .starts(date(invitation.start))
            .ends(date(invitation.end));
    } else {
        event.starts(invitation.start).ends(invitation.end);
    }
    if let Some(summary) = &invitation.summary {
        event.summary(&clean_text(summary));
    }
    if let Some(description) = &invitation.description {
        event.description(&clean_text(description));
    }
    if let Some(location) = &invitation.location {
        event.location(&clean_text(location));
    }
    if let Some(url) = &invitation.url {
        event.url(&without_controls(url));
    }
    let status = match (method, invitation.status) {
        (Method::Cancel, _) => Some(MeetingStatus::Cancelled),
        (_, status) => status,
    };
    if let Some(status) = status {
        event.status(match status {
            MeetingStatus::Confirmed => icalendar::EventStatus::Confirmed,
            MeetingStatus::Tentative => icalendar::EventStatus::Tentative,
            MeetingStatus::Cancelled => icalendar::EventStatus::Cancelled,
        });
    }
    if let Some(organiser) = &invitation.organiser {
        let mut property = icalendar::Property::new("ORGANIZER", address_of(organiser));
        if let Some(name) = &organiser.name {
            property.add_parameter("CN", &quoted_param_value(name));
        }
        event.append_property(property);
    }
    for attendee in &invitation.attendees {
        let mut written = icalendar::Attendee::new(address_of(&attendee.person))
            .role(match attendee.role {
                AttendeeRole::Chair => icalendar::Role::Chair,
                AttendeeRole::Required => icalendar::Role::ReqParticipant,
                AttendeeRole::Optional => icalendar::Role::OptParticipant,
                AttendeeRole::NonParticipant => icalendar::Role::NonParticipant,
            })
            .partstat(match attendee.response {
                Response::NeedsAction => icalendar::PartStat::NeedsAction,
                Response::Accepted => icalendar::PartStat::Accepted,
                Response::Declined => icalendar::PartStat::Declined,
                Response::Tentative => icalendar::PartStat::Tentative,
                Response::Delegated => icalendar::PartStat::Delegated,
            })
            .rsvp(attendee.answer_requested);
        if let Some(name) = &attendee.person.name {
            written = written.cn(quoted_param_value(name));
        }
        event.append_multi_property(written);
    }

    let mut calendar = icalendar::Calendar::empty();
    for (name, value) in [
        ("PRODID", "-//Countersign//Meetings//EN"),
        ("VERSION", "2.0"),
        ("CALSCALE", "GREGORIAN"),
        ("METHOD", &method.as_ics()),
        ("X-WR-TIMEZONE", organiser_zone.name()),
    ] {
        calendar.append_property(icalendar::Property::new(name, value));
    }
    calendar.push(event.done());
    calendar.to_string()
}

/// A calendar address: `mailto:` for an e-mail address, any other address as written.
fn address_of(person: &Person) -> String {
    let email = without_controls(&person.email);
    if email.contains(':') {
        email
    } else {
        format!("mailto:{email}")
    }
}

/// A parameter value already in quotes (so the crate writes it as it is), RFC 6868-encoded:
/// a display name may hold `"`, which a quoted value cannot carry otherwise.
fn quoted_param_value(value: &str) -> String {
    format!("\"{}\"", encode_param_value(value))
}

/// A TEXT value without the control characters a content line cannot carry; line breaks are
/// kept (the crate writes them as `\n`), a CR of a CRLF is dropped.
fn clean_text(value: &str) -> String {
    value
        .chars()
        .filter(|&c| c == '\n' || !c.is_control())
        .collect()
}

/// RFC 6868 encoding inside a quoted parameter value.
fn encode_param_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '^' => out.push_str("^^"),
            '"' => out.push_str("^'"),
            '\n' => out.push_str("^n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn without_controls(value: &str) -> String {
    value.chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests;
