// Declaring the app's commands makes Tauri generate one permission per command, so the
// capability file can allow exactly these and nothing else (least privilege).
fn main() {
    let commands = &[
        "get_preferences",
        "set_language",
        "restore_session",
        "sign_in",
        "sign_out",
    ];
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(commands)),
    )
    .unwrap_or_else(|e| panic!("tauri build step failed: {e:#}"));
}
