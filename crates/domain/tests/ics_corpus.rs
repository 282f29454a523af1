//! Real-world invitations nobody here wrote (issue 7): every `.ics` in the test calendars of
//! the Python `icalendar` package's sdist is imported. Valid ones must read correctly, broken
//! ones must be refused with a clear error, none may panic.
//!
//! The files are another project's, so they are not in this repository:
//! `scripts/fetch-ics-corpus.sh` downloads the pinned sdist, checks its hash and extracts them
//! into a cache outside the clone. This test runs the script when the cache is missing rather
//! than skip (the project's rule: a test fetches what it needs).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, TimeZone, Utc};
use countersign_domain::ics::{IcsError, Invitation, read_invitations};

fn corpus_dir() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/fetch-ics-corpus.sh");
    let output = Command::new("bash")
        .arg(&script)
        .output()
        .expect("bash runs the fetch script");
    assert!(
        output.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("the script prints a path");
    PathBuf::from(
        stdout
            .lines()
            .last()
            .expect("the script prints the corpus folder")
            .trim(),
    )
}

fn ics_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("the corpus folder is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            ics_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "ics") {
            found.push(path);
        }
    }
}

type Outcome = Result<Vec<Invitation>, IcsError>;

/// Every file's outcome, by its path under the corpus folder (`calendars/example.ics`).
fn import_corpus() -> BTreeMap<String, Outcome> {
    let dir = corpus_dir();
    let mut files = Vec::new();
    ics_files(&dir, &mut files);
    files.sort();
    let mut outcomes = BTreeMap::new();
    let mut panics = Vec::new();
    for file in files {
        let name = file
            .strip_prefix(&dir)
            .expect("under the corpus folder")
            .to_string_lossy()
            .replace('\\', "/");
        let bytes = std::fs::read(&file).expect("a corpus file is readable");
        // Every file of this version is UTF-8; a lossy read keeps the test honest if not.
        let text = String::from_utf8_lossy(&bytes);
        match catch_unwind(AssertUnwindSafe(|| {
            read_invitations(&text, chrono_tz::Asia::Shanghai)
        })) {
            Ok(outcome) => {
                outcomes.insert(name, outcome);
            }
            Err(_) => panics.push(name),
        }
    }
    assert!(panics.is_empty(), "reading panicked on {panics:?}");
    outcomes
}

