//! Idempotency of every mutation kind, on SQLite and PostgreSQL: each engine action sent from
//! a client's outbox, then sent again (a client that never heard the first answer), is
//! answered with its first answer and changes nothing a second time — not the request, not
//! its version, not the feed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use countersign_api::requests::RequestView;
use countersign_api::sync::{MutationResults, MutationStatus, SyncPage};
use countersign_domain::engine::RequestStatus;
use countersign_server::settings::Settings;
use countersign_server::store::Backend;
use countersign_testkit::tuesday_morning;
use countersign_testkit::{TestApi, TestDb};
use serde_json::{Value, json};
use uuid::Uuid;

const PW: &str = countersign_server::seed::DEMO_PASSWORD;

countersign_testkit::both_backends!(every_mutation_kind_replayed_has_no_second_effect);

fn leave(days: u32) -> Value {
    json!({
        "leave_type": "annual",
        "reason": "family visit",
        "period": {"start": "2026-12-07", "end": format!("2026-12-{:02}", 6 + days)}
    })
}

struct World {
    api: TestApi,
    tokens: HashMap<Uuid, String>,
    ids: HashMap<&'static str, Uuid>,
}

impl World {
    async fn new(backend: Backend) -> Self {
        let db = TestDb::of(backend).await;
        let api = TestApi::with(db, tuesday_morning(), Settings::default()).await;
        api.seed_demo().await;
        let mut tokens = HashMap::new();
        let mut ids = HashMap::new();
        for name in ["shen.yue", "jiang.tao", "han.bing", "yang.fan"] {
            let id = api
                .store()
                .find_person_by_username(name)
                .await
                .unwrap()
                .unwrap()
                .id;
            tokens.insert(id, api.token(name, PW).await);
            ids.insert(name, id);
        }
        Self { api, tokens, ids }
    }

    fn token(&self, name: &str) -> &str {
        &self.tokens[&self.ids[name]]
    }

    /// The feed's head as `person` sees it.
    async fn head(&self, token: &str) -> String {
        let mut after = String::new();
        loop {
            let page: SyncPage = self
                .api
                .get(&format!("/v1/sync?after={after}&limit=500"), token)
                .await
                .json();
            after = page.cursor;
            if !page.more {
                return after;
            }
        }
    }

    /// Sends one mutation as `token`, expects it applied, then sends it again and expects
    /// the first answer back with nothing changed. Answers the request after it.
    async fn once(&self, token: &str, kind: &str, payload: Value) -> RequestView {
        let batch =
            json!({"mutations": [{"id": Uuid::now_v7(), "kind": kind, "payload": payload}]});
        let first: MutationResults = self
            .api
            .post("/v1/mutations", token, batch.clone())
            .await
            .json();
        let first = &first.results[0];
        assert_eq!(
            first.status,
            MutationStatus::Applied,
            "{kind} {payload}: {:?}",
            first.reason
        );
        let after_first = first.entity.as_deref().unwrap().clone();
        let heads: Vec<String> = {
            let mut heads = Vec::new();
            for t in self.tokens.values() {
                heads.push(self.head(t).await);
            }
            heads
        };

        let again: MutationResults = self.api.post("/v1/mutations", token, batch).await.json();
        let again = &again.results[0];
        assert_eq!(again.status, MutationStatus::Duplicate, "{kind} replayed");
        assert_eq!(again.original, Some(MutationStatus::Applied));
        assert_eq!(
            again.entity.as_deref(),
            Some(&after_first),
            "{kind}: the replay answers the first answer"
        );
        let now: RequestView = self
            .api
            .get(&format!("/v1/requests/{}", after_first.id), token)
            .await
            .json();
        assert_eq!(now.version, after_first.version, "{kind}: no second change");
        assert_eq!(now.state.events.len(), after_first.state.events.len());
        for (t, before) in self.tokens.values().zip(&heads) {
            assert_eq!(
                &self.head(t).await,
                before,
                "{kind}: nothing new in anyone's feed"
            );
        }
        now
    }

    /// The open task of `view` and who holds it.
    fn open_task(&self, view: &RequestView) -> (u32, Uuid) {
        let task = view.state.open_tasks().next().expect("an open task");
        (task.id, task.assignee)
    }

    async fn submit(&self, days: u32) -> RequestView {
        let payload = json!({"id": Uuid::now_v7(), "template_id": "leave", "form": leave(days)});
        self.once(self.token("shen.yue"), "submit_request", payload)
            .await
    }

    async fn act(&self, by: Uuid, request: Uuid, action: Value) -> RequestView {
        let payload = json!({"request_id": request, "action": action});
        self.once(&self.tokens[&by], "act_on_request", payload)
            .await
    }
}

async fn every_mutation_kind_replayed_has_no_second_effect(backend: Backend) {
    let w = World::new(backend).await;
    let shen = w.ids["shen.yue"];

    // submit_request, then every act_on_request action in a life a request can have.
    let r = w.submit(2).await;
    let r = w
        .act(
            shen,
            r.id,
            json!({"kind": "comment", "text": "back on the 9th"}),
        )
        .await;
    let r = w
        .act(shen, r.id, json!({"kind": "urge", "comment": "flights"}))
        .await;
    let (task, holder) = w.open_task(&r);
    assert_eq!(holder, w.ids["jiang.tao"], "the manager decides first");
    let to = w.ids["han.bing"];
    let r = w
        .act(
            holder,
            r.id,
            json!({"kind": "transfer", "task": task, "to": to, "comment": "you cover"}),
        )
        .await;
    let (task, holder) = w.open_task(&r);
    assert_eq!(holder, to, "the task moved");
    let signer = w.ids["yang.fan"];
    let r = w
        .act(
            holder,
            r.id,
            json!({"kind": "add_signer", "task": task, "signer": signer, "position": "before"}),
        )
        .await;
    let (task, holder) = w.open_task(&r);
    assert_eq!(holder, signer, "the added signer decides first");
    let r = w
        .act(
            holder,
            r.id,
            json!({"kind": "return", "task": task, "comment": "dates?"}),
        )
        .await;
    assert_eq!(r.status, RequestStatus::Returned);
    let r = w
        .act(
            shen,
            r.id,
            json!({"kind": "resubmit", "form": leave(1), "comment": "one day"}),
        )
        .await;
    assert_eq!(r.status, RequestStatus::InProgress);
    let (task, holder) = w.open_task(&r);
    let r = w
        .act(
            holder,
            r.id,
            json!({"kind": "reject", "task": task, "comment": "busy week"}),
        )
        .await;
    assert_eq!(r.status, RequestStatus::Rejected);

    let r = w.submit(1).await;
    let (task, holder) = w.open_task(&r);
    let r = w
        .act(
            holder,
            r.id,
            json!({"kind": "approve", "task": task, "comment": "enjoy"}),
        )
        .await;
    assert_eq!(r.status, RequestStatus::Approved);

    let r = w.submit(3).await;
    let r = w
        .act(
            shen,
            r.id,
            json!({"kind": "withdraw", "comment": "plans changed"}),
        )
        .await;
    assert_eq!(r.status, RequestStatus::Withdrawn);
}
