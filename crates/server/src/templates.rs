//! Templates (requirements S6, S7): the shipped library is published at start, every version
//! stays readable for the requests that run on it, and new versions arrive only through an
//! approved process-change request.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use countersign_api::requests::TemplateView;
use countersign_domain::templates::Template;

use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::{AuditEntry, EVERYONE, FeedRow, StoreError, TemplateRecord};

/// A template version's id in the change feed.
pub fn feed_id(id: &str, version: u32) -> String {
    format!("{id}@{version}")
}

pub fn view(record: TemplateRecord) -> TemplateView {
    TemplateView {
        retired: record.retired_at.is_some(),
        published_at: record.published_at,
        template: record.template,
    }
}

/// Publishes every library template version the store does not have yet.
pub async fn publish_library(state: &AppState) -> std::result::Result<(), StoreError> {
    let library = countersign_domain::templates::library()
        .map_err(|e| StoreError::Unavailable(format!("the template library is unusable: {e}")))?;
    for template in library {
        if state
            .store
            .find_template(&template.id, template.version)
            .await?
            .is_some()
        {
            continue;
        }
        let now = state.clock.now();
        let id = feed_id(&template.id, template.version);
        let feed = [FeedRow {
            audience: EVERYONE,
            kind: "template",
            entity_id: id.clone(),
            version: i64::from(template.version),
            op: "upsert",
        }];
        let record = TemplateRecord {
            template,
            published_at: now,
            published_by: None,
            source_request: None,
            retired_at: None,
        };
        let audit = AuditEntry::system(now, "template.publish", format!("template:{id}"));
        match state.store.publish_template(&record, &feed, &audit).await {
            // Another replica published it between our check and our write.
            Ok(_) | Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl AppState {
    /// The current version of every template that takes new requests, in gallery order.
    pub async fn current_templates(&self) -> Result<Vec<TemplateView>> {
        let mut latest: Vec<TemplateRecord> = Vec::new();
        for record in self.store.list_templates().await? {
            if record.retired_at.is_some() {
                continue;
            }
            match latest
                .iter_mut()
                .find(|r| r.template.id == record.template.id)
            {
                Some(existing) if existing.template.version < record.template.version => {
                    *existing = record;
                }
                Some(_) => {}
                None => latest.push(record),
            }
        }
        let order: Vec<&str> = countersign_domain::templates::shipped_ids().collect();
        latest.sort_by_key(|r| {
            order
                .iter()
                .position(|id| *id == r.template.id)
                .unwrap_or(usize::MAX)
        });
        Ok(latest.into_iter().map(view).collect())
    }

    /// Every version of one template, oldest first.
    pub async fn template_versions(&self, id: &str) -> Result<Vec<TemplateView>> {
        let versions: Vec<TemplateView> = self
            .store
            .list_templates()
            .await?
            .into_iter()
            .filter(|r| r.template.id == id)
            .map(view)
            .collect();
        if versions.is_empty() {
            return Err(Error::not_found("That template"));
        }
        Ok(versions)
    }

    pub async fn template_version(&self, id: &str, version: u32) -> Result<TemplateView> {
        self.store
            .find_template(id, version)
            .await?
            .map(view)
            .ok_or_else(|| Error::not_found("That template version"))
    }
}

/// Template versions already read, by id and version. A published version never changes (a
/// change to a form or its workflow is published as a new version), and every decision needs
/// its request's, so each is read from the store once per process. Retirement is not kept
/// here: it is a column beside the version, read where it matters (starting a request).
#[derive(Debug, Default)]
pub struct TemplateVersions(RwLock<HashMap<(String, u32), Arc<Template>>>);

impl TemplateVersions {
    fn get(&self, id: &str, version: u32) -> Option<Arc<Template>> {
        let kept = self.0.read().unwrap_or_else(PoisonError::into_inner);
        kept.get(&(id.to_owned(), version)).cloned()
    }

    fn keep(&self, template: Template) -> Arc<Template> {
        let mut kept = self.0.write().unwrap_or_else(PoisonError::into_inner);
        kept.entry((template.id.clone(), template.version))
            .or_insert_with(|| Arc::new(template))
            .clone()
    }
}

impl AppState {
    /// The form and workflow of version `version` of template `id`; `None` when no such
    /// version was ever published.
    pub async fn template_at(&self, id: &str, version: u32) -> Result<Option<Arc<Template>>> {
        if let Some(template) = self.template_versions.get(id, version) {
            return Ok(Some(template));
        }
        Ok(self
            .store
            .find_template(id, version)
            .await?
            .map(|record| self.template_versions.keep(record.template)))
    }
}
