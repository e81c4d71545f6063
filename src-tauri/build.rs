//! Builds the Tauri context. The authenticator page comes from `ui/dist` (built by `make ui`);
//! on a fresh clone where it is missing, a placeholder page says how to build it, so that
//! `cargo check` and clippy work before the front end has been built.
fn main() {
    let dist = std::path::Path::new("../ui/dist");
    if !dist.join("authenticator.html").exists() {
        let _ = std::fs::create_dir_all(dist);
        let _ = std::fs::write(
            dist.join("authenticator.html"),
            "<!doctype html><meta charset=utf-8><title>Sigillo</title>\
             <p>The pages are not built: run <code>make ui</code> (or <code>make run</code>).</p>",
        );
    }
    println!("cargo:rerun-if-changed=../ui/dist");
    // Each command is listed in the app manifest, so that a window gets only the commands its
    // capability allows (capabilities/): the authenticator window all of them, the banking
    // window none. Keep in step with `commands::ALL` (a unit test checks).
    let manifest = tauri_build::AppManifest::new().commands(&[
        "app_info",
        "profiles_list",
        "profile_set_main",
        "profile_remove",
        "activation_start",
        "activation_finish",
        "activation_from_qr",
        "pin_change",
        "time_code",
        "payload_verify",
        "image_scan",
        "op_id_parse",
        "op_id_lookup",
        "operation_code",
        "op_id_code",
        "approve",
        "reject",
        "pending_list",
        "cameras_list",
        "scan_start",
        "scan_stop",
        "device_qr_start",
        "device_qr_approve",
        "demo_outbox",
        "kiosk_activity",
        "kiosk_end_session",
        "connection_status",
    ]);
    if let Err(e) = tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)) {
        println!("cargo:warning=tauri build failed: {e:#}");
        std::process::exit(1);
    }
}
