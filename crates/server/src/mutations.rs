//! `POST /v1/mutations`: a batch of client mutations, each applied at most once. A mutation
//! id seen before is answered with its first answer (`duplicate`), a refused mutation is
//! recorded as refused and does not stop the ones behind it, and a server failure stops the
//! batch without recording anything, so the client retries what was not answered.

use countersign_api::meetings::{MeetingReceipts, MeetingView, RsvpRequest};
use countersign_api::requests::{ActRequest, RefusalView, RequestView, SubmitRequest};
use countersign_api::sync::{
    ActPayload, MutationBatch, MutationKind, MutationResult, MutationResults, MutationStatus,
};
use serde_json::json;

use crate::auth::{Caller, Origin};
use crate::error::{Error, Result};
use crate::requests::{MutationTag, plain_refusal};
use crate::state::AppState;
use crate::store::{AuditEntry, MutationRecord};

/// What an applied mutation answers with.
enum Answered {
    Request(RequestView),
    Meeting(MeetingView),
    Nothing,
}

/// The most mutations one batch may carry.
pub const MAX_BATCH: usize = 100;

impl AppState {
    pub async fn apply_mutations(
        &self,
        caller: &Caller,
        batch: MutationBatch,
        origin: &Origin,
    ) -> Result<MutationResults> {
        if batch.mutations.len() > MAX_BATCH {
            return Err(Error::malformed(format!(
                "A batch may carry at most {MAX_BATCH} mutations; send the rest in another."
            )));
        }
        let mut results = Vec::with_capacity(batch.mutations.len());
        for m in batch.mutations {
            // A decision learns whether it was answered before in the same read as its
            // request (`read_for_decision`: one statement fewer on the busiest path, where on
            // SQLite each is a round trip to the connection's thread); the rest ask first.
            let asked_with_its_read = matches!(m.kind, MutationKind::ActOnRequest);
            if !asked_with_its_read && let Some(seen) = self.store.find_mutation(m.id).await? {
                results.push(self.replay(caller, seen));
                continue;
            }
            let tag = MutationTag {
                id: m.id,
                kind: m.kind,
            };
            let outcome = match m.kind {
                MutationKind::SubmitRequest => {
                    match serde_json::from_value::<SubmitRequest>(m.payload) {
                        Ok(req) => self
                            .submit_request(caller, req, origin, Some(tag))
                            .await
                            .map(Answered::Request),
                        Err(e) => Err(malformed_payload(&e)),
                    }
                }
                MutationKind::ActOnRequest => match serde_json::from_value::<ActPayload>(m.payload)
                {
                    Ok(p) => {
                        let act = ActRequest {
                            action: p.action,
                            expected_version: m.base_version,
                        };
                        self.act_on_request(caller, p.request_id, act, origin, Some(tag))
                            .await
                            .map(Answered::Request)
                    }
                    // Answered before (when it may have read well): replayed all the same.
                    Err(e) => match self.store.find_mutation(m.id).await? {
                        Some(_) => Err(Error::DuplicateMutation(m.id)),
                        None => Err(malformed_payload(&e)),
                    },
                },
                MutationKind::RsvpMeeting => {
                    match serde_json::from_value::<RsvpRequest>(m.payload) {
                        Ok(RsvpRequest {
                            meeting_id: Some(meeting),
                            answer,
                            note,
                        }) => self
                            .answer_meeting(
                                caller,
                                meeting,
                                RsvpRequest {
                                    meeting_id: None,
                                    answer,
                                    note,
                                },
                                origin,
                                Some(tag),
                            )
                            .await
                            .map(Answered::Meeting),
                        Ok(_) => Err(Error::rule(plain_refusal(
                            "malformed_payload",
                            "An answer to a meeting must name the meeting (meeting_id).",
                        ))),
                        Err(e) => Err(malformed_payload(&e)),
                    }
                }
                MutationKind::MeetingReceipts => {
                    match serde_json::from_value::<MeetingReceipts>(m.payload) {
                        Ok(receipts) => self
                            .record_receipts(caller, receipts, origin, Some(tag))
                            .await
                            .map(|_| Answered::Nothing),
                        Err(e) => Err(malformed_payload(&e)),
                    }
                }
                MutationKind::Unknown => Err(Error::rule(plain_refusal(
                    "unknown_mutation",
                    "This server does not know that kind of change; update the server or discard it.",
                ))),
            };
            let result = match outcome {
                Ok(answered) => {
                    let (entity, meeting) = match answered {
                        Answered::Request(r) => (Some(Box::new(r)), None),
                        Answered::Meeting(v) => (None, Some(Box::new(v))),
                        Answered::Nothing => (None, None),
                    };
                    MutationResult {
                        id: m.id,
                        status: MutationStatus::Applied,
                        original: None,
                        reason: None,
                        entity,
                        meeting,
                    }
                }
                Err(Error::DuplicateMutation(_)) => match self.store.find_mutation(m.id).await? {
                    Some(seen) => self.replay(caller, seen),
                    None => return Err(Error::Internal(format!("mutation {} vanished", m.id))),
                },
                Err(Error::Refused {
                    code,
                    message,
                    refusal,
                    ..
                }) => {
                    let reason = refusal.map(|r| *r).unwrap_or_else(|| RefusalView {
                        code: code.as_str().to_owned(),
                        message,
                        refusal: None,
                        current_version: None,
                        request: None,
                    });
                    let result = MutationResult {
                        id: m.id,
                        status: MutationStatus::Refused,
                        original: None,
                        reason: Some(reason),
                        entity: None,
                        meeting: None,
                    };
                    self.record_refusal(caller, tag, &result, origin).await?;
                    result
                }
                // The server could not decide: nothing is recorded, the client retries.
                Err(other) => return Err(other),
            };
            results.push(result);
        }
        Ok(MutationResults { results })
    }

