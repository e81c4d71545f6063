//! Shared state of a running server: configuration, storage, keys, clock, and the in-memory
//! parts (the push hub, the caches of device keys and pending operations, the hashing queue).
//!
//! Nothing a customer depends on lives only here: web sessions and the login rate per address
//! (`sessions.rs`), attempt counters (also for user names that are no customer's), the device
//! requests already accepted, SMS rate limits and pending activations are rows, so a restart
//! logs nobody out and forgets no count, and every instance on one database sees the same.

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
use crate::storage::{OperationRow, Store, StoreError};

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
    /// A key is not the one the database's data was made with.
    #[error(
        "the {key} given ({given}) is not the one this database's data was made with ({recorded}): \
         give every instance the same key ({how})"
    )]
    KeyMismatch {
        /// Which key.
        key: &'static str,
        /// What names the key given (a key id or fingerprint).
        given: String,
        /// What names the key of the data.
        recorded: String,
        /// Where the key is configured.
        how: &'static str,
    },
    /// The sandbox's own data could not be put.
    #[error("sandbox data: {0}")]
    Seed(String),
}

/// Refuses keys that are not the ones the stored data was made with: an instance started with
/// another bank key would sign what devices and the audit check cannot verify, one with another
/// secrets key could open no device's secrets (and would seal new ones the others cannot open).
/// The first start records both keys (`keys_in_use`); data older than that record is tested
/// instead (its newest signed audit checkpoint, one sealed secret) before the keys are recorded.
async fn keys_match_the_data(store: &Store, bank: &PublicKey, secrets: &SecretBox, now: u64) -> Result<(), StartError> {
    use crate::storage::KeyName;
    let bank_value = bank.to_b64u();
    let bank_id = |value: &str| {
        sca_protocol::b64u_decode(value)
            .ok()
            .and_then(|bytes| PublicKey::from_bytes(&bytes).ok())
            .map_or_else(|| "unreadable".to_owned(), |k| format!("key id {}", k.key_id()))
    };
    let bank_mismatch = |recorded: String| StartError::KeyMismatch {
        key: "bank signing key",
        given: format!("key id {}", bank.key_id()),
        recorded,
        how: "--bank-key-file / SCA_BANK_KEY_FILE",
    };
    let secrets_mismatch = |recorded: String| StartError::KeyMismatch {
        key: "secrets key",
        given: format!("fingerprint {}", secrets.fingerprint()),
        recorded,
        how: "--secrets-key-file / SCA_SECRETS_KEY_FILE or SCA_SECRETS_KEY",
    };
    let recorded_bank = match store.key_in_use(KeyName::BankSigning).await? {
        Some(value) => Some(value),
        None => match store.latest_audit_checkpoint().await? {
            Some(c) if c.signed_hash(bank).is_none() => {
                return Err(bank_mismatch(format!("the key that signed audit checkpoint {}", c.seq)));
            }
            _ => None,
        },
    };
    let recorded_secrets = match store.key_in_use(KeyName::Secrets).await? {
        Some(value) => Some(value),
        None => match store.a_sealed_secret().await? {
            Some((aad, sealed)) if secrets.open(&aad, &sealed).is_err() => {
                return Err(secrets_mismatch(format!("the key that sealed the secrets of {aad}")));
            }
            _ => None,
        },
    };
    let (recorded_bank, recorded_secrets) = match (recorded_bank, recorded_secrets) {
        (Some(b), Some(s)) => (b, s),
        _ => {
            let (b, s) = (bank_value.clone(), secrets.fingerprint().to_owned());
            store
                .write(move |w| {
                    Box::pin(async move {
                        let b = w.record_key_in_use(KeyName::BankSigning, &b, now).await?;
                        let s = w.record_key_in_use(KeyName::Secrets, &s, now).await?;
                        Ok((b, s))
                    })
                })
                .await?
        }
    };
    if recorded_bank != bank_value {
        return Err(bank_mismatch(bank_id(&recorded_bank)));
    }
    if recorded_secrets != secrets.fingerprint() {
        return Err(secrets_mismatch(format!("fingerprint {recorded_secrets}")));
    }
    Ok(())
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
    pub hub: Hub,
    /// When this instance last swept ended sessions (`sessions.rs`).
    pub last_sweep: AtomicU64,
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
        let bank_key = crate::crypto::load_or_create_bank_key(config.bank_key_file.as_deref(), &config.data_dir, &rng)?;
        let secrets = SecretBox::load_or_create(
            config.secrets_key_hex.as_deref(),
            config.secrets_key_file.as_deref(),
            &config.data_dir,
        )?;
        let passwords = PasswordHashing::new(config.argon2_memory_kib, config.argon2_iterations)?;
        let audit_key = SigningKey::from_pkcs8(bank_key.pkcs8(), &rng).map_err(|_| CryptoError::Random)?;
        let signer_rng = rng.clone();
        let signer: crate::audit::Signer =
            Arc::new(move |message: &[u8]| audit_key.sign(&signer_rng, message).ok().map(|s| s.as_bytes().to_vec()));
        let store = Store::open(&config.database_url(), config.writer_batch_max, Some(signer)).await?;
        keys_match_the_data(&store, &bank_key.public_key(), &secrets, clock.now()).await?;
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
        let postgres = store.postgres_pool();
        let state = Self(Arc::new(Inner {
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
            hub,
            last_sweep: AtomicU64::new(0),
            device_keys: Mutex::new(HashMap::new()),
            operations: Mutex::new(HashMap::new()),
            outbox_wake,
        }));
        if state.0.config.sandbox {
            crate::api::pagopa::seed_sandbox_creditors(&state)
                .await
                .map_err(|e| StartError::Seed(e.to_string()))?;
        }
        if let Some(pool) = postgres {
            let instance = crate::crypto::random::b64u(&state.0.rng, 12)?;
            crate::push::start(&state, pool, instance);
        }
        Ok(state)
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

    /// Drops the cached keys of a customer (a device was added or removed), here and on every
    /// other instance.
    pub(crate) fn forget_device_keys(&self, customer_id: i64) {
        self.lock_device_keys().remove(&customer_id);
        self.0.hub.publish(customer_id, HubEvent::DevicesChanged);
    }

    /// Drops the cached keys of a customer here only (another instance changed its devices).
    pub(crate) fn forget_device_keys_here(&self, customer_id: i64) {
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
    /// The customer's devices changed (one activated or removed): every instance drops the keys
    /// it cached for the customer. Streams ignore it.
    DevicesChanged,
    /// Events may have been missed (the cross-instance listener reconnected, or its periodic
    /// re-read): every stream reads the table again, as when it lags.
    Resync,
}

/// Where a hub sends what it publishes for the other instances: (customer, event).
pub(crate) type Forward = tokio::sync::mpsc::UnboundedSender<(i64, Arc<HubEvent>)>;

/// Per-customer broadcast of operations and status changes: to this process's streams, and, on
/// PostgreSQL, to the other instances' (`push.rs`) through `remote`.
pub struct Hub {
    channels: Mutex<HashMap<i64, broadcast::Sender<Arc<HubEvent>>>>,
    capacity: usize,
    remote: Mutex<Option<Forward>>,
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
            remote: Mutex::default(),
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

    /// Sends what this instance publishes to the other instances too (`push.rs`).
    pub(crate) fn forward_to(&self, remote: Forward) {
        *self.remote.lock().unwrap_or_else(|p| p.into_inner()) = Some(remote);
    }

    /// Publishes to a customer's subscribers here and on the other instances.
    pub fn publish(&self, customer_id: i64, event: HubEvent) {
        let event = Arc::new(event);
        if let Some(remote) = &*self.remote.lock().unwrap_or_else(|p| p.into_inner()) {
            let _ = remote.send((customer_id, event.clone()));
        }
        self.publish_here(customer_id, event);
    }

    /// Publishes to this instance's subscribers of a customer, if any.
    pub(crate) fn publish_here(&self, customer_id: i64, event: Arc<HubEvent>) {
        let mut map = self.lock();
        if let Some(tx) = map.get(&customer_id)
            && tx.send(event).is_err()
        {
            map.remove(&customer_id);
        }
    }

    /// Tells every stream of this instance to read the table again.
    pub(crate) fn resync_all(&self) {
        let event = Arc::new(HubEvent::Resync);
        self.lock().retain(|_, tx| tx.send(event.clone()).is_ok());
    }
}
