//! The offline cache: one SQLite file per (server, account) holding what the server last
//! said (requests with their timelines, open tasks, templates, the people directory, the sync
//! cursor) beside the person's own work (drafts, the outbox) and the record of what was
//! already notified.
//!
//! Server records are stored as the server sent them; the person's pending changes are never
//! written over them but overlaid when reading (the inbox leaves out a task whose decision is
//! queued), so a refused change "rolls back" by simply being answered. A server update to a
//! request with a change in flight is held back until that change is answered (PowerSync's
//! rule), then applied.
//!
//! Every write is one transaction with `synchronous = FULL` in WAL mode: when a call returns,
//! its change survives a killed process and a power cut. A file that is not a database, fails
//! its integrity check (the person's own tables at every open, the whole file once a day in
//! the background, see [`Cache::check_whole`]), or was written by a newer app is moved aside
//! and rebuilt; the drafts and unsent outbox entries readable in it are carried over first.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{DateTime, Utc};
use countersign_api::attachments::AttachmentInfo;
use countersign_api::directory::{DepartmentEntry, PersonEntry};
use countersign_api::meetings::{MeetingReceipt, MeetingView};
use countersign_api::requests::{RequestView, TemplateView};
use countersign_api::sync::{Change, ChangeOp, EntityKind, MutationResult, MutationStatus};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use uuid::Uuid;

use crate::error::{ClientError, ClientErrorCode, Result};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// What happened to a cache file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovery {
    /// Where the unusable file now is.
    pub moved_to: PathBuf,
    /// Why it could not be used.
    pub reason: String,
    pub drafts_salvaged: usize,
    pub outbox_salvaged: usize,
}

impl Recovery {
    /// The message a person sees once.
    pub fn message(&self) -> String {
        format!(
            "The offline cache was damaged ({}) and has been rebuilt; the old file is kept at {}. \
             {} draft(s) and {} unsent action(s) were recovered; everything else comes back \
             with the next sync.",
            self.reason,
            self.moved_to.display(),
            self.drafts_salvaged,
            self.outbox_salvaged
        )
    }
}

/// A draft request (D6): a template version and the form as typed so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftRecord {
    pub id: Uuid,
    pub template_id: String,
    pub template_version: u32,
    pub title: Option<String>,
    pub form: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The request id it was queued for submission as, until the server answers.
    pub submitted_as: Option<Uuid>,
    /// The returned request this draft corrects: submitting it resubmits that request.
    pub resubmits: Option<Uuid>,
}

/// A file attached on this device or downloaded to it (see `0003_attachments.sql`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub id: Uuid,
    pub name: String,
    pub size: u64,
    pub content_type: String,
    /// The copy's folder under the account's attachments folder.
    pub dir: String,
    /// The server's reference, once the file is there.
    pub server: Option<AttachmentInfo>,
    pub created_at: DateTime<Utc>,
}

/// Where an outbox entry stands.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Not answered yet (perhaps sent, answer lost): will be sent (again) — the server
    /// answers a repeat with its first answer.
    Pending,
    Applied,
    Refused,
}

impl OutboxState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Applied => "applied",
            Self::Refused => "refused",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "applied" => Self::Applied,
            "refused" => Self::Refused,
            _ => Self::Pending,
        }
    }
}

/// One mutation in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub id: Uuid,
    /// `submit_request` or `act_on_request`.
    pub kind: String,
    /// The request it is about.
    pub request_id: Uuid,
    /// For decisions on a task: which task.
    pub task: Option<u32>,
    /// The engine action's kind (`approve`, `comment`, …), or `submit`.
    pub action: String,
    pub base_version: Option<u64>,
    /// The mutation's payload as sent.
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub state: OutboxState,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Why the last attempt did not get an answer (offline, server error).
    pub last_error: Option<String>,
    /// The server's answer, once there is one.
    pub answer: Option<MutationResult>,
    pub answered_at: Option<DateTime<Utc>>,
}

/// A meeting as cached: the server's view and this device's note of its opening.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedMeeting {
    pub view: MeetingView,
    pub opened_at: Option<DateTime<Utc>>,
}

/// An open task of the signed-in person, as the inbox lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxRow {
    pub request: RequestView,
    pub task: u32,
    pub opened_at: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
    pub overdue: bool,
}

/// A person or a department as a picker lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryRow {
    pub id: Uuid,
    pub name: String,
    /// A person's department name; a department's code.
    pub detail: Option<String>,
    /// False for people who left or were disabled; departments are always active.
    pub active: bool,
}

/// The columns of a [`DirectoryRow`] for a person `p`, with their department's name.
const PERSON_ROW: &str = "SELECT p.id, p.display_name, json_extract(d.body, '$.name'), \
     coalesce(json_extract(p.body, '$.active'), 1) AS active FROM people p \
     LEFT JOIN departments d ON d.id = json_extract(p.body, '$.department_id')";

/// The columns of a [`DirectoryRow`] for a department `d`.
const DEPARTMENT_ROW: &str = "SELECT d.id, json_extract(d.body, '$.name'), \
     json_extract(d.body, '$.code'), 1 FROM departments d";

/// What a list of requests or tasks is narrowed to. Every part is optional; all that are
/// given must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListFilter {
    /// Words from the title or the form's text, or part of the initiator's name.
    pub search: Option<String>,
    pub template_id: Option<String>,
    /// Request statuses (`in_progress`, `approved`, …); any when empty.
    pub statuses: Vec<String>,
    /// Tasks only: open past their due time at `now`, or flagged overdue by the server.
    pub overdue_at: Option<DateTime<Utc>>,
    /// Tasks only: not overdue at the first instant, but due before the second.
    pub due_between: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// What a [`ListFilter`] narrows: the inbox's tasks (`t`, with their requests as `r` where
/// joined) or a person's requests (`r`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rows {
    /// Tasks found from the matching requests (by the `(assignee, request_row)` index).
    Tasks,
    /// Tasks read in the inbox's order from the assignee index, each tested against the
    /// matches (`+` keeps SQLite from driving the query by the matches instead).
    TasksInOrder,
    Requests,
}

impl ListFilter {
    fn search_text(&self) -> Option<&str> {
        self.search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// Appends ` AND …` for each part. Tasks are narrowed by what they carry (their request's
    /// row id and template) so that counting them needs no request row; only a status filter
    /// reads `r`. A search reads the matches [`keep_matches`] kept on the statement's
    /// connection.
    fn push_where(&self, q: &mut sqlx::QueryBuilder<sqlx::Sqlite>, rows: Rows) {
        if self.search_text().is_some() {
            // The matching requests were found first, as row ids from the full-text index
            // and the initiator index, and the list is probed by them: a search touches the
            // few matching rows (and tasks carry their request's row id, so not even those
            // requests' rows), not every task or request of the person.
            q.push(match rows {
                Rows::Tasks => " AND t.request_row IN temp.search_matches",
                Rows::TasksInOrder => " AND +t.request_row IN temp.search_matches",
                Rows::Requests => " AND r.rowid IN temp.search_matches",
            });
        }
        if let Some(template) = &self.template_id {
            q.push(match rows {
                Rows::Tasks | Rows::TasksInOrder => " AND t.template_id = ",
                Rows::Requests => " AND r.template_id = ",
            });
            q.push_bind(template.clone());
        }
        if !self.statuses.is_empty() {
            q.push(" AND r.status IN (");
            let mut list = q.separated(", ");
            for status in &self.statuses {
                list.push_bind(status.clone());
            }
            q.push(")");
        }
        if let Some(now) = self.overdue_at {
            q.push(" AND (t.overdue = 1 OR t.due_at < ");
            q.push_bind(now.to_rfc3339());
            q.push(")");
        }
        if let Some((from, until)) = self.due_between {
            q.push(" AND t.overdue = 0 AND t.due_at >= ");
            q.push_bind(from.to_rfc3339());
            q.push(" AND t.due_at < ");
            q.push_bind(until.to_rfc3339());
        }
    }
}

/// The inbox's order over the task columns of `alias`: oldest first, ties in a fixed order
/// (the assignee index carries it whole, so a page is read, not sorted).
fn inbox_order(alias: &str, newest_first: bool) -> String {
    let dir = if newest_first { " DESC" } else { "" };
    format!(" ORDER BY {alias}.opened_at{dir}, {alias}.request_id{dir}, {alias}.task_no{dir}")
}

/// Finds the requests `search` matches and keeps their row ids in the connection's temporary
/// table `search_matches` (emptied first), for the statements that follow on the same
/// connection: a list's count and its page then read them instead of searching twice. Each
/// pooled connection has its own temporary tables, so lists read at the same time do not
/// share them.
///
/// A connection that searched keeps 8 MiB of pages rather than SQLite's 2: a search matching
/// thousands of requests probes the task index all over (≈ 5 MB at 100k tasks), and reading
/// it from the file again on every keystroke doubled a search's time. It also keeps its
/// temporary tables in memory, so the kept matches never touch the disk. Both only on the
/// connections that searched: on every connection, the in-memory temporary store held a
/// sync's statement journals whole (the 100k first download's peak went 54 → 85 MiB; a pooled
/// connection that searched still does, for the small syncs after it). Setting
/// `temp_store` to the value it has is a no-op; the first time, no temporary table exists yet.
async fn keep_matches(conn: &mut sqlx::SqliteConnection, search: &str) -> sqlx::Result<()> {
    sqlx::raw_sql(
        "PRAGMA cache_size = -8192; PRAGMA temp_store = MEMORY; \
         CREATE TEMP TABLE IF NOT EXISTS search_matches (row INTEGER PRIMARY KEY); \
         DELETE FROM temp.search_matches",
    )
    .execute(&mut *conn)
    .await?;
    let mut q =
        sqlx::QueryBuilder::<sqlx::Sqlite>::new("INSERT OR IGNORE INTO temp.search_matches (row) ");
    push_matches(&mut q, search);
    q.build().execute(&mut *conn).await?;
    Ok(())
}

/// Appends the `SELECT` of the row ids of the requests `search` matches, some more than
/// once (the kept table's key keeps each once, where a `UNION` would sort them all first).
fn push_matches(q: &mut sqlx::QueryBuilder<sqlx::Sqlite>, search: &str) {
    q.push("SELECT rowid FROM request_search WHERE request_search MATCH ");
    if search.chars().count() >= 3 {
        q.push_bind(fts_phrase(search));
    } else {
        // The trigram index has no term shorter than three characters: one or two (a
        // two-character Chinese word, say) match any of the indexed trigrams that start
        // with them, listed by the index's vocabulary. None is a phrase that matches
        // nothing.
        let folded = search.to_lowercase();
        q.push(
            "(SELECT coalesce(group_concat('\"' || replace(term, '\"', '\"\"') || '\"', \
             ' OR '), '\"\"') FROM request_search_terms WHERE term >= ",
        );
        q.push_bind(folded.clone());
        q.push(" AND term < ");
        q.push_bind(format!("{folded}{}", char::MAX));
        q.push(")");
    }
    let like = format!("%{}%", escape_like(search));
    q.push(
        " UNION ALL SELECT rowid FROM requests WHERE initiator IN \
         (SELECT id FROM people WHERE display_name LIKE ",
    );
    q.push_bind(like.clone());
    q.push(" ESCAPE '\\' OR username LIKE ");
    q.push_bind(like);
    q.push(" ESCAPE '\\')");
}

/// Text typed by a person as one full-text phrase: every character literal.
fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// `%` and `_` typed by a person are literal characters, not wildcards.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub struct Cache {
    pool: SqlitePool,
    path: PathBuf,
}

