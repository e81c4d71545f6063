//! # sigillo-desktop — Sigillo on the desktop
//!
//! Two windows over one process:
//! * **banking** ("Area Clienti"): the bank's own pages from the bank's origin, exactly as a
//!   browser shows them. It has no IPC permission at all (`capabilities/banking.json` grants
//!   nothing, and Tauri refuses IPC to remote origins anyway), and may only navigate within the
//!   bank's origin: a bank page can never make a code or approve anything.
//! * **authenticator**: the local page `ui/dist/authenticator.html`, the only window allowed the
//!   commands of [`commands`] (`capabilities/authenticator.json`).
//!
//! By default the app starts `sca-server` in-process on loopback with SQLite in the app's data
//! folder and a demo customer; with `--server URL` (or `settings.json`) it is a client of that
//! bank and starts nothing. `--kiosk` keeps profiles in memory, uses private webviews, resets
//! after two idle minutes and deletes what it wrote at exit.
//!
//! This crate is a shell: protocol, vault and scanning are the `authenticator` crate's.
#![forbid(unsafe_code)]

pub mod commands;
pub mod error;
pub mod notify;
pub mod options;
mod process;
pub mod reading;
pub mod scan;
pub mod state;
mod sync;
pub mod views;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use authenticator::{KeyringStore, Vault};
use clap::Parser;
use tauri::{RunEvent, WebviewUrl, WebviewWindowBuilder};

pub use options::Options;
use process::{KIOSK_SCRATCH_ENV, has_display, kiosk_scratch, move_legacy_data, platform_dir, reexec};
use state::{Bank, Shared};

/// The label of the Area Clienti window.
pub const BANKING: &str = "banking";
/// The label of the authenticator window.
pub const AUTHENTICATOR: &str = "authenticator";

/// The banking window in kiosk mode reports idleness by trying to open these addresses; the
/// navigation handler takes note and cancels them (the window has no IPC).
const KIOSK_IDLE_URL: &str = "http://sigillo-kiosk.invalid/idle";
const KIOSK_ACTIVE_URL: &str = "http://sigillo-kiosk.invalid/active";

fn kiosk_script(idle_seconds: u64) -> String {
    format!(
        r#"(function () {{
  if (window.top !== window) return;
  var limit = {ms}, last = Date.now(), idle = false;
  function go(url) {{ try {{ window.location.assign(url); }} catch (e) {{}} }}
  ['pointerdown', 'keydown', 'wheel', 'touchstart'].forEach(function (t) {{
    window.addEventListener(t, function () {{
      last = Date.now();
      if (idle) {{ idle = false; go('{active}'); }}
    }}, {{ capture: true, passive: true }});
  }});
  setInterval(function () {{
    if (Date.now() - last >= limit) {{ idle = true; last = Date.now(); go('{idle}'); }}
  }}, 1000);
}})();"#,
        ms = idle_seconds.max(10) * 1000,
        active = KIOSK_ACTIVE_URL,
        idle = KIOSK_IDLE_URL
    )
}

/// Starts the demo bank on loopback; returns its URL and its demo customer.
async fn start_demo_bank(options: &Options, data_dir: &Path) -> Result<(String, sca_server::DemoCredentials), String> {
    let mut config = sca_server::Config::new(data_dir);
    config.sandbox = true;
    config.without_sms_limits();
    config.cookie_secure = false;
    config.operation_ttl = options.demo_operation_ttl.max(30);
    let state = sca_server::AppState::new(config, Arc::new(sca_server::SystemClock))
        .await
        .map_err(|e| format!("the demo bank cannot start: {e}"))?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
        .await
        .map_err(|e| format!("the demo bank cannot listen on 127.0.0.1:{}: {e}", options.port))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let credentials = sca_server::seed_demo(&state)
        .await
        .map_err(|e| format!("cannot create the demo customer: {e}"))?;
    tauri::async_runtime::spawn(async move {
        if let Err(e) = sca_server::serve(listener, state, std::future::pending()).await {
            tracing::error!(error = %e, "the demo bank stopped");
        }
    });
    Ok((format!("http://{addr}"), credentials))
}

