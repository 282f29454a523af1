#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::TimeZone as _;
use proptest::prelude::*;

use super::*;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

/// Wraps event lines in a calendar, with CRLF line ends as senders write them.
fn calendar(body: &str) -> String {
    format!("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n{body}\nEND:VCALENDAR\n")
        .replace('\n', "\r\n")
}

fn event(lines: &str) -> String {
    calendar(&format!(
        "BEGIN:VEVENT\nUID:u-1\nDTSTAMP:20261125T083000Z\n{lines}\nEND:VEVENT"
    ))
}

fn read_one(text: &str, zone: Tz) -> Invitation {
    let mut all = read_invitations(text, zone).unwrap();
    assert_eq!(all.len(), 1, "the fixture holds one event");
    all.remove(0)
}

/// An Outlook/Exchange invitation as Exchange writes it: Windows zone name in TZID, a
/// VTIMEZONE beside it, folded UID, Chinese texts, a Teams link. Written for this test.
const OUTLOOK_CHINA: &str = "BEGIN:VCALENDAR\r\n\
METHOD:REQUEST\r\n\
PRODID:Microsoft Exchange Server 2010\r\n\
VERSION:2.0\r\n\
BEGIN:VTIMEZONE\r\n\
TZID:China Standard Time\r\n\
BEGIN:STANDARD\r\n\
DTSTART:16010101T000000\r\n\
TZOFFSETFROM:+0800\r\n\
TZOFFSETTO:+0800\r\n\
END:STANDARD\r\n\
BEGIN:DAYLIGHT\r\n\
DTSTART:16010101T000000\r\n\
TZOFFSETFROM:+0800\r\n\
TZOFFSETTO:+0800\r\n\
END:DAYLIGHT\r\n\
END:VTIMEZONE\r\n\
BEGIN:VEVENT\r\n\
ORGANIZER;CN=张伟:mailto:zhang.wei@example.com\r\n\
ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=\"Li, Na\":mailto:\r\n \
li.na@example.com\r\n\
ATTENDEE;ROLE=OPT-PARTICIPANT;PARTSTAT=TENTATIVE;RSVP=FALSE;CN=Wang Fang:MAILTO:w\r\n \
ang.fang@example.com\r\n\
DESCRIPTION;LANGUAGE=zh-CN:议程：1. 回顾\\; 2. 计划\\, 预算\\n请准时参加\r\n\
UID:040000008200E00074C5B7101A82E00800000000D0C3A7B2B1C1DB0100000000000000001000\r\n \
00005B6E1E0C2F0A4C4C8B1F1E8E3C9F1F2A\r\n\
SUMMARY;LANGUAGE=zh-CN:季度预算评审\r\n\
DTSTART;TZID=China Standard Time:20261201T100000\r\n\
DTEND;TZID=China Standard Time:20261201T113000\r\n\
CLASS:PUBLIC\r\n\
PRIORITY:5\r\n\
DTSTAMP:20261125T083000Z\r\n\
TRANSP:OPAQUE\r\n\
STATUS:CONFIRMED\r\n\
SEQUENCE:2\r\n\
LOCATION;LANGUAGE=zh-CN:北京 3号会议室\r\n\
X-MICROSOFT-CDO-APPT-SEQUENCE:2\r\n\
X-MICROSOFT-SKYPETEAMSMEETINGURL:https://teams.example.com/l/meetup-join/abc\r\n\
BEGIN:VALARM\r\n\
DESCRIPTION:REMINDER\r\n\
TRIGGER;RELATED=START:-PT15M\r\n\
ACTION:DISPLAY\r\n\
END:VALARM\r\n\
END:VEVENT\r\n\
END:VCALENDAR\r\n";