/// Why opening failed: the file is unusable (rebuild it) or the place is (say so).
enum OpenError {
    Unusable(String),
    Other(ClientError),
}

impl Cache {
    /// Opens (creating, migrating or, when unusable, rebuilding) the cache at `path`.
    pub async fn open(path: &Path) -> Result<(Self, Option<Recovery>)> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io_error(path, &e))?;
        }
        match Self::try_open(path).await {
            Ok(cache) => Ok((cache, None)),
            Err(OpenError::Other(err)) => Err(err),
            Err(OpenError::Unusable(reason)) => {
                tracing::warn!(path = %path.display(), %reason, "offline cache unusable; rebuilding");
                let Salvaged {
                    drafts,
                    outbox,
                    files,
                } = salvage(path).await;
                let moved_to = move_aside(path)?;
                let cache = match Self::try_open(path).await {
                    Ok(c) => c,
                    Err(OpenError::Other(e)) => return Err(e),
                    Err(OpenError::Unusable(why)) => {
                        return Err(cache_error(path, format!("a new cache is unusable: {why}")));
                    }
                };
                let mut drafts_salvaged = 0;
                for d in &drafts {
                    if cache.save_draft(d).await.is_ok() {
                        drafts_salvaged += 1;
                    }
                }
                // The files first: a salvaged draft names them, and its copies are still in
                // the attachments folder.
                for f in &files {
                    if let Err(err) = cache.insert_file(f).await {
                        tracing::warn!(file = %f.id, error = %err, "file record not salvaged");
                    }
                }
                let mut outbox_salvaged = 0;
                for e in &outbox {
                    if cache.enqueue(e).await.is_ok() {
                        outbox_salvaged += 1;
                    }
                }
                Ok((
                    cache,
                    Some(Recovery {
                        moved_to,
                        reason,
                        drafts_salvaged,
                        outbox_salvaged,
                    }),
                ))
            }
        }
    }

    async fn try_open(path: &Path) -> std::result::Result<Self, OpenError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            // A local file's connection does not go stale; the default ping before each use
            // is one more round trip to the connection's thread for every list and search.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|e| classify(path, e))?;
        match MIGRATOR.run(&pool).await {
            Ok(()) => {}
            Err(sqlx::migrate::MigrateError::VersionMissing(v)) => {
                pool.close().await;
                return Err(OpenError::Unusable(format!(
                    "written by a newer version of Countersign (schema {v})"
                )));
            }
            Err(sqlx::migrate::MigrateError::Execute(e)) => {
                pool.close().await;
                return Err(classify(path, e));
            }
            Err(e) => {
                pool.close().await;
                return Err(OpenError::Unusable(format!("cannot migrate: {e}")));
            }
        }
        // A whole-file check found damage in an earlier run: rebuild now.
        if let Ok(reason) = std::fs::read_to_string(damage_marker(path)) {
            pool.close().await;
            return Err(OpenError::Unusable(reason));
        }
        // Opening checks what only this device holds (drafts, the outbox, their files, the
        // cursor and what was notified); the whole file, mostly server data that a full sync
        // brings back, is checked off the start path by `check_whole` (at 100k cached
        // requests a whole check took 1–4 s, which the window waited for).
        for check in OWN_WORK_CHECKS {
            if let Some(damage) = quick_check(&pool, check)
                .await
                .map_err(|e| classify(path, e))?
            {
                pool.close().await;
                return Err(OpenError::Unusable(format!("integrity check: {damage}")));
            }
        }
        Ok(Self {
            pool,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks the whole file (SQLite's quick check). Damage is written beside the file, so
    /// that the next open moves it aside and rebuilds it, keeping the person's own work, and
    /// is returned to be told; `None` when the file is sound.
    pub async fn check_whole(&self) -> Result<Option<String>> {
        let damage = match quick_check(&self.pool, WHOLE_CHECK).await {
            Ok(damage) => damage,
            // A page too damaged to read is damage too, not a failure to check.
            Err(e) => match classify(&self.path, e) {
                OpenError::Unusable(why) => Some(why),
                OpenError::Other(err) => return Err(err),
            },
        };
        if let Some(damage) = &damage {
            let reason = format!("integrity check: {damage}");
            std::fs::write(damage_marker(&self.path), &reason)
                .map_err(|e| io_error(&damage_marker(&self.path), &e))?;
            tracing::error!(path = %self.path.display(), %reason, "offline cache damaged; rebuilt at the next start");
        }
        Ok(damage)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    fn err(&self, e: sqlx::Error) -> ClientError {
        match classify(&self.path, e) {
            OpenError::Other(err) => err,
            OpenError::Unusable(why) => cache_error(&self.path, why),
        }
    }

    // -- meta --

    pub async fn meta(&self, key: &str) -> Result<Option<String>> {
        self.entry_get(Entries::Meta, key).await
    }

    /// A moment kept in `meta` (the last sync, the last whole-file check); `None` when never
    /// kept or unreadable.
    pub async fn meta_time(&self, key: &str) -> Result<Option<DateTime<Utc>>> {
        Ok(self
            .meta(key)
            .await?
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc)))
    }

    pub async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.entry_set(Entries::Meta, key, value).await
    }

    async fn entry_get(&self, table: Entries, key: &str) -> Result<Option<String>> {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM {} WHERE key = $1",
            table.column(),
            table.name()
        )))
        .bind(key)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.err(e))
    }

    async fn entry_set(&self, table: Entries, key: &str, value: &str) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(|e| self.err(e))?;
        set_entry_in(&mut tx, table, key, value)
            .await
            .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))
    }

    pub async fn cursor(&self) -> Result<Option<String>> {
        self.meta("cursor").await
    }

    // -- server data --

    /// Applies one page of changes and moves the cursor past it, atomically: a killed
    /// process resumes at the page it had not finished.
    pub async fn apply_page(&self, changes: &[Change], cursor: &str) -> Result<()> {
        self.apply_page_noting(changes, Some(cursor), &KeptNotes::default())
            .await
    }

    /// [`Cache::apply_page`], storing the notification record that reflects the page in the
    /// same transaction: a page is never applied without its notifications being recorded,
    /// nor recorded without being applied. Without a cursor the page's records are stored
    /// and the cursor stays where it was (the page will be pulled again).
    pub async fn apply_page_noting(
        &self,
        changes: &[Change],
        cursor: Option<&str>,
        notes: &KeptNotes,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(|e| self.err(e))?;
        keep_notes_in(&mut tx, notes)
            .await
            .map_err(|e| self.err(e))?;
        apply_changes(&mut tx, changes)
            .await
            .map_err(|e| self.err(e))?;
        if let Some(cursor) = cursor {
            set_meta_in(&mut tx, "cursor", cursor)
                .await
                .map_err(|e| self.err(e))?;
        }
        tx.commit().await.map_err(|e| self.err(e))
    }

    /// Replaces every server record with a full download, atomically, keeping drafts, the
    /// outbox and the notification record (a resync).
    pub async fn replace_all(
        &self,
        changes: &[Change],
        cursor: &str,
        notes: &KeptNotes,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(|e| self.err(e))?;
        keep_notes_in(&mut tx, notes)
            .await
            .map_err(|e| self.err(e))?;
        for table in [
            "tasks",
            "requests",
            "held",
            "templates",
            "people",
            "departments",
            "meetings",
        ] {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
                .execute(&mut *tx)
                .await
                .map_err(|e| self.err(e))?;
        }
        apply_changes(&mut tx, changes)
            .await
            .map_err(|e| self.err(e))?;
        set_meta_in(&mut tx, "cursor", cursor)
            .await
            .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))
    }

    /// Whether any request is cached (a first download into an empty cache has no earlier
    /// copy of anything to compare with).
    pub async fn holds_requests(&self) -> Result<bool> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM requests)")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.err(e))
    }

    pub async fn request(&self, id: Uuid) -> Result<Option<RequestView>> {
        let body: Option<String> = sqlx::query_scalar("SELECT body FROM requests WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        body.map(|b| self.decode(&b)).transpose()
    }

    /// The person's own requests, most recently changed first.
    pub async fn requests_of(&self, person: Uuid, limit: i64) -> Result<Vec<RequestView>> {
        let bodies: Vec<String> = sqlx::query_scalar(
            "SELECT body FROM requests WHERE initiator = $1 ORDER BY updated_at DESC LIMIT $2",
        )
        .bind(person.to_string())
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        bodies.iter().map(|b| self.decode(b)).collect()
    }

    /// The person's open tasks, oldest first, without those whose decision is queued here.
    pub async fn inbox(&self, person: Uuid, limit: i64) -> Result<Vec<InboxRow>> {
        let (rows, _) = self
            .inbox_page(person, &ListFilter::default(), false, 0, limit, None)
            .await?;
        Ok(rows)
    }

    /// The person's open task on one request (the oldest, if several), not counting one
    /// already decided and waiting in the outbox: what a decision acts on. By the primary
    /// key, so deciding costs the same with 100k tasks as with ten.
    pub async fn my_open_task(&self, person: Uuid, request_id: Uuid) -> Result<Option<u32>> {
        let task: Option<i64> = sqlx::query_scalar(
            "SELECT t.task_no FROM tasks t WHERE t.request_id = $1 AND t.assignee = $2 \
             AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.entity_id = t.request_id \
             AND o.task_no = t.task_no AND o.state = 'pending') \
             ORDER BY t.opened_at, t.task_no LIMIT 1",
        )
        .bind(request_id.to_string())
        .bind(person.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        Ok(task.and_then(|t| u32::try_from(t).ok()))
    }

    /// One connection for a list's count and its page, with the matches of the filter's
    /// search kept on it (see [`keep_matches`]): a search is done once per list, not twice.
    async fn list_connection(
        &self,
        filter: &ListFilter,
    ) -> Result<sqlx::pool::PoolConnection<sqlx::Sqlite>> {
        let mut conn = self.pool.acquire().await.map_err(|e| self.err(e))?;
        if let Some(search) = filter.search_text() {
            keep_matches(&mut conn, search)
                .await
                .map_err(|e| self.err(e))?;
        }
        Ok(conn)
    }

    /// One page of the person's open tasks, oldest first, as filtered; with how many match
    /// in all. Answered by SQL over indexes so that it stays instant with 100k tasks: only
    /// the rows of the page are read and decoded. `open_by_template`, when the caller has
    /// just read [`Cache::inbox_templates`], spares counting the person's tasks again.
    pub async fn inbox_page(
        &self,
        person: Uuid,
        filter: &ListFilter,
        newest_first: bool,
        offset: i64,
        limit: i64,
        open_by_template: Option<&[(String, i64)]>,
    ) -> Result<(Vec<InboxRow>, i64)> {
        let searching = filter.search_text().is_some();
        let mut conn = self.list_connection(filter).await?;
        let page = |select: &str, join_requests: bool, rows: Rows| {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(select);
            q.push(" FROM tasks t");
            // When the matching requests drive the query, SQLite is told to probe the
            // person's tasks by them rather than walk all of them in the inbox's order.
            if rows == Rows::Tasks && searching {
                q.push(" INDEXED BY tasks_by_assignee_request_row");
            }
            if join_requests {
                q.push(" JOIN requests r ON r.id = t.request_id");
            }
            q.push(" WHERE t.assignee = ");
            q.push_bind(person.to_string());
            q.push(
                " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.entity_id = t.request_id \
                 AND o.task_no = t.task_no AND o.state = 'pending')",
            );
            filter.push_where(&mut q, rows);
            q
        };
        let by_status = !filter.statuses.is_empty();
        let total: i64 = if !by_status {
            self.open_task_count(&mut conn, person, filter, open_by_template)
                .await?
        } else {
            page("SELECT count(*)", by_status, Rows::Tasks)
                .build_query_scalar()
                .fetch_one(&mut *conn)
                .await
                .map_err(|e| self.err(e))?
        };
        if total <= offset {
            return Ok((Vec::new(), total));
        }
        // A search with many matches is cut from the inbox's order, testing each task
        // against the matches, rather than by sorting all the matches: expected rows read
        // (offset + limit) × open / matches, against sorting every match.
        let open: Option<i64> = open_by_template.map(|c| c.iter().map(|(_, n)| n).sum());
        let rows = if searching
            && open.is_some_and(|open| {
                (offset + limit).saturating_mul(open) < total.saturating_mul(total)
            }) {
            Rows::TasksInOrder
        } else {
            Rows::Tasks
        };
        // The page's keys are cut first and only its rows' request bodies are read: sorting
        // keys, not every match's body.
        let mut q = page(
            "SELECT r.body, p.task_no, p.opened_at, p.due_at, p.overdue FROM (\
             SELECT t.request_id, t.task_no, t.opened_at, t.due_at, t.overdue",
            by_status,
            rows,
        );
        q.push(inbox_order("t", newest_first));
        q.push(" LIMIT ");
        q.push_bind(limit);
        q.push(" OFFSET ");
        q.push_bind(offset);
        q.push(") p JOIN requests r ON r.id = p.request_id");
        q.push(inbox_order("p", newest_first));
        let rows = q
            .build()
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| self.err(e))?;
        let rows = rows
            .iter()
            .map(|row| {
                let body: String = row.get(0);
                Ok(InboxRow {
                    request: self.decode(&body)?,
                    task: u32::try_from(row.get::<i64, _>(1)).unwrap_or(0),
                    opened_at: parse_time(row.get::<String, _>(2).as_str()),
                    due_at: row
                        .get::<Option<String>, _>(3)
                        .map(|t| parse_time(t.as_str())),
                    overdue: row.get::<i64, _>(4) != 0,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((rows, total))
    }

    /// How many open tasks of the person wait, as filtered by what a task carries itself
    /// (template, due time, its request's row id for a search), less those the person
    /// already decided here (in the outbox): counted from the tasks' indexes without reading
    /// a request, so that the inbox's total costs the same with 20 or 20,000 tasks waiting.
    /// A search's matches are those kept on `conn` by [`keep_matches`].
    async fn open_task_count(
        &self,
        conn: &mut sqlx::SqliteConnection,
        person: Uuid,
        filter: &ListFilter,
        open_by_template: Option<&[(String, i64)]>,
    ) -> Result<i64> {
        let narrowed = |select: &str, from: &str| {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(select);
            q.push(from);
            q.push(" WHERE t.assignee = ");
            q.push_bind(person.to_string());
            if let Some(template) = &filter.template_id {
                q.push(" AND t.template_id = ");
                q.push_bind(template.clone());
            }
            ListFilter {
                search: filter.search.clone(),
                overdue_at: filter.overdue_at,
                due_between: filter.due_between,
                ..ListFilter::default()
            }
            .push_where(&mut q, Rows::Tasks);
            q
        };
        let counted = open_by_template
            .filter(|_| {
                filter.search_text().is_none()
                    && filter.overdue_at.is_none()
                    && filter.due_between.is_none()
            })
            .map(|counts| {
                counts
                    .iter()
                    .filter(|(t, _)| filter.template_id.as_ref().is_none_or(|f| f == t))
                    .map(|(_, n)| n)
                    .sum::<i64>()
            });
        let all: i64 = match counted {
            Some(all) => all,
            None => narrowed("SELECT count(*)", " FROM tasks t")
                .build_query_scalar()
                .fetch_one(&mut *conn)
                .await
                .map_err(|e| self.err(e))?,
        };
        let decided: i64 = narrowed(
            "SELECT count(*)",
            " FROM outbox o JOIN tasks t ON t.request_id = o.entity_id \
             AND t.task_no = o.task_no AND o.state = 'pending'",
        )
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| self.err(e))?;
        Ok(all - decided)
    }

    /// How many open tasks of the person each template has (the inbox's template filter).
    pub async fn inbox_templates(&self, person: Uuid) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT template_id, open FROM inbox_counts WHERE assignee = $1 \
             ORDER BY template_id",
        )
        .bind(person.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// One page of the person's own requests, most recently changed first, as filtered; with
    /// how many match in all.
    pub async fn requests_of_page(
        &self,
        person: Uuid,
        filter: &ListFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<RequestView>, i64)> {
        let mut conn = self.list_connection(filter).await?;
        let page = |select: &str| {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(select);
            q.push(" FROM requests r WHERE r.initiator = ");
            q.push_bind(person.to_string());
            filter.push_where(&mut q, Rows::Requests);
            q
        };
        let total: i64 = page("SELECT count(*)")
            .build_query_scalar()
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| self.err(e))?;
        let mut q = page("SELECT r.body");
        q.push(" ORDER BY r.updated_at DESC, r.id LIMIT ");
        q.push_bind(limit);
        q.push(" OFFSET ");
        q.push_bind(offset);
        let bodies: Vec<String> = q
            .build_query_scalar()
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| self.err(e))?;
        let views = bodies
            .iter()
            .map(|b| self.decode(b))
            .collect::<Result<Vec<_>>>()?;
        Ok((views, total))
    }

    /// Every template version, by id and version.
    pub async fn templates(&self) -> Result<Vec<TemplateView>> {
        let bodies: Vec<String> =
            sqlx::query_scalar("SELECT body FROM templates ORDER BY id, version")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| self.err(e))?;
        bodies.iter().map(|b| self.decode(b)).collect()
    }

    /// A template version, or the highest version not retired.
    pub async fn template(&self, id: &str, version: Option<u32>) -> Result<Option<TemplateView>> {
        let body: Option<String> = match version {
            Some(v) => {
                sqlx::query_scalar("SELECT body FROM templates WHERE id = $1 AND version = $2")
                    .bind(id)
                    .bind(i64::from(v))
                    .fetch_optional(&self.pool)
                    .await
            }
            None => {
                sqlx::query_scalar(
                    "SELECT body FROM templates WHERE id = $1 AND retired = 0 \
                 ORDER BY version DESC LIMIT 1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await
            }
        }
        .map_err(|e| self.err(e))?;
        body.map(|b| self.decode(&b)).transpose()
    }

    pub async fn people(&self) -> Result<Vec<PersonEntry>> {
        let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM people ORDER BY username")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        bodies.iter().map(|b| self.decode(b)).collect()
    }

    pub async fn person(&self, id: Uuid) -> Result<Option<PersonEntry>> {
        let body: Option<String> = sqlx::query_scalar("SELECT body FROM people WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        body.map(|b| self.decode(&b)).transpose()
    }

    pub async fn person_by_username(&self, username: &str) -> Result<Option<PersonEntry>> {
        let body: Option<String> =
            sqlx::query_scalar("SELECT body FROM people WHERE username = $1")
                .bind(username)
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| self.err(e))?;
        body.map(|b| self.decode(&b)).transpose()
    }

    pub async fn departments(&self) -> Result<Vec<DepartmentEntry>> {
        let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM departments")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        bodies.iter().map(|b| self.decode(b)).collect()
    }

    /// People whose name or user name holds `text`, for a picker: those still here first,
    /// then those whose name starts with it, then by name. Departed people are listed (and
    /// marked by `active`) so that a form about them still finds them.
    pub async fn search_people(&self, text: &str, limit: i64) -> Result<Vec<DirectoryRow>> {
        let columns = ["p.display_name", "p.username"];
        let order = ("active DESC, ", "p.display_name, p.username");
        self.search_directory(PERSON_ROW, columns, order, text, limit)
            .await
    }

    /// Departments whose name or code holds `text`, those whose name or code starts with it
    /// first, then by name.
    pub async fn search_departments(&self, text: &str, limit: i64) -> Result<Vec<DirectoryRow>> {
        let columns = [
            "json_extract(d.body, '$.name')",
            "json_extract(d.body, '$.code')",
        ];
        let order = ("", "json_extract(d.body, '$.name'), d.id");
        self.search_directory(DEPARTMENT_ROW, columns, order, text, limit)
            .await
    }

    /// Rows of `select` where either column holds `text` (`%` and `_` taken literally),
    /// ordered by `order.0`, then those where a column starts with it, then by `order.1`.
    async fn search_directory(
        &self,
        select: &str,
        columns: [&str; 2],
        order: (&str, &str),
        text: &str,
        limit: i64,
    ) -> Result<Vec<DirectoryRow>> {
        let text = text.trim();
        let anywhere = format!("%{}%", escape_like(text));
        let starting = format!("{}%", escape_like(text));
        let [first, second] = columns;
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(select);
        q.push(format!(" WHERE {first} LIKE "));
        q.push_bind(anywhere.clone());
        q.push(format!(" ESCAPE '\\' OR {second} LIKE "));
        q.push_bind(anywhere);
        q.push(format!(" ESCAPE '\\' ORDER BY {}({first} LIKE ", order.0));
        q.push_bind(starting.clone());
        q.push(format!(" ESCAPE '\\' OR {second} LIKE "));
        q.push_bind(starting);
        q.push(format!(" ESCAPE '\\') DESC, {} LIMIT ", order.1));
        q.push_bind(limit);
        self.directory_rows(q).await
    }

    /// The people among `ids`, in no particular order; ids the directory does not know are
    /// left out.
    pub async fn people_by_id(&self, ids: &[Uuid]) -> Result<Vec<DirectoryRow>> {
        self.directory_by_id(PERSON_ROW, "p.id", ids).await
    }

    /// The departments among `ids`, as [`Cache::people_by_id`].
    pub async fn departments_by_id(&self, ids: &[Uuid]) -> Result<Vec<DirectoryRow>> {
        self.directory_by_id(DEPARTMENT_ROW, "d.id", ids).await
    }

    async fn directory_by_id(
        &self,
        select: &'static str,
        column: &'static str,
        ids: &[Uuid],
    ) -> Result<Vec<DirectoryRow>> {
        let mut rows = Vec::new();
        // Well under SQLite's limit on bound values per statement.
        for chunk in ids.chunks(500) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(select);
            q.push(" WHERE ");
            q.push(column);
            q.push(" IN (");
            let mut list = q.separated(", ");
            for id in chunk {
                list.push_bind(id.to_string());
            }
            q.push(")");
            rows.extend(self.directory_rows(q).await?);
        }
        Ok(rows)
    }

    async fn directory_rows(
        &self,
        mut q: sqlx::QueryBuilder<sqlx::Sqlite>,
    ) -> Result<Vec<DirectoryRow>> {
        let rows = q
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| {
                Ok(DirectoryRow {
                    id: parse_uuid(r.try_get::<String, _>(0)?.as_str())?,
                    name: r.try_get::<Option<String>, _>(1)?.unwrap_or_default(),
                    detail: r.try_get(2)?,
                    active: r.try_get::<Option<i64>, _>(3)?.unwrap_or(1) != 0,
                })
            })
            .collect::<sqlx::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }

    // -- drafts --

    /// Inserts or replaces a draft; durable when this returns.
    pub async fn save_draft(&self, d: &DraftRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO drafts (id, template_id, template_version, title, form, created_at, \
             updated_at, submitted_as, resubmits) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (id) DO UPDATE SET title = excluded.title, form = excluded.form, \
             updated_at = excluded.updated_at, submitted_as = excluded.submitted_as",
        )
        .bind(d.id.to_string())
        .bind(&d.template_id)
        .bind(i64::from(d.template_version))
        .bind(&d.title)
        .bind(d.form.to_string())
        .bind(d.created_at.to_rfc3339())
        .bind(d.updated_at.to_rfc3339())
        .bind(d.submitted_as.map(|u| u.to_string()))
        .bind(d.resubmits.map(|u| u.to_string()))
        .execute(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub async fn drafts(&self) -> Result<Vec<DraftRecord>> {
        let rows = sqlx::query(
            "SELECT id, template_id, template_version, title, form, created_at, updated_at, \
             submitted_as, resubmits FROM drafts ORDER BY updated_at DESC",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| draft_of(r).map_err(|e| self.err(e)))
            .collect()
    }

    pub async fn draft(&self, id: Uuid) -> Result<Option<DraftRecord>> {
        let row = sqlx::query(
            "SELECT id, template_id, template_version, title, form, created_at, updated_at, \
             submitted_as, resubmits FROM drafts WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        row.as_ref()
            .map(|r| draft_of(r).map_err(|e| self.err(e)))
            .transpose()
    }

    /// The draft on this device that corrects returned request `request`, if any.
    pub async fn draft_resubmitting(&self, request: Uuid) -> Result<Option<Uuid>> {
        let id: Option<String> = sqlx::query_scalar("SELECT id FROM drafts WHERE resubmits = $1")
            .bind(request.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        id.map(|i| parse_uuid(&i).map_err(|e| self.err(e)))
            .transpose()
    }

    /// Deletes a draft; false when there was none.
    pub async fn delete_draft(&self, id: Uuid) -> Result<bool> {
        let done = sqlx::query("DELETE FROM drafts WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        Ok(done.rows_affected() > 0)
    }

    /// Queues a draft's submission: the mutation and the draft's mark in one transaction.
    pub async fn queue_submission(&self, draft: Uuid, entry: &OutboxEntry) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(|e| self.err(e))?;
        insert_outbox(&mut tx, entry)
            .await
            .map_err(|e| self.err(e))?;
        sqlx::query("UPDATE drafts SET submitted_as = $1 WHERE id = $2")
            .bind(entry.request_id.to_string())
            .bind(draft.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))
    }

    // -- outbox --

    pub async fn enqueue(&self, entry: &OutboxEntry) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(|e| self.err(e))?;
        insert_outbox(&mut tx, entry)
            .await
            .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))
    }

    /// Every outbox entry in order (answered ones included, for the status view).
    pub async fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        self.outbox_where("1 = 1", None).await
    }

    /// Unanswered entries in order, `limit` at most: what to send next.
    pub async fn pending(&self, limit: i64) -> Result<Vec<OutboxEntry>> {
        self.outbox_where("state = 'pending'", Some(limit)).await
    }

    async fn outbox_where(&self, filter: &str, limit: Option<i64>) -> Result<Vec<OutboxEntry>> {
        let sql = format!(
            "SELECT id, kind, entity_id, task_no, action, base_version, payload, created_at, \
             state, attempts, next_attempt_at, last_error, answer, answered_at \
             FROM outbox WHERE {filter} ORDER BY seq LIMIT {}",
            limit.unwrap_or(i64::MAX)
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| outbox_of(r).map_err(|e| self.err(e)))
            .collect()
    }

    /// Notes a failed attempt at sending `ids` and when to try again.
    pub async fn record_attempt_failed(
        &self,
        ids: &[Uuid],
        error: &str,
        next_attempt_at: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(|e| self.err(e))?;
        for id in ids {
            sqlx::query(
                "UPDATE outbox SET attempts = attempts + 1, last_error = $1, \
                 next_attempt_at = $2 WHERE id = $3 AND state = 'pending'",
            )
            .bind(error)
            .bind(next_attempt_at.to_rfc3339())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| self.err(e))?;
        }
        tx.commit().await.map_err(|e| self.err(e))
    }

    /// Records the server's answer to one mutation: applied (its record becomes the cache's
    /// truth), refused (nothing to undo: the server's truth was never overwritten) — then
    /// releases whatever server update was held for that request.
    pub async fn record_answer(&self, result: &MutationResult, now: DateTime<Utc>) -> Result<()> {
        let status = match result.status {
            MutationStatus::Duplicate => result.original.unwrap_or(MutationStatus::Applied),
            other => other,
        };
        let state = match status {
            MutationStatus::Refused => OutboxState::Refused,
            _ => OutboxState::Applied,
        };
        let mut tx = self.pool.begin().await.map_err(|e| self.err(e))?;
        let entity: Option<String> = sqlx::query_scalar(
            "UPDATE outbox SET state = $1, answer = $2, answered_at = $3, last_error = NULL \
             WHERE id = $4 RETURNING entity_id",
        )
        .bind(state.as_str())
        .bind(serde_json::to_string(result).unwrap_or_default())
        .bind(now.to_rfc3339())
        .bind(result.id.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| self.err(e))?;
        let Some(entity) = entity else {
            // An answer to something this cache no longer has (rebuilt meanwhile).
            return tx.commit().await.map_err(|e| self.err(e));
        };
        if let Some(meeting) = &result.meeting {
            apply_meeting(&mut tx, &meeting_change(meeting))
                .await
                .map_err(|e| self.err(e))?;
        }
        if let Some(view) = &result.entity {
            let change = Change {
                kind: EntityKind::Request,
                id: view.id.to_string(),
                version: view.version,
                op: ChangeOp::Upsert,
                data: serde_json::to_value(view).ok(),
            };
            apply_change(&mut tx, &change, false)
                .await
                .map_err(|e| self.err(e))?;
        }
        if state == OutboxState::Applied {
            sqlx::query("DELETE FROM drafts WHERE submitted_as = $1")
                .bind(&entity)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.err(e))?;
        } else {
            // The draft is the person's to correct and submit again.
            sqlx::query("UPDATE drafts SET submitted_as = NULL WHERE submitted_as = $1")
                .bind(&entity)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.err(e))?;
        }
        release_held(&mut tx, &entity)
            .await
            .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))
    }

    // -- attachments --

    pub async fn insert_file(&self, f: &FileRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO attachments (id, name, size, content_type, dir, server_id, server, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(f.id.to_string())
        .bind(&f.name)
        .bind(i64::try_from(f.size).unwrap_or(i64::MAX))
        .bind(&f.content_type)
        .bind(&f.dir)
        .bind(f.server.as_ref().map(|s| s.id.to_string()))
        .bind(
            f.server
                .as_ref()
                .and_then(|s| serde_json::to_string(s).ok()),
        )
        .bind(f.created_at.to_rfc3339())
        .execute(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The file with this local id, or else the one the server knows by this id.
    pub async fn file(&self, id: Uuid) -> Result<Option<FileRecord>> {
        let row = sqlx::query(
            "SELECT id, name, size, content_type, dir, server, created_at FROM attachments \
             WHERE id = $1 OR server_id = $1 ORDER BY id = $1 DESC LIMIT 1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        row.as_ref()
            .map(|r| file_of(r).map_err(|e| self.err(e)))
            .transpose()
    }

    /// Records the server's reference for an uploaded file; durable when this returns, so a
    /// later attempt substitutes it instead of uploading again.
    pub async fn set_uploaded(&self, id: Uuid, server: &AttachmentInfo) -> Result<()> {
        sqlx::query("UPDATE attachments SET server_id = $1, server = $2 WHERE id = $3")
            .bind(server.id.to_string())
            .bind(serde_json::to_string(server).unwrap_or_default())
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Forgets the file `id` unless something still needs it: a draft or an unsent
    /// submission naming it, or — once uploaded — a cached request (it is then that request's
    /// offline copy). Answers the forgotten record, whose copy the caller deletes.
    pub async fn forget_file_if_unused(&self, id: Uuid) -> Result<Option<FileRecord>> {
        let row = sqlx::query(
            "DELETE FROM attachments WHERE id = $1 \
             AND NOT EXISTS (SELECT 1 FROM drafts WHERE instr(form, $1) > 0) \
             AND NOT EXISTS (SELECT 1 FROM outbox WHERE state = 'pending' \
                             AND instr(payload, $1) > 0) \
             AND (server_id IS NULL OR NOT EXISTS \
                  (SELECT 1 FROM requests WHERE instr(body, attachments.server_id) > 0)) \
             RETURNING id, name, size, content_type, dir, server, created_at",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        row.as_ref()
            .map(|r| file_of(r).map_err(|e| self.err(e)))
            .transpose()
    }

    /// The body of a cached request whose form names attachment `id`, to learn its name.
    pub async fn request_naming(&self, id: Uuid) -> Result<Option<RequestView>> {
        let body: Option<String> =
            sqlx::query_scalar("SELECT body FROM requests WHERE instr(body, $1) > 0 LIMIT 1")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| self.err(e))?;
        body.map(|b| self.decode(&b)).transpose()
    }

    // -- meetings --

    /// One cached meeting with this device's note of when it was opened.
    pub async fn meeting(&self, id: Uuid) -> Result<Option<CachedMeeting>> {
        let row = sqlx::query("SELECT body, opened_at FROM meetings WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        row.map(|r| self.cached_meeting(&r)).transpose()
    }

    /// The name of meeting material `id`, from whichever cached meeting carries it.
    pub async fn material_name(&self, id: Uuid) -> Result<Option<String>> {
        sqlx::query_scalar(
            "SELECT json_extract(m.value, '$.name') FROM meetings, \
             json_each(meetings.body, '$.materials') AS m \
             WHERE json_extract(m.value, '$.id') = $1 LIMIT 1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.err(e))
    }

    /// Meetings that overlap `[from, to)`, by start.
    pub async fn meetings_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CachedMeeting>> {
        let rows = sqlx::query(
            "SELECT body, opened_at FROM meetings WHERE starts_at < $2 AND ends_at > $1 \
             ORDER BY starts_at, id",
        )
        .bind(utc_text(from))
        .bind(utc_text(to))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        rows.iter().map(|r| self.cached_meeting(r)).collect()
    }

    /// Every cached meeting (the reminder planner looks at all of them).
    pub async fn all_meetings(&self) -> Result<Vec<CachedMeeting>> {
        let rows = sqlx::query("SELECT body, opened_at FROM meetings ORDER BY starts_at, id")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        rows.iter().map(|r| self.cached_meeting(r)).collect()
    }

    fn cached_meeting(&self, r: &sqlx::sqlite::SqliteRow) -> Result<CachedMeeting> {
        let body: String = r.try_get("body").map_err(|e| self.err(e))?;
        let opened: Option<String> = r.try_get("opened_at").map_err(|e| self.err(e))?;
        Ok(CachedMeeting {
            view: self.decode(&body)?,
            opened_at: opened.as_deref().map(parse_time),
        })
    }

    /// Stores a meeting the server just answered with (one the person planned).
    pub async fn put_meeting(&self, view: &MeetingView) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(|e| self.err(e))?;
        apply_meeting(&mut tx, &meeting_change(view))
            .await
            .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))
    }

    /// Notes that the person opened the meeting at `now`, the first time only.
    pub async fn note_meeting_opened(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE meetings SET opened_at = $1 WHERE id = $2 AND opened_at IS NULL")
            .bind(now.to_rfc3339())
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Queues an answer and shows it on the cached meeting at once (the server's next copy
    /// replaces the guess), in one transaction.
    pub async fn queue_rsvp(&self, entry: &OutboxEntry, shown: &MeetingView) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(|e| self.err(e))?;
        sqlx::query("UPDATE meetings SET body = $1 WHERE id = $2")
            .bind(serde_json::to_string(shown).unwrap_or_default())
            .bind(shown.id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| self.err(e))?;
        insert_outbox(&mut tx, entry)
            .await
            .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))
    }

    /// The receipts owed: meetings where I am an invitee whose sequence was not acknowledged
    /// yet, or whose opening was not reported yet.
    pub async fn receipts_due(&self) -> Result<Vec<MeetingReceipt>> {
        let rows = sqlx::query(
            "SELECT id, sequence, opened_at FROM meetings \
             WHERE json_extract(body, '$.my_role') = 'invitee' \
             AND (sequence > acknowledged OR (opened_at IS NOT NULL AND opened_sent = 0)) \
             ORDER BY starts_at, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                let sequence: i64 = r.try_get("sequence")?;
                let opened: Option<String> = r.try_get("opened_at")?;
                Ok(MeetingReceipt {
                    meeting_id: parse_uuid(&id)?,
                    sequence: u64::try_from(sequence).unwrap_or(0),
                    opened_at: opened.as_deref().map(parse_time),
                })
            })
            .collect::<sqlx::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }

    /// Queues `entry` carrying `receipts` and marks them acknowledged, atomically: a receipt
    /// is queued once, and the outbox resends it until the server answers.
    pub async fn queue_receipts(
        &self,
        entry: &OutboxEntry,
        receipts: &[MeetingReceipt],
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(|e| self.err(e))?;
        for r in receipts {
            sqlx::query(
                "UPDATE meetings SET acknowledged = max(acknowledged, $1), \
                 opened_sent = opened_sent OR $2 WHERE id = $3",
            )
            .bind(i64::try_from(r.sequence).unwrap_or(i64::MAX))
            .bind(r.opened_at.is_some())
            .bind(r.meeting_id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| self.err(e))?;
        }
        insert_outbox(&mut tx, entry)
            .await
            .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))
    }

    // -- notification record --

    pub async fn notified(&self, key: &str) -> Result<Option<String>> {
        self.entry_get(Entries::Notified, key).await
    }

    /// Stores what the planner said, on its own (an answer to a mutation, a reminder).
    pub async fn keep_notes(&self, notes: &KeptNotes) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(|e| self.err(e))?;
        keep_notes_in(&mut tx, notes)
            .await
            .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))
    }

    /// The stored notes about `requests`, those there are, each as its JSON body.
    pub async fn request_notes(&self, requests: &[Uuid]) -> Result<Vec<(Uuid, String)>> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = requests.iter().map(Uuid::to_string).collect();
        let ids = serde_json::to_string(&ids).map_err(|e| ClientError::internal(e.to_string()))?;
        // One statement for a page's 500 requests: a key lookup each.
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT request, body FROM request_notes \
             WHERE request IN (SELECT value FROM json_each($1))",
        )
        .bind(ids)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        Ok(notes_by_request(rows))
    }

    /// Whether a first download is under way (its cursor is kept page by page).
    pub async fn catching_up(&self) -> Result<bool> {
        Ok(self.meta(CATCHING_UP).await?.is_some())
    }

    /// What the catch-up under way holds back: how many subjects, how many of them overdue,
    /// and, when they are at most `few`, the requests they are about.
    pub async fn held_back(&self, few: usize) -> Result<(usize, usize, Vec<Uuid>)> {
        let (count, overdue): (i64, i64) = sqlx::query_as(
            "SELECT coalesce(sum(held_back), 0), coalesce(sum(held_back_overdue), 0) \
             FROM request_notes WHERE held_back > 0",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        let count = usize::try_from(count).unwrap_or(0);
        let overdue = usize::try_from(overdue).unwrap_or(0);
        if count > few {
            return Ok((count, overdue, Vec::new()));
        }
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT request FROM request_notes WHERE held_back > 0")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| self.err(e))?;
        Ok((
            count,
            overdue,
            ids.iter().filter_map(|id| id.parse().ok()).collect(),
        ))
    }

    /// Every stored request's notes (a resync plans every request at once).
    pub async fn all_request_notes(&self) -> Result<Vec<(Uuid, String)>> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT request, body FROM request_notes")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        Ok(notes_by_request(rows))
    }

    fn decode<T: serde::de::DeserializeOwned>(&self, body: &str) -> Result<T> {
        serde_json::from_str(body)
            .map_err(|e| cache_error(&self.path, format!("a cached record cannot be read: {e}")))
    }
}

