//! The app's shared state (`app.manage`): the authenticator over its vault, the bank it talks
//! to, pushes waiting for the customer, the scan in progress, and the kiosk clock.
//!
//! It owns no protocol logic (that is the `authenticator` crate) and no window layout (that is
//! `lib.rs`); it turns pushes into events and notifications, and keeps what a command needs
//! between two calls (an activation waiting for its SMS code, a DEVICE operation to approve).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use authenticator::{Authenticator, DeviceActivation, PendingActivation, Profile, ProfileEvent, PushEvent, Vault};
use sca_server::DemoCredentials;
use tauri::{AppHandle, Emitter, Manager};

use crate::error::{CommandError, CommandResult};
use crate::options::Options;
use crate::sync::lock;
use crate::views::{ConnectionView, OpenApproval, OperationView, PendingView, ResolvedView, events};

/// Which bank the app talks to.
#[derive(Debug)]
pub enum Bank {
    /// The app's own demo bank on loopback.
    Demo {
        /// Its demo customer.
        credentials: DemoCredentials,
    },
    /// A real bank's server.
    Remote,
}

/// Everything the commands share.
pub struct Shared {
    pub options: Options,
    /// The bank's base URL (no trailing slash).
    pub server_url: String,
    pub bank: Bank,
    /// Kiosk mode: the one folder the app writes to (the webviews' data, the demo bank's), deleted
    /// when a session ends the app.
    pub scratch: Option<PathBuf>,
    /// When the process started preparing (start-up is measured from here).
    pub started: Instant,
    auth: RwLock<Arc<Authenticator>>,
    activations: Mutex<HashMap<String, Arc<PendingActivation>>>,
    pending: Mutex<BTreeMap<(String, String), PendingView>>,
    notified: Mutex<HashSet<String>>,
    /// The desktop notifications of the pending operations.
    pub notifications: crate::notify::Shown,
    /// The notifications' language: the authenticator window's (`language_set`).
    pub english: std::sync::atomic::AtomicBool,
    connections: Mutex<BTreeMap<String, ConnectionView>>,
    device_qr: Mutex<HashMap<String, DeviceActivation>>,
    listener: Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
    last_activity: Mutex<Instant>,
    banking_idle_since: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("server_url", &self.server_url)
            .field("kiosk", &self.options.kiosk)
            .finish_non_exhaustive()
    }
}

impl Shared {
    pub fn new(options: Options, server_url: String, bank: Bank, scratch: Option<PathBuf>, vault: Vault) -> Self {
        Self {
            options,
            server_url,
            bank,
            scratch,
            started: Instant::now(),
            auth: RwLock::new(Arc::new(Authenticator::new(vault))),
            activations: Mutex::default(),
            pending: Mutex::default(),
            notified: Mutex::default(),
            notifications: crate::notify::Shown::default(),
            english: std::sync::atomic::AtomicBool::new(crate::notify::desktop_is_english()),
            connections: Mutex::default(),
            device_qr: Mutex::default(),
            listener: Mutex::default(),
            last_activity: Mutex::new(Instant::now()),
            banking_idle_since: Mutex::default(),
        }
    }

    /// The authenticator (replaced whole when a kiosk session ends).
    pub fn auth(&self) -> Arc<Authenticator> {
        self.auth
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn profile(&self, id: &str) -> CommandResult<Profile> {
        if id.is_empty() {
            return Err(CommandError::input("profile_id", "choose a profile"));
        }
        Ok(self.auth().vault().profile(Some(id))?)
    }

    pub fn put_activation(&self, pending: PendingActivation) -> String {
        let id = random_id();
        lock(&self.activations).insert(id.clone(), Arc::new(pending));
        id
    }

    pub fn activation(&self, id: &str) -> CommandResult<Arc<PendingActivation>> {
        lock(&self.activations).get(id).cloned().ok_or_else(|| {
            CommandError::new(
                "no_activation",
                "this activation is no longer open: start again with user code and password",
            )
        })
    }

    pub fn drop_activation(&self, id: &str) {
        lock(&self.activations).remove(id);
    }

    pub fn put_device_qr(&self, profile: &str, activation: DeviceActivation) {
        lock(&self.device_qr).insert(profile.to_owned(), activation);
    }

    pub fn device_qr(&self, profile: &str) -> CommandResult<DeviceActivation> {
        lock(&self.device_qr).get(profile).cloned().ok_or_else(|| {
            CommandError::new(
                "no_device_activation",
                "no activation of another device is open: start it again",
            )
        })
    }

    pub fn drop_device_qr(&self, profile: &str) {
        lock(&self.device_qr).remove(profile);
    }

    pub fn pending(&self) -> Vec<PendingView> {
        lock(&self.pending).values().cloned().collect()
    }

    pub fn connections(&self) -> Vec<ConnectionView> {
        lock(&self.connections).values().cloned().collect()
    }

    /// An operation is done (approved or rejected here): off the list at once, without waiting
    /// for the bank's status push.
    pub fn resolve(&self, app: &AppHandle, profile_id: &str, op_id: &str, status: &str) {
        self.notifications.withdraw(profile_id, op_id);
        let removed = lock(&self.pending).remove(&(profile_id.to_owned(), op_id.to_owned()));
        if removed.is_some() {
            let _ = app.emit_to(
                crate::AUTHENTICATOR,
                events::RESOLVED,
                ResolvedView {
                    profile_id: profile_id.to_owned(),
                    op_id: op_id.to_owned(),
                    status: status.to_owned(),
                },
            );
        }
    }

    /// (Re)starts listening for pushes to every profile: at start, and whenever profiles change.
    pub fn restart_listener(self: &Arc<Self>, app: &AppHandle) {
        let shared = self.clone();
        let app = app.clone();
        let task = tauri::async_runtime::spawn(async move {
            let auth = shared.auth();
            let mut rx = match auth.listen_all() {
                Ok(rx) => rx,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for pushes");
                    return;
                }
            };
            while let Some(event) = rx.recv().await {
                shared.on_push(&app, &auth, event);
            }
        });
        if let Some(old) = lock(&self.listener).replace(task) {
            old.abort();
        }
        // Forget streams and pushes of profiles that are gone.
        let ids: HashSet<String> = self.auth().vault().profiles().into_iter().map(|p| p.id).collect();
        lock(&self.connections).retain(|id, _| ids.contains(id));
        lock(&self.pending).retain(|(id, _), _| ids.contains(id));
        self.notifications.withdraw_others(&ids);
    }

