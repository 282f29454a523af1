//! Accounts and organisation administration: activation secrets (S1), departures, transfers
//! and disabled dormant accounts with their reassigned tasks (S3), template proposals (S6)
//! and the audit-log query (S13, B5).
//!
//! The writes here change several areas at once — a person, their sessions, the requests
//! whose tasks they held — so each is one transaction that makes all those writes first and
//! then appends its audit lines and feed rows, the audit chain's head last, as everywhere else
//! in the store (see `append_in_tx!`).

use chrono::{DateTime, Utc};
use countersign_domain::templates::Template;
use uuid::Uuid;

use super::{AuditEntry, AuditRecord, FeedRow, Person, PersonStatus, RequestWrite, Result};
use super::{TemplateRecord, WriteOutcome};

/// An activation secret as stored: only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationRecord {
    pub person_id: Uuid,
    pub secret_hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    /// The account application that opened the account; none for a reissued secret.
    pub request_id: Option<Uuid>,
}

/// What an activation attempt came to. Only `Activated` wrote anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivationOutcome {
    Activated {
        version: i64,
        last_seq: i64,
    },
    /// No invited account with this secret (unknown, wrong secret, or no longer invited).
    WrongSecret,
    /// The right secret, already used.
    Used,
    /// The right secret, past its expiry.
    Expired,
}

/// A new account opened by an approved account application.
#[derive(Debug, Clone)]
pub struct OpenAccount {
    pub person: Person,
    pub activation: ActivationRecord,
    pub audits: Vec<AuditEntry>,
}

/// A template proposal published by an approved process-change request.
#[derive(Debug, Clone)]
pub struct PublishProposal {
    pub proposal_id: Uuid,
    pub request_id: Uuid,
    pub template: TemplateRecord,
    pub feed: Vec<FeedRow>,
    pub audits: Vec<AuditEntry>,
}

/// What a request's final approval sets off, written in the approval's transaction so that
/// an approval never stands without its consequence, nor the reverse.
#[derive(Debug, Clone)]
pub enum ApprovalEffect {
    OpenAccount(OpenAccount),
    PublishTemplate(PublishProposal),
}

impl ApprovalEffect {
    /// The feed rows the effect adds, for the live-event notice.
    pub fn feed_rows(&self) -> Vec<FeedRow> {
        match self {
            ApprovalEffect::OpenAccount(open) => vec![super::org::directory_change(
                "person",
                open.person.id,
                open.person.version,
            )],
            ApprovalEffect::PublishTemplate(publish) => publish.feed.clone(),
        }
    }
}

/// One entry of a person's personnel history.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonnelChange {
    pub id: Uuid,
    /// `departure`, `transfer` or `dormant_disabled`.
    pub kind: String,
    pub reason: String,
    pub actor_id: Option<Uuid>,
    /// Before and after.
    pub details: serde_json::Value,
}

/// A departure, transfer or disabling, with everything it changes, in one transaction.
#[derive(Debug, Clone)]
pub struct PersonChange {
    pub person_id: Uuid,
    /// The person's version the change was planned on; a newer one makes the write stale.
    pub expected_version: i64,
    pub status: PersonStatus,
    pub department_id: Option<Uuid>,
    pub manager_id: Option<Uuid>,
    pub roles: Vec<String>,
    pub positions: Vec<String>,
    /// Every live session of the person is revoked with this reason.
    pub revoke_reason: String,
    pub history: PersonnelChange,
    pub at: DateTime<Utc>,
    /// The change's own audit line, appended before those of the requests.
    pub audit: AuditEntry,
    /// The requests whose open tasks were handed on, each with its audit line and feed rows
    /// and the version it was planned on.
    pub requests: Vec<RequestWrite>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonChangeOutcome {
    Written {
        /// The person's new version.
        version: i64,
        sessions_revoked: u64,
        last_seq: i64,
    },
    /// The person or one of the requests changed since the plan: nothing was written.
    Stale,
}

/// An active account with no recent activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DormantRecord {
    pub person: Person,
    /// The latest `last_seen_at` of any of their sessions.
    pub last_seen_at: Option<DateTime<Utc>>,
    pub open_tasks: i64,
}

/// A proposed template version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalRecord {
    pub id: Uuid,
    pub template: Template,
    pub proposed_by: Uuid,
    pub proposed_at: DateTime<Utc>,
    /// `proposed` or `published`.
    pub status: String,
    pub request_id: Option<Uuid>,
    pub published_at: Option<DateTime<Utc>>,
}

/// How a text column of the audit log is matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextFilter {
    Exact(String),
    Prefix(String),
}

