//! The commands the web UI may call. Each is a few lines: take the client, call it with the
//! time now (the core never reads the clock itself), hand back its typed answer. Those that
//! change something nudge the background sync so the change leaves the device at once.

use chrono::{DateTime, Utc};
use countersign_api::SessionInfo;
use countersign_domain::meetings::Rsvp;
use std::path::PathBuf;

use countersign_api::meetings::RoomView;
use countersign_client::{
    Act, AttachOutcome, AttachmentState, BulkOutcome, ClientError, DirectoryEntry, DirectoryQuery,
    DraftView, InboxPage, InboxQuery, LanguagePreference, MyRequestsPage, MyRequestsQuery,
    OutboxItem, Preferences, RequestDetail, SessionView, SyncStatus, TemplateInfo,
};
use countersign_client::{
    FALLBACK_TIME_ZONE, ImportedInvitation, MeetingChange, MeetingCoverageView, MeetingDetail,
    MeetingEntry, MeetingForm, zone_or_system,
};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt as _;
use tauri_plugin_opener::OpenerExt as _;
use uuid::Uuid;

use crate::Core;
use crate::background;
use crate::logs;

#[tauri::command]
#[specta::specta]
pub async fn get_preferences(core: State<'_, Core>) -> Result<Preferences, ClientError> {
    Ok(core.client()?.preferences().await)
}

#[tauri::command]
#[specta::specta]
pub async fn set_language(
    app: AppHandle,
    core: State<'_, Core>,
    language: LanguagePreference,
) -> Result<Preferences, ClientError> {
    let preferences = core.client()?.set_language(language).await?;
    // The tray and notifications speak the new language from now on.
    background::refresh(&app).await;
    Ok(preferences)
}

#[tauri::command]
#[specta::specta]
pub async fn set_notifications(
    core: State<'_, Core>,
    on: bool,
) -> Result<Preferences, ClientError> {
    core.client()?.set_notifications(on).await
}

#[tauri::command]
#[specta::specta]
pub async fn restore_session(
    app: AppHandle,
    core: State<'_, Core>,
) -> Result<SessionView, ClientError> {
    // The cache answers first: the window does not wait for the server to confirm who is
    // signed in; a changed identity follows as an event, an ended session as another.
    let client = core.client()?;
    let session = client.restore_remembered().await?;
    background::follow(&app, &session);
    background::refresh_identity(&app, client, &session);
    Ok(session)
}

#[tauri::command]
#[specta::specta]
pub async fn sign_in(
    app: AppHandle,
    core: State<'_, Core>,
    server: String,
    username: String,
    password: String,
) -> Result<SessionView, ClientError> {
    let session = core
        .client()?
        .sign_in(&server, &username, &password)
        .await?;
    background::follow(&app, &session);
    Ok(session)
}

/// Signs in without the OS keyring (it is locked, missing or refused): the sign-in lasts
/// until the app quits, and nothing secret is written anywhere.
#[tauri::command]
#[specta::specta]
pub async fn sign_in_for_this_session(
    app: AppHandle,
    core: State<'_, Core>,
    server: String,
    username: String,
    password: String,
) -> Result<SessionView, ClientError> {
    let client = core.without_keyring()?;
    let session = client.sign_in(&server, &username, &password).await?;
    background::follow(&app, &session);
    Ok(session)
}

#[tauri::command]
#[specta::specta]
pub async fn sign_out(app: AppHandle, core: State<'_, Core>) -> Result<SessionView, ClientError> {
    background::stop(&app).await;
    core.client()?.sign_out().await
}

#[tauri::command]
#[specta::specta]
pub async fn sessions(core: State<'_, Core>) -> Result<Vec<SessionInfo>, ClientError> {
    core.client()?.sessions().await
}

#[tauri::command]
#[specta::specta]
pub async fn revoke_session(core: State<'_, Core>, id: Uuid) -> Result<(), ClientError> {
    core.client()?.revoke_session(id).await
}

#[tauri::command]
#[specta::specta]
pub async fn inbox(core: State<'_, Core>, query: InboxQuery) -> Result<InboxPage, ClientError> {
    core.client()?.inbox_page(&query, Utc::now()).await
}

