//! Shared state of a running server: configuration, storage, keys, clock, and the in-memory
//! parts (web sessions, the push hub, the device-key cache).
//!
//! Web sessions live in memory: a restart ends every session (customers log in again). What
//! guards a credential lives in the database instead — attempt counters (also for user names
//! that are no customer's) and the device requests already accepted — so a restart forgets none
//! of it.

use std::collections::HashMap;
use std::os::unix::fs::DirBuilderExt as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ring::rand::SystemRandom;
use sca_protocol::{KnowledgeKey, PossessionKey, PublicKey, SigningKey};
use serde::Serialize;
use tokio::sync::{Notify, Semaphore, broadcast};

use crate::clock::Clock;
use crate::config::{Config, MessagesConfig};
use crate::crypto::{CryptoError, PasswordHashing, SecretBox};
use crate::error::ApiResult;
use crate::error::{AppError, ErrorKind};
use crate::messages::{Gateway, WebhookGateway};
use crate::storage::{Customer, OperationRow, Store, StoreError};

/// Password hashes that may wait, per hashing slot, before a login is answered 429: at about
/// 50 ms a hash, the 128 that may wait on the default two slots are some three seconds of queue,
/// which a person waits through (the per-address bucket stops a flood well before).
pub(crate) const HASH_QUEUE_FACTOR: usize = 64;

/// Pending operations kept in memory for the authorization hot path; past this, the expired
/// ones are dropped (a few hundred bytes each: about 100 MB at the bound).
const OPERATIONS_AT_HAND: usize = 200_000;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// Storage.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Keys.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The data directory.
    #[error("data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    /// The messages gateway.
    #[error(transparent)]
    Gateway(#[from] crate::messages::GatewayError),
}

