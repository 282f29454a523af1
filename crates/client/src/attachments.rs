//! Files in forms (invoices, quotations, certificates), offline first. Attaching copies the
//! file into the profile at once and puts a reference with a local id into the draft, so the
//! domain's rules (accepted types, size) judge it at once and a draft with files survives a
//! restart with no network. The copy is uploaded when the submission leaves the outbox, and
//! the server's reference replaces the local one in what is sent. Files of requests one can
//! see are downloaded into the profile on first open and open offline afterwards.
//!
//! The copies live in `<profile>/attachments/<account>/<id>/<name>`: one folder per file so
//! that the copy keeps its own name (the OS picks the app to open it by its extension) and
//! two files of the same name never meet.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use countersign_api::ErrorCode;
use countersign_api::attachments::{AttachmentInfo, references, replace_references};
use countersign_api::requests::RefusalView;
use countersign_domain::files;
use countersign_domain::form::{FieldDef, FieldType, FormSchema};
use countersign_domain::messages::Locale;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Client;
use crate::cache::{Cache, FileRecord, OutboxEntry};
use crate::error::{ClientError, ClientErrorCode, Result};
use crate::work::{DraftView, Step, parse_path};

/// Enough of a file's beginning to recognise its type.
const HEAD: u64 = 8192;

/// Where an attached or referenced file is, as a form shows it.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentState {
    pub id: Uuid,
    /// A copy is on this device: it opens offline.
    pub on_this_device: bool,
    /// The server has it (uploaded, or a file of a submitted request).
    pub uploaded: bool,
}

/// What attaching several files did: the draft as it now is, and each file refused, with why.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachOutcome {
    pub draft: DraftView,
    pub refused: Vec<ClientError>,
}

/// Why a submission's file could not be uploaded.
pub(crate) enum UploadFailure {
    /// It never will be (a type or size the server refuses, the local copy gone): the
    /// submission is refused with this reason and the draft is the person's to correct.
    Lasting(RefusalView),
    /// Offline, a server error: the submission waits and is tried again.
    Transient(ClientError),
}

impl Client {
    /// Attaches the file at `file` to the attachments field at `path` (`certificate`, or
    /// `lines[0].invoice` inside a table) of a draft. The file is judged by the field's rules
    /// before anything is copied; one it refuses leaves the draft as it was.
    pub async fn draft_attach(
        &self,
        id: Uuid,
        path: &str,
        file: &Path,
        now: DateTime<Utc>,
    ) -> Result<DraftView> {
        let (cache, _) = self.open_cache().await?;
        let draft = self.editable_draft(&cache, id).await?;
        let schema = self.draft_schema(&cache, &draft).await?;
        let steps = parse_path(path)?;
        let (max_size, accept) = attachments_field(&schema, &steps, path)?;
        let locale = self.locale().await;

        let Examined {
            size,
            name,
            content_type,
        } = examine(file, locale).await?;
        let content_type =
            content_type.map_err(|what| not_accepted(&name, &what, &accept, locale))?;
        if size > max_size {
            return Err(too_large(&name, size, max_size, locale));
        }
        let reference = AttachmentInfo {
            id: Uuid::now_v7(),
            name: name.clone(),
            size,
            content_type: content_type.clone(),
        };
        let mut files_there: Vec<serde_json::Value> = crate::work::value_at(&draft.form, &steps)
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default();
        files_there.push(serde_json::to_value(&reference).map_err(internal)?);
        let changed = self
            .draft_changed(
                &cache,
                draft,
                &steps,
                path,
                serde_json::Value::Array(files_there),
                now,
            )
            .await?;
        if let Some(err) = changed.own_errors.first() {
            return Err(match err.key.as_str() {
                "file_type_not_allowed" => not_accepted(&name, &content_type, &accept, locale),
                "file_too_large" => too_large(&name, size, max_size, locale),
                _ => crate::work::invalid(format!(
                    "{}: {} — the draft was not changed.",
                    err.path, err.message
                )),
            });
        }

        // Copied before the draft names it: a crash in between leaves an unused copy, never
        // a draft naming a file that is not there.
        let dir = reference.id.to_string();
        let target = self.files_dir(&cache).join(&dir);
        let (source, name_there) = (file.to_owned(), name.clone());
        let copied = tokio::task::spawn_blocking(move || copy_in(&source, &target, &name_there))
            .await
            .map_err(|e| ClientError::internal(e.to_string()))?;
        copied.map_err(|why| unreadable(file, &why, locale))?;
        cache
            .insert_file(&FileRecord {
                id: reference.id,
                name,
                size,
                content_type,
                dir,
                server: None,
                created_at: now,
            })
            .await?;
        cache.save_draft(&changed.draft).await?;
        Ok(changed.view)
    }

