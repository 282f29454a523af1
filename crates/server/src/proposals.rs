//! Template proposals (requirement S6): a process administrator proposes a new template
//! version, a `process_change` request names the proposal, and only that request's final
//! approval — the joint review of the business department and IT — publishes it, in the
//! approval's transaction. Requests already running keep the version they started with.
//!
//! The request names the proposal in a form field called `template_proposal` (the proposal's
//! id). The shipped `process_change` version 1 has no such field, so until the template
//! library adds it (a domain change), a process-change request publishes nothing by itself
//! and the workflow administrators it copies publish by hand, as before.

use countersign_api::accounts::{ProposalStatus, ProposeTemplate, TemplateProposalView};
use countersign_api::requests::RefusalView;
use countersign_domain::templates::Template;
use uuid::Uuid;

use crate::accounts::caller_audit;
use crate::auth::{Caller, Origin};
use crate::error::{Error, Result};
use crate::requests::plain_refusal;
use crate::state::AppState;
use crate::store::{
    ApprovalEffect, EVERYONE, FeedRow, ProposalRecord, PublishProposal, RequestRecord,
    TemplateRecord,
};

/// The template whose approval publishes a proposal.
pub const PROCESS_CHANGE: &str = "process_change";

/// The form field of a process-change request that names the proposal.
pub const PROPOSAL_FIELD: &str = "template_proposal";

fn view(record: ProposalRecord) -> TemplateProposalView {
    TemplateProposalView {
        id: record.id,
        template: record.template,
        proposed_by: record.proposed_by,
        proposed_at: record.proposed_at,
        status: match record.status.as_str() {
            "proposed" => ProposalStatus::Proposed,
            "published" => ProposalStatus::Published,
            _ => ProposalStatus::Unknown,
        },
        request_id: record.request_id,
        published_at: record.published_at,
    }
}

impl AppState {
    /// The highest version of a template ever published, retired ones included (a number is
    /// never given twice); 0 for a template that does not exist yet.
    async fn latest_version(&self, template_id: &str) -> Result<u32> {
        Ok(self
            .store
            .list_templates()
            .await?
            .iter()
            .filter(|t| t.template.id == template_id)
            .map(|t| t.template.version)
            .max()
            .unwrap_or(0))
    }

    /// `POST /v1/templates/proposals`: checks the template and keeps it as the next version,
    /// to be published by an approved process-change request.
    pub async fn propose_template(
        &self,
        caller: &Caller,
        req: ProposeTemplate,
        origin: &Origin,
    ) -> Result<TemplateProposalView> {
        let id = Uuid::now_v7();
        let resource = format!("proposal:{id}");
        let mut template: Template = match serde_json::from_value(req.template) {
            Ok(t) => t,
            Err(e) => {
                let error = Error::rule(plain_refusal(
                    "invalid_template",
                    format!("The template is not in the template format: {e}"),
                ));
                return Err(self
                    .refuse_audited(caller, "template.propose", resource, error, origin)
                    .await);
            }
        };
        template.version = self.latest_version(&template.id).await?.saturating_add(1);
        if let Err(problem) = template.check() {
            let error = Error::rule(plain_refusal(
                "invalid_template",
                format!("The template cannot be used: {problem}"),
            ));
            return Err(self
                .refuse_audited(caller, "template.propose", resource, error, origin)
                .await);
        }
        let now = self.clock.now();
        let record = ProposalRecord {
            id,
            template,
            proposed_by: caller.person.id,
            proposed_at: now,
            status: "proposed".to_owned(),
            request_id: None,
            published_at: None,
        };
        let audit = caller_audit(caller, now, "template.propose", resource, "ok", origin);
        self.store.insert_proposal(&record, &audit).await?;
        Ok(view(record))
    }

    /// `GET /v1/templates/proposals/{id}`: what the reviewers of a process change read.
    pub async fn read_proposal(
        &self,
        caller: &Caller,
        id: Uuid,
        origin: &Origin,
    ) -> Result<TemplateProposalView> {
        let resource = format!("proposal:{id}");
        match self.store.find_proposal(id).await? {
            Some(record) => {
                let now = self.clock.now();
                let audit = caller_audit(
                    caller,
                    now,
                    "template.proposal_read",
                    resource,
                    "ok",
                    origin,
                );
                self.store.append_audit(&audit).await?;
                Ok(view(record))
            }
            None => Err(self
                .refuse_audited(
                    caller,
                    "template.proposal_read",
                    resource,
                    Error::not_found("That template proposal"),
                    origin,
                )
                .await),
        }
    }

    /// Plans the publication an approved process-change request sets off: none when it names
    /// no proposal; a refusal when the proposal is unknown, already published, or no longer
    /// the next version (another version was published since it was proposed, and this one
    /// was reviewed without it).
    pub(crate) async fn plan_publication(
        &self,
        caller: &Caller,
        record: &RequestRecord,
        origin: &Origin,
    ) -> Result<std::result::Result<Option<ApprovalEffect>, RefusalView>> {
        let Some(named) = record.form.get(PROPOSAL_FIELD).filter(|v| !v.is_null()) else {
            return Ok(Ok(None));
        };
        let proposal = match named
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Uuid::parse_str)
        {
            None => return Ok(Ok(None)),
            Some(Ok(id)) => self.store.find_proposal(id).await?,
            Some(Err(_)) => None,
        };
        let Some(proposal) = proposal else {
            return Ok(Err(plain_refusal(
                "unknown_proposal",
                format!(
                    "The request names a template proposal this server does not have ({named})."
                ),
            )));
        };
        if proposal.status != "proposed" {
            return Ok(Err(plain_refusal(
                "proposal_published",
                format!(
                    "Template proposal {} was already published by another request.",
                    proposal.id
                ),
            )));
        }
        let template = proposal.template;
        let latest = self.latest_version(&template.id).await?;
        if latest.saturating_add(1) != template.version {
            return Ok(Err(plain_refusal(
                "proposal_outdated",
                format!(
                    "Template '{}' is at version {latest} now; the proposal was made as version \
                     {}. Propose it again on the current version.",
                    template.id, template.version
                ),
            )));
        }
        let now = self.clock.now();
        let feed_id = crate::templates::feed_id(&template.id, template.version);
        let feed = vec![FeedRow {
            audience: EVERYONE,
            kind: "template",
            entity_id: feed_id.clone(),
            version: i64::from(template.version),
            op: "upsert",
        }];
        let audits = vec![caller_audit(
            caller,
            now,
            "template.publish",
            format!("template:{feed_id}"),
            "ok",
            origin,
        )];
        Ok(Ok(Some(ApprovalEffect::PublishTemplate(PublishProposal {
            proposal_id: proposal.id,
            request_id: record.id,
            template: TemplateRecord {
                template,
                published_at: now,
                published_by: Some(proposal.proposed_by),
                source_request: Some(record.id),
                retired_at: None,
            },
            feed,
            audits,
        }))))
    }
}
