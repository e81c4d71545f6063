//! The real binary on a machine without a desktop: it says so, points to the browser-only demo
//! bank, and exits 2 instead of crashing in GTK. (Building this test also makes the test build
//! produce `target/debug/sigillo`, which the desktop tests then run as it is.)

use std::process::Command;

#[test]
fn without_a_display_the_app_says_what_to_run_instead() {
    let out = Command::new(env!("CARGO_BIN_EXE_sigillo"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("needs a desktop"), "{stderr}");
    assert!(stderr.contains("sca-server --demo"), "{stderr}");
}
