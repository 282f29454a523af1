// Declaring the app's commands makes Tauri generate one permission per command, so the
// capability file can allow exactly these and nothing else (least privilege).
include!("src/command_names.rs");

fn main() {
    println!("cargo:rerun-if-changed=src/command_names.rs");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMAND_NAMES)),
    )
    .unwrap_or_else(|e| panic!("tauri build step failed: {e:#}"));
}
