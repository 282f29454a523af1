//! countersign-e2e: harness for end-to-end tests of the real binaries.
//!
//! [`Driver`] runs tauri-driver over WebKitWebDriver inside a private
//! [`DesktopSession`](countersign_testkit::DesktopSession); [`App`] is one launch of the
//! desktop app driven through WebDriver, with waits on element state (never fixed sleeps)
//! and screenshots saved as test artifacts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use countersign_domain::engine::RequestStatus;
use countersign_testkit::{DesktopSession, TestServer};
use fantoccini::{Client, ClientBuilder, Locator};

/// How long any expected UI state may take to appear.
pub const UI_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a cold start of a debug build may take on a loaded 2-core machine before a test
/// gives up on the app ever showing its window.
pub const LAUNCH_TIMEOUT: Duration = Duration::from_secs(180);

/// Where screenshots go: `COUNTERSIGN_ARTIFACTS`, or `artifacts/` in the workspace.
pub fn artifacts_dir() -> PathBuf {
    let dir = std::env::var_os("COUNTERSIGN_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../artifacts"));
    let dir = dir.join("e2e");
    std::fs::create_dir_all(&dir).expect("create the artifacts directory");
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn tauri_driver() -> PathBuf {
    let in_cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|home| home.join("bin/tauri-driver"));
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("tauri-driver"))
            .find(|p| p.exists())
    });
    on_path.or(in_cargo_home.filter(|p| p.exists())).expect(
        "tauri-driver is missing: `make test` installs it (cargo install tauri-driver --locked)",
    )
}

/// SIGKILLs the desktop app whose environment has `key=value` (its profile, say): a crash or
/// a power cut as far as the app can tell. Returns how many processes were killed.
pub fn kill_app_with_env(key: &str, value: &str) -> usize {
    signal_app_with_env(key, value, "-KILL")
}

/// The desktop apps running with `key=value` in their environment (their profile, say).
pub fn app_pids_with_env(key: &str, value: &str) -> Vec<u32> {
    let wanted = format!("{key}={value}");
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let is_app = std::fs::read_link(entry.path().join("exe"))
            .ok()
            .and_then(|exe| exe.file_name().map(|n| n.to_string_lossy().into_owned()))
            .is_some_and(|name| name == "countersign-desktop");
        if !is_app {
            continue;
        }
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        if environ
            .split(|b| *b == 0)
            .any(|var| var == wanted.as_bytes())
        {
            pids.push(pid);
        }
    }
    pids
}

