//! Setup, not measurement: fills a server database with many requests fast. One request is
//! submitted through the real path (the demo's leave request from 沈悦 to 蒋涛); it is then
//! cloned `n` times with fresh ids and seeded, varied titles and reasons (Chinese and English),
//! and the clones are written with multi-row SQL inserts in one transaction — requests, their
//! task rows, participants and feed rows, exactly the rows `write_request` would write, minus
//! one audit line per clone. Everything measured afterwards goes through the real server.

use anyhow::Context;
use chrono::Duration as TimeDelta;
use countersign_server::store::{RequestRecord, TaskRecord};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::Connection;
use uuid::Uuid;

/// Rows per multi-row INSERT: well under both databases' bind-parameter limits.
const CHUNK: usize = 500;

const PLACES_ZH: [&str; 8] = [
    "北京", "上海", "深圳", "成都", "杭州", "武汉", "西安", "广州",
];
const PURPOSES_ZH: [&str; 6] = [
    "回老家探亲",
    "参加婚礼",
    "陪家人看病",
    "孩子开学",
    "搬家",
    "年度体检",
];
const PURPOSES_EN: [&str; 6] = [
    "family visit",
    "wedding",
    "medical appointment",
    "moving house",
    "school term starts",
    "annual checkup",
];

/// The text of the `i`th clone: (title, reason). Deterministic for a seed.
fn texts(rng: &mut StdRng) -> (String, String) {
    let place = PLACES_ZH[rng.random_range(0..PLACES_ZH.len())];
    if rng.random_bool(0.5) {
        let purpose = PURPOSES_ZH[rng.random_range(0..PURPOSES_ZH.len())];
        (
            format!("年假：{place}{purpose}"),
            format!("{purpose}，去{place}"),
        )
    } else {
        let purpose = PURPOSES_EN[rng.random_range(0..PURPOSES_EN.len())];
        (
            format!("Annual leave: {purpose} in {place}"),
            format!("{purpose}, travelling to {place}"),
        )
    }
}

/// The clones of `template`, ids and texts drawn from `seed`.
pub fn clones(template: &RequestRecord, n: usize, seed: u64) -> Vec<RequestRecord> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let mut r = template.clone();
            r.id = Uuid::from_u128(rng.random());
            r.state.request = r.id;
            let (title, reason) = texts(&mut rng);
            r.title = title;
            if let Some(form) = r.form.as_object_mut() {
                form.insert("reason".into(), reason.into());
            }
            // Spread over time, so lists have an order to keep.
            let shift = TimeDelta::seconds(i64::try_from(i).unwrap_or(0));
            r.created_at += shift;
            r.updated_at += shift;
            r
        })
        .collect()
}

/// Filler task rows beside the real ones: `per_request` more per request (task numbers from
/// 100), assigned round-robin to `assignees`, one in three open.
pub fn filler_tasks(
    requests: &[Uuid],
    per_request: u32,
    assignees: &[Uuid],
    opened_at: chrono::DateTime<chrono::Utc>,
) -> Vec<TaskRecord> {
    let mut rows = Vec::with_capacity(requests.len() * per_request as usize);
    let mut next = 0usize;
    for id in requests {
        for k in 0..per_request {
            let assignee = assignees[next % assignees.len()];
            next += 1;
            rows.push(TaskRecord {
                request_id: *id,
                task_no: 100 + k,
                assignee_id: assignee,
                seat_id: assignee,
                step_id: "filler".into(),
                open: next.is_multiple_of(3),
                opened_at,
                due_at: None,
                closed_at: None,
                overdue_at: None,
            });
        }
    }
    rows
}