#[tauri::command]
#[specta::specta]
pub async fn my_requests(
    core: State<'_, Core>,
    query: MyRequestsQuery,
) -> Result<MyRequestsPage, ClientError> {
    core.client()?.my_requests_page(&query).await
}

#[tauri::command]
#[specta::specta]
pub async fn request_detail(core: State<'_, Core>, id: Uuid) -> Result<RequestDetail, ClientError> {
    core.client()?.request_detail(id, Utc::now()).await
}

#[tauri::command]
#[specta::specta]
pub async fn act(
    app: AppHandle,
    core: State<'_, Core>,
    request_id: Uuid,
    act: Act,
) -> Result<OutboxItem, ClientError> {
    let queued = core.client()?.act(request_id, act, Utc::now()).await?;
    background::changed_here(&app);
    Ok(queued)
}

#[tauri::command]
#[specta::specta]
pub async fn act_many(
    app: AppHandle,
    core: State<'_, Core>,
    request_ids: Vec<Uuid>,
    act: Act,
) -> Result<Vec<BulkOutcome>, ClientError> {
    let outcomes = core
        .client()?
        .act_many(&request_ids, &act, Utc::now())
        .await;
    background::changed_here(&app);
    Ok(outcomes)
}

#[tauri::command]
#[specta::specta]
pub async fn templates(core: State<'_, Core>) -> Result<Vec<TemplateInfo>, ClientError> {
    core.client()?.template_gallery().await
}

#[tauri::command]
#[specta::specta]
pub async fn template(
    core: State<'_, Core>,
    id: String,
    version: u32,
) -> Result<Option<TemplateInfo>, ClientError> {
    core.client()?.template_info(&id, version).await
}

#[tauri::command]
#[specta::specta]
pub async fn directory_search(
    core: State<'_, Core>,
    query: DirectoryQuery,
) -> Result<Vec<DirectoryEntry>, ClientError> {
    core.client()?.directory_search(&query).await
}

#[tauri::command]
#[specta::specta]
pub async fn directory_names(
    core: State<'_, Core>,
    ids: Vec<Uuid>,
) -> Result<Vec<DirectoryEntry>, ClientError> {
    core.client()?.directory_names(&ids).await
}

#[tauri::command]
#[specta::specta]
pub async fn drafts(core: State<'_, Core>) -> Result<Vec<DraftView>, ClientError> {
    core.client()?.drafts().await
}

#[tauri::command]
#[specta::specta]
pub async fn draft(core: State<'_, Core>, id: Uuid) -> Result<DraftView, ClientError> {
    core.client()?.draft(id).await
}

#[tauri::command]
#[specta::specta]
pub async fn draft_new(
    core: State<'_, Core>,
    template_id: String,
) -> Result<DraftView, ClientError> {
    core.client()?.draft_new(&template_id, Utc::now()).await
}

/// Sets one field (`purpose`, or `lines[0].amount` in a table) to a value given as JSON
/// text (the form's values are of many shapes; the domain checks them). A value that breaks
/// its own field's rules is refused with the reason and the draft kept as it was.
#[tauri::command]
#[specta::specta]
pub async fn draft_set(
    core: State<'_, Core>,
    id: Uuid,
    path: String,
    value_json: String,
) -> Result<DraftView, ClientError> {
    let value = serde_json::from_str(&value_json).map_err(|e| {
        ClientError::new(
            countersign_client::ClientErrorCode::InvalidInput,
            format!("The value for {path} is not valid JSON: {e}"),
        )
    })?;
    core.client()?.draft_set(id, &path, value, Utc::now()).await
}

/// A draft to correct a request returned to the person (the same draft if one exists);
/// submitting it resubmits that request.
#[tauri::command]
#[specta::specta]
pub async fn draft_resubmit(
    core: State<'_, Core>,
    request: Uuid,
) -> Result<DraftView, ClientError> {
    core.client()?.draft_resubmit(request, Utc::now()).await
}

#[tauri::command]
#[specta::specta]
pub async fn draft_title(
    core: State<'_, Core>,
    id: Uuid,
    title: String,
) -> Result<DraftView, ClientError> {
    core.client()?.draft_title(id, &title, Utc::now()).await
}