/// Which audit lines to read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditQuery {
    pub after: i64,
    pub limit: i64,
    pub actor: Option<String>,
    pub action: Option<TextFilter>,
    pub resource: Option<TextFilter>,
}

#[async_trait::async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// [`super::RequestStore::write_request`] plus what the approval sets off, atomically. A
    /// conflict in an effect (user name taken, proposal already published, version exists)
    /// fails the whole write with [`super::StoreError::Conflict`].
    async fn write_request_with(
        &self,
        write: &RequestWrite,
        effects: &[ApprovalEffect],
    ) -> Result<WriteOutcome>;

    async fn find_activation(&self, person_id: Uuid) -> Result<Option<ActivationRecord>>;
    /// Gives an invited person a new activation secret, replacing any earlier one. False when
    /// the person is not (or no longer) invited.
    async fn replace_activation(
        &self,
        activation: &ActivationRecord,
        audit: &AuditEntry,
    ) -> Result<bool>;
    /// Uses an activation secret: when it is the person's, unused and unexpired, the secret is
    /// spent, the password set and the account made active, with `audit`, in one transaction.
    async fn activate_account(
        &self,
        person_id: Uuid,
        secret_hash: &[u8],
        password_hash: &str,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<ActivationOutcome>;

    /// Applies a departure, transfer or disabling atomically: the person's record, their
    /// sessions revoked, the history entry, the requests whose tasks were handed on, the
    /// audit lines and the feed rows. `Stale` when anything moved since it was planned.
    async fn change_person(&self, change: &PersonChange) -> Result<PersonChangeOutcome>;
    /// Active people with no sign-in and no session activity since `cutoff` (people who never
    /// signed in count from their creation), by user name.
    async fn dormant_people(&self, cutoff: DateTime<Utc>) -> Result<Vec<DormantRecord>>;

    async fn insert_proposal(&self, proposal: &ProposalRecord, audit: &AuditEntry) -> Result<()>;
    async fn find_proposal(&self, id: Uuid) -> Result<Option<ProposalRecord>>;

    /// Audit lines after `query.after` that match its filters, in order.
    async fn query_audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>>;
    /// The sequence number and hash of the last audit line (0 and zeros when empty).
    async fn audit_head(&self) -> Result<(i64, Vec<u8>)>;
}

#[derive(sqlx::FromRow)]
pub(super) struct ActivationRow {
    person_id: Uuid,
    secret_hash: Vec<u8>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    request_id: Option<Uuid>,
}