#[test]
fn outlook_china_standard_time_is_eight_hours_ahead_of_utc() {
    // Read by someone in New York: a TZID never depends on the reader's zone.
    let invitation = read_one(OUTLOOK_CHINA, chrono_tz::America::New_York);
    assert_eq!(
        invitation.start,
        utc(2026, 12, 1, 2, 0),
        "10:00 in Beijing is 02:00 UTC"
    );
    assert_eq!(invitation.end, utc(2026, 12, 1, 3, 30));
    assert_eq!(invitation.time_zone.as_deref(), Some("China Standard Time"));
    assert_eq!(invitation.method, Some(Method::Request));
    assert_eq!(invitation.status, Some(MeetingStatus::Confirmed));
    assert_eq!(invitation.sequence, 2);
    assert_eq!(
        invitation.uid,
        "040000008200E00074C5B7101A82E00800000000D0C3A7B2B1C1DB01000000000000000010000\
         0005B6E1E0C2F0A4C4C8B1F1E8E3C9F1F2A",
        "folded lines are joined without the leading space"
    );
    assert_eq!(invitation.summary.as_deref(), Some("季度预算评审"));
    assert_eq!(
        invitation.description.as_deref(),
        Some("议程：1. 回顾; 2. 计划, 预算\n请准时参加"),
        "escapes are undone"
    );
    assert_eq!(invitation.location.as_deref(), Some("北京 3号会议室"));
    assert_eq!(
        invitation.url.as_deref(),
        Some("https://teams.example.com/l/meetup-join/abc")
    );
    assert_eq!(invitation.stamp, Some(utc(2026, 11, 25, 8, 30)));
    assert!(!invitation.all_day);
    assert_eq!(
        invitation.organiser,
        Some(Person {
            name: Some("张伟".into()),
            email: "zhang.wei@example.com".into()
        })
    );
    assert_eq!(
        invitation.attendees,
        vec![
            Attendee {
                person: Person {
                    name: Some("Li, Na".into()),
                    email: "li.na@example.com".into()
                },
                role: AttendeeRole::Required,
                response: Response::NeedsAction,
                answer_requested: true,
            },
            Attendee {
                person: Person {
                    name: Some("Wang Fang".into()),
                    email: "wang.fang@example.com".into()
                },
                role: AttendeeRole::Optional,
                response: Response::Tentative,
                answer_requested: false,
            },
        ],
        "a quoted CN may hold a comma; MAILTO is case-insensitive"
    );
}

#[test]
fn the_same_invitation_with_lf_line_ends_reads_the_same() {
    let lf = OUTLOOK_CHINA.replace("\r\n", "\n");
    assert_eq!(
        read_one(&lf, Tz::UTC),
        read_one(OUTLOOK_CHINA, Tz::UTC),
        "LF-only files are common from Unix tools"
    );
}

#[test]
fn windows_zone_names_follow_daylight_saving() {
    // Without a VTIMEZONE: the CLDR table alone must know these names.
    let berlin_summer =
        event("DTSTART;TZID=W. Europe Standard Time:20260701T090000\nDURATION:PT1H");
    assert_eq!(
        read_one(&berlin_summer, Tz::UTC).start,
        utc(2026, 7, 1, 7, 0),
        "CEST is UTC+2"
    );
    let seattle_winter = event("DTSTART;TZID=\"Pacific Standard Time\":20261201T090000");
    assert_eq!(
        read_one(&seattle_winter, Tz::UTC).start,
        utc(2026, 12, 1, 17, 0),
        "PST is UTC-8"
    );
}

#[test]
fn utc_floating_and_iana_times() {
    let shanghai = chrono_tz::Asia::Shanghai;
    let at_utc = event("DTSTART:20261201T020000Z\nDTEND:20261201T030000Z");
    assert_eq!(read_one(&at_utc, shanghai).start, utc(2026, 12, 1, 2, 0));
    assert_eq!(read_one(&at_utc, shanghai).time_zone, None);

    let floating = event("DTSTART:20261201T100000\nDTEND:20261201T110000");
    assert_eq!(
        read_one(&floating, shanghai).start,
        utc(2026, 12, 1, 2, 0),
        "floating time is read in the reader's zone"
    );
    assert_eq!(read_one(&floating, Tz::UTC).start, utc(2026, 12, 1, 10, 0));

    let iana = event("DTSTART;TZID=Europe/London:20260701T090000");
    let invitation = read_one(&iana, shanghai);
    assert_eq!(invitation.start, utc(2026, 7, 1, 8, 0), "BST is UTC+1");
    assert_eq!(
        invitation.end, invitation.start,
        "no end and no duration: an instant"
    );
    assert_eq!(invitation.time_zone.as_deref(), Some("Europe/London"));
}

