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
use countersign_api::attachments::AttachmentInfo;
use countersign_api::requests::RefusalView;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::{Caller, Origin};
use crate::error::{Error, Result};
use crate::policy;
use crate::requests::plain_refusal;
use crate::state::AppState;

/// The longest stored file name, in characters.
const MAX_NAME_CHARS: usize = 200;

/// The types accepted, by their sniffed MIME type. Plain text and CSV have no magic bytes
/// and are accepted when declared and valid UTF-8.
const ACCEPTED: [&str; 13] = [
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/bmp",
    "image/tiff",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/msword",
    "application/vnd.ms-excel",
    "application/zip",
];

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

/// A file name safe to store and to send back in a `Content-Disposition` header: the last
/// path component only (either slash), no control characters, no leading dots, at most
/// [`MAX_NAME_CHARS`] characters keeping the extension.
pub fn safe_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | ':' | '|' | '?' | '*'))
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim().to_owned();
    if cleaned.is_empty() {
        return "attachment".to_owned();
    }
    if cleaned.chars().count() <= MAX_NAME_CHARS {
        return cleaned;
    }
    let (stem, ext) = match cleaned.rsplit_once('.') {
        Some((stem, ext)) if ext.chars().count() <= 10 && !stem.is_empty() => (stem, ext),
        _ => (cleaned.as_str(), ""),
    };
    let keep = MAX_NAME_CHARS - ext.chars().count() - usize::from(!ext.is_empty());
    let stem: String = stem.chars().take(keep).collect();
    if ext.is_empty() {
        stem
    } else {
        format!("{stem}.{ext}")
    }
}

/// The stored content type of `data`, or why it is refused. The sniffed type wins over the
/// declared one; a file whose bytes say "program" is refused whatever its name says.
pub fn content_type(data: &[u8], declared: Option<&str>) -> Result<String> {
    let declared = declared
        .map(|d| {
            d.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|d| !d.is_empty());
    if let Some(kind) = infer::get(data) {
        let sniffed = kind.mime_type();
        // OFD, China's format for electronic invoices, is a zip whose root holds `OFD.xml`.
        if sniffed == "application/zip" && is_ofd(data) {
            return Ok("application/ofd".to_owned());
        }
        if ACCEPTED.contains(&sniffed) {
            return Ok(sniffed.to_owned());
        }
        return Err(Error::refused(
            countersign_api::ErrorCode::UnsupportedMediaType,
            format!(
                "Files of type {sniffed} cannot be attached. Attach PDF, images or office \
                 documents."
            ),
        ));
    }
    match declared.as_deref() {
        Some(t @ ("text/plain" | "text/csv")) if std::str::from_utf8(data).is_ok() => {
            Ok(t.to_owned())
        }
        _ => Err(Error::refused(
            countersign_api::ErrorCode::UnsupportedMediaType,
            "This file's type could not be recognised. Attach PDF, images, office documents \
             or plain text.",
        )),
    }
}

/// Whether a zip's first entry (OFD writers put the entry document first) is `OFD.xml`:
/// a local file header names its entry at byte 30, its length at bytes 26–27.
fn is_ofd(zip: &[u8]) -> bool {
    let Some(len) = zip
        .get(26..28)
        .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))
    else {
        return false;
    };
    zip.get(30..30 + len)
        .is_some_and(|name| name.eq_ignore_ascii_case(b"OFD.xml"))
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
        declared: Option<&str>,
        data: Vec<u8>,
        origin: &Origin,
    ) -> Result<AttachmentInfo> {
        let id = Uuid::now_v7();
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
        let entry = self.audit_entry(caller, "attachment.upload", resource, "ok", origin);
        self.store.insert_attachment(&file, &entry).await?;
        Ok(file.info())
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

/// Every attachment reference in a form, as written: objects of exactly the four keys of an
/// [`AttachmentInfo`] (the domain reads attachments the same way).
fn references(form: &serde_json::Value) -> Vec<AttachmentInfo> {
    fn walk(value: &serde_json::Value, out: &mut Vec<AttachmentInfo>, depth: usize) {
        // Forms are shallow (field → table → row → field); anything deeper is not a form.
        if depth > 8 {
            return;
        }
        match value {
            serde_json::Value::Object(map) => {
                if map.len() == 4
                    && map.contains_key("id")
                    && let Ok(info) = AttachmentInfo::deserialize(value)
                {
                    out.push(info);
                    return;
                }
                for v in map.values() {
                    walk(v, out, depth + 1);
                }
            }
            serde_json::Value::Array(items) => {
                for v in items {
                    walk(v, out, depth + 1);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(form, &mut out, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_paths_and_controls_but_keep_their_words() {
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(
            safe_name("C:\\Users\\li\\发票 2026-11.pdf"),
            "发票 2026-11.pdf"
        );
        assert_eq!(safe_name("..\\..\\boot.ini"), "boot.ini");
        assert_eq!(safe_name(".htaccess"), "htaccess");
        assert_eq!(safe_name("a\u{0}b\nc\".pdf"), "abc.pdf");
        assert_eq!(safe_name("   "), "attachment");
        assert_eq!(safe_name("/"), "attachment");
        let long = format!("{}.pdf", "长".repeat(500));
        let cut = safe_name(&long);
        assert_eq!(cut.chars().count(), MAX_NAME_CHARS);
        assert!(cut.ends_with(".pdf"));
    }

    #[test]
    fn the_bytes_decide_the_type() {
        let pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n";
        assert_eq!(
            content_type(pdf, Some("image/png")).unwrap(),
            "application/pdf"
        );
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(content_type(png, None).unwrap(), "image/png");
        let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0";
        assert!(
            content_type(elf, Some("application/pdf")).is_err(),
            "a program named .pdf"
        );
        let exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0";
        assert!(content_type(exe, Some("image/jpeg")).is_err());
        assert_eq!(
            content_type("日期,金额\n".as_bytes(), Some("text/csv; charset=utf-8")).unwrap(),
            "text/csv"
        );
        assert!(
            content_type(b"\xff\xfe\x00junk", Some("text/plain")).is_err(),
            "not UTF-8"
        );
        assert!(content_type(b"who knows", None).is_err());
    }

    #[test]
    fn an_ofd_invoice_is_told_from_other_zips() {
        let mut ofd = b"PK\x03\x04".to_vec();
        ofd.extend_from_slice(&[0; 22]);
        ofd.extend_from_slice(&7u16.to_le_bytes());
        ofd.extend_from_slice(&0u16.to_le_bytes());
        ofd.extend_from_slice(b"OFD.xml<ofd:OFD/>");
        assert_eq!(
            content_type(&ofd, Some("application/zip")).unwrap(),
            "application/ofd"
        );
        let mut zip = b"PK\x03\x04".to_vec();
        zip.extend_from_slice(&[0; 22]);
        zip.extend_from_slice(&8u16.to_le_bytes());
        zip.extend_from_slice(&0u16.to_le_bytes());
        zip.extend_from_slice(b"data.bin");
        assert_eq!(content_type(&zip, None).unwrap(), "application/zip");
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