#[tauri::command]
#[specta::specta]
pub async fn draft_delete(core: State<'_, Core>, id: Uuid) -> Result<(), ClientError> {
    core.client()?.draft_delete(id).await
}

#[tauri::command]
#[specta::specta]
pub async fn submit_draft(
    app: AppHandle,
    core: State<'_, Core>,
    id: Uuid,
) -> Result<OutboxItem, ClientError> {
    let queued = core.client()?.submit_draft(id, Utc::now()).await?;
    background::changed_here(&app);
    Ok(queued)
}

/// Lets the person pick files with the system's file dialog and attaches them to the field
/// at `path`. The dialog runs here, in Rust: the web view never sees a path nor gets any
/// file-system permission. Cancelling attaches nothing.
#[tauri::command]
#[specta::specta]
pub async fn draft_attach_pick(
    app: AppHandle,
    window: tauri::Window,
    core: State<'_, Core>,
    id: Uuid,
    path: String,
) -> Result<AttachOutcome, ClientError> {
    let files = pick_files(&app, &window).await;
    attach(&core, id, &path, &files).await
}

/// Attaches the files last dropped on the window (see [`DroppedFiles`]) to the field at
/// `path`; the UI names the field under the drop, never a file.
#[tauri::command]
#[specta::specta]
pub async fn draft_attach_dropped(
    core: State<'_, Core>,
    dropped: State<'_, DroppedFiles>,
    id: Uuid,
    path: String,
) -> Result<AttachOutcome, ClientError> {
    let files = dropped.take();
    attach(&core, id, &path, &files).await
}

/// The files the person picks in the system's dialog (none when cancelled). The dialog runs
/// here, in Rust: the web view never sees a path nor gets any file-system permission.
async fn pick_files(app: &AppHandle, window: &tauri::Window) -> Vec<PathBuf> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    file_dialog(app, window).pick_files(move |picked| {
        let _ = tx.send(picked.unwrap_or_default());
    });
    let picked: Vec<PathBuf> = rx
        .await
        .unwrap_or_default()
        .into_iter()
        .filter_map(|f| f.into_path().ok())
        .collect();
    if let Some(first) = picked.first() {
        remember_folder(app, first);
    }
    picked
}

/// The folder the file dialogs open in: where the person last picked or saved a file in
/// this run of the app, else their documents folder, else their home. Never the toolkit's
/// "Recent" view, which lists nothing useful for attaching a scan.
#[derive(Default)]
pub struct DialogFolder(std::sync::Mutex<Option<PathBuf>>);

/// The system's file dialog over `window`, opening in [`DialogFolder`]'s folder.
fn file_dialog(
    app: &AppHandle,
    window: &tauri::Window,
) -> tauri_plugin_dialog::FileDialogBuilder<tauri::Wry> {
    use tauri::Manager as _;
    let last = app
        .try_state::<DialogFolder>()
        .and_then(|folder| folder.0.lock().unwrap_or_else(|p| p.into_inner()).clone());
    // A remembered folder deleted since, or no Documents folder: the next in line.
    let start = [last, app.path().document_dir().ok()]
        .into_iter()
        .flatten()
        .find(|dir| dir.is_dir())
        .or_else(|| app.path().home_dir().ok());
    let dialog = app.dialog().file().set_parent(window);
    match start {
        Some(dir) => dialog.set_directory(dir),
        None => dialog,
    }
}

/// Keeps the folder of `file` for the next file dialog.
fn remember_folder(app: &AppHandle, file: &std::path::Path) {
    use tauri::Manager as _;
    if let (Some(folder), Some(state)) = (file.parent(), app.try_state::<DialogFolder>()) {
        *state.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(folder.to_path_buf());
    }
}

async fn attach(
    core: &Core,
    id: Uuid,
    path: &str,
    files: &[PathBuf],
) -> Result<AttachOutcome, ClientError> {
    core.client()?
        .draft_attach_files(id, path, files, Utc::now())
        .await
}

#[tauri::command]
#[specta::specta]
pub async fn draft_detach(
    core: State<'_, Core>,
    id: Uuid,
    path: String,
    attachment: Uuid,
) -> Result<DraftView, ClientError> {
    core.client()?
        .draft_detach(id, &path, attachment, Utc::now())
        .await
}