    /// Attaches several files (picked or dropped together) one by one: a file the field
    /// refuses does not keep the others out, and each refusal is answered with its reason.
    pub async fn draft_attach_files(
        &self,
        id: Uuid,
        path: &str,
        files: &[PathBuf],
        now: DateTime<Utc>,
    ) -> Result<AttachOutcome> {
        let mut refused = Vec::new();
        for file in files {
            match self.draft_attach(id, path, file, now).await {
                Ok(_) => {}
                Err(err)
                    if matches!(
                        err.code,
                        ClientErrorCode::FileUnreadable
                            | ClientErrorCode::FileTooLarge
                            | ClientErrorCode::FileTypeNotAccepted
                            | ClientErrorCode::InvalidInput
                    ) =>
                {
                    refused.push(err);
                }
                Err(err) => return Err(err),
            }
        }
        Ok(AttachOutcome {
            draft: self.draft(id).await?,
            refused,
        })
    }

    /// The folder holding every account's file copies: the only place the desktop opens
    /// files from.
    pub fn attachments_folder(&self) -> PathBuf {
        self.options.profile_dir.path().join("attachments")
    }

    /// Takes a file out of a draft's attachments field; its copy on this device is deleted
    /// when nothing else needs it.
    pub async fn draft_detach(
        &self,
        id: Uuid,
        path: &str,
        attachment: Uuid,
        now: DateTime<Utc>,
    ) -> Result<DraftView> {
        let (cache, _) = self.open_cache().await?;
        let draft = self.editable_draft(&cache, id).await?;
        let steps = parse_path(path)?;
        let mut files_there: Vec<serde_json::Value> = crate::work::value_at(&draft.form, &steps)
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default();
        let before = files_there.len();
        files_there
            .retain(|f| f.get("id").and_then(|v| v.as_str()) != Some(&attachment.to_string()));
        if files_there.len() == before {
            return Err(crate::work::not_found(format!(
                "The field '{path}' of draft {id} has no file {attachment}."
            )));
        }
        let value = if files_there.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::Value::Array(files_there)
        };
        // Taking a file out never breaks the field's own rules beyond "required", which a
        // draft may be while it is written.
        let changed = self
            .draft_changed(&cache, draft, &steps, path, value, now)
            .await?;
        cache.save_draft(&changed.draft).await?;
        self.discard_files(&cache, &[attachment]).await;
        Ok(changed.view)
    }

    /// Deletes the copies of `ids` that nothing needs any more. A copy that cannot be
    /// deleted now is only logged: it is unused, and deleting the draft must not fail for it.
    pub(crate) async fn discard_files(&self, cache: &Cache, ids: &[Uuid]) {
        for id in ids {
            match cache.forget_file_if_unused(*id).await {
                Ok(Some(record)) => {
                    let dir = self.files_dir(cache).join(&record.dir);
                    if let Err(e) = std::fs::remove_dir_all(&dir)
                        && e.kind() != std::io::ErrorKind::NotFound
                    {
                        tracing::warn!(dir = %dir.display(), error = %e, "cannot delete an unused attachment copy");
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "cannot check whether a file is still used"),
            }
        }
    }

    /// Where each file is: on this device, on the server, or both.
    pub async fn attachment_states(&self, ids: &[Uuid]) -> Result<Vec<AttachmentState>> {
        let (cache, _) = self.open_cache().await?;
        let mut states = Vec::with_capacity(ids.len());
        for id in ids {
            let state = match cache.file(*id).await? {
                Some(record) => AttachmentState {
                    id: *id,
                    on_this_device: self.copy_path(&cache, &record).is_file(),
                    uploaded: record.server.is_some(),
                },
                // Not attached here: a file of a request, on the server only.
                None => AttachmentState {
                    id: *id,
                    on_this_device: false,
                    uploaded: true,
                },
            };
            states.push(state);
        }
        Ok(states)
    }

    /// Uploads the file at `file` as it is (meeting materials: online, no form field to
    /// judge it, the server's own limits apply). Unreadable, empty or of an unrecognised
    /// type: said so before anything is sent.
    pub(crate) async fn upload_file(&self, file: &Path) -> Result<AttachmentInfo> {
        let locale = self.locale().await;
        let Examined {
            name, content_type, ..
        } = examine(file, locale).await?;
        let content_type = content_type.map_err(|what| {
            ClientError::new(
                ClientErrorCode::FileTypeNotAccepted,
                format!("“{name}” is not a file type that can be shared ({what})."),
            )
        })?;
        let bytes = tokio::fs::read(file)
            .await
            .map_err(|e| unreadable(file, &io_reason(&e), locale))?;
        self.authed(|api, access| {
            let (name, content_type, bytes) = (name.clone(), content_type.clone(), bytes.clone());
            async move {
                api.upload_attachment(&access, &name, None, &content_type, bytes)
                    .await
            }
        })
        .await
    }

    /// Whether this device holds a copy of attachment `id`.
    pub(crate) async fn has_copy(&self, cache: &Cache, id: Uuid) -> Result<bool> {
        Ok(match cache.file(id).await? {
            Some(record) => self.copy_path(cache, &record).is_file(),
            None => false,
        })
    }

    /// The copy on this device of attachment `id` (a local id, or the server's id of a file
    /// of a request one can see), downloaded first if there is none. Offline and not
    /// downloaded yet is `server_unreachable`, said so.
    pub async fn attachment_file(&self, id: Uuid, now: DateTime<Utc>) -> Result<PathBuf> {
        let (cache, _) = self.open_cache().await?;
        if let Some(record) = cache.file(id).await? {
            let path = self.copy_path(&cache, &record);
            if path.is_file() {
                return Ok(path);
            }
        }
        let name = match cache.request_naming(id).await? {
            Some(view) => references(&view.form)
                .into_iter()
                .find(|r| r.id == id)
                .map(|r| r.name),
            None => cache.material_name(id).await?,
        }
        .map(|name| files::safe_name(&name))
        .unwrap_or_else(|| id.to_string());
        let bytes = self
            .authed(|api, access| async move { api.download_attachment(&access, id).await })
            .await
            .map_err(|mut err| {
                if err.is_offline() {
                    err.message = format!(
                        "“{name}” is not on this device yet and the server cannot be reached \
                         to download it. {}",
                        err.message
                    );
                }
                err
            })?;
        let dir = id.to_string();
        let target = self.files_dir(&cache).join(&dir);
        let written = {
            let (target, name, bytes) = (target.clone(), name.clone(), bytes.clone());
            tokio::task::spawn_blocking(move || write_in(&target, &name, &bytes))
                .await
                .map_err(|e| ClientError::internal(e.to_string()))?
        };
        let path = written.map_err(|why| {
            ClientError::new(
                ClientErrorCode::Cache,
                format!("Cannot keep the file in {}: {why}", target.display()),
            )
        })?;
        if cache.file(id).await?.is_none() {
            let content_type = files::content_type(&bytes, files::declared_by_name(&name))
                .unwrap_or_else(|_| "application/octet-stream".to_owned());
            let server = AttachmentInfo {
                id,
                name: name.clone(),
                size: bytes.len() as u64,
                content_type: content_type.clone(),
            };
            cache
                .insert_file(&FileRecord {
                    id,
                    name,
                    size: server.size,
                    content_type,
                    dir,
                    server: Some(server),
                    created_at: now,
                })
                .await?;
        }
        Ok(path)
    }

    /// The submission's payload with every local file swapped for the server's reference,
    /// uploading those not uploaded yet (each upload is recorded as it succeeds, so a retry
    /// sends only what is left).
    pub(crate) async fn payload_with_uploads(
        &self,
        cache: &Cache,
        entry: &OutboxEntry,
    ) -> std::result::Result<serde_json::Value, UploadFailure> {
        let mut payload = entry.payload.clone();
        // A submission carries its form at the top; a resubmission inside its action.
        let at = if payload.get("form").is_some() {
            "/form"
        } else {
            "/action/form"
        };
        let Some(form) = payload.pointer_mut(at) else {
            return Ok(payload);
        };
        let mut swaps: BTreeMap<Uuid, AttachmentInfo> = BTreeMap::new();
        for reference in references(form) {
            let record = cache
                .file(reference.id)
                .await
                .map_err(UploadFailure::Transient)?;
            // A reference the device did not make (a file of a returned request, say) is
            // already the server's.
            let Some(record) = record.filter(|r| r.id == reference.id) else {
                continue;
            };
            let server = match record.server.clone() {
                Some(server) => server,
                None => self.upload(cache, &record).await?,
            };
            if server.id != reference.id {
                swaps.insert(reference.id, server);
            }
        }
        replace_references(form, |r| swaps.get(&r.id).cloned());
        Ok(payload)
    }

    async fn upload(
        &self,
        cache: &Cache,
        record: &FileRecord,
    ) -> std::result::Result<AttachmentInfo, UploadFailure> {
        let path = self.copy_path(cache, record);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                return Err(UploadFailure::Lasting(upload_refusal(format!(
                    "The copy of “{}” on this device cannot be read ({e}). Attach the file \
                     again.",
                    record.name
                ))));
            }
        };
        let (name, content_type) = (record.name.clone(), record.content_type.clone());
        // Sent under the local id: a retry after a lost answer gets the first upload back
        // instead of leaving an orphan copy on the server.
        let id = record.id;
        let answer = self
            .authed(|api, access| {
                let (name, content_type, bytes) =
                    (name.clone(), content_type.clone(), bytes.clone());
                async move {
                    api.upload_attachment(&access, &name, Some(id), &content_type, bytes)
                        .await
                }
            })
            .await;
        match answer {
            Ok(server) => {
                cache
                    .set_uploaded(record.id, &server)
                    .await
                    .map_err(UploadFailure::Transient)?;
                Ok(server)
            }
            Err(err)
                if matches!(
                    err.server_code,
                    Some(
                        ErrorCode::PayloadTooLarge
                            | ErrorCode::UnsupportedMediaType
                            | ErrorCode::MalformedRequest
                    )
                ) =>
            {
                Err(UploadFailure::Lasting(upload_refusal(format!(
                    "“{}” could not be uploaded: {}",
                    record.name, err.message
                ))))
            }
            Err(err) => Err(UploadFailure::Transient(err)),
        }
    }

    /// `<profile>/attachments/<account>`: beside the account's cache, named like it.
    pub(crate) fn files_dir(&self, cache: &Cache) -> PathBuf {
        let account = cache
            .path()
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.attachments_folder().join(account)
    }

    fn copy_path(&self, cache: &Cache, record: &FileRecord) -> PathBuf {
        self.files_dir(cache).join(&record.dir).join(&record.name)
    }

    async fn draft_schema(
        &self,
        cache: &Cache,
        draft: &crate::cache::DraftRecord,
    ) -> Result<FormSchema> {
        cache
            .template(&draft.template_id, Some(draft.template_version))
            .await?
            .map(|t| t.template.form)
            .ok_or_else(|| {
                crate::work::invalid(format!(
                    "The template of draft {} ({}@{}) is not on this device.",
                    draft.id, draft.template_id, draft.template_version
                ))
            })
    }
}