/// Everything before the windows: the bank, the vault. Errors are for the customer.
fn prepare(options: Options) -> Result<Shared, String> {
    let config_dir = platform_dir("XDG_CONFIG_HOME", ".config").ok_or("no home folder (HOME is not set)")?;
    let data_dir = match (&options.data_dir, options.kiosk) {
        (_, true) => None,
        (Some(d), false) => Some(d.clone()),
        (None, false) => {
            let dir = authenticator::vault::default_dir().ok_or("no home folder (HOME is not set)")?;
            if let Some(legacy) = platform_dir("XDG_DATA_HOME", ".local/share") {
                move_legacy_data(&legacy, &dir);
            }
            Some(dir)
        }
    };
    let remote = options.server_from(&config_dir).map_err(|e| format!("--server: {e}"))?;
    let scratch = match (options.kiosk, std::env::var_os(KIOSK_SCRATCH_ENV)) {
        (false, _) => None,
        (true, Some(dir)) => Some(PathBuf::from(dir)),
        (true, None) => Some(kiosk_scratch()?),
    };
    let (server_url, bank) = match remote {
        Some(url) => (url, Bank::Remote),
        None => {
            // The demo bank's data: beside the vault, or (kiosk) in the scratch folder.
            let dir = match (&data_dir, &scratch) {
                (_, Some(s)) => s.join("bank"),
                (Some(d), None) => d.join("demo-bank"),
                (None, None) => return Err("no data folder".into()),
            };
            std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let (url, credentials) = tauri::async_runtime::block_on(start_demo_bank(&options, &dir))?;
            println!("Sigillo demo bank: {url}/  (its data: {})", dir.display());
            println!(
                "  demo customer: user code {} (alias {}), password {}; SMS codes appear in the app",
                credentials.user_code, credentials.alias, credentials.password
            );
            (url, Bank::Demo { credentials })
        }
    };
    let vault = match &data_dir {
        None => Vault::in_memory(),
        Some(dir) => {
            let store = KeyringStore::secret_service().map_err(|e| {
                format!("{e}\nSigillo keeps its keys in the desktop keyring (gnome-keyring or KWallet); start one, or use --kiosk")
            })?;
            Vault::open(dir, Box::new(store)).map_err(|e| e.to_string())?
        }
    };
    Ok(Shared::new(options, server_url, bank, scratch, vault))
}

fn build_windows(app: &tauri::App, shared: &Arc<Shared>) -> tauri::Result<()> {
    let kiosk = shared.options.kiosk;
    let origin: tauri::Url = shared
        .server_url
        .parse()
        .map_err(|e: url::ParseError| tauri::Error::Anyhow(e.into()))?;
    let allowed = origin.origin();
    let nav_shared = shared.clone();
    let started = shared.started;
    let mut banking = WebviewWindowBuilder::new(app, BANKING, WebviewUrl::External(origin.clone()))
        .title("Sigillo — Area Clienti")
        .inner_size(1100.0, 820.0)
        .min_inner_size(360.0, 480.0)
        .on_page_load(log_when_loaded(started, "banking window ready"))
        .on_navigation(move |url| {
            match url.as_str() {
                KIOSK_IDLE_URL => {
                    nav_shared.banking_idle(true);
                    return false;
                }
                KIOSK_ACTIVE_URL => {
                    nav_shared.banking_idle(false);
                    return false;
                }
                _ => {}
            }
            // The bank's pages only; anything else is refused rather than shown in a window the
            // customer trusts as the bank's.
            let ok = url.origin() == allowed || url.scheme() == "about";
            if !ok {
                tracing::warn!(%url, "navigation outside the bank refused");
            }
            ok
        });
    let mut auth = WebviewWindowBuilder::new(app, AUTHENTICATOR, WebviewUrl::App("authenticator.html".into()))
        .on_page_load(log_when_loaded(started, "authenticator window ready"))
        .title("Sigillo — Autenticatore")
        .inner_size(440.0, 780.0)
        .min_inner_size(360.0, 520.0)
        // An image dropped on the scanner's drop zone goes to the page, not to Tauri.
        .disable_drag_drop_handler();
    if kiosk {
        // Both webviews keep their data (cookies, caches) in the scratch folder, one context for
        // the two; the session reset clears it and the exit deletes it. (Incognito webviews
        // would get contexts of their own, which WebDriver cannot drive.)
        let webview_dir = shared.scratch.as_ref().map(|s| s.join("webview"));
        if let Some(dir) = &webview_dir {
            banking = banking.data_directory(dir.clone());
            auth = auth.data_directory(dir.clone());
        }
        banking = banking
            .decorations(false)
            .initialization_script(kiosk_script(shared.options.kiosk_idle));
        auth = auth.decorations(false).always_on_top(true);
    }
    let banking = banking.build()?;
    let auth = auth.build()?;
    tile(&banking, &auth, kiosk);
    Ok(())
}

/// Logs `what` each time the window's page has loaded, with the time since the app started: what
/// the start-up benchmark and the desktop tests wait for (tests/desktop/bench.sh).
fn log_when_loaded(
    started: std::time::Instant,
    what: &'static str,
) -> impl Fn(tauri::WebviewWindow, tauri::webview::PageLoadPayload<'_>) + Send + Sync + 'static {
    move |_, load| {
        if matches!(load.event(), tauri::webview::PageLoadEvent::Finished) {
            tracing::info!(ms = started.elapsed().as_millis() as u64, "{what}");
        }
    }
}

/// Puts the two windows side by side, Area Clienti on the left and the authenticator on the
/// right, so that neither hides the other (a window manager may move them; a kiosk has none).
/// In kiosk mode the pair fills the screen.
fn tile(banking: &tauri::WebviewWindow, auth: &tauri::WebviewWindow, fill: bool) {
    let Ok(Some(monitor)) = banking.primary_monitor() else {
        return;
    };
    let screen = monitor.size();
    let origin = monitor.position();
    let scale = monitor.scale_factor();
    let side = ((440.0 * scale) as u32).min(screen.width / 2);
    let (bank_w, bank_h, auth_h) = if fill {
        (screen.width.saturating_sub(side), screen.height, screen.height)
    } else {
        let w = ((1100.0 * scale) as u32).min(screen.width.saturating_sub(side));
        let h = ((820.0 * scale) as u32).min(screen.height);
        (w, h, ((780.0 * scale) as u32).min(screen.height))
    };
    let auth_x = origin.x + i32::try_from(screen.width.saturating_sub(side)).unwrap_or(0);
    let _ = banking.set_size(tauri::PhysicalSize::new(bank_w, bank_h));
    let _ = banking.set_position(tauri::PhysicalPosition::new(origin.x, origin.y));
    let _ = auth.set_size(tauri::PhysicalSize::new(side, auth_h));
    let _ = auth.set_position(tauri::PhysicalPosition::new(auth_x, origin.y));
}

fn kiosk_clock(app: tauri::AppHandle, shared: Arc<Shared>) {
    tauri::async_runtime::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            if shared.kiosk_idle() {
                crate::scan::stop();
                shared.kiosk_reset(&app);
            }
        }
    });
}