    fn on_push(&self, app: &AppHandle, auth: &Authenticator, event: ProfileEvent) {
        let profile_id = event.profile;
        match event.event {
            PushEvent::Operation { op_id, payload } => {
                let Ok(profile) = auth.vault().profile(Some(&profile_id)) else {
                    return;
                };
                // Never show what the bank's key did not sign.
                let verified = match auth.verify_payload(&profile, &payload) {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::warn!(%op_id, error = %e, "push refused");
                        return;
                    }
                };
                let view = PendingView {
                    profile_id: profile_id.clone(),
                    profile_name: profile.user.clone(),
                    operation: OperationView::from(&verified),
                    needs_number: authenticator::needs_number(&verified),
                    received_at: auth.now(),
                };
                let key = (profile_id.clone(), op_id.clone());
                let fresh = lock(&self.pending).insert(key, view.clone()).is_none();
                if fresh {
                    let _ = app.emit_to(crate::AUTHENTICATOR, events::PENDING, &view);
                    // The stream sends every pending operation again at each reconnect: one
                    // notification per operation.
                    if lock(&self.notified).insert(format!("{profile_id}/{op_id}")) {
                        let to = crate::notify::Audience {
                            en: self.english.load(std::sync::atomic::Ordering::Relaxed),
                            kiosk: self.options.kiosk,
                        };
                        crate::notify::operation(app, &self.notifications, &view, to, Shared::open_approval);
                    }
                }
            }
            PushEvent::Status { op_id, status } => self.resolve(app, &profile_id, &op_id, &status),
            PushEvent::Connected => self.set_connection(app, profile_id, true, None),
            PushEvent::Disconnected { reason, .. } => self.set_connection(app, profile_id, false, Some(reason)),
        }
    }

    fn set_connection(&self, app: &AppHandle, profile_id: String, online: bool, reason: Option<String>) {
        let view = ConnectionView {
            profile_id: profile_id.clone(),
            online,
            reason,
        };
        lock(&self.connections).insert(profile_id, view.clone());
        let _ = app.emit_to(crate::AUTHENTICATOR, events::CONNECTION, view);
    }

    /// Brings the authenticator window up on the approval of `op_id` (a notification was clicked).
    pub fn open_approval(app: &AppHandle, target: OpenApproval) {
        if let Some(w) = app.get_webview_window(crate::AUTHENTICATOR) {
            let _ = w.unminimize();
            let _ = w.show();
            let _ = w.set_focus();
        }
        let _ = app.emit_to(crate::AUTHENTICATOR, events::OPEN_APPROVAL, target);
    }

    // ---- kiosk ----

    /// The customer did something in the authenticator window.
    pub fn touch(&self) {
        *lock(&self.last_activity) = Instant::now();
    }

    /// The banking window reported itself idle (`Some`) or active again (`None`).
    pub fn banking_idle(&self, idle: bool) {
        let mut since = lock(&self.banking_idle_since);
        if idle {
            since.get_or_insert_with(Instant::now);
        } else {
            *since = None;
            drop(since);
            self.touch();
        }
    }

    /// Whether both windows have been idle for the kiosk's idle time.
    pub fn kiosk_idle(&self) -> bool {
        let limit = std::time::Duration::from_secs(self.options.kiosk_idle.max(10));
        let auth_idle = lock(&self.last_activity).elapsed() >= limit;
        let banking_idle = lock(&self.banking_idle_since).is_some();
        auth_idle && banking_idle
    }

    /// Ends a kiosk session: every profile forgotten (a new, empty memory vault), pushes and
    /// open activations dropped, both windows back at their start pages with no cookie left.
    /// (The caller stops a scan in progress first: `scan::stop`.)
    pub fn kiosk_reset(self: &Arc<Self>, app: &AppHandle) {
        *self.auth.write().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Arc::new(Authenticator::new(Vault::in_memory()));
        lock(&self.activations).clear();
        lock(&self.device_qr).clear();
        lock(&self.pending).clear();
        lock(&self.notified).clear();
        self.notifications.withdraw_all();
        self.restart_listener(app);
        *lock(&self.banking_idle_since) = None;
        self.touch();
        if let Some(w) = app.get_webview_window(crate::BANKING) {
            let _ = w.clear_all_browsing_data();
            if let Ok(url) = self.server_url.parse() {
                let _ = w.navigate(url);
            }
        }
        let _ = app.emit_to(crate::AUTHENTICATOR, events::KIOSK_RESET, ());
        tracing::info!("kiosk session reset");
    }
}

fn random_id() -> String {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 12];
    let _ = ring::rand::SystemRandom::new().fill(&mut b);
    hex::encode(b)
}