type Tx<'c> = sqlx::Transaction<'c, sqlx::Sqlite>;

/// The `notified` key of the notification planner's record.
pub const NOTIFICATION_RECORD: &str = "record";

/// What a sync keeps of the notification planner's record, written in the transaction of the
/// changes it reflects: a change is never applied without its notifications being recorded,
/// nor recorded without being applied.
#[derive(Debug, Default)]
pub struct KeptNotes {
    /// The record's body without the per-request notes; `None` leaves the stored one.
    pub record: Option<String>,
    /// The notes of the requests planned, each replacing the stored row.
    pub requests: Vec<NotesRow>,
    /// A first download starts (`Some(true)`, with its first page) or ends (`Some(false)`):
    /// its end forgets what every row holds back before the rows above are written.
    pub catching_up: Option<bool>,
}

/// One request's notes as stored: the JSON body, and how many subjects it holds back (and
/// how many of those are overdue) for the catch-up's count.
#[derive(Debug)]
pub struct NotesRow {
    pub request: Uuid,
    pub body: String,
    pub held: usize,
    pub held_overdue: usize,
}

/// Stored notes rows by request id; a row whose key is not an id is no request's.
fn notes_by_request(rows: Vec<(String, String)>) -> Vec<(Uuid, String)> {
    rows.into_iter()
        .filter_map(|(id, body)| Some((id.parse().ok()?, body)))
        .collect()
}