#[tauri::command]
#[specta::specta]
pub async fn attachment_states(
    core: State<'_, Core>,
    ids: Vec<Uuid>,
) -> Result<Vec<AttachmentState>, ClientError> {
    core.client()?.attachment_states(&ids).await
}

/// Opens an attachment with the system's default app, downloading it first when this device
/// has no copy. Only files in the profile's attachment folder are ever opened.
#[tauri::command]
#[specta::specta]
pub async fn open_attachment(
    app: AppHandle,
    core: State<'_, Core>,
    id: Uuid,
) -> Result<(), ClientError> {
    let client = core.client()?;
    let file = client.attachment_file(id, Utc::now()).await?;
    if !file.starts_with(client.attachments_folder()) {
        return Err(ClientError::internal(
            "refusing to open a file outside the attachments folder",
        ));
    }
    app.opener()
        .open_path(file.to_string_lossy(), None::<&str>)
        .map_err(|e| ClientError::internal(format!("Cannot open {}: {e}", file.display())))
}

/// Files dropped on the window, kept on the Rust side: the web view is told only their names
/// and where they fell ([`FilesDropped`]), and asks to attach "the dropped files".
#[derive(Default)]
pub struct DroppedFiles(std::sync::Mutex<Vec<PathBuf>>);

impl DroppedFiles {
    pub fn put(&self, files: Vec<PathBuf>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = files;
    }

    fn take(&self) -> Vec<PathBuf> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// What the window hears when files are dropped on it: their names, and the drop's place in
/// CSS pixels so the UI can tell which field they fell on.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct FilesDropped {
    pub names: Vec<String>,
    pub x: f64,
    pub y: f64,
}

/// The zone the person reads times in: the system's.
fn reader_zone() -> countersign_domain::ics::Tz {
    zone_or_system(None).unwrap_or(FALLBACK_TIME_ZONE)
}

/// The meetings overlapping `[from, to)`, with times in the person's zone.
#[tauri::command]
#[specta::specta]
pub async fn meetings(
    core: State<'_, Core>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<MeetingEntry>, ClientError> {
    core.client()?.meetings(from, to, reader_zone()).await
}

/// A meeting in full; showing it tells the organiser it was opened.
#[tauri::command]
#[specta::specta]
pub async fn meeting_detail(
    app: AppHandle,
    core: State<'_, Core>,
    id: Uuid,
) -> Result<MeetingDetail, ClientError> {
    let client = core.client()?;
    let now = Utc::now();
    let detail = client.meeting(id, reader_zone(), now).await?;
    if detail.entry.my_role == "invitee" && detail.opened_at == Some(now) {
        // Opened for the first time: the receipt that tells the organiser goes out now.
        // Only then — the window reads the meeting again after every sync.
        background::changed_here(&app);
    }
    Ok(detail)
}

/// Opens a meeting's online link in the system's browser. Only the link the meeting carries,
/// and only http(s): the window cannot have the app open anything else.
#[tauri::command]
#[specta::specta]
pub async fn open_meeting_link(
    app: AppHandle,
    core: State<'_, Core>,
    id: Uuid,
) -> Result<(), ClientError> {
    let link = core.client()?.meeting_web_link(id).await?;
    app.opener()
        .open_url(&link, None::<&str>)
        .map_err(|e| ClientError::internal(format!("Cannot open {link}: {e}")))
}

/// The invitations still waiting for the person's answer, soonest first.
#[tauri::command]
#[specta::specta]
pub async fn invitations_to_answer(
    core: State<'_, Core>,
) -> Result<Vec<MeetingEntry>, ClientError> {
    core.client()?
        .unanswered_invitations(Utc::now(), reader_zone(), 50)
        .await
}

/// Answers an invitation (queued; sent at once when online).
#[tauri::command]
#[specta::specta]
pub async fn rsvp(
    app: AppHandle,
    core: State<'_, Core>,
    id: Uuid,
    answer: Rsvp,
    note: Option<String>,
) -> Result<OutboxItem, ClientError> {
    let item = core.client()?.rsvp(id, answer, note, Utc::now()).await?;
    background::changed_here(&app);
    Ok(item)
}