#[test]
fn times_repeated_or_skipped_by_daylight_saving_follow_rfc_5545() {
    let repeated = event("DTSTART;TZID=America/New_York:20261101T013000");
    assert_eq!(
        read_one(&repeated, Tz::UTC).start,
        utc(2026, 11, 1, 5, 30),
        "the first 01:30 (EDT, UTC-4)"
    );
    let skipped = event("DTSTART;TZID=America/New_York:20260308T023000");
    assert_eq!(
        read_one(&skipped, Tz::UTC).start,
        utc(2026, 3, 8, 7, 30),
        "02:30 does not exist; read with the offset before the gap (UTC-5)"
    );
}

#[test]
fn all_day_dates_are_midnights_in_the_readers_zone() {
    let golden_week = event("DTSTART;VALUE=DATE:20261001\nDTEND;VALUE=DATE:20261008");
    let invitation = read_one(&golden_week, chrono_tz::Asia::Shanghai);
    assert!(invitation.all_day);
    assert_eq!(invitation.start, utc(2026, 9, 30, 16, 0));
    assert_eq!(
        invitation.end,
        utc(2026, 10, 7, 16, 0),
        "DTEND is exclusive"
    );

    let one_day = event("DTSTART;VALUE=DATE:20261001");
    let invitation = read_one(&one_day, chrono_tz::Asia::Shanghai);
    assert_eq!(
        invitation.end,
        utc(2026, 10, 1, 16, 0),
        "a DATE with no end lasts one day"
    );
}

#[test]
fn durations_replace_dtend() {
    for (duration, end) in [
        ("PT1H30M", utc(2026, 12, 1, 3, 30)),
        ("P1D", utc(2026, 12, 2, 2, 0)),
        ("P1W", utc(2026, 12, 8, 2, 0)),
        ("P1DT2H", utc(2026, 12, 2, 4, 0)),
        ("PT0S", utc(2026, 12, 1, 2, 0)),
    ] {
        let text = event(&format!("DTSTART:20261201T020000Z\nDURATION:{duration}"));
        assert_eq!(read_one(&text, Tz::UTC).end, end, "{duration}");
    }
}

/// A zone known only from its VTIMEZONE: US Eastern rules under a private name.
const CUSTOM_EASTERN: &str = "BEGIN:VTIMEZONE\n\
TZID:Our Office Time\n\
BEGIN:DAYLIGHT\n\
DTSTART:20070311T020000\n\
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\n\
TZOFFSETFROM:-0500\n\
TZOFFSETTO:-0400\n\
END:DAYLIGHT\n\
BEGIN:STANDARD\n\
DTSTART:20071104T020000\n\
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\n\
TZOFFSETFROM:-0400\n\
TZOFFSETTO:-0500\n\
END:STANDARD\n\
END:VTIMEZONE";

#[test]
fn a_vtimezone_defines_an_unknown_zone() {
    for (local, expected) in [
        ("20260701T100000", utc(2026, 7, 1, 14, 0)),
        ("20261201T100000", utc(2026, 12, 1, 15, 0)),
        ("20260307T120000", utc(2026, 3, 7, 17, 0)),
        ("20260308T033000", utc(2026, 3, 8, 7, 30)),
        ("20261031T120000", utc(2026, 10, 31, 16, 0)),
        ("20261101T120000", utc(2026, 11, 1, 17, 0)),
        ("20000101T120000", utc(2000, 1, 1, 17, 0)),
    ] {
        let text = calendar(&format!(
            "{CUSTOM_EASTERN}\nBEGIN:VEVENT\nUID:x\nDTSTART;TZID=Our Office Time:{local}\nEND:VEVENT"
        ));
        assert_eq!(read_one(&text, Tz::UTC).start, expected, "{local}");
    }
}

