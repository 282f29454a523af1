//! Attachments (invoices, certificates, quotations). Files are stored in the database, in
//! the `attachments` table, on both backends: one place to back up and restore, nothing to
//! keep in step across replicas, and no path on disk that a crafted name could reach. The
//! size limit (`max_attachment_bytes`, 20 MiB by default) keeps that affordable.
//!
//! What a file is, is decided by its bytes, not by the name or the declared type: the type
//! is sniffed, only document and image types are accepted, and the stored name is stripped
//! of any path. A file becomes readable by a request's participants once a submitted form
//! references it; until then only its uploader may read it.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use countersign_api::ErrorCode;
use countersign_api::attachments::{AttachmentInfo, references};
use countersign_api::requests::RefusalView;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::{Caller, Origin};
use crate::error::{Error, Result};
use crate::policy;
use crate::requests::plain_refusal;
use crate::state::AppState;
use crate::store::StoreError;

/// An uploaded file as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: Uuid,
    pub uploader_id: Uuid,
    /// The request whose form references it, once submitted.
    pub request_id: Option<Uuid>,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: Vec<u8>,
    pub data: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("content_type", &self.content_type)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl Attachment {
    /// The reference a form carries.
    pub fn info(&self) -> AttachmentInfo {
        AttachmentInfo {
            id: self.id,
            name: self.name.clone(),
            size: self.size,
            content_type: self.content_type.clone(),
        }
    }
}

pub use countersign_domain::files::safe_name;

/// The stored content type of `data`, or why it is refused (the domain's rule, which the
/// client applies too before it accepts a file into a draft).
pub fn content_type(data: &[u8], declared: Option<&str>) -> Result<String> {
    countersign_domain::files::content_type(data, declared).map_err(|refusal| {
        Error::refused(
            countersign_api::ErrorCode::UnsupportedMediaType,
            refusal.to_string(),
        )
    })
}