/// The state every handler gets. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    pub config: Config,
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub rng: SystemRandom,
    pub bank_key: SigningKey,
    pub secrets: SecretBox,
    pub passwords: PasswordHashing,
    pub hash_slots: Semaphore,
    pub hash_waiting: AtomicUsize,
    pub hashes_run: AtomicU64,
    pub login_buckets: Mutex<HashMap<std::net::IpAddr, (u64, u64)>>,
    pub hub: Hub,
    pub sessions: Sessions,
    pub device_keys: Mutex<HashMap<i64, Arc<Vec<DeviceKeys>>>>,
    pub operations: Mutex<HashMap<(i64, String), Arc<OperationRow>>>,
    pub outbox_wake: Arc<Notify>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Opens storage, loads (or makes) the keys, and starts the background tasks (the writer,
    /// and the message dispatcher when a gateway is configured).
    pub async fn new(config: Config, clock: Arc<dyn Clock>) -> Result<Self, StartError> {
        if !config.data_dir.exists() {
            // The directory holds the bank key, the secrets key and the database: owner only.
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&config.data_dir)
                .map_err(|e| StartError::DataDir(config.data_dir.display().to_string(), e))?;
        }
        let rng = SystemRandom::new();
        let bank_key = crate::crypto::load_or_create_bank_key(&config.data_dir, &rng)?;
        let secrets = SecretBox::load_or_create(config.secrets_key_hex.as_deref(), &config.data_dir)?;
        let passwords = PasswordHashing::new(config.argon2_memory_kib, config.argon2_iterations)?;
        let audit_key = SigningKey::from_pkcs8(bank_key.pkcs8(), &rng).map_err(|_| CryptoError::Random)?;
        let signer_rng = rng.clone();
        let signer: crate::audit::Signer =
            Arc::new(move |message: &[u8]| audit_key.sign(&signer_rng, message).ok().map(|s| s.as_bytes().to_vec()));
        let store = Store::open(&config.database_url(), config.writer_batch_max, Some(signer)).await?;
        let outbox_wake = Arc::new(Notify::new());
        if let MessagesConfig::Webhook { url, token } = &config.messages {
            let gateway: Arc<dyn Gateway> = Arc::new(WebhookGateway::new(url.clone(), token.clone())?);
            tokio::spawn(crate::messages::dispatch(
                store.clone(),
                gateway,
                outbox_wake.clone(),
                clock.clone(),
                config.sandbox,
            ));
        }
        let hub = Hub::new(config.hub_capacity);
        Ok(Self(Arc::new(Inner {
            hash_slots: Semaphore::new(config.password_hash_concurrency.max(1)),
            config,
            store,
            clock,
            rng,
            bank_key,
            secrets,
            passwords,
            hash_waiting: AtomicUsize::new(0),
            hashes_run: AtomicU64::new(0),
            login_buckets: Mutex::new(HashMap::new()),
            hub,
            sessions: Sessions::default(),
            device_keys: Mutex::new(HashMap::new()),
            operations: Mutex::new(HashMap::new()),
            outbox_wake,
        })))
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// The storage.
    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// Now, from the injected clock.
    pub fn now(&self) -> u64 {
        self.0.clock.now()
    }

    /// The bank's public key.
    pub fn bank_public_key(&self) -> PublicKey {
        self.0.bank_key.public_key()
    }

    /// Runs an argon2id hash or verification off the async threads, at most
    /// `password_hash_concurrency` at once; refuses (429) when too many are already waiting.
    pub(crate) async fn hashing<T: Send + 'static>(
        &self,
        f: impl FnOnce(&PasswordHashing) -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let limit = self.0.config.password_hash_concurrency.max(1) * HASH_QUEUE_FACTOR;
        if self.0.hash_waiting.fetch_add(1, Ordering::SeqCst) >= limit {
            self.0.hash_waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(AppError::new(
                ErrorKind::TooManyRequests,
                "too many logins at once; try again",
            ));
        }
        let permit = self.0.hash_slots.acquire().await;
        self.0.hashes_run.fetch_add(1, Ordering::SeqCst);
        let passwords = self.0.passwords.clone();
        let result = tokio::task::spawn_blocking(move || f(&passwords)).await;
        drop(permit);
        self.0.hash_waiting.fetch_sub(1, Ordering::SeqCst);
        result.map_err(AppError::internal)
    }

    /// Takes a token from `client`'s bucket before a password or security code is checked
    /// (`login_burst` tokens, `login_per_second` back each second): `Err` is 429 with the seconds
    /// to wait. No client address (a server embedded without one) is not limited.
    pub(crate) fn take_login_token(&self, client: Option<std::net::IpAddr>) -> ApiResult<()> {
        let cfg = &self.0.config;
        let (Some(ip), burst) = (client, u64::from(cfg.login_burst)) else {
            return Ok(());
        };
        if burst == 0 {
            return Ok(());
        }
        let rate = u64::from(cfg.login_per_second.max(1));
        let now = self.now();
        // One bucket per IPv6 /64 (what one subscriber gets), per IPv4 address.
        let ip = match ip {
            std::net::IpAddr::V6(v6) => {
                let mut o = v6.octets();
                o[8..].fill(0);
                std::net::IpAddr::V6(o.into())
            }
            v4 => v4,
        };
        let mut buckets = self.0.login_buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 100_000 {
            // Drop the buckets that are full again: they hold nothing a client could owe. If
            // that frees too little (a spread-out flood), forget them all rather than scan
            // again on every request.
            buckets.retain(|_, (tokens, at)| *tokens + now.saturating_sub(*at) * rate < burst);
            if buckets.len() > 50_000 {
                buckets.clear();
            }
        }
        let (tokens, at) = buckets.entry(ip).or_insert((burst, now));
        *tokens = (*tokens + now.saturating_sub(*at) * rate).min(burst);
        *at = now;
        if *tokens == 0 {
            return Err(AppError::retry_after(
                "too many logins from this address: try again in a moment",
                1,
            ));
        }
        *tokens -= 1;
        Ok(())
    }

    /// How many argon2id hashes or verifications (real or dummy) this process has run: what the
    /// tests read to see that an answer beyond the attempts left is never evaluated, and that a
    /// known and an unknown user cost the same work.
    pub fn hashes_run(&self) -> u64 {
        self.0.hashes_run.load(Ordering::SeqCst)
    }

    /// The active devices' keys of a customer (opened once, then cached until a device changes).
    pub(crate) async fn device_keys(&self, customer_id: i64) -> Result<Arc<Vec<DeviceKeys>>, AppError> {
        if let Some(keys) = self.lock_device_keys().get(&customer_id) {
            return Ok(keys.clone());
        }
        let rows = self.0.store.active_devices(customer_id).await?;
        let mut keys = Vec::with_capacity(rows.len());
        for row in rows {
            let plain = self
                .0
                .secrets
                .open(&row.id, &row.secrets)
                .map_err(|e| AppError::internal(format!("device {}: {e}", row.id)))?;
            if plain.len() != 64 {
                return Err(AppError::internal(format!("device {}: secrets length", row.id)));
            }
            let mut kp = [0u8; 32];
            let mut kk = [0u8; 32];
            kp.copy_from_slice(&plain[..32]);
            kk.copy_from_slice(&plain[32..]);
            keys.push(DeviceKeys {
                device_id: row.id,
                k_poss: PossessionKey::from_bytes(kp),
                k_know: KnowledgeKey::from_bytes(kk),
            });
            zeroize::Zeroize::zeroize(&mut kp);
            zeroize::Zeroize::zeroize(&mut kk);
        }
        let keys = Arc::new(keys);
        self.lock_device_keys().insert(customer_id, keys.clone());
        Ok(keys)
    }

    /// Drops the cached keys of a customer (a device was added or removed).
    pub(crate) fn forget_device_keys(&self, customer_id: i64) {
        self.lock_device_keys().remove(&customer_id);
    }

    fn lock_device_keys(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<Vec<DeviceKeys>>>> {
        self.0.device_keys.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps a new pending operation at hand (the hot path of authorization reads no row).
    pub(crate) fn remember_operation(&self, row: OperationRow) {
        let now = self.now() as i64;
        let mut ops = self.0.operations.lock().unwrap_or_else(|p| p.into_inner());
        if ops.len() >= OPERATIONS_AT_HAND {
            ops.retain(|_, op| op.expires_at > now);
        }
        ops.insert((row.customer_id, row.op_id.clone()), Arc::new(row));
    }

    /// Forgets a decided operation.
    pub(crate) fn forget_operation(&self, customer_id: i64, op_id: &str) {
        self.0
            .operations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(customer_id, op_id.to_owned()));
    }

    /// A customer's operation for answering it: from memory if this process made it and it is
    /// not decided yet (its status is then checked by the writer), else from storage.
    pub(crate) async fn operation_to_answer(&self, customer_id: i64, op_id: &str) -> ApiResult<Arc<OperationRow>> {
        let key = (customer_id, op_id.to_owned());
        if let Some(op) = self.0.operations.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(op.clone());
        }
        let row = self
            .0
            .store
            .operation(customer_id, op_id)
            .await?
            .ok_or_else(|| AppError::not_found("operation"))?;
        Ok(Arc::new(row))
    }

    /// Wakes the message dispatcher (messages were committed).
    pub(crate) fn messages_queued(&self) {
        self.0.outbox_wake.notify_one();
    }
}

