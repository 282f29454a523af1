//! What the desktop's screens ask the client core for, against the real server: the inbox
//! page by page with its filters and search (Chinese and English), "my requests" with the
//! queued ones on top, a request's detail with its timeline in names, and a cache written by
//! the first version of the app migrated in place and searchable.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Duration;
use countersign_client::{
    Act, Client, ClientErrorCode, InboxQuery, MyRequestsQuery, Sla, SlaFilter,
};
use countersign_testkit::{TestDb, TestServer, tuesday_morning};
use serde_json::json;
use uuid::Uuid;

mod common;

use common::signed_in;

/// Submits a leave request with `title` and `reason`, and sends it.
async fn leave(c: &Client, title: &str, reason: &str, days: (u32, u32)) -> Uuid {
    let now = tuesday_morning();
    let draft = c.draft_new("leave", now).await.unwrap();
    c.draft_title(draft.id, title, now).await.unwrap();
    c.draft_set(draft.id, "leave_type", json!("annual"), now)
        .await
        .unwrap();
    c.draft_set(draft.id, "reason", json!(reason), now)
        .await
        .unwrap();
    let view = c
        .draft_set(
            draft.id,
            "period",
            json!({"start": format!("2026-12-{:02}", days.0), "end": format!("2026-12-{:02}", days.1)}),
            now,
        )
        .await
        .unwrap();
    assert!(view.errors.is_empty(), "{:?}", view.errors);
    let queued = c.submit_draft(draft.id, now).await.unwrap();
    c.sync(now).await.unwrap();
    queued.request_id
}

fn page(limit: u32) -> InboxQuery {
    InboxQuery {
        limit,
        ..InboxQuery::default()
    }
}

