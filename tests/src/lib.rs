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

use countersign_testkit::DesktopSession;
use fantoccini::{Client, ClientBuilder, Locator};

/// How long any expected UI state may take to appear.
pub const UI_TIMEOUT: Duration = Duration::from_secs(30);

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

/// tauri-driver with WebKitWebDriver behind it, inside a desktop session.
pub struct Driver {
    child: Child,
    port: u16,
    display: String,
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
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a WebDriver session with the app");
        App {
            client,
            display: self.display.clone(),
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
}

impl App {
    /// Waits until an element matching `css` exists and returns it.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(UI_TIMEOUT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
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

    pub async fn click(&self, css: &str) {
        self.wait_for(css).await.click().await.unwrap();
    }

    /// Saves a screenshot of the display as `artifacts/e2e/<name>.png`. Call it after
    /// waiting for the state the picture should show. WebKitWebDriver's own screenshot can
    /// hand back an older frame, so this waits for two animation frames (the page has
    /// painted) and then captures the X display itself.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        self.client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            )
            .await
            .expect("the page painted");
        let path = artifacts_dir().join(format!("{name}.png"));
        let status = std::process::Command::new("import")
            .args(["-display", &self.display, "-window", "root"])
            .arg(&path)
            .status()
            .expect("run import (apt package imagemagick)");
        assert!(status.success(), "capture the display for {name}");
        path
    }

    /// Ends the WebDriver session, which closes the app.
    pub async fn quit(self) {
        let _ = self.client.close().await;
    }
}