/// The size limit and accepted types of the attachments field at `steps`.
fn attachments_field(
    schema: &FormSchema,
    steps: &[Step],
    path: &str,
) -> Result<(u64, Vec<String>)> {
    crate::work::check_path(schema, steps, path)?;
    let field: Option<&FieldDef> = match steps {
        [Step::Key(key)] => schema.field(key),
        [Step::Key(table), Step::Row(_), Step::Key(column)] => match schema.field(table) {
            Some(FieldDef {
                field_type: FieldType::Table { columns, .. },
                ..
            }) => columns.iter().find(|c| &c.key == column),
            _ => None,
        },
        _ => None,
    };
    match field.map(|f| &f.field_type) {
        Some(FieldType::Attachments {
            max_size_bytes,
            accept,
            ..
        }) => Ok((*max_size_bytes, accept.clone())),
        _ => Err(crate::work::invalid(format!(
            "'{path}' is not a field that takes files."
        ))),
    }
}

/// A file as found on disk before it is taken: its size, a safe name, and its type as its
/// bytes say (or, as `Err`, what it is that cannot be taken).
struct Examined {
    size: u64,
    name: String,
    content_type: std::result::Result<String, String>,
}

/// Looks at the file at `file`: unreadable or empty is an error at once, in `locale`.
async fn examine(file: &Path, locale: Locale) -> Result<Examined> {
    let source = file.to_owned();
    let (size, head) = tokio::task::spawn_blocking(move || inspect(&source))
        .await
        .map_err(|e| ClientError::internal(e.to_string()))?
        .map_err(|why| unreadable(file, &why, locale))?;
    if size == 0 {
        return Err(unreadable(
            file,
            &say(locale, "it is empty", "文件为空"),
            locale,
        ));
    }
    let name = files::safe_name(
        &file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    let content_type =
        files::content_type_of_head(&head, files::declared_by_name(&name)).map_err(|e| match e {
            files::FileTypeRefusal::NotAccepted(t) => t,
            files::FileTypeRefusal::Unrecognised => say(locale, "unknown", "无法识别"),
        });
    Ok(Examined {
        size,
        name,
        content_type,
    })
}

/// A file's size and beginning, or why it cannot be read.
fn inspect(file: &Path) -> std::result::Result<(u64, Vec<u8>), String> {
    let meta = std::fs::metadata(file).map_err(|e| io_reason(&e))?;
    if !meta.is_file() {
        return Err("it is not a file".to_owned());
    }
    let mut head = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(HEAD).read_to_end(&mut head))
        .map_err(|e| io_reason(&e))?;
    Ok((meta.len(), head))
}