#[tokio::test]
async fn the_inbox_is_answered_page_by_page_with_filters_and_search() {
    let server = TestServer::start_at(TestDb::sqlite(), tuesday_morning()).await;
    server.seed_demo().await;
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let shen = signed_in(&server, dirs[0].path(), "shen.yue").await;
    let mut ids = Vec::new();
    ids.push(leave(&shen, "年假 探亲", "回老家探望父母", (7, 8)).await);
    ids.push(
        leave(
            &shen,
            "Annual leave: wedding",
            "my sister's wedding",
            (9, 10),
        )
        .await,
    );
    ids.push(leave(&shen, "事假", "搬家", (14, 14)).await);
    let jiang = signed_in(&server, dirs[1].path(), "jiang.tao").await;
    let now = tuesday_morning();

    let all = jiang.inbox_page(&page(100), now).await.unwrap();
    assert_eq!(all.total, 3);
    assert_eq!(
        all.items.iter().map(|i| i.request_id).collect::<Vec<_>>(),
        ids,
        "oldest first: what waited longest comes first"
    );
    let first = &all.items[0];
    assert_eq!(first.initiator.name, "沈月", "the initiator by name");
    assert_eq!(
        first.template_name.as_ref().map(|l| l.en.as_str()),
        Some("Leave")
    );
    assert!(
        first.figures.iter().any(|f| f.text.contains("2026-12-07")),
        "the leave period is a key figure: {:?}",
        first.figures
    );
    assert_eq!(
        all.templates.len(),
        1,
        "one template with tasks: {:?}",
        all.templates
    );
    assert_eq!(all.templates[0].count, 3);

    // Pages: the second page of one row is the second request, and the total stays.
    let second = jiang
        .inbox_page(
            &InboxQuery {
                offset: 1,
                limit: 1,
                ..InboxQuery::default()
            },
            now,
        )
        .await
        .unwrap();
    assert_eq!(second.total, 3);
    assert_eq!(second.items.len(), 1);
    assert_eq!(second.items[0].request_id, ids[1]);
    let newest = jiang
        .inbox_page(
            &InboxQuery {
                newest_first: true,
                limit: 1,
                ..InboxQuery::default()
            },
            now,
        )
        .await
        .unwrap();
    assert_eq!(
        newest.items[0].request_id, ids[2],
        "the tray shows the newest"
    );

    let search = |text: &str| InboxQuery {
        search: Some(text.into()),
        limit: 100,
        ..InboxQuery::default()
    };
    let found = |page: countersign_client::InboxPage| -> Vec<Uuid> {
        page.items.iter().map(|i| i.request_id).collect()
    };
    // Chinese in the title, in the form's text, and an English word, any case.
    assert_eq!(
        found(jiang.inbox_page(&search("探亲"), now).await.unwrap()),
        [ids[0]]
    );
    assert_eq!(
        found(jiang.inbox_page(&search("探望父母"), now).await.unwrap()),
        [ids[0]]
    );
    assert_eq!(
        found(jiang.inbox_page(&search("WEDDING"), now).await.unwrap()),
        [ids[1]]
    );
    // One or two characters are found anywhere too, also where nothing follows them: the
    // reason is the last text of the form ("搬家" is all of it), a title ends before it.
    assert_eq!(
        found(jiang.inbox_page(&search("搬家"), now).await.unwrap()),
        [ids[2]]
    );
    assert_eq!(
        found(jiang.inbox_page(&search("家"), now).await.unwrap()),
        [ids[0], ids[2]]
    );
    assert_eq!(
        found(jiang.inbox_page(&search("事假"), now).await.unwrap()),
        [ids[2]]
    );
    assert_eq!(
        found(jiang.inbox_page(&search("NG"), now).await.unwrap()),
        [ids[1]],
        "two letters, any case, ending the text"
    );
    assert_eq!(
        jiang.inbox_page(&search("\"'"), now).await.unwrap().total,
        0
    );
    // Part of the initiator's name finds all of hers; a typed % is a character, not a
    // wildcard.
    assert_eq!(jiang.inbox_page(&search("沈"), now).await.unwrap().total, 3);
    // A page that is small beside the matches is cut from the inbox's order (the ordered
    // walk), both ways, and a page past the end is empty.
    let one_of_hers = |offset: u32, newest_first: bool| InboxQuery {
        search: Some("沈".into()),
        offset,
        limit: 1,
        newest_first,
        ..InboxQuery::default()
    };
    let walked = jiang.inbox_page(&one_of_hers(1, false), now).await.unwrap();
    assert_eq!((walked.total, found(walked)), (3, vec![ids[1]]));
    let walked = jiang.inbox_page(&one_of_hers(0, true), now).await.unwrap();
    assert_eq!(found(walked), [ids[2]]);
    let past = jiang.inbox_page(&one_of_hers(3, false), now).await.unwrap();
    assert_eq!((past.total, past.items.len()), (3, 0));
    assert_eq!(jiang.inbox_page(&search("%"), now).await.unwrap().total, 0);
    assert_eq!(
        jiang
            .inbox_page(&search("nothing like it"), now)
            .await
            .unwrap()
            .total,
        0
    );

    // Template filter.
    let other = InboxQuery {
        template_id: Some("reimbursement".into()),
        limit: 100,
        ..InboxQuery::default()
    };
    assert_eq!(jiang.inbox_page(&other, now).await.unwrap().total, 0);
    let leave_only = InboxQuery {
        template_id: Some("leave".into()),
        limit: 100,
        ..InboxQuery::default()
    };
    assert_eq!(jiang.inbox_page(&leave_only, now).await.unwrap().total, 3);

    // SLA: leave has a time limit; a week later every task is overdue, and none is due
    // soon any more.
    let later = now + Duration::days(7);
    let overdue = InboxQuery {
        sla: Some(SlaFilter::Overdue),
        limit: 100,
        ..InboxQuery::default()
    };
    let due_soon = InboxQuery {
        sla: Some(SlaFilter::DueSoon),
        limit: 100,
        ..InboxQuery::default()
    };
    assert!(
        all.items.iter().all(|i| i.due_at.is_some()),
        "the leave template's first step has an 8-hour limit"
    );
    assert!(all.items.iter().all(|i| i.sla != Sla::Overdue));
    assert_eq!(jiang.inbox_page(&overdue, now).await.unwrap().total, 0);
    // Due a working day later: on time now, due soon two hours on.
    assert_eq!(jiang.inbox_page(&due_soon, now).await.unwrap().total, 0);
    let soon = jiang
        .inbox_page(&due_soon, now + Duration::hours(2))
        .await
        .unwrap();
    assert_eq!(soon.total, 3);
    assert!(soon.items.iter().all(|i| i.sla == Sla::DueSoon));
    let late = jiang.inbox_page(&overdue, later).await.unwrap();
    assert_eq!(late.total, 3);
    assert!(late.items.iter().all(|i| i.sla == Sla::Overdue));
    assert_eq!(jiang.inbox_page(&due_soon, later).await.unwrap().total, 0);

    // A decision queued here leaves the inbox before it is even sent.
    jiang
        .act(
            ids[0],
            Act::Approve {
                comment: String::new(),
            },
            now,
        )
        .await
        .unwrap();
    assert_eq!(jiang.inbox_page(&page(100), now).await.unwrap().total, 2);
    let leave_left = jiang.inbox_page(&leave_only, now).await.unwrap();
    assert_eq!(
        leave_left.total, 2,
        "the template filter counts the same way"
    );
    assert_eq!(leave_left.items.len(), 2);
    assert_eq!(jiang.inbox_page(&overdue, later).await.unwrap().total, 2);

    // Once the server has the decision, the task is gone from the cache and the kept
    // per-template count follows it; the last decision removes the template from the filter.
    jiang.sync(now).await.unwrap();
    let synced = jiang.inbox_page(&page(100), now).await.unwrap();
    assert_eq!(synced.total, 2);
    assert_eq!(synced.templates.len(), 1);
    assert_eq!(synced.templates[0].count, 2);
    for id in &ids[1..] {
        jiang
            .act(
                *id,
                Act::Approve {
                    comment: String::new(),
                },
                now,
            )
            .await
            .unwrap();
    }
    jiang.sync(now).await.unwrap();
    let emptied = jiang.inbox_page(&page(100), now).await.unwrap();
    assert_eq!(emptied.total, 0);
    assert!(emptied.items.is_empty());
    assert!(
        emptied.templates.is_empty(),
        "no template without tasks is offered: {:?}",
        emptied.templates
    );
}