    /// The first answer to a mutation, again.
    fn replay(&self, caller: &Caller, seen: MutationRecord) -> MutationResult {
        if seen.person_id != caller.person.id {
            // Ids are UUIDv7 made by clients; a clash across people is a client bug, and the
            // other person's answer is not this one's to read.
            return MutationResult {
                id: seen.id,
                status: MutationStatus::Refused,
                original: None,
                reason: Some(plain_refusal(
                    "mutation_id_taken",
                    "Another person already used this mutation id; make a new one.",
                )),
                entity: None,
                meeting: None,
            };
        }
        let mut result: MutationResult =
            serde_json::from_value(seen.result).unwrap_or_else(|_| MutationResult {
                id: seen.id,
                status: MutationStatus::Refused,
                original: None,
                reason: Some(plain_refusal(
                    "unreadable_result",
                    "The first answer to this change could not be read back.",
                )),
                entity: None,
                meeting: None,
            });
        result.original = Some(result.status);
        result.status = MutationStatus::Duplicate;
        result
    }

    async fn record_refusal(
        &self,
        caller: &Caller,
        tag: MutationTag,
        result: &MutationResult,
        origin: &Origin,
    ) -> Result<()> {
        let now = self.clock.now();
        let record = MutationRecord {
            id: tag.id,
            person_id: caller.person.id,
            kind: tag.kind.as_str().to_owned(),
            status: "refused".to_owned(),
            result: serde_json::to_value(result).unwrap_or_else(|_| json!({})),
            created_at: now,
        };
        let audit = AuditEntry {
            at: now,
            actor_id: Some(caller.person.id),
            actor: caller.person.username.clone(),
            action: format!("mutation.{}", tag.kind.as_str()),
            resource: format!("mutation:{}", tag.id),
            outcome: result
                .reason
                .as_ref()
                .map_or_else(|| "refused".to_owned(), |r| r.code.clone()),
            source: origin.source.clone(),
            device: Some(caller.session.device_name.clone()),
        };
        match self.store.record_mutation(&record, &audit).await {
            Ok(()) => Ok(()),
            // Recorded a moment ago by the same mutation sent twice at once.
            Err(crate::store::StoreError::Conflict { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

fn malformed_payload(e: &serde_json::Error) -> Error {
    Error::rule(plain_refusal(
        "malformed_payload",
        format!("The change's payload does not fit its kind: {e}"),
    ))
}