/// Sends `signal` (`-KILL`, `-TERM`) to every desktop app whose environment has `key=value`,
/// and waits until they are gone. Returns how many there were.
pub fn signal_app_with_env(key: &str, value: &str, signal: &str) -> usize {
    let pids = app_pids_with_env(key, value);
    for pid in &pids {
        let status = std::process::Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} {pid}");
    }
    // Gone means no longer running: a zombie waiting for its parent to reap it counts.
    let deadline = Instant::now() + UI_TIMEOUT;
    for pid in &pids {
        let stat = format!("/proc/{pid}/stat");
        let running = |s: String| s.split_whitespace().nth(2).is_none_or(|state| state != "Z");
        while std::fs::read_to_string(&stat).is_ok_and(running) {
            assert!(Instant::now() < deadline, "app {pid} did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    pids.len()
}

/// tauri-driver with WebKitWebDriver behind it, inside a desktop session.
pub struct Driver {
    child: Child,
    port: u16,
    display: String,
    /// The app's profile (`COUNTERSIGN_HOME`), to find its process.
    profile: Option<String>,
}

impl Driver {
    /// Starts tauri-driver. `env` reaches the app too (WebKitWebDriver starts it).
    pub fn start(session: &DesktopSession, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let native_port = free_port();
        let child = session
            .command(tauri_driver())
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .args(["--native-driver", "/usr/bin/WebKitWebDriver"])
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tauri-driver");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "tauri-driver did not start listening"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let display = session
            .display
            .clone()
            .expect("the desktop session needs a display");
        Self {
            child,
            port,
            display,
            profile: env
                .iter()
                .find(|(k, _)| *k == "COUNTERSIGN_HOME")
                .map(|(_, v)| (*v).to_owned()),
        }
    }

    /// Launches the app at `binary` in a new WebDriver session.
    pub async fn launch(&self, binary: &Path) -> App {
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": binary }),
        );
        // tauri-driver sometimes drops the first connection while its WebKitWebDriver is
        // still coming up (PLATFORM.md); a new session is asked for again, a few times.
        let mut attempt = 0;
        let client = loop {
            attempt += 1;
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            // WebDriver itself waits without end for an app that never shows a window (a
            // binary missing, or one that exits at once): bounded, the test fails and says so.
            let connecting = tokio::time::timeout(
                LAUNCH_TIMEOUT,
                ClientBuilder::new(connector)
                    .capabilities(caps.clone())
                    .connect(&format!("http://127.0.0.1:{}", self.port)),
            )
            .await
            .unwrap_or_else(|_| {
                // Whether the app is up without a window, or a copy still running on the same
                // profile took the launch over (one app per profile), tells the two apart.
                let running = self
                    .profile
                    .as_deref()
                    .map(|p| app_pids_with_env("COUNTERSIGN_HOME", p))
                    .unwrap_or_default();
                panic!(
                    "the app at {} (present: {}) showed no window within {}s under WebDriver; \
                     app processes on its profile now: {running:?}",
                    binary.display(),
                    binary.exists(),
                    LAUNCH_TIMEOUT.as_secs()
                )
            });
            match connecting {
                Ok(client) => break client,
                Err(err) if attempt < 5 => {
                    eprintln!("WebDriver session attempt {attempt} failed: {err}; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(err) => panic!("a WebDriver session with the app: {err}"),
            }
        };
        App {
            client,
            display: self.display.clone(),
            profile: self.profile.clone(),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One run of the desktop app under WebDriver.
pub struct App {
    pub client: Client,
    display: String,
    profile: Option<String>,
}

impl App {
    /// Waits until an element matching `css` exists and returns it.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        let found = self
            .client
            .wait()
            .at_most(UI_TIMEOUT)
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(element) => element,
            Err(e) => panic!("{css} did not appear: {e}\n{}", self.whats_shown().await),
        }
    }

    /// Waits for two animation frames: the page has painted what it shows now. Bounded like
    /// every other wait, so a page that stops painting fails with what it showed instead of
    /// holding the run until CI's limit.
    async fn wait_painted(&self, name: &str) {
        let painted = tokio::time::timeout(
            UI_TIMEOUT,
            self.client.execute_async(
                "const done = arguments[arguments.length - 1];\
                 requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            ),
        )
        .await;
        match painted {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => panic!("{name}: the page did not paint: {e}"),
            Err(_) => panic!(
                "{name}: no animation frame within {UI_TIMEOUT:?}\n{}",
                self.whats_shown().await
            ),
        }
    }

    /// What the window shows, for a failure message: the heading and the test ids on screen,
    /// so a timeout says where the app was instead of only what it was not.
    pub async fn whats_shown(&self) -> String {
        let script = "const ids = [...document.querySelectorAll('[data-testid]')]\
                        .map((el) => el.dataset.testid);\
                      const h1 = document.querySelector('h1');\
                      return `heading: ${h1 ? h1.textContent : '(none)'}; \
                        test ids: ${[...new Set(ids)].join(', ')}`;";
        // Only ever called to explain a failure: a page that does not answer must not turn
        // that failure into a hang.
        match tokio::time::timeout(UI_TIMEOUT, self.client.execute(script, vec![])).await {
            Ok(Ok(serde_json::Value::String(shown))) => shown,
            Ok(other) => format!("(could not read the page: {other:?})"),
            Err(_) => format!("(the page did not answer within {UI_TIMEOUT:?})"),
        }
    }

    /// Waits until `css` shows exactly `expected` and returns it.
    pub async fn wait_for_text(&self, css: &str, expected: &str) {
        let deadline = Instant::now() + UI_TIMEOUT;
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                last = el.text().await.unwrap_or_default();
                if last.trim() == expected {
                    return;
                }
            }
            // Polling a condition, not waiting for time to pass.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} never showed {expected:?}; last seen {last:?}");
    }

    /// Waits until a script returns `true`.
    pub async fn wait_until(&self, what: &str, script: &str) {
        let deadline = Instant::now() + UI_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(serde_json::Value::Bool(true)) = self.client.execute(script, vec![]).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("timed out waiting until {what}");
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.wait_for(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Clicks `css` as a person would: once it is on screen and has stopped moving. A
    /// WebDriver click lands on the point where the element was when the click was sent; a
    /// view still laying out (a card filled in by an answer from the core) moves the
    /// element from under it, and the click then silently hits nothing.
    pub async fn click(&self, css: &str) {
        let element = self.wait_for(css).await;
        let element_json = serde_json::to_value(&element).expect("an element reference");
        let still = self
            .client
            .execute_async(
                "const [el, done] = [arguments[0], arguments[arguments.length - 1]];\
                 el.scrollIntoView({ block: 'center', inline: 'nearest', behavior: 'instant' });\
                 const key = () => { const r = el.getBoundingClientRect();\
                   return `${r.x},${r.y},${r.width},${r.height}`; };\
                 let last = key(), same = 0, frames = 0;\
                 const step = () => { const now = key();\
                   same = now === last ? same + 1 : 0; last = now; frames += 1;\
                   if (same >= 2) done(true); else if (frames > 300) done(false);\
                   else requestAnimationFrame(step); };\
                 requestAnimationFrame(step);",
                vec![element_json],
            )
            .await;
        assert!(
            matches!(still, Ok(serde_json::Value::Bool(true))),
            "{css} never stopped moving ({still:?})\n{}",
            self.whats_shown().await
        );
        if let Err(e) = element.click().await {
            panic!("click {css}: {e}\n{}", self.whats_shown().await);
        }
    }

    /// Saves a screenshot of the display as `artifacts/e2e/<name>.png`. Call it after
    /// waiting for the state the picture should show. WebKitWebDriver's own screenshot can
    /// hand back an older frame, so this waits for two animation frames (the page has
    /// painted) and then captures the X display itself.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        self.wait_painted(name).await;
        let path = artifacts_dir().join(format!("{name}.png"));
        let status = std::process::Command::new("import")
            .args(["-display", &self.display, "-window", "root"])
            .arg(&path)
            .status()
            .expect("run import (apt package imagemagick)");
        assert!(status.success(), "capture the display for {name}");
        path
    }

    /// Sets a form control's value as a person's typing would (the framework sees an input
    /// event). Date inputs take no typed keys under WebKitWebDriver, so this is how a test
    /// fills them.
    pub async fn set_value(&self, css: &str, value: &str) {
        self.set_value_nth(css, 0, value).await;
    }

    /// As [`Self::set_value`], on the `index`th element matching `css`.
    pub async fn set_value_nth(&self, css: &str, index: usize, value: &str) {
        self.wait_for(css).await;
        let done = self
            .client
            .execute(
                "const el = document.querySelectorAll(arguments[0])[arguments[2]];\
                 const proto = el instanceof HTMLSelectElement ? HTMLSelectElement.prototype\
                   : el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype\
                   : HTMLInputElement.prototype;\
                 Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, arguments[1]);\
                 el.dispatchEvent(new Event('input', { bubbles: true }));\
                 el.dispatchEvent(new Event('change', { bubbles: true }));\
                 el.dispatchEvent(new Event('blur', { bubbles: true }));\
                 return true;",
                vec![css.into(), value.into(), index.into()],
            )
            .await;
        assert!(
            matches!(done, Ok(serde_json::Value::Bool(true))),
            "set {css}: {done:?}"
        );
    }

    /// The text of the first element matching `css` (empty when there is none).
    pub async fn text(&self, css: &str) -> String {
        match self.client.find(Locator::Css(css)).await {
            Ok(el) => el.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Waits until the first element matching `css` contains `part`.
    pub async fn wait_for_text_containing(&self, css: &str, part: &str) {
        let deadline = Instant::now() + UI_TIMEOUT;
        let mut last = String::new();
        while Instant::now() < deadline {
            last = self.text(css).await;
            if last.contains(part) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} never contained {part:?}; last seen {last:?}");
    }

    /// Saves the web view's own picture as `artifacts/e2e/<name>.png` — for when several
    /// apps share the display and the screen shows only the one on top.
    pub async fn snapshot(&self, name: &str) -> PathBuf {
        self.wait_painted(name).await;
        let png = self
            .client
            .screenshot()
            .await
            .expect("a WebDriver screenshot");
        let path = artifacts_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }

    /// The app's process (found by its profile, which only it uses).
    pub fn pid(&self) -> u32 {
        let profile = self
            .profile
            .as_deref()
            .expect("the app was started with COUNTERSIGN_HOME");
        let pids = app_pids_with_env("COUNTERSIGN_HOME", profile);
        assert_eq!(pids.len(), 1, "one app runs on the profile {profile}");
        pids[0]
    }

    /// Ends the WebDriver session and the app. Closing the window only hides it (the app
    /// stays in the tray), so the app is then ended as the system ends it at logout.
    pub async fn quit(self) {
        let _ = self.client.close().await;
        if let Some(profile) = &self.profile {
            signal_app_with_env("COUNTERSIGN_HOME", profile, "-TERM");
        }
    }
}

/// The demo organisation's password, for every seeded person.
pub const PASSWORD: &str = countersign_server::seed::DEMO_PASSWORD;

/// A colleague's own client core, signed in to `server_url` as `username`: another device,
/// another person, another route to the same server than the app under test.
pub async fn colleague(
    server_url: &str,
    username: &str,
) -> (countersign_client::Client, tempfile::TempDir) {
    use countersign_client::{Client, ClientOptions, ProfileDir, SessionOnlyCredentials};
    let dir = tempfile::tempdir().unwrap();
    let client = Client::open(
        ClientOptions {
            profile_dir: ProfileDir::new(dir.path()),
            device_name: "colleague".into(),
            os_locale: Some("zh-CN".into()),
            app_version: "test".into(),
            default_server: None,
        },
        std::sync::Arc::new(SessionOnlyCredentials::default()),
    )
    .unwrap();
    client
        .sign_in(server_url, username, PASSWORD)
        .await
        .unwrap();
    client.sync(chrono::Utc::now()).await.unwrap();
    (client, dir)
}

/// A leave request from `username` for December `days`, sent through the client core.
pub async fn leave_from(
    server: &TestServer,
    username: &str,
    title: &str,
    days: (u32, u32),
) -> uuid::Uuid {
    let (client, _profile) = colleague(&server.url(), username).await;
    let now = chrono::Utc::now();
    let draft = client.draft_new("leave", now).await.unwrap();
    client.draft_title(draft.id, title, now).await.unwrap();
    for (path, value) in [
        ("leave_type", serde_json::json!("annual")),
        ("reason", serde_json::json!("家中有事")),
        (
            "period",
            serde_json::json!({"start": format!("2026-12-{:02}", days.0), "end": format!("2026-12-{:02}", days.1)}),
        ),
    ] {
        client.draft_set(draft.id, path, value, now).await.unwrap();
    }
    let queued = client.submit_draft(draft.id, now).await.unwrap();
    client.sync(now).await.unwrap();
    queued.request_id
}

/// The request's status as the server has it.
pub async fn status_on_server(server: &TestServer, id: uuid::Uuid) -> RequestStatus {
    server
        .state
        .store
        .find_request(id)
        .await
        .unwrap()
        .expect("the request is on the server")
        .state
        .status
}

/// Waits until the server has the request in `status` (another process decides it).
pub async fn wait_for_status_on_server(
    server: &TestServer,
    id: uuid::Uuid,
    status: RequestStatus,
    why: &str,
) {
    let deadline = Instant::now() + UI_TIMEOUT;
    loop {
        let now = status_on_server(server, id).await;
        if now == status {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{why}: the server still has {now:?}, not {status:?}"
        );
        // Polling the server's store, which has no change feed for a test to await.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl App {
    /// Signs in from the sign-in screen and waits for the app's shell.
    pub async fn sign_in(&self, server_url: &str, username: &str) {
        self.fill("#server", server_url).await;
        self.fill("#username", username).await;
        self.fill("#password", PASSWORD).await;
        self.click("#sign-in").await;
        self.wait_for("[data-testid='shell']").await;
    }

    /// Waits until the first sync after signing in has ended (the inbox says when it last
    /// synced): the forms and lists the server holds are then on this device, as they are
    /// for someone who signed in before the network went.
    pub async fn wait_for_first_sync(&self) {
        self.click("[data-testid='nav-inbox']").await;
        self.wait_for_text_containing("[data-testid='last-synced']", "Last synced")
            .await;
    }

    /// Opens the request titled `title` from the inbox.
    pub async fn open_from_inbox(&self, title: &str) {
        self.click("[data-testid='nav-inbox']").await;
        let row = format!(
            "return Array.from(document.querySelectorAll(\"[data-testid='inbox-row']\")).some(r => r.textContent.includes({title:?}))"
        );
        self.wait_until(&format!("the inbox lists {title}"), &row)
            .await;
        self.client
            .execute(
                "Array.from(document.querySelectorAll(\"[data-testid='inbox-row']\"))\
                 .find(r => r.textContent.includes(arguments[0])).click(); return true;",
                vec![title.into()],
            )
            .await
            .unwrap();
        self.wait_for_text_containing("h1", title).await;
    }
}

/// The environment of an app with its own profile at `profile`, in English, its log kept
/// with the screenshots (`artifacts/e2e/logs/<profile's name>`) to read when something fails.
pub fn app_env(profile: &Path) -> Vec<(String, String)> {
    let name = profile.file_name().expect("a named profile directory");
    let log_dir = artifacts_dir().join("logs").join(name);
    vec![
        ("COUNTERSIGN_HOME".to_owned(), profile.display().to_string()),
        (
            "COUNTERSIGN_LOG_DIR".to_owned(),
            log_dir.display().to_string(),
        ),
        ("LANG".to_owned(), "en_US.UTF-8".to_owned()),
        ("LC_ALL".to_owned(), "en_US.UTF-8".to_owned()),
    ]
}

/// Waits (up to [`UI_TIMEOUT`]) until the tray, as a panel reads it, satisfies `check`; the tray then.
pub async fn tray_where(
    watcher: &countersign_testkit::StatusNotifierWatcher,
    item: &countersign_testkit::RegisteredItem,
    what: &str,
    check: impl Fn(&countersign_testkit::Tray) -> bool + Send + 'static,
) -> countersign_testkit::Tray {
    watcher
        .wait_for_tray(item, UI_TIMEOUT, what, move |tray| {
            check(tray).then(|| tray.clone())
        })
        .await
}
