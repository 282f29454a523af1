//! Start at login (opt-in): the system starts the app with `--hidden`, in the tray.
//!
//! On Linux the app writes the XDG autostart entry itself, because tauri-plugin-autostart's
//! (auto-launch 0.5) always uses `$HOME/.config/autostart`, ignoring `XDG_CONFIG_HOME`
//! (where desktops look), and creates only the last directory of that path: in a home without
//! `~/.config` — a fresh account, the end-to-end tests' temporary home — turning the switch on
//! failed with "No such file or directory", and the Settings switch moved back. The file name
//! is the plugin's (`Countersign.desktop`), so an entry an earlier version wrote is found and
//! removed. Elsewhere the plugin does the work.

use std::path::{Path, PathBuf};

use countersign_client::{ClientError, ClientErrorCode};
use tauri::AppHandle;
#[cfg(target_os = "linux")]
use tauri::Manager as _;

/// The argument the entry starts the app with.
pub const HIDDEN_FLAG: &str = "--hidden";

fn failed(e: impl std::fmt::Display) -> ClientError {
    ClientError::new(
        ClientErrorCode::Settings,
        format!("Starting at login could not be changed: {e}"),
    )
}

#[cfg(target_os = "linux")]
pub fn enabled(app: &AppHandle) -> bool {
    let _ = app;
    entry_path().is_some_and(|p| p.exists())
}

#[cfg(target_os = "linux")]
pub fn set(app: &AppHandle, on: bool) -> Result<(), ClientError> {
    let path = entry_path().ok_or_else(|| failed("this system has no home directory"))?;
    if !on {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(failed(e)),
            _ => Ok(()),
        };
    }
    // An AppImage is started through the image, not the file mounted from it.
    let program = match app.env().appimage {
        Some(image) => PathBuf::from(image),
        None => std::env::current_exe().map_err(failed)?,
    };
    let name = app.package_info().name.clone();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    std::fs::write(&path, desktop_entry(&name, &program)).map_err(failed)
}

#[cfg(not(target_os = "linux"))]
pub fn enabled(app: &AppHandle) -> bool {
    use tauri_plugin_autostart::ManagerExt as _;
    app.autolaunch().is_enabled().unwrap_or(false)
}

#[cfg(not(target_os = "linux"))]
pub fn set(app: &AppHandle, on: bool) -> Result<(), ClientError> {
    use tauri_plugin_autostart::ManagerExt as _;
    let manager = app.autolaunch();
    if on {
        manager.enable()
    } else {
        manager.disable()
    }
    .map_err(failed)
}

#[cfg(target_os = "linux")]
fn entry_path() -> Option<PathBuf> {
    autostart_dir(
        std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from),
        std::env::var_os("HOME").map(PathBuf::from),
    )
    .map(|dir| dir.join("Countersign.desktop"))
}

/// `$XDG_CONFIG_HOME/autostart`, or `$HOME/.config/autostart` when it is unset or not an
/// absolute path (the XDG Base Directory specification says to ignore a relative one).
fn autostart_dir(config_home: Option<PathBuf>, home: Option<PathBuf>) -> Option<PathBuf> {
    let config = config_home
        .filter(|p| p.is_absolute())
        .or_else(|| home.map(|h| h.join(".config")))?;
    Some(config.join("autostart"))
}

/// The entry, with the program quoted as the Desktop Entry specification asks for `Exec`.
fn desktop_entry(name: &str, program: &Path) -> String {
    format!(
        "[Desktop Entry]\nType=Application\nVersion=1.0\nName={name}\nComment=Starts {name} in the tray\nExec={} {HIDDEN_FLAG}\nStartupNotify=false\nTerminal=false\nX-GNOME-Autostart-enabled=true\n",
        exec_argument(&program.to_string_lossy())
    )
}

/// An `Exec` argument: quoted when it holds a reserved character, with `"`, `` ` ``, `$`
/// and `\` escaped inside the quotes, and `%` doubled (field codes start with one).
fn exec_argument(arg: &str) -> String {
    let arg = arg.replace('%', "%%");
    let reserved = |c: char| " \t\n\"'\\><~|&;$*?#()`".contains(c);
    if !arg.contains(reserved) {
        return arg;
    }
    let mut quoted = String::from("\"");
    for c in arg.chars() {
        if matches!(c, '"' | '`' | '$' | '\\') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_goes_where_the_desktop_looks() {
        let home = Some(PathBuf::from("/home/li"));
        assert_eq!(
            autostart_dir(Some(PathBuf::from("/cfg")), home.clone()),
            Some(PathBuf::from("/cfg/autostart")),
            "XDG_CONFIG_HOME first"
        );
        assert_eq!(
            autostart_dir(None, home.clone()),
            Some(PathBuf::from("/home/li/.config/autostart"))
        );
        assert_eq!(
            autostart_dir(Some(PathBuf::from("relative")), home),
            Some(PathBuf::from("/home/li/.config/autostart")),
            "a relative XDG_CONFIG_HOME is ignored, as the specification says"
        );
        assert_eq!(autostart_dir(None, None), None);
    }

    #[test]
    fn the_entry_starts_the_app_hidden_even_from_an_awkward_path() {
        let entry = desktop_entry("Countersign", Path::new("/opt/Count ersign/app$1%"));
        assert!(
            entry.contains("Exec=\"/opt/Count ersign/app\\$1%%\" --hidden\n"),
            "{entry}"
        );
        let plain = desktop_entry("Countersign", Path::new("/usr/bin/countersign-desktop"));
        assert!(
            plain.contains("Exec=/usr/bin/countersign-desktop --hidden\n"),
            "{plain}"
        );
    }
}
