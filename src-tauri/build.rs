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
    // window none. The list is `commands::ALL`, read from the source.
    println!("cargo:rerun-if-changed=src/commands.rs");
    let source = std::fs::read_to_string("src/commands.rs").unwrap_or_default();
    let commands = command_names(&source);
    if commands.is_empty() {
        println!("cargo:warning=no `pub const ALL` list of commands in src/commands.rs");
        std::process::exit(1);
    }
    // The manifest wants a 'static list; a build script runs once, so leaking it is fine.
    let names: Vec<&'static str> = commands.into_iter().map(|c| &*Box::leak(c.into_boxed_str())).collect();
    let manifest = tauri_build::AppManifest::new().commands(Box::leak(names.into_boxed_slice()));
    if let Err(e) = tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)) {
        println!("cargo:warning=tauri build failed: {e:#}");
        std::process::exit(1);
    }
}

/// The strings of `pub const ALL: &[&str] = &[ … ];`.
fn command_names(source: &str) -> Vec<String> {
    let Some(start) = source.find("pub const ALL: &[&str] = &[") else {
        return Vec::new();
    };
    let rest = &source[start..];
    let body = &rest[..rest.find("];").unwrap_or(rest.len())];
    body.split('"').skip(1).step_by(2).map(str::to_owned).collect()
}