#[test]
fn a_path_like_tzid_ends_in_an_iana_name() {
    let text = event("DTSTART;TZID=/mozilla.org/20070129_1/America/New_York:20261201T100000");
    assert_eq!(read_one(&text, Tz::UTC).start, utc(2026, 12, 1, 15, 0));
}

#[test]
fn parameter_values_decode_rfc_6868_and_texts_unescape() {
    let text = event(
        "DTSTART:20261201T020000Z\nSUMMARY:a\\,b\\;c\\\\d\\ne\n\
         ATTENDEE;CN=\"say ^'hi^' ^^\";PARTSTAT=ACCEPTED:mailto:a@example.com",
    );
    let invitation = read_one(&text, Tz::UTC);
    assert_eq!(invitation.summary.as_deref(), Some("a,b;c\\d\ne"));
    assert_eq!(
        invitation.attendees[0].person.name.as_deref(),
        Some("say \"hi\" ^")
    );
    assert_eq!(invitation.attendees[0].response, Response::Accepted);
}

#[test]
fn conference_links_come_before_the_plain_url() {
    let text = event(
        "DTSTART:20261201T020000Z\nURL:https://example.com/agenda\n\
         X-GOOGLE-CONFERENCE:https://meet.example.com/abc-defg-hij",
    );
    assert_eq!(
        read_one(&text, Tz::UTC).url.as_deref(),
        Some("https://meet.example.com/abc-defg-hij")
    );
    let text = event("DTSTART:20261201T020000Z\nURL:https://example.com/agenda");
    assert_eq!(
        read_one(&text, Tz::UTC).url.as_deref(),
        Some("https://example.com/agenda")
    );
}

#[test]
fn limits_are_checked_before_parsing() {
    let big = "X".repeat(MAX_FILE_BYTES + 1);
    assert_eq!(
        read_invitations(&big, Tz::UTC).unwrap_err().code(),
        "too_large"
    );
    let many = calendar(
        &"BEGIN:VEVENT\nUID:x\nDTSTART:20261201T020000Z\nEND:VEVENT\n".repeat(MAX_EVENTS + 1),
    );
    assert_eq!(
        read_invitations(&many, Tz::UTC).unwrap_err(),
        IcsError::TooManyEvents {
            events: MAX_EVENTS + 1,
            limit: MAX_EVENTS
        }
    );
    let enough =
        calendar(&"BEGIN:VEVENT\nUID:x\nDTSTART:20261201T020000Z\nEND:VEVENT\n".repeat(MAX_EVENTS));
    assert_eq!(
        read_invitations(&enough, Tz::UTC).unwrap().len(),
        MAX_EVENTS
    );
}