/// The `meta` key present while a first download is under way.
const CATCHING_UP: &str = "catching_up";

async fn keep_notes_in(tx: &mut Tx<'_>, notes: &KeptNotes) -> sqlx::Result<()> {
    match notes.catching_up {
        Some(true) => set_meta_in(tx, CATCHING_UP, "1").await?,
        Some(false) => {
            sqlx::query("DELETE FROM meta WHERE key = $1")
                .bind(CATCHING_UP)
                .execute(&mut **tx)
                .await?;
            sqlx::query(
                "UPDATE request_notes SET body = json_remove(body, '$.held'), held_back = 0, \
                 held_back_overdue = 0 WHERE held_back > 0",
            )
            .execute(&mut **tx)
            .await?;
        }
        None => {}
    }
    if let Some(body) = &notes.record {
        set_entry_in(tx, Entries::Notified, NOTIFICATION_RECORD, body).await?;
    }
    // A page's rows in one statement (a row met twice: the later one stands, as one by one).
    for chunk in notes.requests.chunks(ROWS_PER_STATEMENT) {
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO request_notes (request, body, held_back, held_back_overdue) ",
        );
        q.push_values(chunk, |mut row, notes| {
            row.push_bind(notes.request.to_string())
                .push_bind(notes.body.as_str())
                .push_bind(i64::try_from(notes.held).unwrap_or(i64::MAX))
                .push_bind(i64::try_from(notes.held_overdue).unwrap_or(i64::MAX));
        });
        q.push(
            " ON CONFLICT (request) DO UPDATE SET body = excluded.body, \
             held_back = excluded.held_back, held_back_overdue = excluded.held_back_overdue",
        );
        q.build().persistent(false).execute(&mut **tx).await?;
    }
    Ok(())
}