/// The rooms that can be booked (online).
#[tauri::command]
#[specta::specta]
pub async fn rooms(core: State<'_, Core>) -> Result<Vec<RoomView>, ClientError> {
    core.client()?.rooms().await
}

/// Plans a meeting and sends its invitations (online); the new meeting's id.
#[tauri::command]
#[specta::specta]
pub async fn meeting_new(
    app: AppHandle,
    core: State<'_, Core>,
    form: MeetingForm,
) -> Result<Uuid, ClientError> {
    let view = core.client()?.new_meeting(&form).await?;
    background::refresh(&app).await;
    Ok(view.id)
}

/// Changes a meeting the person organises (online); everyone is told what changed.
#[tauri::command]
#[specta::specta]
pub async fn meeting_edit(
    app: AppHandle,
    core: State<'_, Core>,
    id: Uuid,
    change: MeetingChange,
) -> Result<(), ClientError> {
    core.client()?.change_meeting(id, &change).await?;
    background::refresh(&app).await;
    Ok(())
}

/// Cancels a meeting the person organises (online); everyone is told.
#[tauri::command]
#[specta::specta]
pub async fn meeting_cancel(
    app: AppHandle,
    core: State<'_, Core>,
    id: Uuid,
    reason: Option<String>,
) -> Result<(), ClientError> {
    core.client()?.cancel_meeting(id, reason).await?;
    background::refresh(&app).await;
    Ok(())
}

/// Adds files the person picks (the dialog runs here) to a meeting's materials (online).
/// False when the dialog was cancelled.
#[tauri::command]
#[specta::specta]
pub async fn meeting_add_materials(
    app: AppHandle,
    window: tauri::Window,
    core: State<'_, Core>,
    id: Uuid,
) -> Result<bool, ClientError> {
    let client = core.client()?;
    let files = pick_files(&app, &window).await;
    if files.is_empty() {
        return Ok(false);
    }
    client.add_materials(id, &files).await?;
    background::refresh(&app).await;
    Ok(true)
}

/// Who was invited, reached, opened and answered, for meetings starting in `[from, to)`
/// (online; organisers see their own, report readers everyone's).
#[tauri::command]
#[specta::specta]
pub async fn meeting_coverage(
    core: State<'_, Core>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<MeetingCoverageView, ClientError> {
    core.client()?
        .meeting_coverage(from, to, reader_zone())
        .await
}

/// Saves the meeting as a calendar file where the person chooses (the dialog runs here; the
/// web view never sees a path). The file's name when saved, `None` when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn meeting_export(
    app: AppHandle,
    window: tauri::Window,
    core: State<'_, Core>,
    id: Uuid,
) -> Result<Option<String>, ClientError> {
    let file = core.client()?.meeting_calendar_file(id, Utc::now()).await?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    file_dialog(&app, &window)
        .set_file_name(&file.file_name)
        .add_filter("iCalendar", &["ics"])
        .save_file(move |picked| {
            let _ = tx.send(picked.and_then(|p| p.into_path().ok()));
        });
    let Some(path) = rx.await.ok().flatten() else {
        return Ok(None);
    };
    remember_folder(&app, &path);
    tokio::fs::write(&path, file.text.as_bytes())
        .await
        .map_err(|e| {
            ClientError::new(
                countersign_client::ClientErrorCode::FileUnreadable,
                format!("Cannot write {}: {e}", path.display()),
            )
        })?;
    Ok(Some(
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or(file.file_name),
    ))
}

/// Reads a calendar file the person picks: its events in their zone, attendees matched to
/// the directory. `None` when cancelled; nothing is saved either way.
#[tauri::command]
#[specta::specta]
pub async fn meeting_import(
    app: AppHandle,
    window: tauri::Window,
    core: State<'_, Core>,
) -> Result<Option<Vec<ImportedInvitation>>, ClientError> {
    let client = core.client()?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    file_dialog(&app, &window)
        .add_filter("iCalendar", &["ics", "ical", "ifb", "icalendar"])
        .pick_file(move |picked| {
            let _ = tx.send(picked.and_then(|p| p.into_path().ok()));
        });
    let Some(path) = rx.await.ok().flatten() else {
        return Ok(None);
    };
    remember_folder(&app, &path);
    client
        .read_calendar_path(&path, reader_zone())
        .await
        .map(Some)
}