/// SIGTERM and SIGINT end the app the normal way, so that a kiosk deletes its scratch folder.
fn exit_on_signals(app: tauri::AppHandle) {
    #[cfg(unix)]
    tauri::async_runtime::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
            return;
        };
        tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
        app.exit(0);
    });
}

/// Ends what the app leaves on the desktop: the camera, its notifications (their payees and
/// amounts do not outlive it), and a kiosk's scratch folder.
fn cleanup(shared: &Shared) {
    tracing::info!("closing");
    crate::scan::stop();
    shared.notifications.withdraw_all();
    if let Some(dir) = &shared.scratch {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// The app: parses the command line, prepares the bank and the vault, opens the windows.
pub fn run() -> ExitCode {
    let options = Options::parse();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sigillo_desktop=info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    if !has_display() {
        eprintln!(
            "Sigillo needs a desktop (no DISPLAY or WAYLAND_DISPLAY is set).\n\
             On a machine without one, run the demo bank alone and use Area Clienti from a browser:\n  \
             target/debug/sca-server --demo --listen 127.0.0.1:8080"
        );
        return ExitCode::from(2);
    }
    if let Err(e) = reexec(options.kiosk) {
        eprintln!("Sigillo cannot start: {e}");
        return ExitCode::from(2);
    }
    let shared = match prepare(options) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("Sigillo cannot start: {e}");
            return ExitCode::from(2);
        }
    };
    let setup_shared = shared.clone();
    let app = tauri::Builder::default()
        .manage(shared.clone())
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::profiles_list,
            commands::profile_set_main,
            commands::profile_remove,
            commands::activation_start,
            commands::activation_finish,
            commands::activation_from_qr,
            commands::pin_change,
            commands::time_code,
            commands::payload_verify,
            commands::image_scan,
            commands::bill_open,
            commands::screen_read,
            commands::op_id_parse,
            commands::op_id_lookup,
            commands::operation_code,
            commands::op_id_code,
            commands::approve,
            commands::reject,
            commands::pending_list,
            commands::cameras_list,
            commands::scan_start,
            commands::scan_stop,
            commands::device_qr_start,
            commands::device_qr_approve,
            commands::demo_outbox,
            commands::kiosk_activity,
            commands::kiosk_end_session,
            commands::connection_status,
            commands::language_set,
        ])
        .setup(move |app| {
            build_windows(app, &setup_shared)?;
            setup_shared.restart_listener(app.handle());
            exit_on_signals(app.handle().clone());
            if setup_shared.options.kiosk {
                kiosk_clock(app.handle().clone(), setup_shared.clone());
            }
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match app {
        Ok(a) => a,
        Err(e) => {
            eprintln!("Sigillo cannot open its windows: {e}");
            cleanup(&shared);
            return ExitCode::from(2);
        }
    };
    app.run(move |_handle, event| {
        if let RunEvent::Exit = event {
            cleanup(&shared);
        }
    });
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_in_the_permission_set() {
        let permissions = include_str!("../permissions/authenticator.toml");
        for c in commands::ALL {
            assert!(
                permissions.contains(&format!("\"allow-{}\"", c.replace('_', "-"))),
                "{c} missing from permissions/authenticator.toml"
            );
        }
    }

    #[test]
    fn the_banking_window_is_granted_nothing() {
        let cap: serde_json::Value = serde_json::from_str(include_str!("../capabilities/banking.json")).unwrap();
        assert_eq!(cap["windows"], serde_json::json!([BANKING]));
        assert_eq!(cap["permissions"], serde_json::json!([]));
        assert!(cap.get("remote").is_none(), "no remote origin may get IPC");
        let auth: serde_json::Value = serde_json::from_str(include_str!("../capabilities/authenticator.json")).unwrap();
        assert_eq!(auth["windows"], serde_json::json!([AUTHENTICATOR]));
    }

    #[test]
    fn the_kiosk_script_reports_to_the_two_intercepted_addresses() {
        let s = kiosk_script(120);
        assert!(s.contains("120000") && s.contains(KIOSK_IDLE_URL) && s.contains(KIOSK_ACTIVE_URL));
    }
}