/// Copies `source` to `dir/name`, creating `dir`; a partial copy is removed.
fn copy_in(source: &Path, dir: &Path, name: &str) -> std::result::Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| io_reason(&e))?;
    let target = dir.join(name);
    if let Err(e) = std::fs::copy(source, &target)
        .and_then(|_| std::fs::File::open(&target).and_then(|f| f.sync_all()))
    {
        let _ = std::fs::remove_dir_all(dir);
        return Err(io_reason(&e));
    }
    Ok(())
}

/// Writes `bytes` to `dir/name` through a temporary file, so a half-written download is
/// never taken for the file.
fn write_in(dir: &Path, name: &str, bytes: &[u8]) -> std::result::Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| io_reason(&e))?;
    let target = dir.join(name);
    let partial = dir.join(".download");
    std::fs::write(&partial, bytes)
        .and_then(|()| std::fs::rename(&partial, &target))
        .map_err(|e| io_reason(&e))?;
    Ok(target)
}

fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "there is no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "no permission to read it".to_owned(),
        std::io::ErrorKind::StorageFull => "the disk is full".to_owned(),
        _ => err.to_string(),
    }
}

fn say(locale: Locale, en: &str, zh: &str) -> String {
    match locale {
        Locale::ZhCn => zh.to_owned(),
        _ => en.to_owned(),
    }
}

