//! The work a signed-in person does, offline first: the inbox and requests answered by the
//! cache, drafts, decisions and submissions queued in the outbox, and sync (push the outbox,
//! then pull the feed). The shapes returned here are what the CLI prints with `--json` and
//! what the desktop shows; they are a stable contract (fields are added, never renamed).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use countersign_api::ErrorCode;
use countersign_api::attachments::references;
use countersign_api::requests::{RefusalView, RequestView, SubmitRequest};
use countersign_api::sync::{
    ActPayload, Change, EntityKind, Mutation, MutationBatch, MutationKind, MutationResult,
    MutationStatus, SyncPage,
};
use countersign_domain::calendar::WorkingCalendar;
use countersign_domain::engine::{Action, RequestStatus};
use countersign_domain::form::FieldError;
use countersign_domain::messages::{Locale, MessageKey};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Client;
use crate::attachments::UploadFailure;
use crate::cache::{
    Cache, DraftRecord, KeptNotes, NOTIFICATION_RECORD, NotesRow, OutboxEntry, OutboxState,
    Recovery,
};
use crate::error::{ClientError, ClientErrorCode, Result};
use crate::notify::{self, NotificationRecord, Planned, SyncMode};
use crate::refusals::Refusal;

/// Changes asked for per page: big enough to catch up quickly, small enough that a page is
/// one short transaction.
const PAGE: u32 = 500;
/// Mutations per batch (the server takes at most 100).
const BATCH: i64 = 100;

/// One line of the inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxItem {
    pub request_id: Uuid,
    pub task: u32,
    pub title: String,
    pub template_id: String,
    pub initiator: Uuid,
    pub initiator_name: String,
    /// The request's version the decision will be made against.
    pub version: u64,
    pub opened_at: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
    pub overdue: bool,
}

/// One of the person's own requests, or one queued for submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestSummary {
    pub id: Uuid,
    pub title: String,
    pub template_id: String,
    /// `in_progress`, `returned`, `approved`, `rejected`, `withdrawn`, or `queued` while its
    /// submission waits in the outbox.
    pub status: String,
    pub version: u64,
    pub updated_at: DateTime<Utc>,
    /// Who holds it now (display names).
    pub waiting_on: Vec<String>,
}

/// A draft with what the domain rules say about it right now.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftView {
    pub id: Uuid,
    pub template_id: String,
    pub template_version: u32,
    pub title: Option<String>,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Unknown))]
    pub form: serde_json::Value,
    /// Totals, leave days… as far as they can be computed from what is filled in.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Unknown))]
    pub computed: serde_json::Value,
    pub errors: Vec<DraftError>,
    /// The template version was retired: submitting will be refused; start again.
    pub template_retired: bool,
    /// Queued for submission as this request id.
    pub submitted_as: Option<Uuid>,
    /// The returned request this draft corrects: submitting resubmits it.
    pub resubmits: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
}

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftError {
    pub path: String,
    pub key: String,
    pub message: String,
}

/// An outbox entry as the status view shows it.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    pub id: Uuid,
    pub request_id: Uuid,
    /// The task a decision answers.
    #[serde(default)]
    pub task: Option<u32>,
    /// `submit`, `approve`, `comment`, …
    pub action: String,
    pub state: OutboxState,
    pub created_at: DateTime<Utc>,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// For a refused entry: why, in words ("already approved by Li Wei at 10:02").
    pub reason: Option<RefusalView>,
}

/// What `status` reports.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncStatus {
    /// Whether the last contact with the server succeeded.
    pub online: bool,
    pub last_sync_at: Option<DateTime<Utc>>,
    /// What went wrong at the last contact, if it failed. Its code tells waiting for the
    /// network (`server_unreachable`) from what someone must fix, such as a server
    /// certificate this computer does not trust (`server_untrusted`).
    pub last_error: Option<ClientError>,
    /// Entries waiting for an answer.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub outbox_pending: usize,
    /// Entries the server refused (they never block the others).
    pub refused: Vec<OutboxItem>,
    /// Said once after the cache was rebuilt.
    pub recovery: Option<String>,
}

/// What one sync did.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncReport {
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub sent: usize,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub applied: usize,
    pub refused: Vec<OutboxItem>,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub pulled: usize,
    /// True when the server asked for a full re-download (and it was done).
    pub resynced: bool,
    /// What the pulled changes were about, without their data: a first download of 100k
    /// requests held every change's JSON here until the sync ended (2.2 GB at its peak).
    /// Empty when the sync downloaded everything (a first download or a re-download), where
    /// every record is new and `pulled` counts them: listing 100k ids was a sixth of that
    /// download's peak memory (heaptrack, 2026-12-02).
    #[serde(skip)]
    pub changed: Vec<Changed>,
    /// What to show or take back, already recorded as notified (D4).
    #[serde(skip)]
    pub notifications: Vec<Planned>,
}

/// One pulled change, as a [`SyncReport`] lists it: which record, at which version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub kind: EntityKind,
    pub id: String,
    pub version: u64,
}

impl From<&Change> for Changed {
    fn from(change: &Change) -> Self {
        Changed {
            kind: change.kind,
            id: change.id.clone(),
            version: change.version,
        }
    }
}

/// A decision or other action on a request, as the person asks for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Act {
    Approve { comment: String },
    Reject { comment: String },
    Return { comment: String },
    Transfer { to: String, comment: String },
    Withdraw { comment: String },
    Urge { comment: String },
    Comment { text: String },
}

impl Act {
    fn name(&self) -> &'static str {
        match self {
            Act::Approve { .. } => "approve",
            Act::Reject { .. } => "reject",
            Act::Return { .. } => "return",
            Act::Transfer { .. } => "transfer",
            Act::Withdraw { .. } => "withdraw",
            Act::Urge { .. } => "urge",
            Act::Comment { .. } => "comment",
        }
    }

    fn needs_my_task(&self) -> bool {
        matches!(
            self,
            Act::Approve { .. } | Act::Reject { .. } | Act::Return { .. } | Act::Transfer { .. }
        )
    }
}

/// A draft with one field changed, before it is saved.
pub(crate) struct ChangedDraft {
    pub draft: DraftRecord,
    pub view: DraftView,
    /// Errors within the changed field, other than "required".
    pub own_errors: Vec<DraftError>,
}

/// The `meta` key of the last whole-cache check that found it sound.
const CHECKED_AT: &str = "checked_at";

pub(crate) struct OpenCache {
    pub cache: Arc<Cache>,
    pub me: Uuid,
    pub recovery: Option<Recovery>,
    pub online: bool,
    pub last_error: Option<ClientError>,
}

pub(crate) fn refused(message: impl Into<String>) -> ClientError {
    ClientError::new(ClientErrorCode::Refused, message)
}

pub(crate) fn invalid(message: impl Into<String>) -> ClientError {
    ClientError::new(ClientErrorCode::InvalidInput, message)
}

pub(crate) fn not_found(message: impl Into<String>) -> ClientError {
    ClientError::new(ClientErrorCode::NotFound, message)
}

