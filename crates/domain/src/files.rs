//! What kind of file an attachment is, decided by its bytes, not by its name or the type it
//! claims. The server refuses what this refuses, and the client asks the same question before
//! it accepts a file into a draft, so a person learns at once — offline too — that a file
//! cannot be attached, instead of when the submission is sent.

/// The types accepted, by their sniffed MIME type. Plain text and CSV have no magic bytes
/// and are accepted when declared and valid UTF-8.
pub const ACCEPTED: [&str; 13] = [
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

/// The longest stored file name, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// A file name safe to store (on the server, and as the client's local copy) and to send back
/// in a `Content-Disposition` header: the last
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

/// Why a file cannot be attached at all, whatever the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileTypeRefusal {
    /// Recognised, but not a document or an image (a program, an archive of another kind…).
    #[error("Files of type {0} cannot be attached. Attach PDF, images or office documents.")]
    NotAccepted(String),
    #[error(
        "This file's type could not be recognised. Attach PDF, images, office documents or \
         plain text."
    )]
    Unrecognised,
}

/// The content type of a whole file, or why it is refused. The sniffed type wins over the
/// declared one; a file whose bytes say "program" is refused whatever its name says.
pub fn content_type(data: &[u8], declared: Option<&str>) -> Result<String, FileTypeRefusal> {
    sniff(data, declared, std::str::from_utf8(data).is_ok())
}

/// [`content_type`] judged from a file's beginning only (the client looks at the head of a
/// large file before copying it): text cut in the middle of a character is still text.
pub fn content_type_of_head(
    head: &[u8],
    declared: Option<&str>,
) -> Result<String, FileTypeRefusal> {
    sniff(head, declared, is_utf8_head(head))
}

fn sniff(data: &[u8], declared: Option<&str>, utf8: bool) -> Result<String, FileTypeRefusal> {
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
        return Err(FileTypeRefusal::NotAccepted(sniffed.to_owned()));
    }
    match declared.as_deref() {
        Some(t @ ("text/plain" | "text/csv")) if utf8 => Ok(t.to_owned()),
        _ => Err(FileTypeRefusal::Unrecognised),
    }
}

/// The type a file's name declares, for the kinds that have no magic bytes.
pub fn declared_by_name(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    match ext.as_str() {
        "txt" | "text" => Some("text/plain"),
        "csv" => Some("text/csv"),
        _ => None,
    }
}

/// Valid UTF-8, allowing a character cut off at the very end.
fn is_utf8_head(data: &[u8]) -> bool {
    match std::str::from_utf8(data) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && data.len() - e.valid_up_to() < 4,
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
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
        assert_eq!(
            content_type(b"who knows", None),
            Err(FileTypeRefusal::Unrecognised)
        );
    }

    #[test]
    fn text_cut_inside_a_character_is_still_text() {
        let head = &"发票".as_bytes()[..4];
        assert_eq!(
            content_type_of_head(head, Some("text/plain")).unwrap(),
            "text/plain"
        );
        assert!(
            content_type(head, Some("text/plain")).is_err(),
            "a whole file is judged whole"
        );
        assert_eq!(declared_by_name("清单.CSV"), Some("text/csv"));
        assert_eq!(declared_by_name("a.pdf"), None);
        assert_eq!(declared_by_name("README"), None);
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
}
