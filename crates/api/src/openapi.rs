//! Schemas for the domain types that travel inside the wire types, for the OpenAPI document
//! (feature `openapi`). countersign-domain stays free of any OpenAPI dependency, so where a
//! client must *send* a domain type (an action) or branch on one (a request's status), a
//! mirror here states its exact serde shape; a test below holds each mirror to the domain
//! type it describes. Domain types only read back (a template, a request's state) are
//! published as plain objects.

use serde::Deserialize;
use utoipa::ToSchema;

/// What a person does to a request (`countersign_domain::engine::Action`).
#[derive(Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[allow(dead_code)]
pub enum Action {
    /// Submit the draft with its form data.
    Submit {
        form: serde_json::Value,
    },
    Approve {
        task: u32,
        #[serde(default)]
        comment: String,
    },
    /// Reject the request; a reason is required.
    Reject {
        task: u32,
        comment: String,
    },
    /// 退回: send the request back; without `to`, where the step sends returns by default.
    Return {
        task: u32,
        #[serde(default)]
        to: Option<ReturnTarget>,
        comment: String,
    },
    /// Resubmit a returned request with its corrected form.
    Resubmit {
        form: serde_json::Value,
        #[serde(default)]
        comment: String,
    },
    /// 转交: hand one's task to someone else.
    Transfer {
        task: u32,
        to: uuid::Uuid,
        #[serde(default)]
        comment: String,
    },
    /// 加签: ask someone to approve before or after oneself.
    AddSigner {
        task: u32,
        signer: uuid::Uuid,
        position: SignerPosition,
        #[serde(default)]
        comment: String,
    },
    /// 撤回: the initiator takes the request back while it is not finished.
    Withdraw {
        #[serde(default)]
        comment: String,
    },
    /// 催办: remind whoever holds the request.
    Urge {
        #[serde(default)]
        comment: String,
    },
    Comment {
        text: String,
    },
}

/// `countersign_domain::workflow::ReturnTarget`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReturnTarget {
    Initiator,
    PreviousStep,
}

/// `countersign_domain::engine::SignerPosition`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignerPosition {
    Before,
    After,
}

/// `countersign_domain::engine::RequestStatus`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Draft,
    InProgress,
    Returned,
    Approved,
    Rejected,
    Withdrawn,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use countersign_domain::engine;
    use serde::Serialize;
    use serde_json::json;

    /// Every value of the domain type, as JSON, must be one the mirror accepts.
    fn mirrored<D: Serialize, M: serde::de::DeserializeOwned>(values: &[D]) {
        for v in values {
            let json = serde_json::to_value(v).unwrap();
            assert!(
                serde_json::from_value::<M>(json.clone()).is_ok(),
                "the OpenAPI mirror rejects {json}"
            );
        }
    }

    #[test]
    fn mirrors_accept_what_the_domain_sends() {
        let id = uuid::Uuid::nil();
        let actions: Vec<engine::Action> = [
            json!({"kind": "submit", "form": {}}),
            json!({"kind": "approve", "task": 1}),
            json!({"kind": "reject", "task": 1, "comment": "no"}),
            json!({"kind": "return", "task": 1, "to": "previous_step", "comment": "fix"}),
            json!({"kind": "resubmit", "form": {"a": 1}}),
            json!({"kind": "transfer", "task": 1, "to": id}),
            json!({"kind": "add_signer", "task": 1, "signer": id, "position": "before"}),
            json!({"kind": "withdraw"}),
            json!({"kind": "urge", "comment": "please"}),
            json!({"kind": "comment", "text": "hi"}),
        ]
        .into_iter()
        .map(|j| serde_json::from_value(j).unwrap())
        .collect();
        mirrored::<_, super::Action>(&actions);
        use engine::RequestStatus::*;
        mirrored::<_, super::RequestStatus>(&[
            Draft, InProgress, Returned, Approved, Rejected, Withdrawn,
        ]);
    }

    #[test]
    fn mirrors_refuse_what_the_domain_refuses() {
        // A shape the mirror accepts but the domain refuses would make the published schema
        // promise more than the server takes.
        for body in [
            json!({"kind": "approve", "task": 1, "extra": true}),
            json!({"kind": "reject", "task": 1}),
            json!({"kind": "unheard_of"}),
        ] {
            assert!(serde_json::from_value::<engine::Action>(body.clone()).is_err());
            assert!(serde_json::from_value::<super::Action>(body.clone()).is_err());
        }
    }
}