impl From<ActivationRow> for ActivationRecord {
    fn from(r: ActivationRow) -> Self {
        ActivationRecord {
            person_id: r.person_id,
            secret_hash: r.secret_hash,
            created_at: r.created_at,
            expires_at: r.expires_at,
            used_at: r.used_at,
            request_id: r.request_id,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct DormantRow {
    #[sqlx(flatten)]
    person: super::org::PersonRow,
    last_seen_at: Option<DateTime<Utc>>,
    open_tasks: i64,
}

impl From<DormantRow> for DormantRecord {
    fn from(r: DormantRow) -> Self {
        DormantRecord {
            person: r.person.into(),
            last_seen_at: r.last_seen_at,
            open_tasks: r.open_tasks,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ProposalRow {
    id: Uuid,
    body: sqlx::types::Json<Template>,
    proposed_by: Uuid,
    proposed_at: DateTime<Utc>,
    status: String,
    request_id: Option<Uuid>,
    published_at: Option<DateTime<Utc>>,
}

impl From<ProposalRow> for ProposalRecord {
    fn from(r: ProposalRow) -> Self {
        ProposalRecord {
            id: r.id,
            template: r.body.0,
            proposed_by: r.proposed_by,
            proposed_at: r.proposed_at,
            status: r.status,
            request_id: r.request_id,
            published_at: r.published_at,
        }
    }
}

/// Constant-time comparison of two hashes: how long a mismatch takes says nothing about where.
pub(super) fn same_hash(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The SQL of [`AccountStore`], shared by both backends.
macro_rules! accounts_sql {
    ($store:ty, $begin_write:literal, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::AccountStore for $store {
            #[tracing::instrument(skip_all)]
            async fn write_request_with(
                &self,
                write: &$crate::store::RequestWrite,
                effects: &[$crate::store::ApprovalEffect],
            ) -> $crate::store::Result<$crate::store::WriteOutcome> {
                let mut tx = self.writer.begin_with($begin_write).await?;
                if !$crate::store::requests::request_rows_in_tx!(tx, write) {
                    return Ok($crate::store::WriteOutcome::Stale);
                }
                for effect in effects {
                    match effect {
                        $crate::store::ApprovalEffect::OpenAccount(open) => {
                            let p = &open.person;
                            $crate::store::org::insert_person_in_tx!(tx, p);
                            let a = &open.activation;
                            sqlx::query(
                                "INSERT INTO account_activations (person_id, secret_hash, \
                                 created_at, expires_at, used_at, request_id) \
                                 VALUES ($1, $2, $3, $4, $5, $6)",
                            )
                            .bind(a.person_id)
                            .bind(&a.secret_hash)
                            .bind(a.created_at)
                            .bind(a.expires_at)
                            .bind(a.used_at)
                            .bind(a.request_id)
                            .execute(&mut *tx)
                            .await?;
                        }
                        $crate::store::ApprovalEffect::PublishTemplate(publish) => {
                            let record = &publish.template;
                            // The status check is the compare-and-swap: a proposal is
                            // published once, by one request.
                            let marked = sqlx::query(
                                "UPDATE template_proposals SET status = 'published', \
                                 request_id = $1, published_at = $2 \
                                 WHERE id = $3 AND status = 'proposed'",
                            )
                            .bind(publish.request_id)
                            .bind(record.published_at)
                            .bind(publish.proposal_id)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                            if marked != 1 {
                                return Err($crate::store::StoreError::Conflict {
                                    constraint: "template_proposals_status".to_owned(),
                                });
                            }
                            sqlx::query(
                                "INSERT INTO templates (id, version, body, published_at, \
                                 published_by, source_request, retired_at) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                            )
                            .bind(&record.template.id)
                            .bind(i32::try_from(record.template.version).unwrap_or(i32::MAX))
                            .bind(sqlx::types::Json(&record.template))
                            .bind(record.published_at)
                            .bind(record.published_by)
                            .bind(record.source_request)
                            .bind(record.retired_at)
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                }
                // The audit lines and feed rows after every row above: the head last.
                let mut last_seq =
                    $crate::store::requests::request_audit_feed_in_tx!(tx, [write]);
                for effect in effects {
                    let (audits, at) = match effect {
                        $crate::store::ApprovalEffect::OpenAccount(open) => {
                            (open.audits.as_slice(), open.activation.created_at)
                        }
                        $crate::store::ApprovalEffect::PublishTemplate(publish) => {
                            (publish.audits.as_slice(), publish.template.published_at)
                        }
                    };
                    for audit in audits {
                        $crate::store::audit::append_in_tx!(tx, audit);
                    }
                    let rows = effect.feed_rows();
                    last_seq = last_seq.max($crate::store::feed::feed_in_tx!(tx, &rows, at));
                }
                tx.commit().await?;
                Ok($crate::store::WriteOutcome::Written { last_seq })
            }

            #[tracing::instrument(skip_all)]
            async fn find_activation(
                &self,
                person_id: uuid::Uuid,
            ) -> $crate::store::Result<Option<$crate::store::ActivationRecord>> {
                let row: Option<$crate::store::accounts::ActivationRow> = sqlx::query_as(
                    "SELECT person_id, secret_hash, created_at, expires_at, used_at, request_id \
                     FROM account_activations WHERE person_id = $1",
                )
                .bind(person_id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            #[tracing::instrument(skip_all)]
            async fn replace_activation(
                &self,
                a: &$crate::store::ActivationRecord,
                audit: &$crate::store::AuditEntry,
            ) -> $crate::store::Result<bool> {
                let mut tx = self.writer.begin_with($begin_write).await?;
                // The secret first, then the check: writing it waits for an activation that
                // is spending the old secret, and the check then sees that activation's
                // account as active. Not invited: dropping the transaction undoes the write.
                sqlx::query(
                    "INSERT INTO account_activations (person_id, secret_hash, created_at, \
                     expires_at, used_at, request_id) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (person_id) DO UPDATE SET secret_hash = excluded.secret_hash, \
                     created_at = excluded.created_at, expires_at = excluded.expires_at, \
                     used_at = NULL, request_id = excluded.request_id",
                )
                .bind(a.person_id)
                .bind(&a.secret_hash)
                .bind(a.created_at)
                .bind(a.expires_at)
                .bind(a.used_at)
                .bind(a.request_id)
                .execute(&mut *tx)
                .await?;
                let invited: Option<i32> = sqlx::query_scalar(
                    "SELECT 1 FROM people WHERE id = $1 AND status = 'invited'",
                )
                .bind(a.person_id)
                .fetch_optional(&mut *tx)
                .await?;
                if invited.is_none() {
                    return Ok(false);
                }
                $crate::store::audit::append_in_tx!(tx, audit);
                tx.commit().await?;
                Ok(true)
            }

            #[tracing::instrument(skip_all)]
            async fn activate_account(
                &self,
                person_id: uuid::Uuid,
                secret_hash: &[u8],
                password_hash: &str,
                now: chrono::DateTime<chrono::Utc>,
                audit: &$crate::store::AuditEntry,
            ) -> $crate::store::Result<$crate::store::ActivationOutcome> {
                use $crate::store::ActivationOutcome;
                let mut tx = self.writer.begin_with($begin_write).await?;
                let row: Option<$crate::store::accounts::ActivationRow> = sqlx::query_as(
                    "SELECT person_id, secret_hash, created_at, expires_at, used_at, \
                     request_id FROM account_activations WHERE person_id = $1",
                )
                .bind(person_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(activation) = row.map($crate::store::ActivationRecord::from) else {
                    return Ok(ActivationOutcome::WrongSecret);
                };
                if !$crate::store::accounts::same_hash(&activation.secret_hash, secret_hash) {
                    return Ok(ActivationOutcome::WrongSecret);
                }
                if activation.used_at.is_some() {
                    return Ok(ActivationOutcome::Used);
                }
                if activation.expires_at <= now {
                    return Ok(ActivationOutcome::Expired);
                }
                // The compare-and-swap that makes a secret single-use even when two uses race:
                // the second waits for the first's row lock, then finds it spent.
                let spent = sqlx::query(
                    "UPDATE account_activations SET used_at = $1 \
                     WHERE person_id = $2 AND secret_hash = $3 AND used_at IS NULL",
                )
                .bind(now)
                .bind(person_id)
                .bind(secret_hash)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if spent != 1 {
                    return Ok(ActivationOutcome::Used);
                }
                let version: Option<i64> = sqlx::query_scalar(
                    "UPDATE people SET password_hash = $1, status = 'active', \
                     version = version + 1 WHERE id = $2 AND status = 'invited' \
                     RETURNING version",
                )
                .bind(password_hash)
                .bind(person_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(version) = version else {
                    // Departed or disabled before activating: the secret opens nothing.
                    return Ok(ActivationOutcome::WrongSecret);
                };
                $crate::store::audit::append_in_tx!(tx, audit);
                let change = $crate::store::org::directory_change("person", person_id, version);
                let last_seq = $crate::store::feed::feed_in_tx!(tx, [&change], now);
                tx.commit().await?;
                Ok(ActivationOutcome::Activated { version, last_seq })
            }

            #[tracing::instrument(skip_all)]
            async fn change_person(
                &self,
                change: &$crate::store::PersonChange,
            ) -> $crate::store::Result<$crate::store::PersonChangeOutcome> {
                use $crate::store::PersonChangeOutcome;
                let mut tx = self.writer.begin_with($begin_write).await?;
                let version: Option<i64> = sqlx::query_scalar(
                    "UPDATE people SET status = $1, department_id = $2, manager_id = $3, \
                     roles = $4, positions = $5, version = version + 1 \
                     WHERE id = $6 AND version = $7 RETURNING version",
                )
                .bind(change.status.as_str())
                .bind(change.department_id)
                .bind(change.manager_id)
                .bind(sqlx::types::Json(&change.roles))
                .bind(sqlx::types::Json(&change.positions))
                .bind(change.person_id)
                .bind(change.expected_version)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(version) = version else {
                    return Ok(PersonChangeOutcome::Stale);
                };
                let sessions_revoked = sqlx::query(
                    "UPDATE sessions SET revoked_at = $1, revoked_reason = $2 \
                     WHERE person_id = $3 AND revoked_at IS NULL",
                )
                .bind(change.at)
                .bind(&change.revoke_reason)
                .bind(change.person_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let h = &change.history;
                sqlx::query(
                    "INSERT INTO personnel_changes (id, person_id, kind, reason, actor_id, at, \
                     details) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(h.id)
                .bind(change.person_id)
                .bind(&h.kind)
                .bind(&h.reason)
                .bind(h.actor_id)
                .bind(change.at)
                .bind(sqlx::types::Json(&h.details))
                .execute(&mut *tx)
                .await?;
                // The requests in id order: two changes that share requests (two people who
                // held tasks on them) then lock them in one order and queue rather than
                // deadlock, now that the audit head no longer serialises whole transactions.
                let mut in_lock_order: Vec<&$crate::store::RequestWrite> =
                    change.requests.iter().collect();
                in_lock_order.sort_by_key(|w| w.request.id);
                for write in in_lock_order {
                    if !$crate::store::requests::request_rows_in_tx!(tx, write) {
                        return Ok(PersonChangeOutcome::Stale);
                    }
                }
                // The audit lines and feed rows after every row above: the head last.
                $crate::store::audit::append_in_tx!(tx, &change.audit);
                let mut last_seq =
                    $crate::store::requests::request_audit_feed_in_tx!(tx, &change.requests);
                let directory =
                    $crate::store::org::directory_change("person", change.person_id, version);
                last_seq = last_seq.max($crate::store::feed::feed_in_tx!(
                    tx,
                    [&directory],
                    change.at
                ));
                tx.commit().await?;
                Ok(PersonChangeOutcome::Written {
                    version,
                    sessions_revoked,
                    last_seq,
                })
            }

            #[tracing::instrument(skip_all)]
            async fn dormant_people(
                &self,
                cutoff: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::Result<Vec<$crate::store::DormantRecord>> {
                let rows: Vec<$crate::store::accounts::DormantRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {}, \
                         (SELECT MAX(s.last_seen_at) FROM sessions s \
                          WHERE s.person_id = people.id) AS last_seen_at, \
                         (SELECT COUNT(*) FROM tasks t \
                          WHERE t.assignee_id = people.id AND t.open = TRUE) AS open_tasks \
                         FROM people WHERE status = 'active' \
                         AND COALESCE(last_sign_in_at, created_at) < $1 \
                         AND NOT EXISTS (SELECT 1 FROM sessions s \
                          WHERE s.person_id = people.id AND s.last_seen_at >= $1) \
                         ORDER BY username",
                        $crate::store::org::PERSON_COLUMNS
                    )))
                    .bind(cutoff)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            #[tracing::instrument(skip_all)]
            async fn insert_proposal(
                &self,
                p: &$crate::store::ProposalRecord,
                audit: &$crate::store::AuditEntry,
            ) -> $crate::store::Result<()> {
                let mut tx = self.writer.begin_with($begin_write).await?;
                sqlx::query(
                    "INSERT INTO template_proposals (id, template_id, version, body, \
                     proposed_by, proposed_at, status, request_id, published_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(p.id)
                .bind(&p.template.id)
                .bind(i32::try_from(p.template.version).unwrap_or(i32::MAX))
                .bind(sqlx::types::Json(&p.template))
                .bind(p.proposed_by)
                .bind(p.proposed_at)
                .bind(&p.status)
                .bind(p.request_id)
                .bind(p.published_at)
                .execute(&mut *tx)
                .await?;
                $crate::store::audit::append_in_tx!(tx, audit);
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn find_proposal(
                &self,
                id: uuid::Uuid,
            ) -> $crate::store::Result<Option<$crate::store::ProposalRecord>> {
                let row: Option<$crate::store::accounts::ProposalRow> = sqlx::query_as(
                    "SELECT id, body, proposed_by, proposed_at, status, request_id, \
                     published_at FROM template_proposals WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            #[tracing::instrument(skip_all)]
            async fn query_audit(
                &self,
                query: &$crate::store::AuditQuery,
            ) -> $crate::store::Result<Vec<$crate::store::AuditRecord>> {
                use $crate::store::TextFilter;
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "SELECT seq, at, actor_id, actor, action, resource, outcome, source, \
                     device, prev_hash, hash FROM audit_log WHERE seq > ",
                );
                q.push_bind(query.after);
                if let Some(actor) = &query.actor {
                    q.push(" AND actor = ").push_bind(actor.clone());
                }
                for (column, filter) in [("action", &query.action), ("resource", &query.resource)]
                {
                    match filter {
                        Some(TextFilter::Exact(value)) => {
                            q.push(format!(" AND {column} = ")).push_bind(value.clone());
                        }
                        // substr rather than LIKE: no wildcard in the value can widen the match.
                        Some(TextFilter::Prefix(prefix)) => {
                            let chars = i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX);
                            q.push(format!(" AND substr({column}, 1, "))
                                .push_bind(chars)
                                .push(") = ")
                                .push_bind(prefix.clone());
                        }
                        None => {}
                    }
                }
                q.push(" ORDER BY seq LIMIT ").push_bind(query.limit);
                let rows: Vec<$crate::store::audit::AuditRow> =
                    q.build_query_as().fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            #[tracing::instrument(skip_all)]
            async fn audit_head(&self) -> $crate::store::Result<(i64, Vec<u8>)> {
                Ok(sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                    .fetch_one(&self.pool)
                    .await?)
            }
        }
    };
}

pub(crate) use accounts_sql;