#[tauri::command]
#[specta::specta]
pub async fn sync_status(core: State<'_, Core>) -> Result<SyncStatus, ClientError> {
    core.client()?.sync_status().await
}

/// Syncs now and says how it went (the UI shows "Sync now" progress); the report is also
/// handled like any other sync (notifications, tray, lists refreshed).
#[tauri::command]
#[specta::specta]
pub async fn sync_now(app: AppHandle) -> Result<SyncStatus, ClientError> {
    background::sync_now(&app).await
}

/// What a notification, the tray or a `countersign://` link asked the window to show, once.
/// The window calls it when it starts listening and whenever it is nudged.
#[tauri::command]
#[specta::specta]
pub async fn take_opened_request(
    app: AppHandle,
) -> Result<Option<background::OpenRequest>, ClientError> {
    Ok(background::take_opened(&app))
}

/// The app's own settings, beside the client's preferences.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct AppSettings {
    /// Starts hidden in the tray when the person signs in to the computer.
    pub start_at_login: bool,
    /// Notifications paused from the tray (until the app quits or they are resumed).
    pub notifications_paused: bool,
}

#[tauri::command]
#[specta::specta]
pub async fn app_settings(app: AppHandle) -> Result<AppSettings, ClientError> {
    Ok(AppSettings {
        start_at_login: crate::autostart::enabled(&app),
        notifications_paused: background::paused(&app),
    })
}

#[tauri::command]
#[specta::specta]
pub async fn set_start_at_login(app: AppHandle, on: bool) -> Result<AppSettings, ClientError> {
    crate::autostart::set(&app, on)?;
    app_settings(app).await
}

#[tauri::command]
#[specta::specta]
pub async fn set_notifications_paused(
    app: AppHandle,
    paused: bool,
) -> Result<AppSettings, ClientError> {
    background::set_paused(&app, paused).await;
    app_settings(app).await
}

/// What the About screen shows.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct AboutInfo {
    pub version: String,
    pub commit: Option<String>,
    pub tauri_version: String,
    pub os: String,
    pub profile_dir: Option<String>,
    pub log_dir: Option<String>,
    /// Whether sign-ins are kept in the OS keyring (false: for this session only).
    pub remembers_sign_in: bool,
}

#[tauri::command]
#[specta::specta]
pub async fn about(app: AppHandle, core: State<'_, Core>) -> Result<AboutInfo, ClientError> {
    Ok(AboutInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        commit: option_env!("COUNTERSIGN_COMMIT").map(str::to_owned),
        tauri_version: tauri::VERSION.to_owned(),
        os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
        profile_dir: crate::profile_dir().map(|p| p.path().display().to_string()),
        log_dir: logs::dir(&app).map(|d| d.display().to_string()),
        remembers_sign_in: core
            .client()
            .map(|c| c.remembers_sign_in())
            .unwrap_or(false),
    })
}

/// "Report a problem": the description and the recent log, bundled into one file the
/// person can send to support. Secrets never reach the log, so the bundle is safe to share.
#[tauri::command]
#[specta::specta]
pub async fn report_problem(
    app: AppHandle,
    description: String,
) -> Result<logs::ProblemReport, ClientError> {
    logs::report_problem(&app, &description, Utc::now())
}

/// The UI painted `screen` for the first time since the app started: logged with the time
/// since start and the steps of the page's start, so a slow start shows in the log (and in
/// problem reports) with where the time went; the bench runner reads the line to time cold
/// starts.
#[tauri::command]
#[specta::specta]
pub fn first_paint(
    app: AppHandle,
    screen: String,
    marks: logs::StartMarks,
) -> Result<(), ClientError> {
    logs::first_paint(&screen, &marks);
    background::window_ready(&app);
    Ok(())
}

/// The commands through Tauri's mock runtime and its IPC, against a real server and a real
/// cache: what the web view sends is what these tests send, JSON in and JSON out.
#[cfg(test)]
mod tests {
    use std::sync::{Arc, RwLock};

