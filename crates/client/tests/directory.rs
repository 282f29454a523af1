//! The person and department pickers' questions, answered from the cache of a client synced
//! with the demo organisation: search in Chinese and in plain English (user names, the
//! departments' English names and codes), `%` and `_` typed as themselves, departed people
//! found but marked, and the names of ids already in a form.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::signed_in;
use countersign_client::{Client, DirectoryEntry, DirectoryKind, DirectoryQuery};
use countersign_testkit::{TestDb, TestServer, tuesday_morning};
use uuid::Uuid;

async fn search(c: &Client, kind: DirectoryKind, text: &str) -> Vec<DirectoryEntry> {
    c.directory_search(&DirectoryQuery {
        kind,
        text: text.into(),
        limit: 0,
    })
    .await
    .unwrap()
}

fn names(entries: &[DirectoryEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.name.as_str()).collect()
}

#[tokio::test]
async fn pickers_find_people_and_departments_in_the_cache() {
    let server = TestServer::start_at(TestDb::sqlite(), tuesday_morning()).await;
    server.seed_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let c = signed_in(&server, dir.path(), "shen.yue").await;

    let shen = search(&c, DirectoryKind::People, "沈").await;
    assert_eq!(names(&shen), ["沈月"], "one demo person has 沈 in her name");
    assert_eq!(shen[0].kind, DirectoryKind::People);
    assert_eq!(
        shen[0].detail.as_deref(),
        Some("研发部 R&D"),
        "a person's detail is their department's name"
    );
    assert!(shen[0].active);

    let by_username = search(&c, DirectoryKind::People, "JIANG").await;
    assert_eq!(
        names(&by_username),
        ["蒋涛"],
        "the user name finds a person without pinyin, whatever the case"
    );

    let rd = search(&c, DirectoryKind::Departments, "研发").await;
    assert_eq!(
        names(&rd),
        ["研发部 R&D"],
        "a department by its Chinese name"
    );
    assert_eq!(rd[0].kind, DirectoryKind::Departments);
    assert_eq!(
        rd[0].detail.as_deref(),
        Some("RD"),
        "a department's detail is its code"
    );
    assert_eq!(
        names(&search(&c, DirectoryKind::Departments, "r&d").await),
        ["研发部 R&D"],
        "a department by its English name"
    );
    assert_eq!(
        names(&search(&c, DirectoryKind::Departments, "hr").await),
        ["人力资源部 Human Resources"],
        "a department by its code"
    );
    let fin = search(&c, DirectoryKind::Departments, "fin").await;
    assert_eq!(
        names(&fin),
        ["财务部 Finance"],
        "code and name both match, and the department is listed once"
    );

    for wildcard in ["%", "_", "沈%"] {
        assert!(
            search(&c, DirectoryKind::People, wildcard).await.is_empty(),
            "{wildcard} is a character no name has, not a wildcard matching everyone"
        );
        assert!(
            search(&c, DirectoryKind::Departments, wildcard)
                .await
                .is_empty(),
            "{wildcard} is literal for departments too"
        );
    }

    let everyone = search(&c, DirectoryKind::People, "").await;
    assert_eq!(everyone.len(), 20, "an empty search lists up to the limit");
    let three = c
        .directory_search(&DirectoryQuery {
            kind: DirectoryKind::People,
            text: String::new(),
            limit: 3,
        })
        .await
        .unwrap();
    assert_eq!(three.len(), 3, "a smaller limit is kept");
    let all_departments = search(&c, DirectoryKind::Departments, " ").await;
    assert_eq!(
        all_departments.len(),
        6,
        "blank text is no filter: {all_departments:?}"
    );
}

#[tokio::test]
async fn departed_people_are_found_marked_and_listed_last() {
    let server = TestServer::start_at(TestDb::sqlite(), tuesday_morning()).await;
    server.seed_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let c = signed_in(&server, dir.path(), "shen.yue").await;
    let he_ping = search(&c, DirectoryKind::People, "何平").await;
    assert_eq!(he_ping.len(), 1);
    let he_ping_id = he_ping[0].id;

    server.state.disable_dormant(he_ping_id, 90).await.unwrap();
    c.sync(tuesday_morning()).await.unwrap();

    let he_ping = search(&c, DirectoryKind::People, "何平").await;
    assert_eq!(
        names(&he_ping),
        ["何平"],
        "a departed person is still found: old forms name them"
    );
    assert!(!he_ping[0].active, "and marked as no longer here");

    // Every demo user name has a dot: all 20 match, and the one who left comes last although
    // 何 sorts first of all the names.
    let dotted = search(&c, DirectoryKind::People, ".").await;
    assert_eq!(dotted.len(), 20);
    assert!(
        dotted[..19].iter().all(|e| e.active),
        "those still here come first: {dotted:?}"
    );
    assert_eq!(dotted[19].id, he_ping_id);
}

#[tokio::test]
async fn ids_in_a_form_are_named_in_the_order_asked() {
    let server = TestServer::start_at(TestDb::sqlite(), tuesday_morning()).await;
    server.seed_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let c = signed_in(&server, dir.path(), "shen.yue").await;
    let jiang = search(&c, DirectoryKind::People, "蒋涛").await[0].clone();
    let rd = search(&c, DirectoryKind::Departments, "RD").await[0].clone();
    let unknown = Uuid::now_v7();

    let named = c
        .directory_names(&[rd.id, unknown, jiang.id, rd.id])
        .await
        .unwrap();
    assert_eq!(
        named,
        vec![rd.clone(), jiang, rd],
        "people and departments alike, in the order asked; an id the directory does not \
         know is left out for the screen to show as it is"
    );
    assert!(
        c.directory_names(&[]).await.unwrap().is_empty(),
        "no ids, no names"
    );
}
