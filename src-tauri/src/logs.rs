//! The desktop's log (S5): a rolling file per day in the platform's log directory, the last
//! week kept, beside standard error; and "Report a problem", which bundles the person's
//! description with the recent log into one text file they can send to support.

use std::io::Write;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use countersign_client::{ClientError, ClientErrorCode};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

const FILE_PREFIX: &str = "countersign";
const KEEP_DAYS: usize = 7;
/// How much of the log a report carries: the recent past, not the whole week.
const REPORT_LOG_BYTES: usize = 512 * 1024;

/// When the process started, as near as the app can tell (the first thing `run` does): on
/// the monotonic clock for durations, and on the wall clock to place the web page's own
/// times (which count from when the page began loading) on the same line.
static STARTED: std::sync::OnceLock<(std::time::Instant, std::time::SystemTime)> =
    std::sync::OnceLock::new();

pub fn mark_start() {
    let _ = STARTED.set((std::time::Instant::now(), std::time::SystemTime::now()));
}

/// Milliseconds since [`mark_start`], for the log lines of the start's steps.
pub fn since_start_ms() -> u128 {
    STARTED.get().map_or(0, |(at, _)| at.elapsed().as_millis())
}

/// The steps of the web page's start, in milliseconds since the page began loading
/// (`performance.now()`), and when that was (`performance.timeOrigin`, milliseconds since
/// the Unix epoch). Logged with the first paint, so that a slow cold start says which step
/// took the time: loading the page, the script, the core's first answers, the first list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, specta::Type)]
pub struct StartMarks {
    pub page_origin: Option<f64>,
    /// The script bundle was loaded and began to run.
    pub script: Option<f64>,
    pub preferences: Option<f64>,
    pub session: Option<f64>,
    /// The inbox's first page was asked for, and answered.
    pub list_sent: Option<f64>,
    pub list_answered: Option<f64>,
    /// React committed the answer to the page (rows or the empty state), before layout.
    pub rendered: Option<f64>,
    /// The browser computed its style and layout (fonts found and text shaped), before paint.
    pub laid_out: Option<f64>,
    /// The browser painted the answer (two animation frames after it was rendered).
    pub painted: Option<f64>,
}

/// Logs the UI's first paint of `screen` with the milliseconds since [`mark_start`], and the
/// page's start steps on the same clock. Once per screen name is the UI's business; a name is
/// cut to 40 characters, it is only a label.
pub fn first_paint(screen: &str, marks: &StartMarks) {
    let screen: String = screen
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(40)
        .collect();
    let since_start_ms = since_start_ms();
    let page_ms = STARTED.get().and_then(|(_, wall)| {
        let wall_ms = wall
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        marks.page_origin.map(|origin| origin - wall_ms)
    });
    // Each step in whole milliseconds since the process started (none when the page's
    // clock could not be placed, or the step did not happen).
    let at = |step: Option<f64>| -> Option<i64> {
        // Rounded milliseconds of a start: far inside i64.
        #[allow(clippy::cast_possible_truncation)]
        page_ms
            .zip(step)
            .map(|(page, step)| (page + step).round() as i64)
    };
    tracing::info!(
        %screen,
        since_start_ms,
        page_ms = at(Some(0.0)),
        script_ms = at(marks.script),
        preferences_ms = at(marks.preferences),
        session_ms = at(marks.session),
        list_sent_ms = at(marks.list_sent),
        list_answered_ms = at(marks.list_answered),
        rendered_ms = at(marks.rendered),
        laid_out_ms = at(marks.laid_out),
        painted_ms = at(marks.painted),
        "first paint"
    );
}

/// The log directory: `COUNTERSIGN_LOG_DIR` when set (tests), else the platform's.
pub fn dir(app: &AppHandle) -> Option<PathBuf> {
    std::env::var_os("COUNTERSIGN_LOG_DIR")
        .map(PathBuf::from)
        .or_else(|| app.path().app_log_dir().ok())
}

/// Starts logging to standard error and, when the directory can be made, to the rolling
/// file. Called once, first thing in setup.
pub fn init(app: &AppHandle) {
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
    };
    let file = dir(app).and_then(|dir| {
        std::fs::create_dir_all(&dir).ok()?;
        tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix(FILE_PREFIX)
            .filename_suffix("log")
            .max_log_files(KEEP_DAYS)
            .build(&dir)
            .ok()
    });
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter());
    let file = file.map(|appender| {
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(appender)
            .with_filter(filter())
    });
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(file)
        .try_init();
}

/// Where a problem report was written.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct ProblemReport {
    pub path: String,
    /// How much of the log it carries.
    pub log_bytes: u32,
}

/// Writes `<log dir>/reports/problem-<time>.txt`: the description, the app and system, and
/// the newest part of the log.
pub fn report_problem(
    app: &AppHandle,
    description: &str,
    now: DateTime<Utc>,
) -> Result<ProblemReport, ClientError> {
    let description = description.trim();
    if description.is_empty() {
        return Err(ClientError::new(
            ClientErrorCode::InvalidInput,
            "Describe what happened first: what you did and what you expected.",
        ));
    }
    let dir = dir(app).ok_or_else(|| {
        ClientError::settings("This system has no log directory to write the report to.")
    })?;
    let log = recent_log(&dir, REPORT_LOG_BYTES);
    let reports = dir.join("reports");
    let path = reports.join(format!("problem-{}.txt", now.format("%Y%m%d-%H%M%S")));
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(&reports)?;
        let mut file = std::fs::File::create(&path)?;
        writeln!(file, "Countersign problem report")?;
        writeln!(file, "Written: {}", now.to_rfc3339())?;
        writeln!(
            file,
            "App: {} (Tauri {}), {} {}",
            env!("CARGO_PKG_VERSION"),
            tauri::VERSION,
            std::env::consts::OS,
            std::env::consts::ARCH
        )?;
        writeln!(file, "\nWhat happened:\n{description}\n")?;
        writeln!(file, "Recent log:\n{log}")?;
        file.sync_all()
    };
    write().map_err(|e| {
        ClientError::settings(format!(
            "The report could not be written to {}: {e}",
            path.display()
        ))
    })?;
    tracing::info!(path = %path.display(), "problem report written");
    Ok(ProblemReport {
        path: path.display().to_string(),
        log_bytes: u32::try_from(log.len()).unwrap_or(u32::MAX),
    })
}

/// The last `limit` bytes of the log files, oldest file first, cut at a line start.
fn recent_log(dir: &std::path::Path, limit: usize) -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(FILE_PREFIX) && n.ends_with(".log"))
        })
        .collect();
    // Daily files are named by date, so their names sort in time order.
    files.sort();
    let mut text = String::new();
    for file in files {
        if let Ok(content) = std::fs::read(&file) {
            text.push_str(&String::from_utf8_lossy(&content));
        }
    }
    if text.len() <= limit {
        return text;
    }
    let mut start = text.len() - limit;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    match text[start..].find('\n') {
        Some(newline) => text[start + newline + 1..].to_owned(),
        None => text[start..].to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_carries_the_newest_log_lines_whole() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("countersign.2026-11-29.log"),
            "old line one\nold line two\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("countersign.2026-11-30.log"),
            "new line one\nnew line two\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("other.txt"), "not a log\n").unwrap();
        let all = recent_log(dir.path(), 10_000);
        assert_eq!(
            all, "old line one\nold line two\nnew line one\nnew line two\n",
            "files in date order, nothing that is not a log"
        );
        let tail = recent_log(dir.path(), 20);
        assert_eq!(
            tail, "new line two\n",
            "cut at a line start within the limit"
        );
    }
}
