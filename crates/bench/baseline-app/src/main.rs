//! An empty Tauri 2 window: the baseline of the desktop figures. Its page reports its first
//! paint through a command, which prints the line the bench runner waits for — the same
//! words as the Countersign app's log line.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::sync::OnceLock;
use std::time::Instant;

static STARTED: OnceLock<Instant> = OnceLock::new();

#[tauri::command]
fn first_paint(screen: String) {
    let since_start_ms = STARTED.get().map_or(0, |s| s.elapsed().as_millis());
    eprintln!("first paint screen={screen} since_start_ms={since_start_ms}");
}

fn main() {
    let _ = STARTED.set(Instant::now());
    let app = tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![first_paint])
        .run(tauri::generate_context!());
    if let Err(err) = app {
        eprintln!("the baseline app stopped with an error: {err}");
        std::process::exit(1);
    }
}