/// An active device's keys, opened.
pub(crate) struct DeviceKeys {
    pub device_id: String,
    pub k_poss: PossessionKey,
    pub k_know: KnowledgeKey,
}

/// What the hub tells subscribers of a customer.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum HubEvent {
    /// A new pending operation (to devices).
    Operation {
        /// Op id.
        op_id: String,
        /// Signed payload. (A login's number to match is never sent to a device: the customer
        /// types the one the page shows.)
        payload: String,
    },
    /// A device was removed: its open event stream ends.
    DeviceRemoved {
        /// The device.
        device_id: String,
    },
    /// The customer's device codes were just blocked (5 wrong): every device stream of the
    /// customer ends, and a device reconnecting is answered 423 until the block is lifted.
    CodesBlocked,
    /// An operation changed status (to web pages).
    Status {
        /// Op id.
        op_id: String,
        /// New status.
        status: crate::storage::OperationStatus,
    },
}

/// Per-customer broadcast of operations and status changes (in this process).
pub struct Hub {
    channels: Mutex<HashMap<i64, broadcast::Sender<Arc<HubEvent>>>>,
    capacity: usize,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hub")
    }
}

impl Hub {
    /// A hub whose per-customer channels hold `capacity` events for a slow subscriber (beyond,
    /// it lags and resyncs from the database).
    pub fn new(capacity: usize) -> Self {
        Self {
            channels: Mutex::default(),
            capacity,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, broadcast::Sender<Arc<HubEvent>>>> {
        self.channels.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Subscribes to a customer's events.
    pub fn subscribe(&self, customer_id: i64) -> broadcast::Receiver<Arc<HubEvent>> {
        self.lock()
            .entry(customer_id)
            .or_insert_with(|| broadcast::channel(self.capacity.max(1)).0)
            .subscribe()
    }

    /// Publishes to a customer's subscribers, if any.
    pub fn publish(&self, customer_id: i64, event: HubEvent) {
        let mut map = self.lock();
        if let Some(tx) = map.get(&customer_id)
            && tx.send(Arc::new(event)).is_err()
        {
            map.remove(&customer_id);
        }
    }
}

/// A web-banking session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The customer.
    pub customer_id: i64,
    /// The customer's row as read at login (contact details and ids; credentials are re-read
    /// where they are checked).
    pub customer: Arc<Customer>,
    /// The customer's user code.
    pub user_code: String,
    /// The login that made the session.
    pub login_id: String,
    /// The CSRF token.
    pub csrf: String,
    /// SCA completed.
    pub authenticated: bool,
    /// The password was issued by the bank and not changed yet: only the password change (and
    /// logout) is open to this session until it is.
    pub password_change_required: bool,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds of the last request.
    pub last_seen: u64,
}

/// Why a session cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionError {
    /// No such session.
    Unknown,
    /// Idle too long or too old.
    Expired,
}

/// Sessions by cookie value.
#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sessions")
    }
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores a new session; drops expired ones now and then.
    pub fn insert(&self, token: String, session: Session, idle: u64, lifetime: u64) {
        let mut map = self.lock();
        if map.len() > 1024 {
            let now = session.created_at;
            map.retain(|_, s| now < s.last_seen + idle && now < s.created_at + lifetime);
        }
        map.insert(token, session);
    }

    /// The session, touched at `now`; an expired one is removed.
    pub fn touch(&self, token: &str, now: u64, idle: u64, lifetime: u64) -> Result<Session, SessionError> {
        let mut map = self.lock();
        let session = map.get_mut(token).ok_or(SessionError::Unknown)?;
        if now >= session.last_seen + idle || now >= session.created_at + lifetime {
            map.remove(token);
            return Err(SessionError::Expired);
        }
        session.last_seen = now;
        Ok(session.clone())
    }

    /// Marks the session of `login_id` authenticated.
    pub fn authenticate(&self, login_id: &str, now: u64) {
        for s in self.lock().values_mut() {
            if s.login_id == login_id {
                s.authenticated = true;
                s.last_seen = now;
            }
        }
    }

    /// The customer of session `token` chose a new password: banking opens to it.
    pub fn password_changed(&self, token: &str) {
        if let Some(s) = self.lock().get_mut(token) {
            s.password_change_required = false;
        }
    }

    /// Ends a session.
    pub fn remove(&self, token: &str) {
        self.lock().remove(token);
    }

    /// Ends every session of a customer but `keep` (the one that asked, if any): what a change of
    /// the customer's security state does (a new password, a reset, the branch's unblock), so a
    /// session opened by whoever knew the old credentials does not outlive them. Returns how many
    /// ended.
    pub fn end_customer(&self, customer_id: i64, keep: Option<&str>) -> usize {
        let mut map = self.lock();
        let before = map.len();
        map.retain(|token, s| s.customer_id != customer_id || keep == Some(token.as_str()));
        before - map.len()
    }
}