/// The two key-value tables: `meta` (the cursor, the last sync) and `notified` (the
/// notification planner's record).
#[derive(Clone, Copy)]
enum Entries {
    Meta,
    Notified,
}

impl Entries {
    fn name(self) -> &'static str {
        match self {
            Self::Meta => "meta",
            Self::Notified => "notified",
        }
    }

    fn column(self) -> &'static str {
        match self {
            Self::Meta => "value",
            Self::Notified => "body",
        }
    }
}

async fn set_entry_in(tx: &mut Tx<'_>, table: Entries, key: &str, value: &str) -> sqlx::Result<()> {
    let (name, column) = (table.name(), table.column());
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {name} (key, {column}) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET {column} = excluded.{column}"
    )))
    .bind(key)
    .bind(value)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn set_meta_in(tx: &mut Tx<'_>, key: &str, value: &str) -> sqlx::Result<()> {
    set_entry_in(tx, Entries::Meta, key, value).await
}

/// Rows per multi-row statement: at most eight parameters a row, well under the 32,766 one
/// SQLite statement takes. These statements are not kept prepared (`persistent(false)`): each
/// number of rows is another statement, each with its program for as many rows.
const ROWS_PER_STATEMENT: usize = 1_000;

/// Requests per run written together: a hundredth of the hops of one by one, while the parsed
/// requests, their bodies and the statement's copies of them stay small (the client's peak
/// during a 100k first download: 75 MiB in runs of a whole page of 500, 64 at 100, 62 at 50).
const REQUESTS_PER_RUN: usize = 50;