pub fn sha256(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

/// Every attachment id a form's JSON references, wherever it sits (top-level fields and
/// detail-table rows alike).
pub fn referenced_ids(form: &serde_json::Value) -> BTreeSet<Uuid> {
    references(form).into_iter().map(|r| r.id).collect()
}

impl AppState {
    /// `POST /v1/attachments`: stores a file for the caller and answers its reference.
    pub async fn upload_attachment(
        &self,
        caller: &Caller,
        raw_name: &str,
        client_id: Option<Uuid>,
        declared: Option<&str>,
        data: Vec<u8>,
        origin: &Origin,
    ) -> Result<(AttachmentInfo, bool)> {
        let id = client_id.unwrap_or_else(Uuid::now_v7);
        let resource = format!("attachment:{id}");
        let checked = if data.is_empty() {
            Err(Error::malformed("The file is empty."))
        } else {
            content_type(&data, declared)
        };
        let content_type = match checked {
            Ok(t) => t,
            Err(e) => {
                let entry = self.audit_entry(
                    caller,
                    "attachment.upload",
                    resource,
                    e.code().as_str(),
                    origin,
                );
                self.store.append_audit(&entry).await?;
                return Err(e);
            }
        };
        let file = Attachment {
            id,
            uploader_id: caller.person.id,
            request_id: None,
            name: safe_name(raw_name),
            content_type,
            size: data.len() as u64,
            sha256: sha256(&data),
            data,
            created_at: self.clock.now(),
        };
        if client_id.is_some()
            && let Some(earlier) = self.same_upload(caller, &file, &resource, origin).await?
        {
            return Ok((earlier, false));
        }
        let entry = self.audit_entry(caller, "attachment.upload", resource.clone(), "ok", origin);
        match self.store.insert_attachment(&file, &entry).await {
            Ok(()) => Ok((file.info(), true)),
            // The same id sent twice at once: the one that lost the race answers the other.
            Err(StoreError::Conflict { .. }) => {
                match self.same_upload(caller, &file, &resource, origin).await? {
                    Some(earlier) => Ok((earlier, false)),
                    None => Err(id_taken()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The earlier upload of `file` under the same client-made id, if there is one; another
    /// person's file or other bytes under that id is a `conflict` (audited), never an answer
    /// that would reveal or replace that file.
    async fn same_upload(
        &self,
        caller: &Caller,
        file: &Attachment,
        resource: &str,
        origin: &Origin,
    ) -> Result<Option<AttachmentInfo>> {
        let Some(earlier) = self
            .store
            .find_attachments(&[file.id])
            .await?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let same = earlier.uploader_id == caller.person.id && earlier.sha256 == file.sha256;
        let result = if same { "replayed" } else { "conflict" };
        let entry = self.audit_entry(
            caller,
            "attachment.upload",
            resource.to_owned(),
            result,
            origin,
        );
        self.store.append_audit(&entry).await?;
        if same {
            Ok(Some(earlier.info()))
        } else {
            Err(id_taken())
        }
    }

    /// `GET /v1/attachments/{id}`: the file, for its uploader and — once a submitted form
    /// references it — for whoever may see that request. Anyone else is told it does not
    /// exist, like a request they may not see.
    pub async fn read_attachment(
        &self,
        caller: &Caller,
        id: Uuid,
        origin: &Origin,
    ) -> Result<Attachment> {
        let resource = format!("attachment:{id}");
        let found = self.store.find_attachment(id).await?;
        let visible = match &found {
            None => false,
            Some(file) if file.uploader_id == caller.person.id => true,
            Some(file) => {
                let by_request = match file.request_id {
                    Some(request) => policy::can_see_request(
                        &caller.person,
                        self.store.is_participant(request, caller.person.id).await?,
                    ),
                    None => false,
                };
                // A meeting's materials are for its organiser and the people on it.
                by_request || self.store.is_material_for(id, caller.person.id).await?
            }
        };
        let outcome = if visible { "ok" } else { "not_found" };
        let entry = self.audit_entry(caller, "attachment.read", resource, outcome, origin);
        self.store.append_audit(&entry).await?;
        match found {
            Some(file) if visible => Ok(file),
            _ => Err(Error::not_found("That attachment")),
        }
    }

    /// Why a form submitted for `request` by `initiator` may not reference its files, if it
    /// may not: each must be a file the initiator uploaded, not claimed by another request,
    /// referenced as the server answered it (name, size and type unchanged).
    pub(crate) async fn attachment_refusal(
        &self,
        initiator: Uuid,
        request: Uuid,
        form: &serde_json::Value,
    ) -> Result<Option<RefusalView>> {
        let ids = referenced_ids(form);
        if ids.is_empty() {
            return Ok(None);
        }
        let wanted: Vec<Uuid> = ids.iter().copied().collect();
        let stored = self.store.find_attachments(&wanted).await?;
        let refs = references(form);
        for id in ids {
            let Some(file) = stored.iter().find(|f| f.id == id) else {
                return Ok(Some(unknown_attachment(id)));
            };
            if file.uploader_id != initiator || file.request_id.is_some_and(|r| r != request) {
                return Ok(Some(unknown_attachment(id)));
            }
            let info = file.info();
            if refs.iter().any(|r| r.id == id && *r != info) {
                return Ok(Some(plain_refusal(
                    "attachment_mismatch",
                    format!(
                        "The form describes attachment {id} differently from the file uploaded \
                         ('{}', {} bytes, {}). Attach the file again.",
                        info.name, info.size, info.content_type
                    ),
                )));
            }
        }
        Ok(None)
    }
}

fn unknown_attachment(id: Uuid) -> RefusalView {
    plain_refusal(
        "attachment_unknown",
        format!(
            "Attachment {id} is not a file you uploaded for this request. Upload it again and \
             attach the new file."
        ),
    )
}

fn id_taken() -> Error {
    Error::refused(
        ErrorCode::Conflict,
        "This upload id already names another file; upload it with a new id.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_is_refused_as_unsupported_media() {
        let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0";
        let err = content_type(elf, Some("application/pdf")).unwrap_err();
        assert_eq!(
            err.code(),
            countersign_api::ErrorCode::UnsupportedMediaType,
            "a program named .pdf"
        );
    }

    #[test]
    fn references_are_found_in_fields_and_table_rows() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        let form = serde_json::json!({
            "certificate": [{"id": a, "name": "x.pdf", "size": 1, "content_type": "application/pdf"}],
            "lines": [{"amount": "1.00", "invoices": [{"id": b, "name": "i.png", "size": 2, "content_type": "image/png"}]}],
            "cover": "0196f0a0-0000-7000-8000-000000000000"
        });
        assert_eq!(referenced_ids(&form), BTreeSet::from([a, b]));
    }
}