/// Files of the pinned icalendar 7.3.2 test suite that are refused, and with which code.
/// Every other file must be read. Checked by hand against each file; a change either way
/// (a valid file newly refused, a broken one newly accepted) fails the test.
const EXPECTED_REFUSALS: &[(&str, &str)] = &[
    // Fragments, not calendar files: a bare VEVENT, VALARM, VTIMEZONE, VTODO, ... with no
    // VCALENDAR around it (the suite feeds them to component parsers), or a component whose
    // name is garbage on purpose (issue_178, the lone-CR fuzz case).
    ("alarms/example.ics", "no_calendar"),
    ("alarms/rfc_5545_absolute_alarm_example.ics", "no_calendar"),
    ("alarms/rfc_5545_end.ics", "no_calendar"),
    ("alarms/start_date.ics", "no_calendar"),
    ("availabilities/rfc_7953_1.ics", "no_calendar"),
    ("availabilities/rfc_7953_2.ics", "no_calendar"),
    (
        "calendars/fuzz_testcase_vtimezone_lone_cr.ics",
        "no_calendar",
    ),
    (
        "calendars/issue_178_component_with_invalid_name_represented.ics",
        "no_calendar",
    ),
    (
        "calendars/issue_178_custom_component_contains_other.ics",
        "no_calendar",
    ),
    ("calendars/issue_82_expected_output.ics", "no_calendar"),
    ("events/event_with_escaped_character1.ics", "no_calendar"),
    ("events/event_with_escaped_character2.ics", "no_calendar"),
    ("events/event_with_escaped_character3.ics", "no_calendar"),
    ("events/event_with_escaped_character4.ics", "no_calendar"),
    ("events/event_with_escaped_characters.ics", "no_calendar"),
    ("events/event_with_recurrence.ics", "no_calendar"),
    (
        "events/event_with_recurrence_exdates_on_different_lines.ics",
        "no_calendar",
    ),
    ("events/event_with_rsvp.ics", "no_calendar"),
    ("events/event_with_unicode_fields.ics", "no_calendar"),
    ("events/event_with_unicode_organizer.ics", "no_calendar"),
    (
        "events/issue_100_transformed_doctests_into_unittests.ics",
        "no_calendar",
    ),
    (
        "events/issue_101_icalendar_chokes_on_umlauts_in_organizer.ics",
        "no_calendar",
    ),
    ("events/issue_104_mark_events_broken.ics", "no_calendar"),
    (
        "events/issue_112_missing_tzinfo_on_exdate.ics",
        "no_calendar",
    ),
    ("events/issue_156_RDATE_with_PERIOD.ics", "no_calendar"),
    ("events/issue_156_RDATE_with_PERIOD_list.ics", "no_calendar"),
    (
        "events/issue_157_removes_trailing_semicolon.ics",
        "no_calendar",
    ),
    (
        "events/issue_184_broken_representation_of_period.ics",
        "no_calendar",
    ),
    ("events/issue_355_url_escaping.ics", "no_calendar"),
    ("events/issue_355_url_escaping_2.ics", "no_calendar"),
    (
        "events/issue_355_url_escaping_empty_param.ics",
        "no_calendar",
    ),
    ("events/issue_464_invalid_rdate.ics", "no_calendar"),
    (
        "events/issue_53_description_parsed_properly.ics",
        "no_calendar",
    ),
    (
        "events/issue_64_event_with_ascii_summary.ics",
        "no_calendar",
    ),
    (
        "events/issue_64_event_with_non_ascii_summary.ics",
        "no_calendar",
    ),
    (
        "events/issue_70_rrule_causes_attribute_error.ics",
        "no_calendar",
    ),
    ("events/issue_82_expected_output.ics", "no_calendar"),
    ("events/rfc_7265_example_4.ics", "no_calendar"),
    ("events/rfc_7265_request_status.ics", "no_calendar"),
    ("events/rfc_9074_example_1.ics", "no_calendar"),
    ("events/rfc_9074_example_2.ics", "no_calendar"),
    ("events/rfc_9074_example_3.ics", "no_calendar"),
    ("events/rfc_9074_example_4.ics", "no_calendar"),
    ("events/rfc_9074_example_proximity.ics", "no_calendar"),
    ("freebusy/example.ics", "no_calendar"),
    ("journals/example.ics", "no_calendar"),
    ("timezones/issue_237_brazilia_standard.ics", "no_calendar"),
    ("timezones/issue_53_tzid_parsed_properly.ics", "no_calendar"),
    (
        "timezones/issue_55_parse_error_on_utc_offset_with_seconds.ics",
        "no_calendar",
    ),
    ("timezones/pacific_fiji.ics", "no_calendar"),
    ("todos/example.ics", "no_calendar"),
    // Calendars with no meeting in them: empty, time zones only, free/busy, to-dos,
    // availability, or RFC 7986 calendar properties alone.
    ("calendars/bom_calendar.ics", "no_event"),
    ("calendars/calendar_with_unicode.ics", "no_event"),
    ("calendars/empty.ics", "no_event"),
    ("calendars/empty_RDATE.ics", "no_event"),
    ("calendars/issue_1050_empty_calendar.ics", "no_event"),
    (
        "calendars/issue_1050_timezone_only_calendar.ics",
        "no_event",
    ),
    (
        "calendars/issue_1081_freebusy_comma_separated.ics",
        "no_event",
    ),
    ("calendars/issue_1238.ics", "no_event"),
    ("calendars/issue_1633_freebusy_with_dates.ics", "no_event"),
    (
        "calendars/issue_178_custom_component_inside_other.ics",
        "no_event",
    ),
    (
        "calendars/issue_27_multiple_periods_in_freebusy_multiple_freebusies.ics",
        "no_event",
    ),
    (
        "calendars/issue_27_multiple_periods_in_freebusy_one_freebusy.ics",
        "no_event",
    ),
    ("calendars/issue_798_freebusy.ics", "no_event"),
    ("calendars/parsing_error_in_UTC_offset.ics", "no_event"),
    ("calendars/rfc_7265_example_1.ics", "no_event"),
    ("calendars/rfc_7953_3.ics", "no_event"),
    ("calendars/rfc_7986_properties.ics", "no_event"),
    ("calendars/time.ics", "no_event"),
    // Events without what RFC 5545 requires of a VEVENT: a UID (without one an update or a
    // cancellation could never find the meeting) or a DTSTART (RFC examples that show only
    // the property under discussion).
    (
        "calendars/created_calendar_with_unicode_fields.ics",
        "missing_property",
    ),
    (
        "calendars/issue_104_broken_calendar.ics",
        "missing_property",
    ),
    (
        "calendars/issue_1050_multiple_calendars.ics",
        "missing_property",
    ),
    (
        "calendars/issue_1050_uid_in_description.ics",
        "missing_property",
    ),
    ("calendars/issue_1081_with_summary.ics", "missing_property"),
    (
        "calendars/issue_1549_binary_attachment.ics",
        "missing_property",
    ),
    ("calendars/issue_1561_image_value.ics", "missing_property"),
    (
        "calendars/issue_156_RDATE_with_PERIOD_TZID_khal.ics",
        "missing_property",
    ),
    ("calendars/issue_165_missing_event.ics", "missing_property"),
    (
        "calendars/issue_237_fail_to_parse_timezone_with_non_ascii_tzid.ics",
        "missing_property",
    ),
    (
        "calendars/issue_322_expected_calendar.ics",
        "missing_property",
    ),
    (
        "calendars/issue_722_missing_VTIMEZONE_custom.ics",
        "missing_property",
    ),
    (
        "calendars/issue_722_missing_timezones.ics",
        "missing_property",
    ),
    ("calendars/issue_798_related_to.ics", "missing_property"),
    ("calendars/parsing_error.ics", "missing_property"),
    ("calendars/rfc_5545_RDATE_example.ics", "missing_property"),
    ("calendars/rfc_6868.ics", "missing_property"),
    (
        "calendars/rfc_7256_multi_value_parameters.ics",
        "missing_property",
    ),
    ("calendars/rfc_7986_conferences.ics", "missing_property"),
    ("calendars/rfc_7986_image.ics", "missing_property"),
    ("calendars/rfc_9253_gap.ics", "missing_property"),
    ("calendars/rfc_9253_related_to.ics", "missing_property"),
    // Broken on purpose: DTSTART:INVALID-DATE, a DURATION of 10^18 weeks.
    ("calendars/broken_dtstart.ics", "invalid_date"),
    (
        "calendars/issue_1081_invalid_start_and_end.ics",
        "invalid_date",
    ),
    (
        "calendars/issue_1081_invalid_start_valid_end.ics",
        "invalid_date",
    ),
    ("calendars/invalid_duration.ics", "invalid_duration"),
    // Truncated or garbled structure: no END:VCALENDAR, `END:VCALENDARD`, fuzzer output.
    ("calendars/big_bad_calendar.ics", "unclosed_component"),
    (
        "calendars/fuzz_testcase_0_char_in_component_name.ics",
        "unclosed_component",
    ),
    (
        "calendars/fuzz_testcase_invalid_month.ics",
        "unclosed_component",
    ),
    (
        "calendars/pr_480_summary_with_colon.ics",
        "unclosed_component",
    ),
    ("calendars/small_bad_calendar.ics", "unclosed_component"),
    (
        "calendars/timezone_same_start_and_offset.ics",
        "mismatched_end",
    ),
    // TZID="Western/Central Europe" with no VTIMEZONE: no reader can know its offset.
    (
        "calendars/issue_526_calendar_with_different_events.ics",
        "unknown_zone",
    ),
    (
        "calendars/issue_526_calendar_with_event_subset.ics",
        "unknown_zone",
    ),
    (
        "calendars/issue_526_calendar_with_events.ics",
        "unknown_zone",
    ),
    (
        "calendars/issue_526_calendar_with_shuffeled_events.ics",
        "unknown_zone",
    ),
];