    use countersign_client::{Client, ClientOptions, ProfileDir, SessionOnlyCredentials};
    use countersign_testkit::{TestDb, TestServer, tuesday_morning};
    use serde_json::{Value, json};
    use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};

    use super::*;

    const PW: &str = countersign_server::seed::DEMO_PASSWORD;

    fn client(dir: &std::path::Path) -> Client {
        Client::open(
            ClientOptions {
                profile_dir: ProfileDir::new(dir),
                device_name: "mock runtime".into(),
                os_locale: Some("zh-CN".into()),
                app_version: "9.9.9".into(),
                default_server: None,
            },
            Arc::new(SessionOnlyCredentials::default()),
        )
        .unwrap()
    }

    fn invoke(
        webview: &tauri::WebviewWindow<MockRuntime>,
        cmd: &str,
        args: Value,
    ) -> Result<Value, Value> {
        invoke_from(webview, "tauri://localhost", cmd, args)
    }

    fn invoke_from(
        webview: &tauri::WebviewWindow<MockRuntime>,
        origin: &str,
        cmd: &str,
        args: Value,
    ) -> Result<Value, Value> {
        get_ipc_response(
            webview,
            tauri::webview::InvokeRequest {
                cmd: cmd.into(),
                callback: tauri::ipc::CallbackFn(0),
                error: tauri::ipc::CallbackFn(1),
                url: origin.parse().unwrap(),
                body: tauri::ipc::InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_owned(),
            },
        )
        .map(|body| body.deserialize::<Value>().unwrap())
    }

    #[test]
    fn the_screens_commands_answer_from_the_cache_and_refuse_in_words() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
        let (server, request, jiang) = runtime.block_on(async {
            let server = TestServer::start_at(TestDb::sqlite(), tuesday_morning()).await;
            server.seed_demo().await;
            let now = tuesday_morning();
            let shen = client(dirs[0].path());
            shen.sign_in(&server.url(), "shen.yue", PW).await.unwrap();
            shen.sync(now).await.unwrap();
            let draft = shen.draft_new("leave", now).await.unwrap();
            for (path, value) in [
                ("leave_type", json!("annual")),
                ("reason", json!("探亲")),
                (
                    "period",
                    json!({"start": "2026-12-07", "end": "2026-12-08"}),
                ),
            ] {
                shen.draft_set(draft.id, path, value, now).await.unwrap();
            }
            let queued = shen.submit_draft(draft.id, now).await.unwrap();
            shen.sync(now).await.unwrap();
            let jiang = client(dirs[1].path());
            jiang.sign_in(&server.url(), "jiang.tao", PW).await.unwrap();
            jiang.sync(now).await.unwrap();
            (server, queued.request_id, jiang)
        });

        let app = mock_builder()
            .manage(crate::Core {
                client: RwLock::new(Ok(Arc::new(jiang))),
            })
            .invoke_handler(tauri::generate_handler![
                inbox,
                request_detail,
                templates,
                draft_new,
                draft_set,
                sync_status,
            ])
            .build(tauri::generate_context!(test = true))
            .unwrap();
        let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();

        let page = invoke(&webview, "inbox", json!({"query": {"limit": 50}})).unwrap();
        assert_eq!(page["total"], 1);
        assert_eq!(page["items"][0]["request_id"], request.to_string());
        assert_eq!(page["items"][0]["initiator"]["name"], "沈月");
        assert_eq!(page["items"][0]["template_name"]["zh-CN"], "请假");

        let detail = invoke(&webview, "request_detail", json!({"id": request})).unwrap();
        assert_eq!(detail["status"], "in_progress");
        assert_eq!(detail["my_tasks"], json!([1]));
        assert!(detail["template"]["form"]["fields"].is_array());

        // A request this device does not have: a typed error the UI shows in words.
        let missing = invoke(
            &webview,
            "request_detail",
            json!({"id": uuid::Uuid::now_v7()}),
        )
        .unwrap_err();
        assert_eq!(missing["code"], "not_found");
        // Arguments of the wrong shape are refused by the IPC layer, not a crash.
        let malformed = invoke(&webview, "inbox", json!({"query": {"limit": "all"}})).unwrap_err();
        assert!(
            malformed.to_string().contains("invalid args `query`"),
            "{malformed}"
        );

        // The capability holds: a page from anywhere else may not call the app's commands.
        let foreign = invoke_from(
            &webview,
            "https://attacker.example",
            "inbox",
            json!({"query": {"limit": 50}}),
        )
        .unwrap_err();
        assert!(foreign.to_string().contains("not allowed"), "{foreign}");

        let templates = invoke(&webview, "templates", json!({})).unwrap();
        assert!(
            templates
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["id"] == "reimbursement")
        );
        let draft = invoke(&webview, "draft_new", json!({"templateId": "leave"})).unwrap();
        let id = draft["id"].as_str().unwrap().to_owned();
        let set = invoke(
            &webview,
            "draft_set",
            json!({"id": id, "path": "period", "valueJson": r#"{"start": "2026-12-07", "end": "2026-12-09"}"#}),
        )
        .unwrap();
        assert_eq!(
            set["computed"]["days"],
            json!({"kind": "number", "value": "3"}),
            "leave days computed as the period is typed: {}",
            set["computed"]
        );
        let not_json = invoke(
            &webview,
            "draft_set",
            json!({"id": id, "path": "reason", "valueJson": "{oops"}),
        )
        .unwrap_err();
        assert_eq!(not_json["code"], "invalid_input");
        let bad_field = invoke(
            &webview,
            "draft_set",
            json!({"id": id, "path": "no_such_field", "valueJson": "1"}),
        )
        .unwrap_err();
        assert_eq!(bad_field["code"], "invalid_input");

        let status = invoke(&webview, "sync_status", json!({})).unwrap();
        assert_eq!(status["outbox_pending"], 0);
        drop(server);
    }

    /// Dropped files reach a draft by the field the UI names, never by a path from the web
    /// view; a refused file is answered in words beside the ones attached.
    #[test]
    fn dropped_files_are_attached_to_the_named_field_and_detached_again() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let files = tempfile::tempdir().unwrap();
        let (server, shen) = runtime.block_on(async {
            let server = TestServer::start_at(TestDb::sqlite(), tuesday_morning()).await;
            server.seed_demo().await;
            let shen = client(dir.path());
            shen.sign_in(&server.url(), "shen.yue", PW).await.unwrap();
            shen.sync(tuesday_morning()).await.unwrap();
            (server, shen)
        });
        let app = mock_builder()
            .manage(crate::Core {
                client: RwLock::new(Ok(Arc::new(shen))),
            })
            .manage(DroppedFiles::default())
            .invoke_handler(tauri::generate_handler![
                draft_new,
                draft_attach_dropped,
                draft_detach,
                attachment_states,
            ])
            .build(tauri::generate_context!(test = true))
            .unwrap();
        let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        let draft = invoke(&webview, "draft_new", json!({"templateId": "leave"})).unwrap();
        let id = draft["id"].as_str().unwrap().to_owned();

        let pdf = files.path().join("证明.pdf");
        std::fs::write(&pdf, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n").unwrap();
        let program = files.path().join("setup.pdf");
        std::fs::write(&program, b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0").unwrap();
        tauri::Manager::state::<DroppedFiles>(&app).put(vec![pdf, program]);
        let outcome = invoke(
            &webview,
            "draft_attach_dropped",
            json!({"id": id, "path": "certificate"}),
        )
        .unwrap();
        let attached = &outcome["draft"]["form"]["certificate"];
        assert_eq!(attached.as_array().unwrap().len(), 1, "{outcome}");
        assert_eq!(attached[0]["name"], "证明.pdf");
        assert_eq!(
            outcome["refused"][0]["code"], "file_type_not_accepted",
            "the program is refused with a code the UI acts on"
        );

        // The drop was taken: asking again attaches nothing more.
        let again = invoke(
            &webview,
            "draft_attach_dropped",
            json!({"id": id, "path": "certificate"}),
        )
        .unwrap();
        assert_eq!(again["draft"]["form"]["certificate"], *attached);

        let file = attached[0]["id"].clone();
        let states = invoke(&webview, "attachment_states", json!({"ids": [file]})).unwrap();
        assert_eq!(states[0]["on_this_device"], true);
        assert_eq!(states[0]["uploaded"], false);
        let detached = invoke(
            &webview,
            "draft_detach",
            json!({"id": id, "path": "certificate", "attachment": file}),
        )
        .unwrap();
        assert!(detached["form"].get("certificate").is_none(), "{detached}");
        drop(server);
    }
}