#[test]
fn malformed_files_name_the_problem_and_the_line() {
    let refuse = |text: &str| read_invitations(text, Tz::UTC).unwrap_err();
    assert_eq!(refuse(""), IcsError::NoCalendar);
    assert_eq!(
        refuse("BEGIN:VEVENT\nUID:x\nDTSTART:20261201T020000Z\nEND:VEVENT\n"),
        IcsError::NoCalendar,
        "a bare VEVENT is not a calendar file"
    );
    assert_eq!(
        refuse(&calendar("BEGIN:VTODO\nUID:x\nEND:VTODO")),
        IcsError::NoEvent
    );
    // Lines: 1 BEGIN:VCALENDAR, 2 VERSION, 3 PRODID, 4 BEGIN:VEVENT, 5 UID, 6 DTSTAMP, 7...
    assert_eq!(
        refuse(&event("SUMMARY:no start")),
        IcsError::MissingProperty {
            line: 4,
            property: "DTSTART".into()
        }
    );
    assert_eq!(
        refuse(&event("DTSTART:20261301T020000Z")),
        IcsError::InvalidDate {
            line: 7,
            property: "DTSTART".into(),
            value: "20261301T020000Z".into()
        }
    );
    assert_eq!(
        refuse(&event("DTSTART:20261201T020000Z\nDTEND:20261201T010000Z")).code(),
        "end_before_start"
    );
    assert_eq!(
        refuse(&event("DTSTART:20261201T020000Z\nDURATION:-PT1H")).code(),
        "end_before_start"
    );
    assert_eq!(
        refuse(&event("DTSTART:20261201T020000Z\nDURATION:1 hour")),
        IcsError::InvalidDuration {
            line: 8,
            value: "1 hour".into()
        }
    );
    assert_eq!(
        refuse(&event("DTSTART;TZID=Mars/Olympus_Mons:20261201T100000")),
        IcsError::UnknownZone {
            line: 7,
            zone: "Mars/Olympus_Mons".into()
        }
    );
    assert_eq!(
        refuse(&event("DTSTART 20261201T020000Z")),
        IcsError::MalformedLine {
            line: 7,
            reason: "no ':' between the property name and its value".into()
        }
    );
    assert_eq!(
        refuse(&calendar(
            "BEGIN:VEVENT\nUID:x\nDTSTART:20261201T020000Z\nEND:VTODO"
        ))
        .code(),
        "mismatched_end"
    );
    assert_eq!(
        refuse("BEGIN:VCALENDAR\nBEGIN:VEVENT\n").code(),
        "unclosed_component"
    );
    assert_eq!(refuse(&"BEGIN:X\n".repeat(100)).code(), "too_deep");
    assert_eq!(
        refuse(&calendar(
            "BEGIN:VEVENT\nUID: \nDTSTART:20261201T020000Z\nEND:VEVENT"
        ))
        .code(),
        "missing_property",
        "an empty UID cannot identify the meeting's updates"
    );
}

#[test]
fn an_unsupported_vtimezone_rule_is_refused_not_guessed() {
    let zone = CUSTOM_EASTERN.replace("FREQ=YEARLY;BYMONTH=3", "FREQ=MONTHLY;BYMONTH=3");
    let text = calendar(&format!(
        "{zone}\nBEGIN:VEVENT\nUID:x\nDTSTART;TZID=Our Office Time:20260701T100000\nEND:VEVENT"
    ));
    assert_eq!(
        read_invitations(&text, Tz::UTC).unwrap_err().code(),
        "unsupported_zone_rule"
    );
}

fn sample() -> Invitation {
    Invitation {
        uid: "0195a3c8-7a1e-7c00-8000-000000000001@countersign".into(),
        sequence: 3,
        method: Some(Method::Request),
        status: Some(MeetingStatus::Confirmed),
        summary: Some("季度预算评审：第四季度、2027 年计划与人员安排（请提前阅读附件）".into()),
        description: Some("议程：\n1. 回顾; 2. 计划, 预算\\附件\n\n—— 财务部".into()),
        location: Some("北京, 3号会议室; 东楼".into()),
        url: Some("https://meet.example.com/j/123?pwd=a;b".into()),
        start: utc(2026, 12, 1, 2, 0),
        end: utc(2026, 12, 1, 3, 30),
        time_zone: None,
        all_day: false,
        organiser: Some(Person {
            name: Some("张伟".into()),
            email: "zhang.wei@example.com".into(),
        }),
        attendees: vec![
            Attendee {
                person: Person {
                    name: Some("Li, Na \"Nina\"".into()),
                    email: "li.na@example.com".into(),
                },
                role: AttendeeRole::Required,
                response: Response::Accepted,
                answer_requested: true,
            },
            Attendee {
                person: Person {
                    name: None,
                    email: "guest@example.org".into(),
                },
                role: AttendeeRole::Optional,
                response: Response::NeedsAction,
                answer_requested: false,
            },
        ],
        stamp: Some(utc(2026, 11, 25, 8, 30)),
        recurrence_rule: None,
        recurrence_id: None,
    }
}

/// The sample as the organiser in Shanghai exports it.
fn sample_written() -> (Invitation, String) {
    let original = sample();
    let text = write_invitation(
        &original,
        &Method::Request,
        utc(2026, 11, 25, 8, 30),
        chrono_tz::Asia::Shanghai,
    );
    (original, text)
}