#[test]
fn ics_corpus_every_file_is_read_or_refused_as_expected() {
    let outcomes = import_corpus();
    let mut by_code: BTreeMap<&str, usize> = BTreeMap::new();
    let mut refused = BTreeMap::new();
    let mut invitations = 0;
    for (name, outcome) in &outcomes {
        match outcome {
            Ok(read) => invitations += read.len(),
            Err(error) => {
                *by_code.entry(error.code()).or_default() += 1;
                println!("refused {name}: {error}");
                refused.insert(name.as_str(), error.code());
            }
        }
    }
    let read = outcomes.len() - refused.len();
    println!(
        "ics corpus: {} files, {read} read ({invitations} invitations), {} refused {by_code:?}",
        outcomes.len(),
        refused.len()
    );
    assert_eq!(
        outcomes.len(),
        163,
        "the pinned sdist holds 163 test calendars; a different count means a different corpus"
    );
    let expected: BTreeMap<&str, &str> = EXPECTED_REFUSALS.iter().copied().collect();
    assert_eq!(
        refused, expected,
        "the refused files and their codes are exactly the ones judged broken or not a meeting"
    );
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

/// `(file, event index, start, end, TZID as written, all day)`.
type Case = (
    &'static str,
    usize,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<&'static str>,
    bool,
);

/// The files that matter (zones above all), each worked out by hand from
/// the file. The corpus is read in Asia/Shanghai (UTC+8), so floating and all-day values show.
#[test]
fn ics_corpus_files_that_matter_read_to_the_right_instants() {
    let outcomes = import_corpus();
    let cases: Vec<Case> = vec![
        // Exchange 2010, Windows zone name: 17:00 EDT (DST until 3 Nov 2024) = 21:00 UTC.
        (
            "calendars/issue_836_do_not_quote_tzid.ics",
            0,
            utc(2024, 10, 28, 21, 0),
            utc(2024, 10, 28, 22, 0),
            Some("Eastern Standard Time"),
            false,
        ),
        // Quoted Windows name: 12:00 PST = 20:00 UTC.
        (
            "calendars/timezone_same_start.ics",
            0,
            utc(2017, 2, 24, 20, 0),
            utc(2017, 2, 24, 20, 30),
            Some("Pacific Standard Time"),
            false,
        ),
        // VTIMEZONE only (custom name), US rules with UNTIL: 08:00 EDT = 12:00 UTC.
        (
            "calendars/america_new_york.ics",
            0,
            utc(2014, 8, 29, 12, 0),
            utc(2014, 8, 29, 14, 0),
            Some("custom_America/New_York"),
            false,
        ),
        // VTIMEZONE with BYMONTHDAY+BYDAY rules: Fiji in August 2014 is on standard +12.
        (
            "calendars/pacific_fiji.ics",
            0,
            utc(2014, 8, 28, 20, 0),
            utc(2014, 8, 28, 20, 0),
            Some("custom_Pacific/Fiji"),
            false,
        ),
        // A fixed +11 zone defined in the file: 23:00 = 12:00 UTC.
        (
            "calendars/issue_218_bad_tzid.ics",
            0,
            utc(2017, 2, 28, 12, 0),
            utc(2017, 2, 28, 12, 30),
            Some("UTC+11"),
            false,
        ),
        // VTIMEZONE with RDATEs and COUNT: Vaduz in February is CET (+1).
        (
            "calendars/timezone_rdate.ics",
            0,
            utc(2012, 2, 13, 9, 0),
            utc(2012, 2, 13, 9, 0),
            Some("posix/Europe/Vaduz"),
            false,
        ),
        // A zone going +12 → +10 at 08:00: winter, summer, just after, and the repeated hour
        // (RFC 5545: the first occurrence, still +12).
        (
            "calendars/issue_722_timezone_transition_ambiguity.ics",
            0,
            utc(2024, 3, 2, 20, 0),
            utc(2024, 3, 2, 20, 0),
            Some("MyTimezone"),
            false,
        ),
        (
            "calendars/issue_722_timezone_transition_ambiguity.ics",
            1,
            utc(2024, 8, 2, 22, 0),
            utc(2024, 8, 2, 22, 0),
            Some("MyTimezone"),
            false,
        ),
        (
            "calendars/issue_722_timezone_transition_ambiguity.ics",
            3,
            utc(2024, 5, 4, 19, 0) + chrono::Duration::seconds(1),
            utc(2024, 5, 4, 19, 0) + chrono::Duration::seconds(1),
            Some("MyTimezone"),
            false,
        ),
        // Globally unique TZIDs of Evolution and Lightning end in an IANA name.
        (
            "calendars/issue_313_globally_unique_tzid.ics",
            0,
            utc(2020, 4, 26, 12, 0),
            utc(2020, 4, 26, 13, 0),
            Some("/freeassociation.sourceforge.net/Europe/Berlin"),
            false,
        ),
        (
            "calendars/issue_313_globally_unique_tzid.ics",
            1,
            utc(2020, 4, 26, 18, 0),
            utc(2020, 4, 26, 19, 0),
            Some("/mozilla.org/20070129_1/America/New_York"),
            false,
        ),
        (
            "calendars/issue_313_globally_unique_tzid.ics",
            2,
            utc(2020, 4, 26, 17, 0),
            utc(2020, 4, 26, 18, 0),
            Some("/freeassociation.sourceforge.net/Tzfile/America/Argentina/Buenos_Aires"),
            false,
        ),
        // IANA TZID just after the spring change: 10:20 CEST = 08:20 UTC.
        (
            "calendars/issue_321_assert_dst_offset_is_not_false.ics",
            0,
            utc(2020, 4, 3, 8, 20),
            utc(2020, 4, 3, 9, 30),
            Some("Europe/Berlin"),
            false,
        ),
        // UTC, with broken lines in a VFREEBUSY beside the event (skipped, as Outlook does).
        (
            "calendars/issue_348_exception_parsing_value.ics",
            0,
            utc(2019, 6, 24, 6, 30),
            utc(2019, 6, 24, 16, 30),
            None,
            false,
        ),
        // DURATION:PT1H instead of DTEND, in US/Eastern (an IANA link): 12:00 EST = 17:00 UTC.
        (
            "calendars/rfc_7265_appendix_example_2_ical.ics",
            0,
            utc(2006, 1, 2, 17, 0),
            utc(2006, 1, 2, 18, 0),
            Some("US/Eastern"),
            false,
        ),
        (
            "calendars/rfc_7265_appendix_example_2_ical.ics",
            1,
            utc(2006, 1, 4, 19, 0),
            utc(2006, 1, 4, 20, 0),
            Some("US/Eastern"),
            false,
        ),
        // All day: 14 August 2012 in the reader's zone (midnight +8 = 16:00 UTC the day before).
        (
            "calendars/property_params.ics",
            0,
            utc(2012, 8, 13, 16, 0),
            utc(2012, 8, 14, 16, 0),
            None,
            true,
        ),
        // A DATE without VALUE=DATE and without DTEND: one day.
        (
            "calendars/rfc_7265_appendix_example_1_ical.ics",
            0,
            utc(2008, 10, 5, 16, 0),
            utc(2008, 10, 6, 16, 0),
            None,
            true,
        ),
    ];
    for (file, index, start, end, zone, all_day) in cases {
        let read = match outcomes.get(file) {
            Some(Ok(read)) => read,
            other => panic!("{file} should be read, got {other:?}"),
        };
        let invitation = &read[index];
        assert_eq!(
            (
                invitation.start,
                invitation.end,
                invitation.time_zone.as_deref(),
                invitation.all_day
            ),
            (start, end, zone, all_day),
            "{file} event {index}"
        );
    }
    let recurring = &outcomes["calendars/rfc_7265_appendix_example_2_ical.ics"]
        .as_ref()
        .unwrap()[1];
    assert_eq!(
        recurring.recurrence_id,
        Some(utc(2006, 1, 4, 17, 0)),
        "the moved occurrence names the 12:00 EST one it replaces"
    );
}