/// Applies a page of server changes in order, as [`apply_change`] with `hold` would one by
/// one, but each run of request updates (no local change in flight, each request once in
/// the run, at most [`REQUESTS_PER_RUN`]) is written by [`write_requests`] in a few
/// statements: a statement is a hop to SQLite's thread and back, and one by one a first
/// download of 100k requests spent most of its time in those hops.
async fn apply_changes(tx: &mut Tx<'_>, changes: &[Change]) -> sqlx::Result<()> {
    let in_flight: std::collections::HashSet<String> =
        if changes.iter().any(|c| c.kind == EntityKind::Request) {
            sqlx::query_scalar("SELECT DISTINCT entity_id FROM outbox WHERE state = 'pending'")
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .collect()
        } else {
            Default::default()
        };
    let mut run: Vec<RequestView> = Vec::new();
    for change in changes {
        let update = match (change.kind, change.op, change.data.as_ref()) {
            (EntityKind::Request, ChangeOp::Upsert, Some(data))
                if !in_flight.contains(&change.id) =>
            {
                RequestView::deserialize(data).ok()
            }
            _ => None,
        };
        match update {
            Some(view) => {
                // The same request twice in a run: the first is written before the second.
                if run.len() == REQUESTS_PER_RUN || run.iter().any(|r| r.id == view.id) {
                    write_requests(tx, &std::mem::take(&mut run)).await?;
                }
                run.push(view);
            }
            None => {
                write_requests(tx, &std::mem::take(&mut run)).await?;
                apply_change(tx, change, true).await?;
            }
        }
    }
    write_requests(tx, &run).await
}