#[test]
fn written_invitations_read_back_the_same() {
    let (original, text) = sample_written();
    let read = read_one(&text, chrono_tz::Europe::Berlin);
    assert_eq!(
        read, original,
        "instants, texts (Chinese included) and attendees survive"
    );
    assert!(text.contains("\r\nMETHOD:REQUEST\r\n"));
    assert!(text.contains("\r\nX-WR-TIMEZONE:Asia/Shanghai\r\n"));
    assert!(text.contains("\r\nDTSTART:20261201T020000Z\r\n"));
}

#[test]
fn written_lines_are_folded_at_75_octets_on_character_boundaries() {
    let text = write_invitation(&sample(), &Method::Request, utc(2026, 1, 1, 0, 0), Tz::UTC);
    assert!(text.ends_with("\r\n"));
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "{line:?} is {} octets", line.len());
    }
    assert!(
        text.split("\r\n").any(|l| l.starts_with(' ')),
        "the long Chinese summary needed folding"
    );
}

#[test]
fn a_cancellation_is_written_cancelled() {
    let text = write_invitation(&sample(), &Method::Cancel, utc(2026, 1, 1, 0, 0), Tz::UTC);
    let read = read_one(&text, Tz::UTC);
    assert_eq!(read.method, Some(Method::Cancel));
    assert_eq!(read.status, Some(MeetingStatus::Cancelled));
}

#[test]
fn an_all_day_meeting_is_written_as_dates_of_the_organisers_zone() {
    let shanghai = chrono_tz::Asia::Shanghai;
    let original = Invitation {
        all_day: true,
        start: utc(2026, 9, 30, 16, 0),
        end: utc(2026, 10, 7, 16, 0),
        ..sample()
    };
    let text = write_invitation(
        &original,
        &Method::Request,
        utc(2026, 11, 25, 8, 30),
        shanghai,
    );
    assert!(
        text.contains("\r\nDTSTART;VALUE=DATE:20261001\r\n"),
        "{text}"
    );
    assert!(text.contains("\r\nDTEND;VALUE=DATE:20261008\r\n"));
    assert_eq!(read_one(&text, shanghai), original);
}

/// Edits that tend to break parsers: structure words, separators, quotes, folds, odd dates.
const TRICKY: &[&str] = &[
    ":",
    ";",
    ",",
    "\"",
    "=",
    "\\",
    "\r\n ",
    "\n",
    "\r",
    "BEGIN:VEVENT\n",
    "END:VEVENT\n",
    "END:VCALENDAR\n",
    "BEGIN:VTIMEZONE\n",
    ";TZID=",
    "Z",
    "T",
    "-",
    "P",
    "99991231T235959",
    "00000000T000000",
    "-P99999999W",
    "RRULE:FREQ=YEARLY;BYDAY=-5SU;BYMONTHDAY=-31\n",
    "^",
    "é",
    "会",
];

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,600}") {
        let _ = read_invitations(&text, Tz::UTC);
    }

    #[test]
    fn arbitrary_structure_never_panics(parts in prop::collection::vec(prop::sample::select(TRICKY), 0..80)) {
        let _ = read_invitations(&parts.concat(), Tz::UTC);
    }

    #[test]
    fn mutated_invitations_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0usize..3, prop::sample::select(TRICKY), 0usize..40), 1..8)
    ) {
        let base = format!(
            "{}{}",
            OUTLOOK_CHINA.trim_end_matches("END:VCALENDAR\r\n"),
            CUSTOM_EASTERN.replace('\n', "\r\n") + "\r\nEND:VCALENDAR\r\n"
        );
        let mut chars: Vec<char> = base.chars().collect();
        for (at, kind, insert, length) in edits {
            let at = at.index(chars.len() + 1);
            match kind {
                0 => {
                    let end = (at + length).min(chars.len());
                    chars.drain(at..end);
                }
                1 => {
                    chars.splice(at..at, insert.chars());
                }
                _ => {
                    let end = (at + length).min(chars.len());
                    let copy: Vec<char> = chars[at..end].to_vec();
                    chars.splice(at..at, copy);
                }
            }
        }
        let text: String = chars.into_iter().collect();
        let _ = read_invitations(&text, Tz::UTC);
    }

    #[test]
    fn any_texts_survive_a_round_trip(
        summary in "[^\\p{Cc}]{0,120}",
        description in "[^\\p{Cc}]{0,40}(\n[^\\p{Cc}]{0,40}){0,3}",
        name in "[^\\p{Cc}]{1,40}",
    ) {
        let mut original = sample();
        original.summary = Some(summary);
        original.description = Some(description);
        original.attendees[0].person.name = Some(name.trim().to_string()).filter(|n| !n.is_empty());
        let text = write_invitation(&original, &Method::Request, utc(2026, 11, 25, 8, 30), Tz::UTC);
        prop_assert_eq!(read_one(&text, Tz::UTC), original);
    }
}

