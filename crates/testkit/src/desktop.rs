//! A private desktop session for tests: its own D-Bus session bus, an unlocked Secret
//! Service (gnome-keyring) on it, and optionally an Xvfb display. Processes started through
//! [`DesktopSession::command`] see only these, never the machine's own bus or keyring.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct DesktopSession {
    pub dbus_address: String,
    /// `:N` when started with a display.
    pub display: Option<String>,
    home: tempfile::TempDir,
    children: Vec<Child>,
}

const KEYRING_PASSWORD: &str = "countersign-test-keyring";

impl DesktopSession {
    /// A bus and a keyring, no display: enough for the CLI and the credential store.
    pub fn headless() -> Self {
        Self::start(false)
    }

    /// A bus, a keyring and an Xvfb display for the desktop app.
    pub fn with_display() -> Self {
        Self::start(true)
    }

    fn start(display: bool) -> Self {
        let home = tempfile::tempdir().expect("temporary home");
        for dir in ["run", "data", "config", "cache"] {
            std::fs::create_dir_all(home.path().join(dir)).expect("session directories");
        }
        set_private(&home.path().join("run"));
        let mut session = Self {
            dbus_address: String::new(),
            display: None,
            home,
            children: Vec::new(),
        };

        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbus-daemon (apt package dbus; `make test` installs it)");
        let address = first_line(bus.stdout.take().expect("dbus stdout"));
        session.children.push(bus);
        session.dbus_address = address;

        let mut keyring = session
            .command("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start gnome-keyring-daemon (apt package gnome-keyring)");
        // --unlock reads the new login keyring's password from stdin until EOF.
        let mut stdin = keyring.stdin.take().expect("keyring stdin");
        stdin
            .write_all(KEYRING_PASSWORD.as_bytes())
            .expect("unlock the keyring");
        drop(stdin);
        session.children.push(keyring);
        session.wait_for_bus_name("org.freedesktop.secrets");

        if display {
            let mut xvfb = Command::new("Xvfb")
                .args([
                    "-displayfd",
                    "1",
                    "-nolisten",
                    "tcp",
                    "-screen",
                    "0",
                    "1280x800x24",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("start Xvfb (apt package xvfb)");
            let number = first_line(xvfb.stdout.take().expect("Xvfb stdout"));
            session.children.push(xvfb);
            session.display = Some(format!(":{number}"));
        }
        session
    }

    /// The temporary home directory every process of this session uses.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// The environment that points a process at this session.
    pub fn env(&self) -> Vec<(String, String)> {
        let home = self.home.path();
        let mut env = vec![
            (
                "DBUS_SESSION_BUS_ADDRESS".to_owned(),
                self.dbus_address.clone(),
            ),
            ("HOME".to_owned(), home.display().to_string()),
            (
                "XDG_RUNTIME_DIR".to_owned(),
                home.join("run").display().to_string(),
            ),
            (
                "XDG_DATA_HOME".to_owned(),
                home.join("data").display().to_string(),
            ),
            (
                "XDG_CONFIG_HOME".to_owned(),
                home.join("config").display().to_string(),
            ),
            (
                "XDG_CACHE_HOME".to_owned(),
                home.join("cache").display().to_string(),
            ),
        ];
        if let Some(display) = &self.display {
            env.push(("DISPLAY".to_owned(), display.clone()));
        }
        env
    }

    /// A command that runs inside this session.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.envs(self.env());
        if self.display.is_none() {
            cmd.env_remove("DISPLAY");
        }
        cmd
    }

    /// Waits until a service owns `name` on this bus (gdbus, from libglib2.0-bin).
    pub fn wait_for_bus_name(&self, name: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = self
            .command("gdbus")
            .args(["wait", "--session", "--timeout", "20", name])
            .status()
            .expect("run gdbus (apt package libglib2.0-bin)");
        assert!(
            status.success() && Instant::now() <= deadline,
            "{name} did not appear on the test session bus"
        );
    }
}

impl DesktopSession {
    /// The top-level windows of process `pid` on this session's display, as a window
    /// manager sees them.
    pub fn top_levels(&self, pid: u32) -> Vec<crate::x11::TopLevel> {
        crate::x11::top_levels(self.x_display(), pid)
    }

    /// Asks window `id` to close, as a window manager's close button does.
    pub fn request_close(&self, id: u32) {
        crate::x11::request_close(self.x_display(), id);
    }

    /// Focuses window `id` and presses `keys` on it as a person at the keyboard would;
    /// `with_control` holds Control with the first key (Ctrl+L, say).
    pub fn press_keys(&self, id: u32, keys: &[crate::x11::Key], with_control: bool) {
        crate::x11::press_keys(self.x_display(), id, keys, with_control);
    }

    /// Where window `id`'s top-left corner is on the screen.
    pub fn origin(&self, id: u32) -> (i16, i16) {
        crate::x11::origin(self.x_display(), id)
    }

    /// Drags `files` from another program onto window `target` and drops them at `at`
    /// (screen coordinates), over the X drag-and-drop protocol.
    pub fn drop_files(
        &self,
        target: u32,
        at: (i16, i16),
        files: &[std::path::PathBuf],
    ) -> crate::xdnd::DropOutcome {
        crate::xdnd::drop_files(
            self.x_display(),
            target,
            at,
            files,
            std::time::Duration::from_secs(30),
        )
    }

    fn x_display(&self) -> &str {
        self.display
            .as_deref()
            .expect("the desktop session has a display")
    }
}

impl Drop for DesktopSession {
    fn drop(&mut self) {
        // Last started, first stopped: the display before the keyring before the bus.
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn first_line(out: impl std::io::Read) -> String {
    let mut line = String::new();
    BufReader::new(out)
        .read_line(&mut line)
        .expect("read the first line of a helper's output");
    line.trim().to_owned()
}

#[cfg(unix)]
fn set_private(dir: &PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
}

#[cfg(not(unix))]
fn set_private(_: &PathBuf) {}
