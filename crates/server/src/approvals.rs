//! What a request's final approval sets off beyond the request itself: an approved account
//! application opens the account (S1), an approved process-change request publishes the
//! template version it names (S6). The consequences are planned before the approval is
//! written and then written in the approval's transaction, so neither stands without the
//! other; a consequence that cannot happen (the user name is taken, the proposal is outdated)
//! refuses the approval with a reason, and the approver returns or rejects the request.

use countersign_api::accounts::AccountActivation;
use countersign_api::requests::RefusalView;
use countersign_domain::engine::RequestStatus;

use crate::auth::{Caller, Origin};
use crate::error::Result;
use crate::state::AppState;
use crate::store::{ApprovalEffect, RequestRecord};

/// The consequences of one approval.
#[derive(Default)]
pub(crate) struct Consequences {
    pub effects: Vec<ApprovalEffect>,
    /// An opened account's secret, for the approver's answer only.
    pub activation: Option<AccountActivation>,
}

impl AppState {
    /// The consequences of moving a request from `before` to `record`'s state. Nothing unless
    /// this very action made it approved.
    pub(crate) async fn approval_consequences(
        &self,
        caller: &Caller,
        before: RequestStatus,
        record: &RequestRecord,
        reveal: bool,
        origin: &Origin,
    ) -> Result<std::result::Result<Consequences, RefusalView>> {
        if record.state.status != RequestStatus::Approved || before == RequestStatus::Approved {
            return Ok(Ok(Consequences::default()));
        }
        match record.template_id.as_str() {
            crate::accounts::ACCOUNT_APPLICATION => Ok(self
                .plan_account(caller, record, reveal, origin)
                .await?
                .map(|planned| Consequences {
                    effects: vec![planned.effect],
                    activation: planned.activation,
                })),
            crate::proposals::PROCESS_CHANGE => Ok(self
                .plan_publication(caller, record, origin)
                .await?
                .map(|effect| Consequences {
                    effects: effect.into_iter().collect(),
                    activation: None,
                })),
            _ => Ok(Ok(Consequences::default())),
        }
    }
}