/// Applies one server change. With `hold`, a request with a local change in flight keeps
/// what it has and the change waits in `held`.
async fn apply_change(tx: &mut Tx<'_>, change: &Change, hold: bool) -> sqlx::Result<()> {
    match change.kind {
        EntityKind::Request => {
            if hold {
                let in_flight: Option<i64> = sqlx::query_scalar(
                    "SELECT 1 FROM outbox WHERE entity_id = $1 AND state = 'pending' LIMIT 1",
                )
                .bind(&change.id)
                .fetch_optional(&mut **tx)
                .await?;
                if in_flight.is_some() {
                    sqlx::query(
                        "INSERT INTO held (kind, id, version, body) VALUES ('request', $1, $2, $3) \
                         ON CONFLICT (kind, id) DO UPDATE SET version = excluded.version, \
                         body = excluded.body WHERE excluded.version >= held.version",
                    )
                    .bind(&change.id)
                    .bind(i64::try_from(change.version).unwrap_or(i64::MAX))
                    .bind(upsert_body(change))
                    .execute(&mut **tx)
                    .await?;
                    return Ok(());
                }
            }
            apply_request(tx, change).await
        }
        EntityKind::Template => {
            match (change.op, change.data.as_ref()) {
                (ChangeOp::Upsert, Some(data)) => {
                    if let Ok(view) = TemplateView::deserialize(data) {
                        sqlx::query(
                            "INSERT INTO templates (id, version, retired, body) \
                             VALUES ($1, $2, $3, $4) ON CONFLICT (id, version) DO UPDATE \
                             SET retired = excluded.retired, body = excluded.body",
                        )
                        .bind(&view.template.id)
                        .bind(i64::from(view.template.version))
                        .bind(view.retired)
                        .bind(data.to_string())
                        .execute(&mut **tx)
                        .await?;
                    }
                }
                _ => {
                    if let Some((id, version)) = change.id.rsplit_once('@') {
                        sqlx::query("DELETE FROM templates WHERE id = $1 AND version = $2")
                            .bind(id)
                            .bind(version.parse::<i64>().unwrap_or(-1))
                            .execute(&mut **tx)
                            .await?;
                    }
                }
            }
            Ok(())
        }
        EntityKind::Person => {
            match (change.op, change.data.as_ref()) {
                (ChangeOp::Upsert, Some(data)) => {
                    if let Ok(p) = PersonEntry::deserialize(data) {
                        sqlx::query(
                            "INSERT INTO people (id, username, display_name, body) \
                             VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET \
                             username = excluded.username, display_name = \
                             excluded.display_name, body = excluded.body",
                        )
                        .bind(p.id.to_string())
                        .bind(&p.username)
                        .bind(&p.display_name)
                        .bind(data.to_string())
                        .execute(&mut **tx)
                        .await?;
                    }
                }
                _ => {
                    sqlx::query("DELETE FROM people WHERE id = $1")
                        .bind(&change.id)
                        .execute(&mut **tx)
                        .await?;
                }
            }
            Ok(())
        }
        EntityKind::Department => {
            match (change.op, change.data.as_ref()) {
                (ChangeOp::Upsert, Some(data)) => {
                    sqlx::query(
                        "INSERT INTO departments (id, body) VALUES ($1, $2) \
                         ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                    )
                    .bind(&change.id)
                    .bind(data.to_string())
                    .execute(&mut **tx)
                    .await?;
                }
                _ => {
                    sqlx::query("DELETE FROM departments WHERE id = $1")
                        .bind(&change.id)
                        .execute(&mut **tx)
                        .await?;
                }
            }
            Ok(())
        }
        EntityKind::Meeting => apply_meeting(tx, change).await,
        // A kind this version does not know (tickets…) is skipped, not an error.
        EntityKind::Unknown => Ok(()),
    }
}

/// A meeting as the server answered it, as a feed change (the cache applies both alike).
pub(crate) fn meeting_change(view: &MeetingView) -> Change {
    Change {
        kind: EntityKind::Meeting,
        id: view.id.to_string(),
        version: view.version,
        op: ChangeOp::Upsert,
        data: serde_json::to_value(view).ok(),
    }
}

/// Writes a meeting change if it is newer than the cached copy; the device's own notes
/// (opened, acknowledged) stay. A delete, or a body this version cannot read, removes it.
async fn apply_meeting(tx: &mut Tx<'_>, change: &Change) -> sqlx::Result<()> {
    let Some(view) =
        upserted_or_removed::<MeetingView>(tx, change, "DELETE FROM meetings WHERE id = $1")
            .await?
    else {
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO meetings (id, version, sequence, status, starts_at, ends_at, organiser, \
         body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE SET \
         version = excluded.version, sequence = excluded.sequence, status = excluded.status, \
         starts_at = excluded.starts_at, ends_at = excluded.ends_at, \
         organiser = excluded.organiser, body = excluded.body \
         WHERE excluded.version > meetings.version",
    )
    .bind(view.id.to_string())
    .bind(i64::try_from(view.version).unwrap_or(i64::MAX))
    .bind(i64::try_from(view.sequence).unwrap_or(i64::MAX))
    .bind(view.status.as_str())
    .bind(utc_text(view.plan.starts_at))
    .bind(utc_text(view.plan.ends_at))
    .bind(view.organiser_id.to_string())
    .bind(serde_json::to_string(&view).unwrap_or_default())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The record an upsert carries; `None` when the change is a delete or carries a body this
/// version cannot read, in which case `remove` (deleting the row with id `$1`) has run.
async fn upserted_or_removed<T: serde::de::DeserializeOwned>(
    tx: &mut Tx<'_>,
    change: &Change,
    remove: &'static str,
) -> sqlx::Result<Option<T>> {
    let record = match (change.op, change.data.as_ref()) {
        (ChangeOp::Upsert, Some(data)) => T::deserialize(data).ok(),
        _ => None,
    };
    if record.is_none() {
        sqlx::query(remove)
            .bind(&change.id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(record)
}

/// Instants stored for sorting: one fixed format in UTC, so text order is time order.
fn utc_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn upsert_body(change: &Change) -> Option<String> {
    match change.op {
        ChangeOp::Upsert => change.data.as_ref().map(|d| d.to_string()),
        ChangeOp::Delete => None,
    }
}

/// Writes a request change if it is newer than what the cache has, and re-derives its open
/// tasks.
async fn apply_request(tx: &mut Tx<'_>, change: &Change) -> sqlx::Result<()> {
    let Some(view) =
        upserted_or_removed::<RequestView>(tx, change, "DELETE FROM requests WHERE id = $1")
            .await?
    else {
        return Ok(());
    };
    write_requests(tx, std::slice::from_ref(&view)).await
}

/// Writes the requests (each id at most once) that are newer than what the cache has, and
/// re-derives the open tasks of those written: three statements for up to
/// [`ROWS_PER_STATEMENT`] requests.
async fn write_requests(tx: &mut Tx<'_>, views: &[RequestView]) -> sqlx::Result<()> {
    for chunk in views.chunks(ROWS_PER_STATEMENT) {
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO requests (id, version, initiator, template_id, status, title, \
             updated_at, body) ",
        );
        q.push_values(chunk, |mut row, view| {
            row.push_bind(view.id.to_string())
                .push_bind(i64::try_from(view.version).unwrap_or(i64::MAX))
                .push_bind(view.initiator.to_string())
                .push_bind(view.template_id.as_str())
                .push_bind(
                    serde_json::to_value(view.status)
                        .ok()
                        .and_then(|s| s.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                )
                .push_bind(view.title.as_str())
                .push_bind(view.updated_at.to_rfc3339())
                .push_bind(serde_json::to_string(view).unwrap_or_default());
        });
        // Older than what the cache has, or the same (a replayed or reordered page): not
        // written, not returned. The same version with a different body is written: the
        // overdue scan flags a task without a new version.
        q.push(
            " ON CONFLICT (id) DO UPDATE SET version = excluded.version, \
             status = excluded.status, title = excluded.title, \
             updated_at = excluded.updated_at, body = excluded.body \
             WHERE excluded.version > requests.version \
             OR (excluded.version = requests.version AND excluded.body <> requests.body) \
             RETURNING id, rowid",
        );
        let written: std::collections::HashMap<String, i64> = q
            .build_query_as()
            .persistent(false)
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .collect();
        if written.is_empty() {
            continue;
        }
        let mut q =
            sqlx::QueryBuilder::<sqlx::Sqlite>::new("DELETE FROM tasks WHERE request_id IN (");
        let mut ids = q.separated(", ");
        for id in written.keys() {
            ids.push_bind(id.as_str());
        }
        q.push(")");
        q.build().persistent(false).execute(&mut **tx).await?;
        let tasks: Vec<_> = chunk
            .iter()
            .filter_map(|view| Some((view, *written.get(&view.id.to_string())?)))
            .flat_map(|(view, row)| view.state.open_tasks().map(move |task| (view, task, row)))
            .collect();
        for part in tasks.chunks(ROWS_PER_STATEMENT) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO tasks (request_id, task_no, assignee, opened_at, due_at, overdue, \
                 template_id, request_row) ",
            );
            q.push_values(part, |mut row, (view, task, request_row)| {
                row.push_bind(view.id.to_string())
                    .push_bind(i64::from(task.id))
                    .push_bind(task.assignee.to_string())
                    .push_bind(task.opened_at.to_rfc3339())
                    .push_bind(task.due_at.map(|t| t.to_rfc3339()))
                    .push_bind(view.overdue_tasks.contains(&task.id))
                    .push_bind(view.template_id.as_str())
                    .push_bind(*request_row);
            });
            q.build().persistent(false).execute(&mut **tx).await?;
        }
    }
    Ok(())
}

/// Applies what was held for `entity` once nothing of the person's is in flight for it.
async fn release_held(tx: &mut Tx<'_>, entity: &str) -> sqlx::Result<()> {
    let in_flight: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM outbox WHERE entity_id = $1 AND state = 'pending' LIMIT 1",
    )
    .bind(entity)
    .fetch_optional(&mut **tx)
    .await?;
    if in_flight.is_some() {
        return Ok(());
    }
    let held =
        sqlx::query("DELETE FROM held WHERE kind = 'request' AND id = $1 RETURNING version, body")
            .bind(entity)
            .fetch_optional(&mut **tx)
            .await?;
    if let Some(row) = held {
        let body: Option<String> = row.get(1);
        let change = Change {
            kind: EntityKind::Request,
            id: entity.to_owned(),
            version: u64::try_from(row.get::<i64, _>(0)).unwrap_or(0),
            op: if body.is_some() {
                ChangeOp::Upsert
            } else {
                ChangeOp::Delete
            },
            data: body.and_then(|b| serde_json::from_str(&b).ok()),
        };
        apply_request(tx, &change).await?;
    }
    Ok(())
}

async fn insert_outbox(tx: &mut Tx<'_>, e: &OutboxEntry) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO outbox (id, kind, entity_id, task_no, action, base_version, payload, \
         created_at, state, attempts, next_attempt_at, last_error, answer, answered_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(e.id.to_string())
    .bind(&e.kind)
    .bind(e.request_id.to_string())
    .bind(e.task.map(i64::from))
    .bind(&e.action)
    .bind(e.base_version.map(|v| i64::try_from(v).unwrap_or(i64::MAX)))
    .bind(e.payload.to_string())
    .bind(e.created_at.to_rfc3339())
    .bind(e.state.as_str())
    .bind(i64::from(e.attempts))
    .bind(e.next_attempt_at.map(|t| t.to_rfc3339()))
    .bind(&e.last_error)
    .bind(
        e.answer
            .as_ref()
            .and_then(|a| serde_json::to_string(a).ok()),
    )
    .bind(e.answered_at.map(|t| t.to_rfc3339()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn parse_time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn parse_uuid(text: &str) -> sqlx::Result<Uuid> {
    Uuid::from_str(text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn draft_of(r: &sqlx::sqlite::SqliteRow) -> sqlx::Result<DraftRecord> {
    Ok(DraftRecord {
        id: parse_uuid(r.try_get::<String, _>(0)?.as_str())?,
        template_id: r.try_get(1)?,
        template_version: u32::try_from(r.try_get::<i64, _>(2)?).unwrap_or(0),
        title: r.try_get(3)?,
        form: serde_json::from_str(r.try_get::<String, _>(4)?.as_str())
            .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        created_at: parse_time(r.try_get::<String, _>(5)?.as_str()),
        updated_at: parse_time(r.try_get::<String, _>(6)?.as_str()),
        submitted_as: r
            .try_get::<Option<String>, _>(7)?
            .map(|s| parse_uuid(&s))
            .transpose()?,
        // Absent from a damaged cache made before the column: read as none.
        resubmits: r
            .try_get::<Option<String>, _>(8)
            .ok()
            .flatten()
            .map(|s| parse_uuid(&s))
            .transpose()?,
    })
}

fn file_of(r: &sqlx::sqlite::SqliteRow) -> sqlx::Result<FileRecord> {
    Ok(FileRecord {
        id: parse_uuid(r.try_get::<String, _>(0)?.as_str())?,
        name: r.try_get(1)?,
        size: u64::try_from(r.try_get::<i64, _>(2)?).unwrap_or(0),
        content_type: r.try_get(3)?,
        dir: r.try_get(4)?,
        server: r
            .try_get::<Option<String>, _>(5)?
            .and_then(|s| serde_json::from_str(&s).ok()),
        created_at: parse_time(r.try_get::<String, _>(6)?.as_str()),
    })
}

fn outbox_of(r: &sqlx::sqlite::SqliteRow) -> sqlx::Result<OutboxEntry> {
    let decode = |e: serde_json::Error| sqlx::Error::Decode(Box::new(e));
    Ok(OutboxEntry {
        id: parse_uuid(r.try_get::<String, _>(0)?.as_str())?,
        kind: r.try_get(1)?,
        request_id: parse_uuid(r.try_get::<String, _>(2)?.as_str())?,
        task: r
            .try_get::<Option<i64>, _>(3)?
            .and_then(|t| u32::try_from(t).ok()),
        action: r.try_get::<Option<String>, _>(4)?.unwrap_or_default(),
        base_version: r
            .try_get::<Option<i64>, _>(5)?
            .and_then(|v| u64::try_from(v).ok()),
        payload: serde_json::from_str(r.try_get::<String, _>(6)?.as_str()).map_err(decode)?,
        created_at: parse_time(r.try_get::<String, _>(7)?.as_str()),
        state: OutboxState::parse(r.try_get::<String, _>(8)?.as_str()),
        attempts: u32::try_from(r.try_get::<i64, _>(9)?).unwrap_or(0),
        next_attempt_at: r.try_get::<Option<String>, _>(10)?.map(|t| parse_time(&t)),
        last_error: r.try_get(11)?,
        answer: r
            .try_get::<Option<String>, _>(12)?
            .map(|a| serde_json::from_str(&a))
            .transpose()
            .map_err(decode)?,
        answered_at: r.try_get::<Option<String>, _>(13)?.map(|t| parse_time(&t)),
    })
}

/// Reads what can be read of the drafts and unsent outbox of an unusable file.
/// What can be read back from a damaged cache: the person's own work, which exists nowhere
/// else (drafts, what waits to be sent, and the records of the files they attached).
struct Salvaged {
    drafts: Vec<DraftRecord>,
    outbox: Vec<OutboxEntry>,
    files: Vec<FileRecord>,
}

async fn salvage(path: &Path) -> Salvaged {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .immutable(true);
    let Ok(pool) = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
    else {
        return Salvaged {
            drafts: Vec::new(),
            outbox: Vec::new(),
            files: Vec::new(),
        };
    };
    let mut drafts = Vec::new();
    // A cache older than the resubmits column is read without it.
    for columns in [
        "SELECT id, template_id, template_version, title, form, created_at, updated_at, \
         submitted_as, resubmits FROM drafts",
        "SELECT id, template_id, template_version, title, form, created_at, updated_at, \
         submitted_as FROM drafts",
    ] {
        if let Ok(rows) = sqlx::query(columns).fetch_all(&pool).await {
            drafts.extend(rows.iter().filter_map(|r| draft_of(r).ok()));
            break;
        }
    }
    let mut outbox = Vec::new();
    if let Ok(rows) = sqlx::query(
        "SELECT id, kind, entity_id, task_no, action, base_version, payload, created_at, \
         state, attempts, next_attempt_at, last_error, answer, answered_at \
         FROM outbox WHERE state = 'pending' ORDER BY seq",
    )
    .fetch_all(&pool)
    .await
    {
        outbox.extend(rows.iter().filter_map(|r| outbox_of(r).ok()));
    }
    let mut files = Vec::new();
    if let Ok(rows) =
        sqlx::query("SELECT id, name, size, content_type, dir, server, created_at FROM attachments")
            .fetch_all(&pool)
            .await
    {
        files.extend(rows.iter().filter_map(|r| file_of(r).ok()));
    }
    pool.close().await;
    Salvaged {
        drafts,
        outbox,
        files,
    }
}

/// Renames the file (and its WAL and shared-memory files) to `<name>.damaged-<time>`.
fn move_aside(path: &Path) -> Result<PathBuf> {
    let stamp = Utc::now().format("%Y%m%dT%H%M%S");
    let mut target = path.as_os_str().to_owned();
    target.push(format!(".damaged-{stamp}"));
    let target = PathBuf::from(target);
    std::fs::rename(path, &target).map_err(|e| io_error(path, &e))?;
    // The damage found by a whole-file check is now the moved copy's.
    let marker = damage_marker(path);
    match std::fs::remove_file(&marker) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error(&marker, &e)),
    }
    for suffix in ["-wal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        let side = PathBuf::from(side);
        if side.exists() {
            let mut moved = target.as_os_str().to_owned();
            moved.push(suffix);
            let _ = std::fs::rename(&side, PathBuf::from(moved));
        }
    }
    Ok(target)
}

/// SQLite's primary result codes that mean "this file is not a usable database".
const SQLITE_CORRUPT: &str = "11";
const SQLITE_NOTADB: &str = "26";

/// SQLite's quick check of the tables holding what only this device has (drafts, the
/// outbox, their files, the cursor, what was notified) and their indexes: run on every open.
const OWN_WORK_CHECKS: [&str; 6] = [
    "PRAGMA quick_check(drafts)",
    "PRAGMA quick_check(outbox)",
    "PRAGMA quick_check(attachments)",
    "PRAGMA quick_check(meta)",
    "PRAGMA quick_check(notified)",
    "PRAGMA quick_check(request_notes)",
];

/// The quick check of the whole file.
const WHOLE_CHECK: &str = "PRAGMA quick_check";

/// The file beside the cache saying a whole-file check found it damaged (and why).
fn damage_marker(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".damaged");
    PathBuf::from(name)
}

/// Runs one of the quick checks above: what it found wrong, `None` when sound.
async fn quick_check(pool: &SqlitePool, check: &'static str) -> sqlx::Result<Option<String>> {
    let found: Vec<String> = sqlx::query_scalar(check).fetch_all(pool).await?;
    Ok((found.as_slice() != ["ok"]).then(|| found.join("; ")))
}

fn classify(path: &Path, err: sqlx::Error) -> OpenError {
    if let Some(db) = err.as_database_error() {
        let code = db.code().unwrap_or_default();
        // Extended codes carry the primary code in their low byte.
        let primary = code
            .parse::<u32>()
            .map(|c| (c & 0xff).to_string())
            .unwrap_or_default();
        if primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB {
            return OpenError::Unusable(db.message().to_owned());
        }
        let why = match primary.as_str() {
            "8" => "the folder or file is read-only".to_owned(),
            "13" => "the disk is full".to_owned(),
            // SQLite does not say why; the folder does.
            "14" => folder_problem(path).unwrap_or_else(|| {
                "the file cannot be opened (missing folder or no permission)".to_owned()
            }),
            _ => db.message().to_owned(),
        };
        return OpenError::Other(cache_error(path, why));
    }
    OpenError::Other(cache_error(path, err.to_string()))
}

/// Why nothing can be written next to `path`, found by trying: read-only, full, no access.
fn folder_problem(path: &Path) -> Option<String> {
    let probe = path.with_extension("probe");
    match std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            None
        }
        Err(e) => Some(io_reason(&e)),
    }
}

fn cache_error(path: &Path, why: impl std::fmt::Display) -> ClientError {
    ClientError::new(
        ClientErrorCode::Cache,
        format!(
            "The offline cache at {} cannot be used: {why}.",
            path.display()
        ),
    )
}

fn io_error(path: &Path, err: &std::io::Error) -> ClientError {
    cache_error(path, io_reason(err))
}

/// A file-system failure in words a person can act on.
fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::ReadOnlyFilesystem => "the folder is read-only".to_owned(),
        std::io::ErrorKind::PermissionDenied => "no permission to write in the folder".to_owned(),
        std::io::ErrorKind::StorageFull => "the disk is full".to_owned(),
        _ => err.to_string(),
    }
}