impl Client {
    /// The signed-in person's cache, opened on first use (and rebuilt if it was damaged).
    pub(crate) async fn open_cache(&self) -> Result<(Arc<Cache>, Uuid)> {
        if let Some(open) = self.cache_of_signed_in().await {
            return Ok(open);
        }
        let _one_opening = self.opening.lock().await;
        let (server, me) = {
            let inner = self.inner.lock().await;
            if let Some(open) = &inner.cache {
                return Ok((open.cache.clone(), open.me));
            }
            let account = inner
                .profile
                .account
                .as_ref()
                .filter(|a| a.signed_in)
                .ok_or_else(|| {
                    ClientError::new(
                        ClientErrorCode::SignedOut,
                        "Nobody is signed in. Sign in first.",
                    )
                })?;
            let me = account.me.as_ref().map(|m| m.id).ok_or_else(|| {
                ClientError::new(
                    ClientErrorCode::SignedOut,
                    "This device does not know who is signed in yet; connect once to finish \
                     signing in.",
                )
            })?;
            (account.server.clone(), me)
        };
        let path = self.cache_path(&server, me);
        let (cache, recovery) = Cache::open(&path).await?;
        let cache = Arc::new(cache);
        let mut inner = self.inner.lock().await;
        if let Some(open) = &inner.cache {
            // Another call opened it meanwhile; use that one.
            cache.close().await;
            return Ok((open.cache.clone(), open.me));
        }
        inner.cache = Some(OpenCache {
            cache: cache.clone(),
            me,
            recovery,
            online: true,
            last_error: None,
        });
        Ok((cache, me))
    }

    /// The open cache when it is the signed-in person's (or nobody is signed in). One opened
    /// for someone else — a session that ended, then another person signed in on this
    /// device — is closed here, so that nobody is shown another person's cache.
    async fn cache_of_signed_in(&self) -> Option<(Arc<Cache>, Uuid)> {
        let stale = {
            let mut inner = self.inner.lock().await;
            let open = inner.cache.as_ref()?;
            let identity = inner
                .profile
                .account
                .as_ref()
                .filter(|a| a.signed_in)
                .and_then(|a| Some((a.server.as_str(), a.me.as_ref()?.id)));
            match identity {
                Some((server, me))
                    if me != open.me || self.cache_path(server, me) != open.cache.path() =>
                {
                    inner.cache.take()
                }
                _ => return Some((open.cache.clone(), open.me)),
            }
        };
        if let Some(stale) = stale {
            stale.cache.close().await;
        }
        None
    }

    /// `caches/<host>-<person id>.sqlite` in the profile: one per (server, account).
    fn cache_path(&self, server: &str, me: Uuid) -> std::path::PathBuf {
        let host: String = server
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.options
            .profile_dir
            .path()
            .join("caches")
            .join(format!("{host}-{me}.sqlite"))
    }

    /// Opens the signed-in person's offline cache ahead of the first call that needs it. The
    /// desktop calls this as it starts, so that the file is open while the window comes up
    /// rather than after the window asks for the inbox. Nobody signed in, or a cache that
    /// cannot be opened, does nothing here: the first call that needs the cache meets the
    /// same and says so. Whether the cache is open.
    pub async fn open_cache_ahead(&self) -> bool {
        match self.open_cache().await {
            Ok(_) => true,
            Err(err) => {
                tracing::debug!(error = %err, "the offline cache was not opened ahead");
                false
            }
        }
    }

    /// Closes the offline cache (the app is quitting): its files are complete on disk and
    /// nothing holds them open. The next call that needs the cache opens it again.
    pub async fn close(&self) -> Result<()> {
        self.close_cache(false).await
    }