#[test]
fn a_stray_broken_line_is_skipped_but_blamed_when_the_event_lacks_what_it_needs() {
    let stray = event("DTSTART:20261201T020000Z\nX-APPLE-RADIUS=49.9");
    assert_eq!(
        read_one(&stray, Tz::UTC).start,
        utc(2026, 12, 1, 2, 0),
        "calendar programs ignore a line they cannot read; so do we"
    );
    let trailing = format!("{}X-COMMENT:cached\r\n", event("DTSTART:20261201T020000Z"));
    assert_eq!(read_invitations(&trailing, Tz::UTC).unwrap().len(), 1);
    assert_eq!(
        read_invitations(
            &event("DTSTART;TZID=Asia/Shanghai 20261201T100000"),
            Tz::UTC
        )
        .unwrap_err(),
        IcsError::MalformedLine {
            line: 7,
            reason: "no ':' before the property value".into()
        },
        "the broken DTSTART line is named, not just 'no DTSTART'"
    );
    assert_eq!(
        read_invitations(&calendar("BEGIN:VEVENT\nEND VEVENT"), Tz::UTC)
            .unwrap_err()
            .code(),
        "malformed_line",
        "a broken END is never skipped: the structure after it is unknowable"
    );
}

#[test]
fn a_dial_in_conference_is_not_the_online_link() {
    let text = event(
        "DTSTART:20261201T020000Z\nCONFERENCE;VALUE=URI;FEATURE=PHONE:tel:+1-412-555-0123\n\
         CONFERENCE;VALUE=URI;FEATURE=VIDEO:https://chat.example.com/audio?id=123456",
    );
    assert_eq!(
        read_one(&text, Tz::UTC).url.as_deref(),
        Some("https://chat.example.com/audio?id=123456")
    );
}

#[test]
fn written_invitations_also_read_in_another_parser() {
    use icalendar::{CalendarDateTime, Component as _, DatePerhapsTime, EventLike as _};

    let (original, text) = sample_written();
    let calendar: icalendar::Calendar = text.parse().expect("the icalendar crate reads it");
    let events: Vec<_> = calendar.events().collect();
    assert_eq!(events.len(), 1);
    let event = events[0];
    assert_eq!(event.get_summary(), original.summary.as_deref());
    assert_eq!(event.get_description(), original.description.as_deref());
    assert_eq!(event.get_location(), original.location.as_deref());
    assert_eq!(event.get_url(), original.url.as_deref());
    assert_eq!(event.get_sequence(), Some(3));
    assert_eq!(event.get_timestamp(), Some(utc(2026, 11, 25, 8, 30)));
    assert_eq!(
        event.get_start(),
        Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(
            original.start
        )))
    );
    assert_eq!(
        event.get_end(),
        Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(
            original.end
        )))
    );
    let attendees: Vec<icalendar::Attendee> = event.multi_properties()["ATTENDEE"]
        .iter()
        .map(|p| icalendar::Attendee::try_from(p).expect("an attendee"))
        .collect();
    assert_eq!(attendees.len(), 2);
    assert_eq!(
        event.multi_properties()["ATTENDEE"][0].value(),
        "mailto:li.na@example.com"
    );
}
