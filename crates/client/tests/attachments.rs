//! Files in drafts against the real server: attached offline and kept across a restart,
//! uploaded when the submission is sent and readable by the approver byte for byte; files the
//! field or the server refuses, said plainly; copies removed when nothing needs them; and a
//! downloaded file opening again with the server down.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use countersign_client::cache::OutboxState;
use countersign_client::{ClientErrorCode, SessionOnlyCredentials};
use countersign_server::settings::Settings;
use countersign_testkit::{TestDb, TestServer, tuesday_morning};
use serde_json::json;
use uuid::Uuid;

mod common;

use common::{PW, client_with, leave_draft, signed_in};

async fn demo_with(settings: Settings) -> TestServer {
    let server = TestServer::start_at_with(TestDb::sqlite(), tuesday_morning(), settings).await;
    server.seed_demo().await;
    server
}

/// A small PDF: the type is recognised from its first bytes.
fn pdf(dir: &Path, name: &str, filler: usize) -> (std::path::PathBuf, Vec<u8>) {
    let mut bytes = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n".to_vec();
    bytes.extend((0..filler).map(|i| (i % 251) as u8));
    let path = dir.join(name);
    std::fs::write(&path, &bytes).unwrap();
    (path, bytes)
}

/// The copies kept in the profile, one folder per file.
fn copies(profile: &Path) -> usize {
    let Ok(accounts) = std::fs::read_dir(profile.join("attachments")) else {
        return 0;
    };
    accounts
        .flatten()
        .map(|account| std::fs::read_dir(account.path()).unwrap().count())
        .sum()
}

#[tokio::test]
async fn a_file_attached_offline_survives_a_restart_and_reaches_the_approver() {
    let server = demo_with(Settings::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let credentials = SessionOnlyCredentials::default();
    let shen = client_with(dir.path(), &credentials);
    shen.sign_in(&server.url(), "shen.yue", PW).await.unwrap();
    shen.sync(tuesday_morning()).await.unwrap();
    let draft = leave_draft(&shen).await;

    let paused = server.pause().await;
    let (file, bytes) = pdf(files.path(), "病假证明.pdf", 3000);
    let view = shen
        .draft_attach(draft, "certificate", &file, tuesday_morning())
        .await
        .unwrap();
    assert!(view.errors.is_empty(), "{:?}", view.errors);
    let local = view.form["certificate"][0].clone();
    assert_eq!(local["name"], "病假证明.pdf");
    assert_eq!(local["content_type"], "application/pdf");
    assert_eq!(local["size"], bytes.len());
    let local_id: Uuid = local["id"].as_str().unwrap().parse().unwrap();
    let states = shen.attachment_states(&[local_id]).await.unwrap();
    assert!(
        states[0].on_this_device && !states[0].uploaded,
        "attached offline: here only, {states:?}"
    );
    std::fs::remove_file(&file).unwrap();

    // The app restarts: the draft still has its file, and the copy is in the profile.
    shen.close().await.unwrap();
    drop(shen);
    let shen = client_with(dir.path(), &credentials);
    let reread = shen.draft(draft).await.unwrap();
    assert_eq!(
        reread.form["certificate"][0], local,
        "kept across the restart"
    );
    let copy = shen
        .attachment_file(local_id, tuesday_morning())
        .await
        .unwrap();
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        bytes,
        "opens offline from the copy"
    );

    let queued = shen.submit_draft(draft, tuesday_morning()).await.unwrap();
    let offline = shen.sync(tuesday_morning()).await.unwrap_err();
    assert_eq!(offline.code, ClientErrorCode::ServerUnreachable);
    assert_eq!(shen.sync_status().await.unwrap().outbox_pending, 1);

    let server = paused.resume().await;
    let report = shen.sync(tuesday_morning()).await.unwrap();
    assert_eq!(report.applied, 1, "{report:?}");
    assert!(report.refused.is_empty());
    let states = shen.attachment_states(&[local_id]).await.unwrap();
    assert!(states[0].uploaded, "uploaded with the submission");

    // The approver sees the server's file and reads the same bytes.
    let jiang_dir = tempfile::tempdir().unwrap();
    let jiang = signed_in(&server, jiang_dir.path(), "jiang.tao").await;
    let detail = jiang
        .request_detail(queued.request_id, tuesday_morning())
        .await
        .unwrap();
    let sent = &detail.form["certificate"][0];
    assert_eq!(sent["name"], "病假证明.pdf");
    let server_id: Uuid = sent["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        server_id, local_id,
        "uploaded under the local id, so that a retry after a lost answer cannot leave a \
         second copy on the server"
    );
    let states = jiang.attachment_states(&[server_id]).await.unwrap();
    assert!(
        !states[0].on_this_device && states[0].uploaded,
        "not downloaded yet"
    );
    let downloaded = jiang
        .attachment_file(server_id, tuesday_morning())
        .await
        .unwrap();
    assert_eq!(std::fs::read(&downloaded).unwrap(), bytes, "bytes equal");
    assert_eq!(
        downloaded.file_name().unwrap().to_string_lossy(),
        "病假证明.pdf",
        "kept under its own name, so the OS opens it with the right app"
    );

    // A second approver device that has not downloaded it yet cannot open it offline, and
    // says why; the first opens it again from its copy.
    let other_dir = tempfile::tempdir().unwrap();
    let other = signed_in(&server, other_dir.path(), "jiang.tao").await;
    let paused = server.pause().await;
    let again = jiang
        .attachment_file(server_id, tuesday_morning())
        .await
        .unwrap();
    assert_eq!(std::fs::read(&again).unwrap(), bytes, "re-read offline");
    let missing = other
        .attachment_file(server_id, tuesday_morning())
        .await
        .unwrap_err();
    assert_eq!(missing.code, ClientErrorCode::ServerUnreachable);
    assert!(
        missing.message.contains("not on this device yet"),
        "{}",
        missing.message
    );
    // Shen's own copy serves the server's id too, offline.
    let own = shen
        .attachment_file(server_id, tuesday_morning())
        .await
        .unwrap();
    assert_eq!(std::fs::read(&own).unwrap(), bytes);
    drop(paused);
}

