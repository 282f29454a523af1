//! Attachments on the wire. A file is uploaded on its own (`POST /v1/attachments?name=…` with
//! the bytes as the body) and answered with an [`AttachmentInfo`]; a form then carries that
//! object, unchanged, in its attachments field. `GET /v1/attachments/{id}` answers the bytes.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An uploaded file as a form references it. The name is the server's safe version of the
/// uploaded one; the content type is what the server recognised from the bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct AttachmentInfo {
    pub id: Uuid,
    pub name: String,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub size: u64,
    pub content_type: String,
}

/// Every attachment reference in a form, as written: objects of exactly the four keys of an
/// [`AttachmentInfo`] (the domain reads attachments the same way), in top-level fields and
/// detail-table rows alike.
pub fn references(form: &serde_json::Value) -> Vec<AttachmentInfo> {
    let mut found = Vec::new();
    // The walk takes the form mutably so one walk serves reading and replacing; a form is
    // small next to the round trip that reads it.
    replace_references(&mut form.clone(), |info| {
        found.push(info.clone());
        None
    });
    found
}

/// Replaces each attachment reference in `form` for which `swap` answers a new one (the
/// client swaps its local ids for the server's once a file is uploaded).
pub fn replace_references(
    form: &mut serde_json::Value,
    mut swap: impl FnMut(&AttachmentInfo) -> Option<AttachmentInfo>,
) {
    fn walk(
        value: &mut serde_json::Value,
        swap: &mut dyn FnMut(&AttachmentInfo) -> Option<AttachmentInfo>,
        depth: usize,
    ) {
        // Forms are shallow (field → table → row → field); anything deeper is not a form.
        if depth > 8 {
            return;
        }
        let is_reference = value
            .as_object()
            .is_some_and(|map| map.len() == 4 && map.contains_key("id"));
        if is_reference && let Ok(info) = AttachmentInfo::deserialize(&*value) {
            if let Some(new) = swap(&info)
                && let Ok(json) = serde_json::to_value(new)
            {
                *value = json;
            }
            return;
        }
        match value {
            serde_json::Value::Object(map) => {
                for v in map.values_mut() {
                    walk(v, swap, depth + 1);
                }
            }
            serde_json::Value::Array(items) => {
                for v in items {
                    walk(v, swap, depth + 1);
                }
            }
            _ => {}
        }
    }
    walk(form, &mut swap, 0);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn references_are_found_and_replaced_in_fields_and_table_rows() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        let mut form = serde_json::json!({
            "certificate": [{"id": a, "name": "x.pdf", "size": 1, "content_type": "application/pdf"}],
            "lines": [{"amount": "1.00", "invoices": [{"id": b, "name": "i.png", "size": 2, "content_type": "image/png"}]}],
            "cover": "0196f0a0-0000-7000-8000-000000000000"
        });
        let ids: Vec<Uuid> = references(&form).iter().map(|r| r.id).collect();
        assert_eq!(ids, vec![a, b]);
        let c = Uuid::now_v7();
        replace_references(&mut form, |r| {
            (r.id == b).then(|| AttachmentInfo { id: c, ..r.clone() })
        });
        assert_eq!(form["lines"][0]["invoices"][0]["id"], c.to_string());
        assert_eq!(form["certificate"][0]["id"], a.to_string(), "left alone");
    }
}
