//! Files in a draft, end to end in the real app under Xvfb: picked in the system's file
//! dialog (GTK's, driven with real key presses), dropped on the field from another program
//! (the X drag-and-drop protocol, as a file manager speaks it), a file the field does not take
//! refused in words beside the ones attached, and the files reaching the approver byte for
//! byte once the request is sent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use countersign_e2e::{App, Driver, UI_TIMEOUT, app_env, colleague};
use countersign_testkit::{
    DesktopSession, Key, NotificationServer, TestDb, TestServer, TopLevel, cargo_bin,
};
use uuid::Uuid;

const TITLE: &str = "Sick leave with certificate";

fn write(dir: &Path, name: &str, bytes: &[u8]) -> (PathBuf, Vec<u8>) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    (path, bytes.to_vec())
}

/// Whether a file called `name` is anywhere under `folder`.
fn holds_copy(folder: &Path, name: &str) -> bool {
    std::fs::read_dir(folder)
        .into_iter()
        .flatten()
        .flatten()
        .any(|entry| {
            let path = entry.path();
            path.file_name().is_some_and(|n| n == name)
                || (path.is_dir() && holds_copy(&path, name))
        })
}

/// The app's windows on screen other than those in `known`, once one shows.
async fn new_window(session: &DesktopSession, pid: u32, known: &[TopLevel]) -> TopLevel {
    let deadline = Instant::now() + UI_TIMEOUT;
    loop {
        let fresh = session
            .top_levels(pid)
            .into_iter()
            .find(|w| w.shown && known.iter().all(|k| k.id != w.id));
        if let Some(window) = fresh {
            return window;
        }
        assert!(Instant::now() < deadline, "the file dialog never showed");
        // Polling the display for a window, not waiting for time to pass.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn window_gone(session: &DesktopSession, pid: u32, window: &TopLevel) {
    let deadline = Instant::now() + UI_TIMEOUT;
    while session
        .top_levels(pid)
        .iter()
        .any(|w| w.id == window.id && w.shown)
    {
        assert!(Instant::now() < deadline, "the file dialog never closed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The centre of the element matching `css` in the window, in CSS pixels, scrolled into view.
async fn centre_of(app: &App, css: &str) -> (i16, i16) {
    let at = app
        .client
        .execute(
            "const el = document.querySelector(arguments[0]);\
             el.scrollIntoView({ block: 'center', behavior: 'instant' });\
             const r = el.getBoundingClientRect();\
             return [Math.round(r.left + r.width / 2), Math.round(r.top + r.height / 2)];",
            vec![css.into()],
        )
        .await
        .expect("the element's place");
    let xy: Vec<i16> = serde_json::from_value(at).expect("two numbers");
    (xy[0], xy[1])
}

#[tokio::test(flavor = "multi_thread")]
async fn files_reach_a_draft_through_the_file_dialog_and_by_dropping_them() {
    let server = TestServer::start(TestDb::sqlite()).await;
    server.seed_demo().await;
    let session = DesktopSession::with_display();
    // A desktop has a notification service; without one the app logs its absence each sync.
    let _notifications = NotificationServer::start(&session.dbus_address).await;
    let profile = session.home().join("shen-profile");
    let vars = app_env(&profile);
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let driver = Driver::start(&session, &pairs);
    let app = driver.launch(&cargo_bin("countersign-desktop")).await;
    app.sign_in(&server.url(), "shen.yue").await;
    app.wait_for_first_sync().await;

    // Files on this computer, as a person keeps them.
    let documents = session.home().join("Documents");
    std::fs::create_dir_all(&documents).unwrap();
    let mut pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n".to_vec();
    pdf.extend((0..4000).map(|i| (i % 251) as u8));
    let (certificate, certificate_bytes) = write(&documents, "certificate.pdf", &pdf);
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
    png.extend((0..2000).map(|i| (i % 13) as u8));
    let (scan, scan_bytes) = write(&documents, "scan.png", &png);
    let (notes, _) = write(&documents, "notes.txt", b"remember the umbrella\n");

    // A sick leave of five days: the certificate field is where the files go.
    app.click("[data-testid='nav-new-request']").await;
    app.click("[data-testid='template-leave']").await;
    app.wait_for("[data-testid='draft-editor']").await;
    app.set_value("#draft-title", TITLE).await;
    app.set_value("#field-leave_type", "sick").await;
    app.set_value("#field-reason", "Flu, doctor's note attached")
        .await;
    app.set_value_nth("#field-period input[type='date']", 0, "2026-12-14")
        .await;
    app.set_value_nth("#field-period input[type='date']", 1, "2026-12-18")
        .await;
    app.wait_for_text_containing("[data-testid='computed-days']", "5")
        .await;
    let add_files = "#field-certificate > button.button";
    let pid = app.pid();
    let before = session.top_levels(pid);
    let main = before
        .iter()
        .find(|w| w.shown)
        .cloned()
        .expect("the app's window is on screen");

    // The system's file dialog, closed with Escape: nothing attached, nothing said.
    app.click(add_files).await;
    let dialog = new_window(&session, pid, &before).await;
    session.press_keys(dialog.id, &[Key::Escape], false);
    window_gone(&session, pid, &dialog).await;
    app.wait_until(
        "the field is usable again after the cancelled dialog",
        "const f = document.querySelector('#field-certificate');\
         return f.getAttribute('aria-busy') === null\
           && f.querySelector('.input-files-empty') !== null\
           && f.querySelector('.field-error') === null;",
    )
    .await;

    // The dialog again: the location typed as a person does (Ctrl+L, the path, Enter).
    app.click(add_files).await;
    let dialog = new_window(&session, pid, &before).await;
    let mut keys = vec![Key::Char('l')];
    keys.extend(certificate.to_str().unwrap().chars().map(Key::Char));
    keys.push(Key::Return);
    session.press_keys(dialog.id, &keys, true);
    window_gone(&session, pid, &dialog).await;
    app.wait_for_text_containing("#field-certificate .form-files", "certificate.pdf")
        .await;
    app.wait_for_text_containing("#field-certificate .form-files", "On this computer")
        .await;

    // A picture and a text file dragged from another program onto the field: the picture is
    // attached, the text file refused with the reason, by name.
    let (x, y) = centre_of(&app, "#field-certificate").await;
    let (left, top) = session.origin(main.id);
    let outcome = session.drop_files(main.id, (left + x, top + y), &[scan, notes]);
    assert!(
        outcome.accepted && outcome.finished,
        "the window takes the drop: {outcome:?}"
    );
    app.wait_for_text_containing("#field-certificate .form-files", "scan.png")
        .await;
    app.wait_for_text_containing("#field-certificate .field-error", "notes.txt")
        .await;
    let refusal = app.text("#field-certificate .field-error").await;
    assert!(
        refusal.contains("cannot be attached here") && refusal.contains("application/pdf"),
        "the refusal says why and what the field takes: {refusal}"
    );
    let listed = app.text("#field-certificate .form-files").await;
    assert!(!listed.contains("notes.txt"), "{listed}");
    app.wait_for_text_containing("[data-testid='autosave-state']", "Saved")
        .await;
    app.snapshot("40-draft-attachments-en").await;

    // Sent: the approver reads both files, byte for byte, under the names they had.
    app.click("#submit-draft").await;
    app.wait_for("[data-testid='draft-outcome']").await;
    let (jiang, _jiang_dir) = colleague(&server.url(), "jiang.tao").await;
    let deadline = Instant::now() + UI_TIMEOUT;
    let request: Uuid = loop {
        jiang.sync(chrono::Utc::now()).await.unwrap();
        let inbox = jiang.inbox().await.unwrap();
        if let Some(item) = inbox.iter().find(|i| i.title == TITLE) {
            break item.request_id;
        }
        assert!(
            Instant::now() < deadline,
            "the request never reached the manager"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let detail = jiang
        .request_detail(request, chrono::Utc::now())
        .await
        .unwrap();
    let sent = detail.form["certificate"].as_array().expect("two files");
    let names: Vec<&str> = sent.iter().filter_map(|f| f["name"].as_str()).collect();
    assert_eq!(names, ["certificate.pdf", "scan.png"]);
    for (file, bytes) in sent.iter().zip([&certificate_bytes, &scan_bytes]) {
        let id: Uuid = file["id"].as_str().unwrap().parse().unwrap();
        let copy = jiang.attachment_file(id, chrono::Utc::now()).await.unwrap();
        assert_eq!(&std::fs::read(&copy).unwrap(), bytes, "{file}");
    }

    // The sender's request lists the files, each saying whether it opens offline: as this
    // computer holds a copy of it or not.
    app.click("[data-testid='nav-my-requests']").await;
    app.click("[data-testid='my-request-row']").await;
    app.wait_for_text_containing("[data-testid='read-only-form']", "scan.png")
        .await;
    let expected = if holds_copy(&profile.join("attachments"), "scan.png") {
        "On this computer"
    } else {
        "Not downloaded yet"
    };
    app.wait_until(
        "the sent file's state",
        &format!(
            "return [...document.querySelectorAll(\"[data-testid='read-only-form'] li\")]\
             .some((li) => li.textContent.includes('scan.png') && li.textContent.includes('{expected}'))"
        ),
    )
    .await;
    app.snapshot("41-request-attachments-en").await;

    app.quit().await;
    drop(driver);
}