fn status_of(r: &RequestRecord) -> String {
    serde_json::to_value(r.state.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The inserts of [`write`] on one connection type (the column types differ per database,
/// the SQL does not).
macro_rules! insert_all {
    ($conn:ident, $db:ty, $requests:expr, $tasks:expr) => {{
        let mut tx = $conn.begin().await?;
        for chunk in $requests.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO requests (id, template_id, template_version, initiator_id, title, \
                 status, version, form, computed, state, created_at, updated_at) ",
            );
            q.push_values(chunk, |mut b, r| {
                b.push_bind(r.id)
                    .push_bind(r.template_id.clone())
                    .push_bind(i32::try_from(r.template_version).unwrap_or(i32::MAX))
                    .push_bind(r.initiator_id)
                    .push_bind(r.title.clone())
                    .push_bind(status_of(r))
                    .push_bind(r.version())
                    .push_bind(sqlx::types::Json(r.form.clone()))
                    .push_bind(sqlx::types::Json(r.computed.clone()))
                    .push_bind(sqlx::types::Json(r.state.clone()))
                    .push_bind(r.created_at)
                    .push_bind(r.updated_at);
            });
            q.build().execute(&mut *tx).await?;
        }
        for chunk in $tasks.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO tasks (request_id, task_no, assignee_id, seat_id, step_id, open, \
                 opened_at, due_at, closed_at, overdue_at) ",
            );
            q.push_values(chunk, |mut b, t| {
                b.push_bind(t.request_id)
                    .push_bind(i32::try_from(t.task_no).unwrap_or(i32::MAX))
                    .push_bind(t.assignee_id)
                    .push_bind(t.seat_id)
                    .push_bind(t.step_id.clone())
                    .push_bind(t.open)
                    .push_bind(t.opened_at)
                    .push_bind(t.due_at)
                    .push_bind(t.closed_at)
                    .push_bind(t.overdue_at);
            });
            q.build().execute(&mut *tx).await?;
        }
        // Each request's whole audience, as `write_request` leaves it: later writes add only
        // the people a change brings in.
        let pairs: Vec<(&RequestRecord, Uuid)> = $requests
            .iter()
            .flat_map(|r| {
                countersign_server::policy::request_audience(&r.state)
                    .into_iter()
                    .map(move |p| (r, p))
            })
            .collect();
        for chunk in pairs.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO request_participants (request_id, person_id) ",
            );
            q.push_values(chunk, |mut b, (r, p)| {
                b.push_bind(r.id).push_bind(*p);
            });
            q.build().execute(&mut *tx).await?;
        }
        for chunk in pairs.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO feed (audience, kind, entity_id, version, op, at) ",
            );
            q.push_values(chunk, |mut b, (r, p)| {
                b.push_bind(*p)
                    .push_bind("request")
                    .push_bind(r.id.to_string())
                    .push_bind(r.version())
                    .push_bind("upsert")
                    .push_bind(r.updated_at);
            });
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }};
}

/// Writes `requests` (with their task rows, their audience as participants and one feed row
/// per participant) and `extra_tasks` into the database at `url`, in one transaction.
pub async fn write(
    url: &str,
    requests: &[RequestRecord],
    extra_tasks: &[TaskRecord],
) -> anyhow::Result<()> {
    let tasks: Vec<TaskRecord> = requests
        .iter()
        .flat_map(|r| TaskRecord::of(&r.state))
        .chain(extra_tasks.iter().cloned())
        .collect();
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await?;
        insert_all!(conn, sqlx::Sqlite, requests, &tasks);
        // As on PostgreSQL below: the load's log copied into the database file now.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut conn)
            .await?;
        conn.close().await?;
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        insert_all!(conn, sqlx::Postgres, requests, &tasks);
        // What autovacuum would do soon after such a load: plans need the statistics.
        sqlx::query("ANALYZE requests, request_participants, tasks, feed")
            .execute(&mut conn)
            .await?;
        // The load's pages written out now rather than by the checkpoint that follows it
        // (spread over half a minute, its writes were the tail of the samples taken after
        // the load): the figures are of a server holding these rows, as one that grew to
        // them has long written them. `scripts/postgres.sh` grants the test role this.
        sqlx::query("CHECKPOINT")
            .execute(&mut conn)
            .await
            .context("CHECKPOINT after the load (run scripts/postgres.sh to grant it)")?;
        conn.close().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic_and_mixes_languages() {
        let mut a = StdRng::seed_from_u64(7);
        let mut b = StdRng::seed_from_u64(7);
        let first: Vec<(String, String)> = (0..50).map(|_| texts(&mut a)).collect();
        let again: Vec<(String, String)> = (0..50).map(|_| texts(&mut b)).collect();
        assert_eq!(first, again, "the same seed gives the same rows");
        assert!(first.iter().any(|(t, _)| t.starts_with("年假")));
        assert!(first.iter().any(|(t, _)| t.starts_with("Annual leave")));
    }

    #[test]
    fn filler_tasks_spread_over_assignees_and_keep_numbers_apart() {
        let people = [Uuid::from_u128(1), Uuid::from_u128(2)];
        let rows = filler_tasks(&[Uuid::from_u128(9)], 3, &people, chrono::Utc::now());
        assert_eq!(rows.len(), 3);
        assert!(
            rows.iter().all(|t| t.task_no >= 100),
            "clear of the engine's numbers"
        );
        assert_eq!(
            rows.iter().filter(|t| t.open).count(),
            1,
            "one in three open"
        );
    }
}