#[tokio::test]
async fn files_the_field_refuses_are_refused_at_once_and_the_draft_is_unchanged() {
    let server = demo_with(Settings::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let shen = signed_in(&server, dir.path(), "shen.yue").await;
    let now = tuesday_morning();
    let draft = shen.draft_new("reimbursement", now).await.unwrap();

    // Invoices take 10 MB at most.
    let (big, _) = pdf(files.path(), "scan.pdf", 0);
    std::fs::File::options()
        .write(true)
        .open(&big)
        .unwrap()
        .set_len(10 * 1024 * 1024 + 1)
        .unwrap();
    let too_big = shen
        .draft_attach(draft.id, "lines[0].invoice", &big, now)
        .await
        .unwrap_err();
    assert_eq!(too_big.code, ClientErrorCode::FileTooLarge);
    assert!(
        too_big.message.contains("10 MB"),
        "says the limit: {}",
        too_big.message
    );

    let program = files.path().join("invoice.pdf");
    std::fs::write(&program, b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0rest").unwrap();
    let wrong = shen
        .draft_attach(draft.id, "lines[0].invoice", &program, now)
        .await
        .unwrap_err();
    assert_eq!(wrong.code, ClientErrorCode::FileTypeNotAccepted);
    assert!(
        wrong.message.contains("application/pdf") && wrong.message.contains("image/*"),
        "says what is accepted: {}",
        wrong.message
    );

    // Plain text is a file the server takes, but not one this field takes.
    let notes = files.path().join("notes.txt");
    std::fs::write(&notes, "出差说明").unwrap();
    let text = shen
        .draft_attach(draft.id, "lines[0].invoice", &notes, now)
        .await
        .unwrap_err();
    assert_eq!(text.code, ClientErrorCode::FileTypeNotAccepted);
    assert!(text.message.contains("text/plain"), "{}", text.message);

    let gone = shen
        .draft_attach(
            draft.id,
            "lines[0].invoice",
            &files.path().join("nope.pdf"),
            now,
        )
        .await
        .unwrap_err();
    assert_eq!(gone.code, ClientErrorCode::FileUnreadable);

    let not_files = shen
        .draft_attach(draft.id, "purpose", &big, now)
        .await
        .unwrap_err();
    assert_eq!(not_files.code, ClientErrorCode::InvalidInput);

    assert_eq!(
        shen.draft(draft.id).await.unwrap().form,
        json!({}),
        "nothing refused reached the draft"
    );
    assert_eq!(copies(dir.path()), 0, "nothing refused was copied");

    // A file in a table row is fine.
    let (ok, _) = pdf(files.path(), "invoice-1.pdf", 100);
    let view = shen
        .draft_attach(draft.id, "lines[0].invoice", &ok, now)
        .await
        .unwrap();
    assert_eq!(view.form["lines"][0]["invoice"][0]["name"], "invoice-1.pdf");
}

#[tokio::test]
async fn a_file_the_server_refuses_on_upload_refuses_the_submission_with_the_reason() {
    let settings = Settings {
        max_attachment_bytes: 1024,
        ..Settings::default()
    };
    let server = demo_with(settings).await;
    let dir = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let shen = signed_in(&server, dir.path(), "shen.yue").await;
    let draft = leave_draft(&shen).await;
    let (file, _) = pdf(files.path(), "big-scan.pdf", 4000);
    shen.draft_attach(draft, "certificate", &file, tuesday_morning())
        .await
        .unwrap();
    let queued = shen.submit_draft(draft, tuesday_morning()).await.unwrap();

    let report = shen.sync(tuesday_morning()).await.unwrap();
    assert_eq!(report.applied, 0);
    assert_eq!(report.refused.len(), 1, "{report:?}");
    let reason = report.refused[0].reason.clone().unwrap();
    assert_eq!(reason.code, "attachment_refused");
    assert!(
        reason.message.contains("big-scan.pdf"),
        "names the file: {}",
        reason.message
    );
    let status = shen.sync_status().await.unwrap();
    assert_eq!(status.outbox_pending, 0);
    assert_eq!(
        status.refused[0].id, queued.id,
        "kept in the refused list, not dropped"
    );
    assert_eq!(status.refused[0].state, OutboxState::Refused);
    let back = shen.draft(draft).await.unwrap();
    assert_eq!(
        back.submitted_as, None,
        "the draft is hers to correct again"
    );
    assert_eq!(back.form["certificate"][0]["name"], "big-scan.pdf");
}

#[tokio::test]
async fn a_copy_is_deleted_when_no_draft_needs_it_any_more() {
    let server = demo_with(Settings::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let shen = signed_in(&server, dir.path(), "shen.yue").await;
    let now = tuesday_morning();
    let draft = leave_draft(&shen).await;
    let (a, _) = pdf(files.path(), "a.pdf", 10);
    let (b, _) = pdf(files.path(), "b.pdf", 20);
    shen.draft_attach(draft, "certificate", &a, now)
        .await
        .unwrap();
    let view = shen
        .draft_attach(draft, "certificate", &b, now)
        .await
        .unwrap();
    assert_eq!(copies(dir.path()), 2);
    let first: Uuid = view.form["certificate"][0]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    let view = shen
        .draft_detach(draft, "certificate", first, now)
        .await
        .unwrap();
    assert_eq!(view.form["certificate"].as_array().unwrap().len(), 1);
    assert_eq!(copies(dir.path()), 1, "the detached file's copy is gone");
    let states = shen.attachment_states(&[first]).await.unwrap();
    assert!(!states[0].on_this_device);

    shen.draft_delete(draft).await.unwrap();
    assert_eq!(copies(dir.path()), 0, "and the rest with the draft");
}
