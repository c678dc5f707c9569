fn main() {
    // The same manifest shape as Studio's shell: one app command, allowed by one capability.
    tauri_build::try_build(
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(&["perf_mark"])),
    )
    .expect("tauri-build");
}