#[tokio::test]
async fn my_requests_put_the_queued_first_and_filter_by_status() {
    let server = TestServer::start_at(TestDb::sqlite(), tuesday_morning()).await;
    server.seed_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let shen = signed_in(&server, dir.path(), "shen.yue").await;
    let sent = leave(&shen, "Sent one", "visit", (7, 7)).await;
    let now = tuesday_morning();

    let paused = server.pause().await;
    let draft = shen.draft_new("leave", now).await.unwrap();
    shen.draft_title(draft.id, "Waiting to go", now)
        .await
        .unwrap();
    shen.draft_set(draft.id, "leave_type", json!("sick"), now)
        .await
        .unwrap();
    shen.draft_set(draft.id, "reason", json!("flu"), now)
        .await
        .unwrap();
    shen.draft_set(
        draft.id,
        "period",
        json!({"start": "2026-12-02", "end": "2026-12-02"}),
        now,
    )
    .await
    .unwrap();
    let queued = shen.submit_draft(draft.id, now).await.unwrap();

    let all = shen
        .my_requests_page(&MyRequestsQuery {
            limit: 50,
            ..MyRequestsQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(all.total, 2, "{all:?}");
    assert_eq!(all.items[0].id, queued.request_id);
    assert_eq!(all.items[0].status, "queued");
    assert_eq!(all.items[1].id, sent);
    assert_eq!(all.items[1].status, "in_progress");
    assert_eq!(
        all.items[1]
            .waiting_on
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["蒋涛"],
        "waiting on her manager, by name"
    );
    assert!(all.items[1].current_step.is_some());

    // Paging across the queued and the cached: the second row alone.
    let second = shen
        .my_requests_page(&MyRequestsQuery {
            offset: 1,
            limit: 1,
            ..MyRequestsQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(second.total, 2);
    assert_eq!(
        second.items.iter().map(|i| i.id).collect::<Vec<_>>(),
        [sent]
    );

    let only = |statuses: &[&str]| MyRequestsQuery {
        statuses: statuses.iter().map(|s| (*s).to_owned()).collect(),
        limit: 50,
        ..MyRequestsQuery::default()
    };
    let in_progress = shen
        .my_requests_page(&only(&["in_progress"]))
        .await
        .unwrap();
    assert_eq!(in_progress.total, 1);
    assert_eq!(in_progress.items[0].id, sent);
    let queued_only = shen.my_requests_page(&only(&["queued"])).await.unwrap();
    assert_eq!(queued_only.total, 1);
    assert_eq!(queued_only.items[0].id, queued.request_id);
    assert_eq!(
        shen.my_requests_page(&only(&["approved"]))
            .await
            .unwrap()
            .total,
        0
    );
    // Searching her own: the cached one by two letters ending its reason ("visit").
    let searched = |text: &str| MyRequestsQuery {
        search: Some(text.into()),
        limit: 50,
        ..MyRequestsQuery::default()
    };
    let by_reason = shen.my_requests_page(&searched("IT")).await.unwrap();
    assert!(
        by_reason.items.iter().any(|i| i.id == sent),
        "{by_reason:?}"
    );
    let none = shen.my_requests_page(&searched("zq")).await.unwrap();
    assert!(
        none.items.iter().all(|i| i.id != sent),
        "no cached request has \"zq\": {none:?}"
    );
    drop(paused);
}

#[tokio::test]
async fn a_request_detail_names_its_steps_people_and_what_waits_here() {
    let server = TestServer::start_at(TestDb::sqlite(), tuesday_morning()).await;
    server.seed_demo().await;
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let shen = signed_in(&server, dirs[0].path(), "shen.yue").await;
    let id = leave(&shen, "Two days", "visit", (7, 8)).await;
    let jiang = signed_in(&server, dirs[1].path(), "jiang.tao").await;
    let now = tuesday_morning();

    let detail = jiang.request_detail(id, now).await.unwrap();
    assert_eq!(detail.initiator.name, "沈月");
    assert_eq!(detail.status, "in_progress");
    assert_eq!(detail.my_tasks.len(), 1, "jiang decides the first step");
    assert!(!detail.mine_and_open, "not his request");
    let template = detail.template.as_ref().expect("the form can be rendered");
    assert_eq!(template.id, "leave");
    assert!(template.form.fields.iter().any(|f| f.key == "period"));
    let current: Vec<_> = detail.steps.iter().filter(|s| s.current).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].tasks.len(), 1);
    assert_eq!(current[0].tasks[0].assignee.name, "蒋涛");
    assert!(current[0].tasks[0].outcome.is_none());
    assert_eq!(detail.events[0].kind, "submitted");
    assert_eq!(detail.events[0].actor.name, "沈月");

    // Offline, his approval waits here: the detail shows it queued and no task left to
    // decide, so the buttons go away.
    let paused = server.pause().await;
    jiang
        .act(
            id,
            Act::Approve {
                comment: "ok".into(),
            },
            now,
        )
        .await
        .unwrap();
    let detail = jiang.request_detail(id, now).await.unwrap();
    assert!(detail.my_tasks.is_empty());
    assert_eq!(detail.queued.len(), 1);
    assert_eq!(detail.queued[0].action, "approve");
    let server = paused.resume().await;
    jiang.sync(now).await.unwrap();
    let detail = jiang.request_detail(id, now).await.unwrap();
    assert!(detail.queued.is_empty(), "answered");
    assert!(
        detail
            .events
            .iter()
            .any(|e| e.kind == "approved" && e.actor.name == "蒋涛" && e.comment == "ok")
    );

    // Someone who may not see it is told so, not shown a blank.
    let han = signed_in(&server, dirs[2].path(), "han.bing").await;
    let hidden = han.request_detail(id, now).await.unwrap_err();
    assert_eq!(hidden.code, ClientErrorCode::NotFound);
}

#[tokio::test]
async fn a_cache_from_the_first_version_is_migrated_in_place_and_searchable() {
    let server = TestServer::start_at(TestDb::sqlite(), tuesday_morning()).await;
    server.seed_demo().await;
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let shen = signed_in(&server, dirs[0].path(), "shen.yue").await;
    let id = leave(&shen, "年假 探亲", "visit", (7, 8)).await;
    let jiang = signed_in(&server, dirs[1].path(), "jiang.tao").await;
    let now = tuesday_morning();
    assert_eq!(jiang.inbox_page(&page(10), now).await.unwrap().total, 1);
    jiang.close().await.unwrap();

    // Take the file back to the first schema: no search index, no attachments, no later
    // migration recorded.
    {
        let mut conn = common::cache_file_connection(dirs[1].path()).await;
        common::take_cache_back_to(&mut conn, 1).await;
        let versions: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&mut conn)
                .await
                .unwrap();
        assert_eq!(versions, [1], "a first-version cache");
    }

    // Opening it again migrates it in place: the request is still there (no rebuild, no
    // re-download) and the search index covers it.
    let status = jiang.sync_status().await.unwrap();
    assert!(
        status.recovery.is_none(),
        "migrated, not rebuilt: {status:?}"
    );
    let found = jiang
        .inbox_page(
            &InboxQuery {
                search: Some("探亲".into()),
                limit: 10,
                ..InboxQuery::default()
            },
            now,
        )
        .await
        .unwrap();
    assert_eq!(
        found.items.iter().map(|i| i.request_id).collect::<Vec<_>>(),
        [id]
    );
    // The kept per-template counts start from the tasks already cached.
    let inbox = jiang.inbox_page(&page(10), now).await.unwrap();
    assert_eq!(inbox.total, 1);
    assert_eq!(
        inbox
            .templates
            .iter()
            .map(|t| (t.template_id.as_str(), t.count))
            .collect::<Vec<_>>(),
        [("leave", 1)]
    );
}
