//! The offline cache on a disk that fills up or turns read-only: a clear error naming the
//! cause, nothing half-written, and work resumes once the disk is usable again. The profile
//! lives on a small tmpfs of its own (the tests run as root, as `make test` does).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use countersign_client::{Client, ClientErrorCode};
use countersign_testkit::tuesday_morning;
use countersign_testkit::{TestDb, TestServer};
use serde_json::json;

mod common;

use common::{PW, client};

/// A tmpfs mounted on a fresh directory, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(
            status.success(),
            "mounting a tmpfs needs root (make test runs as root)"
        );
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn read_only(&self, ro: bool) {
        let opts = if ro { "remount,ro" } else { "remount,rw" };
        let status = Command::new("mount")
            .args(["-o", opts])
            .arg(self.dir.path())
            .status()
            .unwrap();
        assert!(
            status.success(),
            "remount {opts} refused; this process still holds on that disk: {:?}",
            self.held_here()
        );
    }

    /// What this process holds open or mapped under the mount: a remount to read-only is
    /// refused while a file is open for writing, and the names say which part kept it.
    fn held_here(&self) -> Vec<String> {
        let root = self.dir.path();
        let mut held: Vec<String> = std::fs::read_dir("/proc/self/fd")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .filter(|target| target.starts_with(root))
            .map(|target| format!("open: {}", target.display()))
            .collect();
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
        held.extend(
            maps.lines()
                .filter(|line| line.contains(&*root.to_string_lossy()))
                .map(|line| format!("mapped: {line}")),
        );
        held
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

async fn signed_in_on(dir: &Path) -> (TestServer, Client) {
    let server = TestServer::start_at(TestDb::sqlite(), tuesday_morning()).await;
    server.seed_demo().await;
    let c = client(dir);
    c.sign_in(&server.url(), "shen.yue", PW).await.unwrap();
    c.sync(tuesday_morning()).await.unwrap();
    (server, c)
}

#[tokio::test]
async fn a_full_disk_is_named_and_nothing_is_half_written() {
    let disk = Tmpfs::mount("4m");
    let (_server, shen) = signed_in_on(disk.path()).await;
    let now = tuesday_morning();
    let draft = shen.draft_new("leave", now).await.unwrap();
    shen.draft_set(draft.id, "reason", json!("family visit"), now)
        .await
        .unwrap();

    // Fill what is left of the disk.
    let filler = disk.path().join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    let block = vec![0u8; 64 * 1024];
    while std::io::Write::write_all(&mut f, &block).is_ok() {}
    drop(f);

    let full = shen
        .draft_set(draft.id, "reason", json!("x".repeat(400)), now)
        .await
        .unwrap_err();
    assert_eq!(full.code, ClientErrorCode::Cache, "{full:?}");
    assert!(full.message.contains("disk is full"), "{}", full.message);
    assert_eq!(
        shen.draft(draft.id).await.unwrap().form["reason"],
        "family visit",
        "the draft is as it was, not half-written"
    );

    std::fs::remove_file(&filler).unwrap();
    let view = shen
        .draft_set(draft.id, "reason", json!("visit"), now)
        .await
        .unwrap();
    assert_eq!(view.form["reason"], "visit", "works again with space");
}

#[tokio::test]
async fn a_read_only_disk_is_named_and_work_resumes_when_it_is_writable() {
    let disk = Tmpfs::mount("8m");
    let (_server, shen) = signed_in_on(disk.path()).await;
    let now = tuesday_morning();
    let draft = shen.draft_new("leave", now).await.unwrap();
    shen.draft_set(draft.id, "reason", json!("family visit"), now)
        .await
        .unwrap();
    shen.close().await.unwrap();
    drop(shen);

    // The next start finds its folder read-only (a locked-down profile, a full quota).
    disk.read_only(true);
    let shen = client(disk.path());
    let refused = shen.draft(draft.id).await.unwrap_err();
    assert_eq!(refused.code, ClientErrorCode::Cache, "{refused:?}");
    assert!(
        refused.message.contains("read-only"),
        "says why: {}",
        refused.message
    );

    disk.read_only(false);
    let again = shen.draft(draft.id).await.unwrap();
    assert_eq!(again.form["reason"], "family visit", "nothing was lost");
}