    pub(crate) async fn close_cache(&self, wipe: bool) -> Result<()> {
        let open = self.inner.lock().await.cache.take();
        if let Some(open) = open {
            let path = open.cache.path().to_owned();
            let files = self.files_dir(&open.cache);
            open.cache.close().await;
            if wipe {
                // The copies of attached and downloaded files go with the cache.
                if let Err(e) = std::fs::remove_dir_all(&files)
                    && e.kind() != std::io::ErrorKind::NotFound
                {
                    return Err(ClientError::new(
                        ClientErrorCode::Cache,
                        format!(
                            "Cannot delete the attached files in {}: {e}",
                            files.display()
                        ),
                    ));
                }
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.as_os_str().to_owned();
                    p.push(suffix);
                    match std::fs::remove_file(std::path::PathBuf::from(p)) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => {
                            return Err(ClientError::new(
                                ClientErrorCode::Cache,
                                format!("Cannot delete the offline cache {}: {e}", path.display()),
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    // -- reading, all from the cache --

    pub async fn inbox(&self) -> Result<Vec<InboxItem>> {
        let (cache, me) = self.open_cache().await?;
        let rows = cache.inbox(me, 100_000).await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            items.push(InboxItem {
                request_id: row.request.id,
                task: row.task,
                title: row.request.title.clone(),
                template_id: row.request.template_id.clone(),
                initiator: row.request.initiator,
                initiator_name: self.name_of(&cache, row.request.initiator).await,
                version: row.request.version,
                opened_at: row.opened_at,
                due_at: row.due_at,
                overdue: row.overdue,
            });
        }
        Ok(items)
    }

    /// A request the cache has, with its whole timeline.
    pub async fn request(&self, id: Uuid) -> Result<RequestView> {
        let (cache, _) = self.open_cache().await?;
        cache
            .request(id)
            .await?
            .ok_or_else(|| not_found(format!("Request {id} is not on this device. Sync first?")))
    }

    /// The person's requests, newest first, with those queued for submission on top.
    pub async fn my_requests(&self) -> Result<Vec<RequestSummary>> {
        let (cache, me) = self.open_cache().await?;
        let mut out = self.queued_submissions(&cache).await?;
        for view in cache.requests_of(me, 100_000).await? {
            let mut waiting_on = Vec::new();
            for task in view.state.open_tasks() {
                waiting_on.push(self.name_of(&cache, task.assignee).await);
            }
            out.push(RequestSummary {
                id: view.id,
                title: view.title.clone(),
                template_id: view.template_id.clone(),
                status: status_name(view.status),
                version: view.version,
                updated_at: view.updated_at,
                waiting_on,
            });
        }
        Ok(out)
    }

    /// New requests whose submission waits in the outbox (the server has not seen them).
    pub(crate) async fn queued_submissions(&self, cache: &Cache) -> Result<Vec<RequestSummary>> {
        let mut out = Vec::new();
        for entry in cache.pending(i64::MAX).await? {
            if entry.kind == MutationKind::SubmitRequest.as_str()
                && cache.request(entry.request_id).await?.is_none()
            {
                let text = |key: &str| {
                    entry
                        .payload
                        .get(key)
                        .and_then(|t| t.as_str())
                        .unwrap_or_default()
                        .to_owned()
                };
                out.push(RequestSummary {
                    id: entry.request_id,
                    title: text("title"),
                    template_id: text("template_id"),
                    status: "queued".into(),
                    version: 0,
                    updated_at: entry.created_at,
                    waiting_on: Vec::new(),
                });
            }
        }
        Ok(out)
    }

    pub async fn templates(&self) -> Result<Vec<countersign_api::requests::TemplateView>> {
        let (cache, _) = self.open_cache().await?;
        Ok(cache
            .templates()
            .await?
            .into_iter()
            .filter(|t| !t.retired)
            .collect())
    }

    /// The names notifications are rendered with: the people directory and the templates.
    pub async fn notification_names(&self) -> Result<notify::Names> {
        let (cache, _) = self.open_cache().await?;
        Ok(crate::views::Names::load(&cache).await?.into_inner())
    }

    /// The language notifications and field messages are shown in.
    pub async fn locale(&self) -> Locale {
        match self.preferences().await.resolved_language {
            crate::Language::ZhCn => Locale::ZhCn,
            crate::Language::En => Locale::En,
        }
    }

    pub(crate) async fn name_of(&self, cache: &Cache, id: Uuid) -> String {
        match cache.person(id).await {
            Ok(Some(p)) => p.display_name,
            _ => id.to_string(),
        }
    }

    // -- drafts --

    /// Starts a draft from the current version of a template the cache has.
    pub async fn draft_new(&self, template_id: &str, now: DateTime<Utc>) -> Result<DraftView> {
        let (cache, _) = self.open_cache().await?;
        let template = cache.template(template_id, None).await?.ok_or_else(|| {
            invalid(format!(
                "There is no template '{template_id}' on this device. `countersign templates` \
                 lists them (sync first if the list is empty)."
            ))
        })?;
        let draft = DraftRecord {
            id: Uuid::now_v7(),
            template_id: template.template.id.clone(),
            template_version: template.template.version,
            title: None,
            form: serde_json::json!({}),
            created_at: now,
            updated_at: now,
            submitted_as: None,
            resubmits: None,
        };
        cache.save_draft(&draft).await?;
        self.draft_view(&cache, draft).await
    }

    /// A draft to correct returned request `request_id` (退回 to its initiator): its form
    /// and title, on the template version it was submitted with. Submitting the draft
    /// resubmits the request, which keeps its number and history. Asking again gives the
    /// same draft, so corrections already made are not lost.
    pub async fn draft_resubmit(&self, request_id: Uuid, now: DateTime<Utc>) -> Result<DraftView> {
        let (cache, me) = self.open_cache().await?;
        if let Some(existing) = cache.draft_resubmitting(request_id).await?
            && let Some(draft) = cache.draft(existing).await?
        {
            return self.draft_view(&cache, draft).await;
        }
        let view = cache.request(request_id).await?.ok_or_else(|| {
            not_found(format!(
                "Request {request_id} is not on this device. Sync first?"
            ))
        })?;
        let locale = self.locale().await;
        if view.initiator != me {
            return Err(refused(
                Refusal::OnlyInitiator {
                    title: &view.title,
                    action: "resubmit",
                }
                .text(locale),
            ));
        }
        if view.status != RequestStatus::Returned {
            return Err(refused(
                Refusal::NotReturned {
                    title: &view.title,
                    status: view.status,
                }
                .text(locale),
            ));
        }
        let draft = DraftRecord {
            id: Uuid::now_v7(),
            template_id: view.template_id.clone(),
            template_version: view.template_version,
            title: Some(view.title.clone()),
            form: view.form.clone(),
            created_at: now,
            updated_at: now,
            submitted_as: None,
            resubmits: Some(request_id),
        };
        cache.save_draft(&draft).await?;
        self.draft_view(&cache, draft).await
    }

    /// Sets one field (`purpose`, or `lines[0].amount` inside a table) to `value`. A field
    /// the template does not have is refused and the draft is left as it was; a value that
    /// breaks a rule is stored and reported as a field error, as a form does while typing.
    pub async fn draft_set(
        &self,
        id: Uuid,
        path: &str,
        value: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<DraftView> {
        let (cache, _) = self.open_cache().await?;
        let draft = self.editable_draft(&cache, id).await?;
        let steps = parse_path(path)?;
        let before: Vec<Uuid> = references(&draft.form).iter().map(|r| r.id).collect();
        let changed = self
            .draft_changed(&cache, draft, &steps, path, value, now)
            .await?;
        // A value that breaks its own field's rules is refused and the draft kept as it was;
        // other fields still missing or wrong are the draft's normal state while typing.
        let own: Vec<String> = changed
            .own_errors
            .iter()
            .map(|e| format!("{}: {}", e.path, e.message))
            .collect();
        if !own.is_empty() {
            return Err(invalid(format!(
                "{} — the draft was not changed.",
                own.join("; ")
            )));
        }
        cache.save_draft(&changed.draft).await?;
        // Files taken out by this change: their copies go when nothing else needs them.
        let after: Vec<Uuid> = references(&changed.draft.form)
            .iter()
            .map(|r| r.id)
            .collect();
        let gone: Vec<Uuid> = before
            .into_iter()
            .filter(|id| !after.contains(id))
            .collect();
        self.discard_files(&cache, &gone).await;
        Ok(changed.view)
    }

    /// The draft with `value` at `path` (checked against the template) and what the rules
    /// say about it, not saved yet: the errors within that field other than "required" are
    /// apart, for the caller to refuse the change on.
    pub(crate) async fn draft_changed(
        &self,
        cache: &Cache,
        mut draft: DraftRecord,
        steps: &[Step],
        path: &str,
        value: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<ChangedDraft> {
        let id = draft.id;
        let template = cache
            .template(&draft.template_id, Some(draft.template_version))
            .await?
            .ok_or_else(|| {
                invalid(format!(
                    "The template of draft {id} ({}@{}) is not on this device.",
                    draft.template_id, draft.template_version
                ))
            })?;
        check_path(&template.template.form, steps, path)?;
        set_at(&mut draft.form, steps, value);
        draft.updated_at = now;
        let view = self.draft_view(cache, draft.clone()).await?;
        let own_errors = view
            .errors
            .iter()
            .filter(|e| is_within(&e.path, path) && e.key != "required")
            .cloned()
            .collect();
        Ok(ChangedDraft {
            draft,
            view,
            own_errors,
        })
    }

    /// Sets the draft's title (empty clears it).
    pub async fn draft_title(
        &self,
        id: Uuid,
        title: &str,
        now: DateTime<Utc>,
    ) -> Result<DraftView> {
        let (cache, _) = self.open_cache().await?;
        let mut draft = self.editable_draft(&cache, id).await?;
        let title = title.trim();
        draft.title = (!title.is_empty()).then(|| title.chars().take(200).collect());
        draft.updated_at = now;
        cache.save_draft(&draft).await?;
        self.draft_view(&cache, draft).await
    }

    pub async fn drafts(&self) -> Result<Vec<DraftView>> {
        let (cache, _) = self.open_cache().await?;
        let mut out = Vec::new();
        for d in cache.drafts().await? {
            out.push(self.draft_view(&cache, d).await?);
        }
        Ok(out)
    }

    pub async fn draft(&self, id: Uuid) -> Result<DraftView> {
        let (cache, _) = self.open_cache().await?;
        let draft = cache
            .draft(id)
            .await?
            .ok_or_else(|| not_found(format!("There is no draft {id} on this device.")))?;
        self.draft_view(&cache, draft).await
    }

    pub async fn draft_delete(&self, id: Uuid) -> Result<()> {
        let (cache, _) = self.open_cache().await?;
        let draft = self.editable_draft(&cache, id).await?;
        cache.delete_draft(draft.id).await?;
        let files: Vec<Uuid> = references(&draft.form).iter().map(|r| r.id).collect();
        self.discard_files(&cache, &files).await;
        Ok(())
    }

    pub(crate) async fn editable_draft(&self, cache: &Cache, id: Uuid) -> Result<DraftRecord> {
        let draft = cache
            .draft(id)
            .await?
            .ok_or_else(|| not_found(format!("There is no draft {id} on this device.")))?;
        if let Some(request) = draft.submitted_as {
            return Err(refused(format!(
                "Draft {id} is queued for submission as request {request}; it can change again \
                 only if the server refuses it."
            )));
        }
        Ok(draft)
    }

    async fn draft_view(&self, cache: &Cache, d: DraftRecord) -> Result<DraftView> {
        let template = cache
            .template(&d.template_id, Some(d.template_version))
            .await?;
        let locale = self.locale().await;
        let (computed, errors, retired) = match &template {
            Some(t) => {
                let evaluation =
                    countersign_domain::form::evaluate(&t.template.form, &d.form, calendar()?);
                let computed = serde_json::to_value(&evaluation.form.computed).unwrap_or_default();
                let errors = evaluation
                    .errors
                    .iter()
                    .map(|e| draft_error(e, locale))
                    .collect();
                (computed, errors, t.retired)
            }
            None => (serde_json::json!({}), Vec::new(), true),
        };
        Ok(DraftView {
            id: d.id,
            template_id: d.template_id,
            template_version: d.template_version,
            title: d.title,
            form: d.form,
            computed,
            errors,
            template_retired: retired,
            submitted_as: d.submitted_as,
            resubmits: d.resubmits,
            updated_at: d.updated_at,
        })
    }

    /// Queues a draft for submission. A draft with field errors, or on a retired template
    /// version, is refused here, without a round trip.
    pub async fn submit_draft(&self, id: Uuid, now: DateTime<Utc>) -> Result<OutboxItem> {
        let (cache, _) = self.open_cache().await?;
        let draft = self.editable_draft(&cache, id).await?;
        let view = self.draft_view(&cache, draft.clone()).await?;
        if view.template_retired {
            return Err(refused(format!(
                "Version {} of template '{}' was retired; start a new draft.",
                draft.template_version, draft.template_id
            )));
        }
        if !view.errors.is_empty() {
            let list: Vec<String> = view
                .errors
                .iter()
                .map(|e| format!("{}: {}", e.path, e.message))
                .collect();
            return Err(invalid(format!(
                "The draft has errors; correct them first: {}",
                list.join("; ")
            )));
        }
        if let Some(request_id) = draft.resubmits {
            return self
                .queue_resubmission(&cache, &draft, request_id, now)
                .await;
        }
        let request_id = Uuid::now_v7();
        let submit = SubmitRequest {
            id: Some(request_id),
            template_id: draft.template_id.clone(),
            template_version: Some(draft.template_version),
            title: draft.title.clone(),
            form: draft.form.clone(),
        };
        let entry = new_entry(
            MutationKind::SubmitRequest,
            request_id,
            None,
            "submit",
            None,
            serde_json::to_value(&submit).map_err(|e| ClientError::internal(e.to_string()))?,
            now,
        );
        cache.queue_submission(draft.id, &entry).await?;
        Ok(outbox_item(&entry))
    }

    /// Queues the resubmission of returned request `request_id` with the draft's form; the
    /// draft goes when the server applies it, and comes back to the person if refused.
    async fn queue_resubmission(
        &self,
        cache: &Cache,
        draft: &DraftRecord,
        request_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<OutboxItem> {
        let view = cache.request(request_id).await?.ok_or_else(|| {
            not_found(format!(
                "Request {request_id} is not on this device. Sync first?"
            ))
        })?;
        if view.status != RequestStatus::Returned {
            return Err(refused(
                Refusal::NotReturned {
                    title: &view.title,
                    status: view.status,
                }
                .text(self.locale().await),
            ));
        }
        let payload = ActPayload {
            request_id,
            action: Action::Resubmit {
                form: draft.form.clone(),
                comment: String::new(),
            },
        };
        let entry = new_entry(
            MutationKind::ActOnRequest,
            request_id,
            None,
            "resubmit",
            Some(view.version),
            serde_json::to_value(&payload).map_err(|e| ClientError::internal(e.to_string()))?,
            now,
        );
        cache.queue_submission(draft.id, &entry).await?;
        Ok(outbox_item(&entry))
    }

    /// Queues an action on a request. What cannot succeed is refused here, without a round
    /// trip: a decision on a task that is not pending for the person, a withdrawal of
    /// someone else's request, anything on a finished request.
    pub async fn act(&self, request_id: Uuid, act: Act, now: DateTime<Utc>) -> Result<OutboxItem> {
        let (cache, me) = self.open_cache().await?;
        let view = cache.request(request_id).await?.ok_or_else(|| {
            not_found(format!(
                "Request {request_id} is not on this device. Sync first?"
            ))
        })?;
        let title = view.title.as_str();
        let locale = self.locale().await;
        let say = |refusal: Refusal<'_>| refused(refusal.text(locale));
        let mut task = None;
        if act.needs_my_task() {
            task = cache.my_open_task(me, request_id).await?;
            if task.is_none() {
                return Err(say(if view.status.is_finished() {
                    Refusal::NoTaskForYouFinished {
                        title,
                        status: view.status,
                    }
                } else {
                    Refusal::NoTaskForYou { title }
                }));
            }
        }
        if matches!(act, Act::Withdraw { .. } | Act::Urge { .. }) && view.initiator != me {
            return Err(say(Refusal::OnlyInitiator {
                title,
                action: act.name(),
            }));
        }
        if !matches!(act, Act::Comment { .. }) && view.status.is_finished() {
            return Err(say(Refusal::AlreadyFinished {
                title,
                status: view.status,
            }));
        }
        let action = match act.clone() {
            Act::Approve { comment } => Action::Approve {
                task: task.unwrap_or_default(),
                comment,
            },
            Act::Reject { comment } => {
                require_comment(&comment, "reject", locale)?;
                Action::Reject {
                    task: task.unwrap_or_default(),
                    comment,
                }
            }
            Act::Return { comment } => {
                require_comment(&comment, "return", locale)?;
                Action::Return {
                    task: task.unwrap_or_default(),
                    to: None,
                    comment,
                }
            }
            Act::Transfer { to, comment } => {
                let target = match Uuid::parse_str(&to) {
                    Ok(id) => cache.person(id).await?,
                    Err(_) => cache.person_by_username(&to).await?,
                }
                .filter(|p| p.active)
                .ok_or_else(|| {
                    invalid(format!(
                        "There is no active colleague '{to}' in the directory."
                    ))
                })?;
                Action::Transfer {
                    task: task.unwrap_or_default(),
                    to: target.id,
                    comment,
                }
            }
            Act::Withdraw { comment } => Action::Withdraw { comment },
            Act::Urge { comment } => Action::Urge { comment },
            Act::Comment { text } => {
                if text.trim().is_empty() {
                    return Err(invalid(Refusal::EmptyComment.text(locale)));
                }
                Action::Comment { text }
            }
        };
        let payload = ActPayload { request_id, action };
        let entry = new_entry(
            MutationKind::ActOnRequest,
            request_id,
            task,
            act.name(),
            Some(view.version),
            serde_json::to_value(&payload).map_err(|e| ClientError::internal(e.to_string()))?,
            now,
        );
        cache.enqueue(&entry).await?;
        Ok(outbox_item(&entry))
    }

    /// Everything in the outbox, oldest first.
    pub async fn outbox(&self) -> Result<Vec<OutboxItem>> {
        let (cache, _) = self.open_cache().await?;
        let mut items = Vec::new();
        for entry in cache.outbox().await? {
            items.push(self.explained(&cache, outbox_item(&entry)).await);
        }
        Ok(items)
    }

    /// What the person did on one request that waits to be sent, and what was refused.
    pub(crate) async fn outbox_of_request(
        &self,
        cache: &Cache,
        request: Uuid,
    ) -> Result<(Vec<OutboxItem>, Vec<OutboxItem>)> {
        let (mut queued, mut refused) = (Vec::new(), Vec::new());
        for entry in cache.outbox().await? {
            if entry.request_id != request {
                continue;
            }
            match entry.state {
                OutboxState::Pending => queued.push(outbox_item(&entry)),
                OutboxState::Refused => {
                    refused.push(self.explained(cache, outbox_item(&entry)).await);
                }
                OutboxState::Applied => {}
            }
        }
        Ok((queued, refused))
    }

    /// A refused item whose reason names who decided and when (B1: a lost race is reported
    /// plainly): the server's message is generic, its structured refusal has the details.
    async fn explained(&self, cache: &Cache, mut item: OutboxItem) -> OutboxItem {
        use countersign_domain::engine::{Decision, Refusal};
        let Some(reason) = item.reason.as_mut() else {
            return item;
        };
        let time = |at: &DateTime<Utc>| at.format("%Y-%m-%d %H:%M UTC").to_string();
        let zh = self.locale().await == Locale::ZhCn;
        let said = match &reason.refusal {
            Some(Refusal::AlreadyDecided {
                by, decision, at, ..
            }) => {
                let who = self.name_of(cache, *by).await;
                let what = serde_json::to_value(decision)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                if zh {
                    let what = match decision {
                        Decision::Approved => "同意",
                        Decision::Rejected => "驳回",
                        Decision::Returned => "退回",
                        Decision::Withdrawn => "撤回",
                    };
                    format!("该节点已由{who}于 {} {what}", time(at))
                } else {
                    format!("Already {what} by {who} at {}", time(at))
                }
            }
            Some(Refusal::TaskReassigned { to, at, .. }) => {
                let who = self.name_of(cache, *to).await;
                if zh {
                    format!("该任务已于 {} 转交给{who}", time(at))
                } else {
                    format!("The task was handed to {who} at {}", time(at))
                }
            }
            Some(Refusal::RequestWithdrawn { at }) => {
                // Only the initiator withdraws.
                let who = match cache.request(item.request_id).await {
                    Ok(Some(view)) => self.name_of(cache, view.initiator).await,
                    _ => String::new(),
                };
                match (zh, who.is_empty()) {
                    (true, false) => format!("{who}已于 {} 撤回该申请", time(at)),
                    (true, true) => format!("申请人已于 {} 撤回该申请", time(at)),
                    (false, false) => format!("{who} withdrew the request at {}", time(at)),
                    (false, true) => format!("The initiator withdrew the request at {}", time(at)),
                }
            }
            Some(Refusal::RequestFinished { status, at }) => {
                let status = status_name(*status);
                if zh {
                    format!("该申请已于 {} 结束（{status}）", time(at))
                } else {
                    format!("The request was already {status} at {}", time(at))
                }
            }
            // The other engine refusals carry no names or times: the catalogue says them.
            Some(other) => other.message(if zh { Locale::ZhCn } else { Locale::En }),
            // The server's own refusals come as a stable code with an English sentence, which
            // may say more (ids, versions) than the catalogue: a Chinese reader gets the
            // catalogue's text, an English one the server's.
            None if zh => match MessageKey::from_code(&reason.code) {
                Some(key) => key.template(Locale::ZhCn).to_owned(),
                None => return item,
            },
            None => return item,
        };
        reason.message = said;
        item
    }

    /// Checks the whole offline cache when the last check is a day old or more (SQLite's
    /// quick check reads every page: seconds at 100k cached requests, so it is not done
    /// when the cache opens). Damage found is returned and makes the next start rebuild the
    /// cache, keeping drafts and the outbox; `None` when sound or not due.
    pub async fn check_cache(&self, now: DateTime<Utc>) -> Result<Option<String>> {
        let (cache, _) = self.open_cache().await?;
        let last = cache.meta_time(CHECKED_AT).await?;
        if last.is_some_and(|last| now - last < chrono::Duration::days(1)) {
            return Ok(None);
        }
        let damage = cache.check_whole().await?;
        if damage.is_none() {
            cache.set_meta(CHECKED_AT, &now.to_rfc3339()).await?;
        }
        Ok(damage)
    }

    pub async fn sync_status(&self) -> Result<SyncStatus> {
        let (cache, _) = self.open_cache().await?;
        let outbox = cache.outbox().await?;
        let last_sync_at = cache.meta_time("last_sync_at").await?;
        let mut refused = Vec::new();
        for entry in outbox.iter().filter(|e| e.state == OutboxState::Refused) {
            refused.push(self.explained(&cache, outbox_item(entry)).await);
        }
        let inner = self.inner.lock().await;
        let open = inner.cache.as_ref();
        Ok(SyncStatus {
            online: open.is_some_and(|o| o.online),
            last_sync_at,
            last_error: open.and_then(|o| o.last_error.clone()),
            outbox_pending: outbox
                .iter()
                .filter(|e| e.state == OutboxState::Pending)
                .count(),
            refused,
            recovery: open.and_then(|o| o.recovery.as_ref().map(Recovery::message)),
        })
    }

    // -- sync --

    /// Sends the outbox in order, then pulls every change after the cursor. Offline, it
    /// fails with `server_unreachable` and leaves everything queued; a refused mutation is
    /// recorded with its reason and does not stop the ones behind it.
    pub async fn sync(&self, now: DateTime<Utc>) -> Result<SyncReport> {
        let _one_at_a_time = self.syncing.lock().await;
        let (cache, _) = self.open_cache().await?;
        if self.inner.lock().await.connection.is_none() && self.load_connection().await?.is_none() {
            return Err(ClientError::new(
                ClientErrorCode::SignedOut,
                "Nobody is signed in. Sign in first.",
            ));
        }
        let outcome = self.sync_with(&cache, now).await;
        let mut inner = self.inner.lock().await;
        if let Some(open) = inner.cache.as_mut() {
            match &outcome {
                Ok(_) => {
                    open.online = true;
                    open.last_error = None;
                }
                Err(err) => {
                    open.online = !err.is_offline();
                    open.last_error = Some(err.clone());
                }
            }
        }
        outcome
    }

    async fn sync_with(&self, cache: &Cache, now: DateTime<Utc>) -> Result<SyncReport> {
        let mut report = SyncReport::default();
        self.push(cache, now, &mut report).await?;
        self.pull(cache, now, &mut report).await?;
        // Invitations just pulled are acknowledged in the same sync: the organiser's ledger
        // shows them reached without waiting for the next one.
        if self.queue_meeting_receipts(cache, now).await? {
            self.push(cache, now, &mut report).await?;
        }
        // The materials of coming meetings are fetched now, so they open offline later.
        self.fetch_materials(cache, now).await;
        let me = self.open_cache().await?.1;
        let reminders = self.meeting_reminders_with(cache, me, now).await?;
        report.notifications.extend(reminders);
        cache.set_meta("last_sync_at", &now.to_rfc3339()).await?;
        Ok(report)
    }

    async fn push(&self, cache: &Cache, now: DateTime<Utc>, report: &mut SyncReport) -> Result<()> {
        loop {
            let queued = cache.pending(BATCH).await?;
            if queued.is_empty() {
                return Ok(());
            }
            // A submission's files go first; the mutation then names the server's copies.
            let mut pending = Vec::with_capacity(queued.len());
            for mut entry in queued {
                let carries_form = entry.kind == MutationKind::SubmitRequest.as_str()
                    || (entry.kind == MutationKind::ActOnRequest.as_str()
                        && entry.action == "resubmit");
                if carries_form {
                    match self.payload_with_uploads(cache, &entry).await {
                        Ok(payload) => entry.payload = payload,
                        Err(UploadFailure::Lasting(reason)) => {
                            let refusal = MutationResult {
                                id: entry.id,
                                status: MutationStatus::Refused,
                                original: None,
                                reason: Some(reason.clone()),
                                entity: None,
                                meeting: None,
                            };
                            cache.record_answer(&refusal, now).await?;
                            let mut item = outbox_item(&entry);
                            item.state = OutboxState::Refused;
                            item.reason = Some(reason);
                            report.refused.push(item);
                            continue;
                        }
                        Err(UploadFailure::Transient(err)) => {
                            let ids: Vec<Uuid> = pending
                                .iter()
                                .map(|e: &OutboxEntry| e.id)
                                .chain([entry.id])
                                .collect();
                            cache
                                .record_attempt_failed(
                                    &ids,
                                    &err.message,
                                    now + backoff(entry.attempts),
                                )
                                .await?;
                            return Err(err);
                        }
                    }
                }
                pending.push(entry);
            }
            if pending.is_empty() {
                continue;
            }
            let batch = MutationBatch {
                mutations: pending
                    .iter()
                    .map(|e| Mutation {
                        id: e.id,
                        kind: serde_json::from_value(serde_json::Value::String(e.kind.clone()))
                            .unwrap_or(MutationKind::ActOnRequest),
                        payload: e.payload.clone(),
                        base_version: e.base_version,
                    })
                    .collect(),
            };
            let sent = self
                .authed(|api, access| {
                    let batch = batch.clone();
                    async move { api.mutations(&access, &batch).await }
                })
                .await;
            let results = match sent {
                Ok(r) => r,
                Err(err) => {
                    let ids: Vec<Uuid> = pending.iter().map(|e| e.id).collect();
                    let attempts = pending.iter().map(|e| e.attempts).max().unwrap_or(0);
                    cache
                        .record_attempt_failed(&ids, &err.message, now + backoff(attempts))
                        .await?;
                    return Err(err);
                }
            };
            report.sent += pending.len();
            let mut templates = TemplateVersions::default();
            let mut notes = self.notification_notes(cache).await?;
            for result in &results.results {
                let before = match &result.entity {
                    Some(view) => cache.request(view.id).await?,
                    None => None,
                };
                cache.record_answer(result, now).await?;
                if let Some(view) = &result.entity {
                    // The answer is the request as it now is: what the person just did may
                    // take a notification back (their own approval of a task shown).
                    let change = Change {
                        kind: EntityKind::Request,
                        id: view.id.to_string(),
                        version: view.version,
                        op: countersign_api::sync::ChangeOp::Upsert,
                        data: serde_json::to_value(view).ok(),
                    };
                    notes.load_for(cache, [view.id]).await?;
                    let template = templates.of(cache, &change).await;
                    let planned = notes.plan(SyncMode::Live, &change, before.as_ref(), template);
                    cache.keep_notes(&notes.take_kept()?).await?;
                    report.notifications.extend(planned);
                }
                let status = match result.status {
                    MutationStatus::Duplicate => result.original.unwrap_or(MutationStatus::Applied),
                    s => s,
                };
                if status == MutationStatus::Refused {
                    if let Some(entry) = pending.iter().find(|e| e.id == result.id) {
                        let mut item = outbox_item(entry);
                        item.state = OutboxState::Refused;
                        item.reason = result.reason.clone();
                        report.refused.push(self.explained(cache, item).await);
                    }
                } else {
                    report.applied += 1;
                }
            }
            if results.results.len() < pending.len() {
                // A server that answered fewer than it was sent: the rest stay pending.
                return Ok(());
            }
        }
    }

    /// The changes after `after`, one page of them.
    async fn sync_page(&self, after: &str) -> Result<SyncPage> {
        self.authed(|api, access| async move { api.sync(&access, after, PAGE).await })
            .await
    }

    async fn pull(&self, cache: &Cache, now: DateTime<Utc>, report: &mut SyncReport) -> Result<()> {
        // Without a cursor this is a first download: catch up quietly, then one summary. One
        // interrupted goes on where it stopped, holding what it held.
        let catching_up = cache.cursor().await?.is_none() || cache.catching_up().await?;
        let mode = if catching_up {
            SyncMode::CatchUp
        } else {
            SyncMode::Live
        };
        // Into an empty cache, nothing has an earlier copy: the record, which holds every
        // version this download meets, already catches a request met twice. Reading the
        // cache for each of 100k changes cost 5 % of a first download.
        let compare_with_cache = !catching_up || cache.holds_requests().await?;
        let mut notes = self.notification_notes(cache).await?;
        let mut templates = TemplateVersions::default();
        let mut after = cache.cursor().await?.unwrap_or_default();
        let mut fetched = self.sync_page(&after).await;
        loop {
            let page = match fetched {
                Ok(p) => p,
                Err(err) if err.server_code == Some(ErrorCode::ResyncRequired) => {
                    return self.resync(cache, now, report).await;
                }
                Err(err) => return Err(err),
            };
            // The next page is asked for while this one is written: the server builds it
            // and the answer crosses the network while the cache's disk is busy, instead of
            // each waiting for the other. Only a written page moves the cursor: a failed
            // write drops the request for the next page at once, and that page is asked for
            // again by the next sync; the next page's own failure waits for its turn, after
            // this page is written.
            let next = async {
                Ok::<_, ClientError>(if page.more {
                    Some(self.sync_page(&page.cursor).await)
                } else {
                    None
                })
            };
            let write = async {
                let mut planned = Vec::new();
                templates.learn(&page.changes);
                notes
                    .load_for(cache, page.changes.iter().filter_map(notify::notes_key))
                    .await?;
                for change in &page.changes {
                    // A first download that starts again meets the records its cut-off try
                    // stored: those are not an earlier copy to compare with, and must be
                    // held for the summary like the rest.
                    let previous = if compare_with_cache {
                        previous_of(cache, change)
                            .await?
                            .filter(|p| !catching_up || p.version < change.version)
                    } else {
                        None
                    };
                    let template = templates.of(cache, change).await;
                    planned.extend(notes.plan(mode, change, previous.as_ref(), template));
                }
                // Each page's records, its notes (what it holds back among them) and the
                // cursor past it in one transaction: a first download cut off resumes at the
                // page it had not finished, as any sync does.
                let mut kept = notes.take_kept()?;
                if catching_up {
                    kept.catching_up = Some(true);
                }
                cache
                    .apply_page_noting(&page.changes, Some(&page.cursor), &kept)
                    .await?;
                Ok::<_, ClientError>(planned)
            };
            let (planned, next) = tokio::try_join!(write, next)?;
            report.notifications.extend(planned);
            report.pulled += page.changes.len();
            if !catching_up {
                report
                    .changed
                    .extend(page.changes.iter().map(Changed::from));
            }
            after = page.cursor;
            match next {
                Some(next) => fetched = next,
                None => break,
            }
        }
        if catching_up {
            let (count, overdue, few) = cache.held_back(notify::CATCH_UP_SHOW_LIMIT).await?;
            notes.load_for(cache, few.iter().copied()).await?;
            let mut views = Vec::new();
            for id in few {
                views.extend(cache.request(id).await?);
            }
            let planned = notes
                .finish_catch_up(cache, &mut templates, count, overdue, &views, now)
                .await;
            let mut kept = notes.take_kept()?;
            kept.catching_up = Some(false);
            cache.apply_page_noting(&[], Some(&after), &kept).await?;
            report.notifications.extend(planned);
        }
        Ok(())
    }

    /// The signed-in person and the notification record stored with the cache, without the
    /// notes of any request yet ([`Notes::load_for`] adds those a sync is about).
    pub(crate) async fn notification_notes(&self, cache: &Cache) -> Result<Notes> {
        let me = self.open_cache().await?.1;
        let stored = cache.notified(NOTIFICATION_RECORD).await?;
        let record = stored
            .as_deref()
            // A record this version cannot read starts afresh: at worst a notification shows
            // again, never one is lost.
            .and_then(|body| serde_json::from_str(body).ok())
            .unwrap_or_default();
        Ok(Notes {
            me,
            record,
            stored: stored.unwrap_or_default(),
        })
    }

    /// Downloads everything again and swaps it in at once: until the download is complete
    /// the person keeps seeing the old cache; drafts and the outbox stay.
    async fn resync(
        &self,
        cache: &Cache,
        now: DateTime<Utc>,
        report: &mut SyncReport,
    ) -> Result<()> {
        let mut all = Vec::new();
        let mut after = String::new();
        loop {
            let page = self.sync_page(&after).await?;
            all.extend(page.changes);
            after = page.cursor;
            if !page.more {
                break;
            }
        }
        let mut notes = self.notification_notes(cache).await?;
        notes.load_all(cache).await?;
        let mut templates = TemplateVersions::default();
        templates.learn(&all);
        for change in &all {
            let previous = previous_of(cache, change).await?;
            let template = templates.of(cache, change).await;
            let planned = notes.plan(SyncMode::CatchUp, change, previous.as_ref(), template);
            report.notifications.extend(planned);
        }
        let (count, overdue) = notes.record.held_counts();
        // Few enough to show one by one: each as the download's last copy of it says.
        let views: Vec<RequestView> = if count <= notify::CATCH_UP_SHOW_LIMIT {
            notes
                .record
                .held_requests()
                .into_iter()
                .filter_map(|id| {
                    all.iter()
                        .rev()
                        .filter(|c| notify::notes_key(c) == Some(id))
                        .find_map(|c| RequestView::deserialize(c.data.as_ref()?).ok())
                })
                .collect()
        } else {
            Vec::new()
        };
        let planned = notes
            .finish_catch_up(cache, &mut templates, count, overdue, &views, now)
            .await;
        report.notifications.extend(planned);
        let mut kept = notes.take_kept()?;
        kept.catching_up = Some(false);
        cache.replace_all(&all, &after, &kept).await?;
        report.resynced = true;
        report.pulled += all.len();
        Ok(())
    }
}

/// Whether the error at `error_path` is about the field at `path` or something inside it.
fn is_within(error_path: &str, path: &str) -> bool {
    error_path == path
        || error_path
            .strip_prefix(path)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

/// The cached copy of the request a change is about, before the change.
async fn previous_of(cache: &Cache, change: &Change) -> Result<Option<RequestView>> {
    if change.kind != EntityKind::Request {
        return Ok(None);
    }
    match Uuid::parse_str(&change.id) {
        Ok(id) => cache.request(id).await,
        Err(_) => Ok(None),
    }
}

/// The template versions a sync has met, each decoded once: a request change's notification
/// may offer Approve only if its template version allows it. A page of 500 requests on three
/// templates then decodes three templates, not 500 from the cache plus every template in the
/// page for each request. A version's rules never change once published, so remembering
/// them for the whole sync is safe.
#[derive(Default)]
struct TemplateVersions(
    std::collections::HashMap<(String, u32), Option<countersign_domain::templates::Template>>,
);

impl TemplateVersions {
    /// Takes in the versions a page publishes: they are not cached yet, and win over the cache.
    fn learn(&mut self, batch: &[Change]) {
        use countersign_api::requests::TemplateView;
        use countersign_api::sync::ChangeOp;
        let published = batch
            .iter()
            .filter(|c| c.kind == EntityKind::Template && c.op == ChangeOp::Upsert)
            .filter_map(|c| TemplateView::deserialize(c.data.as_ref()?).ok());
        for view in published {
            let key = (view.template.id.clone(), view.template.version);
            self.0.insert(key, Some(view.template));
        }
    }

    /// The template version `change` (a request) runs on: learned from a page, or else from
    /// the cache. Not found or unreadable is `None`, and the notification offers Open only.
    async fn of(
        &mut self,
        cache: &Cache,
        change: &Change,
    ) -> Option<&countersign_domain::templates::Template> {
        let data = change
            .data
            .as_ref()
            .filter(|_| change.kind == EntityKind::Request)?;
        let id = data.get("template_id")?.as_str()?;
        let version = u32::try_from(data.get("template_version")?.as_u64()?).ok()?;
        self.load(cache, id, version).await;
        self.get(id, version)
    }

    /// Reads template `id` at `version` from the cache unless already known.
    async fn load(&mut self, cache: &Cache, id: &str, version: u32) {
        if let std::collections::hash_map::Entry::Vacant(entry) =
            self.0.entry((id.to_owned(), version))
        {
            let cached = cache
                .template(id, Some(version))
                .await
                .ok()
                .flatten()
                .map(|v| v.template);
            entry.insert(cached);
        }
    }

    /// Template `id` at `version`, if loaded and readable.
    fn get(&self, id: &str, version: u32) -> Option<&countersign_domain::templates::Template> {
        self.0.get(&(id.to_owned(), version))?.as_ref()
    }
}

/// The notification record a sync plans with: the stored body and the notes of the requests
/// loaded for it. See [`NotificationRecord`] for why the notes are stored apart.
pub(crate) struct Notes {
    me: Uuid,
    record: NotificationRecord,
    /// The body as last read or written: an unchanged body is not written again.
    stored: String,
}

impl Notes {
    /// Loads the stored notes of `requests` that the record does not hold yet.
    async fn load_for(
        &mut self,
        cache: &Cache,
        requests: impl IntoIterator<Item = Uuid>,
    ) -> Result<()> {
        let missing: Vec<Uuid> = requests
            .into_iter()
            .filter(|r| !self.record.knows(*r))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let rows = cache.request_notes(&missing).await?;
        self.remember(rows);
        Ok(())
    }

    async fn load_all(&mut self, cache: &Cache) -> Result<()> {
        let rows = cache.all_request_notes().await?;
        self.remember(rows);
        Ok(())
    }

    fn remember(&mut self, rows: Vec<(Uuid, String)>) {
        // Notes this version cannot read start afresh, like the record's body.
        self.record.remember(
            rows.into_iter()
                .filter_map(|(id, body)| Some((id, serde_json::from_str(&body).ok()?))),
        );
    }

    /// Runs one of the planner's pure steps on the record, keeping the record it answers.
    pub(crate) fn apply(
        &mut self,
        step: impl FnOnce(NotificationRecord) -> notify::Plan,
    ) -> Vec<Planned> {
        let plan = step(std::mem::take(&mut self.record));
        self.record = plan.record;
        plan.planned
    }

    fn plan(
        &mut self,
        mode: SyncMode,
        change: &Change,
        previous: Option<&RequestView>,
        template: Option<&countersign_domain::templates::Template>,
    ) -> Vec<Planned> {
        let me = self.me;
        self.apply(|record| notify::plan(me, mode, change, previous, template, record))
    }

    /// Ends a catch-up that held back `count` subjects (`overdue` of them overdue); `views`
    /// are the requests they are about when few enough to be shown one by one.
    async fn finish_catch_up(
        &mut self,
        cache: &Cache,
        templates: &mut TemplateVersions,
        count: usize,
        overdue: usize,
        views: &[RequestView],
        now: DateTime<Utc>,
    ) -> Vec<Planned> {
        for view in views {
            templates
                .load(cache, &view.template_id, view.template_version)
                .await;
        }
        let requests: Vec<(
            &RequestView,
            Option<&countersign_domain::templates::Template>,
        )> = views
            .iter()
            .map(|v| (v, templates.get(&v.template_id, v.template_version)))
            .collect();
        let held = notify::HeldBack {
            count,
            overdue,
            requests: &requests,
        };
        let me = self.me;
        self.apply(|record| notify::finish_catch_up(me, record, held, now))
    }

    /// What to store: the notes of every request planned since the last time (taken out of
    /// the record), and the body when it changed.
    pub(crate) fn take_kept(&mut self) -> Result<KeptNotes> {
        let encode = |e: serde_json::Error| ClientError::internal(e.to_string());
        let requests = self
            .record
            .take_request_notes()
            .into_iter()
            .map(|(request, n)| {
                let (held, held_overdue) = n.held();
                Ok(NotesRow {
                    request,
                    body: serde_json::to_string(&n).map_err(encode)?,
                    held,
                    held_overdue,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let body = serde_json::to_string(&self.record).map_err(encode)?;
        let record = (body != self.stored).then(|| {
            self.stored.clone_from(&body);
            body
        });
        Ok(KeptNotes {
            record,
            requests,
            catching_up: None,
        })
    }
}

fn require_comment(comment: &str, action: &str, locale: Locale) -> Result<()> {
    if comment.trim().is_empty() {
        return Err(invalid(Refusal::SayWhy { action }.text(locale)));
    }
    Ok(())
}

/// Seconds before retrying after `attempts` failures: 2, 4, 8 … up to five minutes, with
/// up to a quarter added at random so that many clients coming back online do not all
/// knock at once.
fn backoff(attempts: u32) -> chrono::Duration {
    let base = 2u64.saturating_pow(attempts.saturating_add(1)).min(300);
    let jitter = rand::random_range(0..=base / 4);
    chrono::Duration::seconds(i64::try_from(base + jitter).unwrap_or(300))
}

pub(crate) fn new_entry(
    kind: MutationKind,
    request_id: Uuid,
    task: Option<u32>,
    action: &str,
    base_version: Option<u64>,
    payload: serde_json::Value,
    now: DateTime<Utc>,
) -> OutboxEntry {
    OutboxEntry {
        id: Uuid::now_v7(),
        kind: kind.as_str().to_owned(),
        request_id,
        task,
        action: action.to_owned(),
        base_version,
        payload,
        created_at: now,
        state: OutboxState::Pending,
        attempts: 0,
        next_attempt_at: None,
        last_error: None,
        answer: None,
        answered_at: None,
    }
}

pub(crate) fn outbox_item(e: &OutboxEntry) -> OutboxItem {
    OutboxItem {
        id: e.id,
        request_id: e.request_id,
        task: e.task,
        action: e.action.clone(),
        state: e.state,
        created_at: e.created_at,
        attempts: e.attempts,
        last_error: e.last_error.clone(),
        reason: e.answer.as_ref().and_then(|a| a.reason.clone()),
    }
}

pub(crate) fn status_name(status: RequestStatus) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn draft_error(e: &FieldError, locale: Locale) -> DraftError {
    DraftError {
        path: e.path.clone(),
        key: serde_json::to_value(e.key)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        message: e.message(locale),
    }
}

/// The shipped working-day calendar, loaded once.
fn calendar() -> Result<&'static WorkingCalendar> {
    static CALENDAR: std::sync::OnceLock<std::result::Result<WorkingCalendar, String>> =
        std::sync::OnceLock::new();
    CALENDAR
        .get_or_init(|| WorkingCalendar::cn_mainland().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| ClientError::internal(format!("the shipped calendar is broken: {e}")))
}

/// One step of a field path: a key, or a row index in a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    Key(String),
    Row(usize),
}

/// `lines[2].amount` → key `lines`, row 2, key `amount`.
pub(crate) fn parse_path(path: &str) -> Result<Vec<Step>> {
    let bad = || {
        invalid(format!(
            "'{path}' is not a field path (e.g. purpose, lines[0].amount)."
        ))
    };
    let mut steps = Vec::new();
    for part in path.split('.') {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        if key.is_empty() {
            return Err(bad());
        }
        steps.push(Step::Key(key.to_owned()));
        let mut rest = rest;
        while !rest.is_empty() {
            let (index, after) = rest.split_once(']').ok_or_else(bad)?;
            steps.push(Step::Row(index.parse().map_err(|_| bad())?));
            rest = after.strip_prefix('[').unwrap_or(after);
            if !after.is_empty() && !after.starts_with('[') {
                return Err(bad());
            }
        }
    }
    Ok(steps)
}

/// Checks that the path names a field of the schema (a table's column after a row index).
pub(crate) fn check_path(
    schema: &countersign_domain::form::FormSchema,
    steps: &[Step],
    path: &str,
) -> Result<()> {
    use countersign_domain::form::FieldType;
    let unknown = || {
        let fields: Vec<&str> = schema.fields.iter().map(|f| f.key.as_str()).collect();
        invalid(format!(
            "The form has no field '{path}'. Its fields: {}.",
            fields.join(", ")
        ))
    };
    let Some(Step::Key(first)) = steps.first() else {
        return Err(unknown());
    };
    let field = schema
        .fields
        .iter()
        .find(|f| &f.key == first)
        .ok_or_else(unknown)?;
    match (&field.field_type, &steps[1..]) {
        (_, []) => Ok(()),
        (FieldType::Table { columns, .. }, [Step::Row(_)]) => {
            let _ = columns;
            Ok(())
        }
        (FieldType::Table { columns, .. }, [Step::Row(_), Step::Key(column)]) => {
            if columns.iter().any(|c| &c.key == column) {
                Ok(())
            } else {
                let names: Vec<&str> = columns.iter().map(|c| c.key.as_str()).collect();
                Err(invalid(format!(
                    "The table '{first}' has no column '{column}'. Its columns: {}.",
                    names.join(", ")
                )))
            }
        }
        _ => Err(unknown()),
    }
}

/// The value at the path, if there is one.
pub(crate) fn value_at<'f>(
    form: &'f serde_json::Value,
    steps: &[Step],
) -> Option<&'f serde_json::Value> {
    steps.iter().try_fold(form, |here, step| match step {
        Step::Key(key) => here.get(key),
        Step::Row(index) => here.get(*index),
    })
}

/// Sets `value` at the path, creating objects and table rows on the way.
fn set_at(form: &mut serde_json::Value, steps: &[Step], value: serde_json::Value) {
    let mut here = form;
    for (i, step) in steps.iter().enumerate() {
        let last = i + 1 == steps.len();
        match step {
            Step::Key(key) => {
                if !here.is_object() {
                    *here = serde_json::json!({});
                }
                let Some(map) = here.as_object_mut() else {
                    return;
                };
                if last {
                    if value.is_null() {
                        map.remove(key);
                    } else {
                        map.insert(key.clone(), value);
                    }
                    return;
                }
                here = map.entry(key.clone()).or_insert(serde_json::Value::Null);
            }
            Step::Row(index) => {
                if !here.is_array() {
                    *here = serde_json::json!([]);
                }
                let Some(rows) = here.as_array_mut() else {
                    return;
                };
                while rows.len() <= *index {
                    rows.push(serde_json::json!({}));
                }
                if last {
                    rows[*index] = value;
                    return;
                }
                here = &mut rows[*index];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_fields_and_table_cells() {
        assert_eq!(
            parse_path("purpose").unwrap(),
            vec![Step::Key("purpose".into())]
        );
        assert_eq!(
            parse_path("lines[2].amount").unwrap(),
            vec![
                Step::Key("lines".into()),
                Step::Row(2),
                Step::Key("amount".into())
            ]
        );
        for bad in ["", ".x", "lines[x].amount", "lines[1", "lines[1]x"] {
            assert!(parse_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn setting_a_cell_creates_the_rows_before_it() {
        let mut form = serde_json::json!({"purpose": "trip"});
        let steps = parse_path("lines[1].amount").unwrap();
        set_at(
            &mut form,
            &steps,
            serde_json::json!({"amount": "1.00", "currency": "CNY"}),
        );
        assert_eq!(
            form,
            serde_json::json!({"purpose": "trip", "lines": [{}, {"amount": {"amount": "1.00", "currency": "CNY"}}]})
        );
        set_at(
            &mut form,
            &parse_path("purpose").unwrap(),
            serde_json::Value::Null,
        );
        assert!(form.get("purpose").is_none(), "null clears a field");
    }

    #[test]
    fn retries_back_off_up_to_five_minutes() {
        assert!(backoff(0) >= chrono::Duration::seconds(2));
        assert!(backoff(0) <= chrono::Duration::seconds(2));
        assert!(backoff(3) >= chrono::Duration::seconds(16));
        assert!(backoff(30) <= chrono::Duration::seconds(375));
        assert!(backoff(30) >= chrono::Duration::seconds(300));
    }
}
