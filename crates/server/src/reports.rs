//! Oversight reads: the dormant-account report (S3) and the audit-log query (S13, B5). Both
//! are data accesses like any other and are audited; the audit log has readers but no writer
//! besides the append in the store — no route edits or deletes a line.

use chrono::{DateTime, Duration, Utc};
use countersign_api::accounts::{
    AuditEntryView, AuditLine, AuditPage, DormantAccount, DormantReport,
};

use crate::accounts::caller_audit;
use crate::auth::{Caller, Origin};
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::{AuditQuery, AuditRecord, DormantRecord, TextFilter};

/// The dormancy window when none is asked for (S3: "dormant accounts are found and cleaned up
/// periodically"; a quarter is the usual review period).
pub const DEFAULT_DORMANT_DAYS: u32 = 90;
/// Ten years: beyond that the question is not dormancy.
pub const MAX_DORMANT_DAYS: u32 = 3650;

pub const DEFAULT_AUDIT_PAGE: i64 = 100;
pub const MAX_AUDIT_PAGE: i64 = 1000;
const MAX_FILTER: usize = 200;

/// Lower-case hex, for hashes on the wire.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// An audit-query filter: exact, or a prefix when it ends in `*` (`session.*`).
fn text_filter(raw: Option<&str>, name: &str) -> Result<Option<TextFilter>> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if raw.chars().count() > MAX_FILTER {
        return Err(Error::malformed(format!(
            "'{name}' may have at most {MAX_FILTER} characters."
        )));
    }
    Ok(Some(match raw.strip_suffix('*') {
        Some(prefix) if !prefix.is_empty() => TextFilter::Prefix(prefix.to_owned()),
        Some(_) => return Ok(None),
        None => TextFilter::Exact(raw.to_owned()),
    }))
}

/// The query parameters of `GET /v1/audit`.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// The `next_after` of the previous page; from the first line when absent.
    #[param(minimum = 0)]
    pub after: Option<i64>,
    pub limit: Option<i64>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub resource: Option<String>,
}

fn line(record: AuditRecord) -> AuditLine {
    let e = record.entry;
    AuditLine {
        seq: record.seq,
        entry: AuditEntryView {
            at: e.at,
            actor_id: e.actor_id,
            actor: e.actor,
            action: e.action,
            resource: e.resource,
            outcome: e.outcome,
            source: e.source,
            device: e.device,
        },
        prev_hash: hex(&record.prev_hash),
        hash: hex(&record.hash),
    }
}

/// The instant before which no activity makes an account dormant.
pub fn dormant_cutoff(now: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    now - Duration::days(i64::from(days))
}

fn dormant_account(record: DormantRecord, now: DateTime<Utc>) -> DormantAccount {
    let p = record.person;
    let last = [p.last_sign_in_at, record.last_seen_at]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(p.created_at);
    DormantAccount {
        id: p.id,
        username: p.username,
        display_name: p.display_name,
        department_id: p.department_id,
        created_at: p.created_at,
        last_sign_in_at: p.last_sign_in_at,
        last_seen_at: record.last_seen_at,
        idle_days: (now - last).num_days(),
        open_tasks: record.open_tasks,
    }
}

impl AppState {
    /// Active accounts with no sign-in and no session activity for `days` days. Not audited
    /// here: the route audits the caller, the command audits nothing it did not change.
    pub async fn dormant_accounts(&self, days: u32) -> Result<DormantReport> {
        if !(1..=MAX_DORMANT_DAYS).contains(&days) {
            return Err(Error::malformed(format!(
                "'days' must be between 1 and {MAX_DORMANT_DAYS}."
            )));
        }
        let now = self.clock.now();
        let cutoff = dormant_cutoff(now, days);
        let accounts = self
            .store
            .dormant_people(cutoff)
            .await?
            .into_iter()
            .map(|r| dormant_account(r, now))
            .collect();
        Ok(DormantReport {
            days,
            cutoff,
            accounts,
        })
    }

    /// `GET /v1/reports/dormant-accounts`.
    pub async fn dormant_report(
        &self,
        caller: &Caller,
        days: Option<u32>,
        origin: &Origin,
    ) -> Result<DormantReport> {
        let days = days.unwrap_or(DEFAULT_DORMANT_DAYS);
        let resource = format!("report:dormant_accounts?days={days}");
        let report = self.dormant_accounts(days).await;
        let outcome = report.as_ref().map_or_else(|e| e.code().as_str(), |_| "ok");
        let entry = caller_audit(
            caller,
            self.clock.now(),
            "report.read",
            resource,
            outcome,
            origin,
        );
        self.store.append_audit(&entry).await?;
        report
    }

    /// `GET /v1/audit`: lines after `after` matching the filters, each with its hashes, and
    /// the chain's head. Reading is itself audited, after the read, so the page never
    /// contains its own line.
    pub async fn audit_page(
        &self,
        caller: &Caller,
        params: AuditParams,
        origin: &Origin,
    ) -> Result<AuditPage> {
        let after = params.after.unwrap_or(0);
        if after < 0 {
            return Err(Error::malformed(
                "'after' must be a line number, 0 or more.",
            ));
        }
        let limit = params
            .limit
            .unwrap_or(DEFAULT_AUDIT_PAGE)
            .clamp(1, MAX_AUDIT_PAGE);
        let actor = params
            .actor
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned);
        if actor
            .as_ref()
            .is_some_and(|a| a.chars().count() > MAX_FILTER)
        {
            return Err(Error::malformed(format!(
                "'actor' may have at most {MAX_FILTER} characters."
            )));
        }
        let query = AuditQuery {
            after,
            limit,
            actor,
            action: text_filter(params.action.as_deref(), "action")?,
            resource: text_filter(params.resource.as_deref(), "resource")?,
        };
        let (head_seq, head_hash) = self.store.audit_head().await?;
        let records = self.store.query_audit(&query).await?;
        let full = i64::try_from(records.len()).unwrap_or(i64::MAX) >= limit;
        let next_after = full.then(|| records.last().map(|r| r.seq)).flatten();
        let lines: Vec<AuditLine> = records.into_iter().map(line).collect();
        let resource = format!(
            "audit_log?after={after}&limit={limit}{}{}{}",
            params
                .actor
                .map(|a| format!("&actor={a}"))
                .unwrap_or_default(),
            params
                .action
                .map(|a| format!("&action={a}"))
                .unwrap_or_default(),
            params
                .resource
                .map(|r| format!("&resource={r}"))
                .unwrap_or_default(),
        );
        let entry = caller_audit(
            caller,
            self.clock.now(),
            "audit.read",
            resource,
            "ok",
            origin,
        );
        self.store.append_audit(&entry).await?;
        Ok(AuditPage {
            lines,
            next_after,
            head_seq,
            head_hash: hex(&head_hash),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_exact_or_a_prefix() {
        assert_eq!(
            text_filter(Some("session.*"), "action").unwrap(),
            Some(TextFilter::Prefix("session.".into()))
        );
        assert_eq!(
            text_filter(Some("session.create"), "action").unwrap(),
            Some(TextFilter::Exact("session.create".into()))
        );
        assert_eq!(
            text_filter(Some("*"), "action").unwrap(),
            None,
            "everything"
        );
        assert_eq!(text_filter(Some("  "), "action").unwrap(), None);
        assert!(text_filter(Some(&"x".repeat(201)), "action").is_err());
    }

    #[test]
    fn hashes_are_lower_case_hex() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
    }
}