fn unreadable(file: &Path, why: &str, locale: Locale) -> ClientError {
    let message = match locale {
        Locale::ZhCn => format!("无法读取文件 {}：{why}", file.display()),
        _ => format!("Cannot read {}: {why}.", file.display()),
    };
    ClientError::new(ClientErrorCode::FileUnreadable, message)
}

fn too_large(name: &str, size: u64, limit: u64, locale: Locale) -> ClientError {
    let message = match locale {
        Locale::ZhCn => format!(
            "“{name}”大小为 {}，此处附件不能超过 {}",
            human_size(size),
            human_size(limit)
        ),
        _ => format!(
            "“{name}” is {}; this field takes files up to {}.",
            human_size(size),
            human_size(limit)
        ),
    };
    ClientError::new(ClientErrorCode::FileTooLarge, message)
}

fn not_accepted(name: &str, content_type: &str, accept: &[String], locale: Locale) -> ClientError {
    let accepted = if accept.is_empty() {
        say(
            locale,
            "PDF, images, office documents or plain text",
            "PDF、图片、办公文档或纯文本",
        )
    } else {
        accept.join(", ")
    };
    let message = match locale {
        Locale::ZhCn => format!("“{name}”的类型（{content_type}）不能附在此处；可接受：{accepted}"),
        _ => format!(
            "“{name}” ({content_type}) cannot be attached here; this field accepts {accepted}."
        ),
    };
    ClientError::new(ClientErrorCode::FileTypeNotAccepted, message)
}

/// `10 MB`, `512 KB`, `300 bytes`, in binary units as the limits are set.
pub(crate) fn human_size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB {
        let tenths = bytes * 10 / MIB;
        if tenths.is_multiple_of(10) {
            format!("{} MB", tenths / 10)
        } else {
            format!("{}.{} MB", tenths / 10, tenths % 10)
        }
    } else if bytes >= KIB {
        format!("{} KB", bytes.div_ceil(KIB))
    } else {
        format!("{bytes} bytes")
    }
}

fn upload_refusal(message: String) -> RefusalView {
    RefusalView {
        code: "attachment_refused".to_owned(),
        message,
        refusal: None,
        current_version: None,
        request: None,
    }
}

fn internal(e: serde_json::Error) -> ClientError {
    ClientError::internal(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(human_size(10 * 1024 * 1024), "10 MB");
        assert_eq!(human_size(12_900_000), "12.3 MB");
        assert_eq!(human_size(1500), "2 KB");
        assert_eq!(human_size(300), "300 bytes");
    }
}
