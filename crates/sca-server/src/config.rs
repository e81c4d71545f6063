//! The server's configuration, loaded once (by `main.rs` from flags and environment, or built by
//! tests) into this typed struct. Every key, its default and its environment variable are listed
//! in `config.example.env`.

use std::path::PathBuf;
use std::time::Duration;

/// The defaults, written once: [`Config::new`] and the command line (`sca-server --help`) both
/// read them.
pub mod defaults {
    /// Seconds before an operation expires.
    pub const OPERATION_TTL: u64 = 300;
    /// Seconds of inactivity that end a web session.
    pub const SESSION_IDLE: u64 = 300;
    /// Seconds after login that end a web session.
    pub const SESSION_LIFETIME: u64 = 3600;
    /// Largest transfer, in cents.
    pub const MAX_TRANSFER_MINOR: u64 = 5_000_000;
    /// Above this amount (cents) OPERATION_ID codes are refused.
    pub const OPERATION_ID_CODE_MAX_MINOR: u64 = 100_000;
    /// At or below this amount (cents) TRANSACTION codes may authorize a transfer (0: never).
    pub const TRANSACTION_CODE_MAX_MINOR: u64 = 0;
    /// Largest request body in bytes.
    pub const BODY_LIMIT: usize = 16_384;
    /// The PSD2 low-value exemption (RTS art. 16): purchases up to this amount (cents) …
    pub const EXEMPT_MAX_MINOR: u64 = 3_000;
    /// … while the purchases let through since the last strong authentication add up to at
    /// most this (cents) …
    pub const EXEMPT_SUM_MINOR: u64 = 10_000;
    /// … and number at most this many, are answered without a challenge. 0 switches it off.
    pub const EXEMPT_COUNT: u32 = 5;
    /// Seconds between event-stream heartbeats.
    pub const SSE_HEARTBEAT_SECS: u64 = 15;
    /// Concurrent argon2id hashes.
    pub const PASSWORD_HASH_CONCURRENCY: usize = 2;
    /// Most writes committed in one transaction.
    pub const WRITER_BATCH_MAX: usize = 512;
    /// Passwords or security codes one client IP may have checked at once.
    pub const LOGIN_BURST: u32 = 20;
    /// … and per second, sustained.
    pub const LOGIN_PER_SECOND: u32 = 2;
}

/// Where SMS and e-mail go beyond the outbox table.
#[derive(Clone, Debug, Default)]
pub enum MessagesConfig {
    /// Only the outbox table (shown at `/dev/outbox` in sandbox mode).
    #[default]
    OutboxOnly,
    /// POST each message as JSON to a provider's webhook.
    Webhook {
        /// The provider's URL (https in production).
        url: String,
        /// Sent as `authorization: Bearer <token>` when set. Secret.
        token: Option<String>,
    },
}

/// Typed configuration.
#[derive(Clone)]
pub struct Config {
    /// Directory of the SQLite database, the bank key and the secrets key.
    pub data_dir: PathBuf,
    /// Serve the Area Clienti pages from this folder instead of the built-in ones.
    pub ui_dir: Option<PathBuf>,
    /// `sqlite://…` (default `sqlite://<data_dir>/sca.db`).
    pub database_url: Option<String>,
    /// Sandbox: `/dev/outbox`, 10 000.00 EUR for each new customer.
    pub sandbox: bool,
    /// Bearer token of the branch (admin) API; `None` disables it.
    pub admin_token: Option<String>,
    /// 64 hex characters: the AES-256-GCM key of device secrets at rest. `None`: the
    /// `secrets_key_file`, else a key file in the data directory (generated, 0600).
    pub secrets_key_hex: Option<String>,
    /// The secrets key's file (32 bytes, or 64 hex characters), the same for every instance;
    /// read, never made.
    pub secrets_key_file: Option<PathBuf>,
    /// The bank signing key's file (P-256 PKCS#8), the same for every instance; read, never
    /// made. `None`: `bank-key.p8` in the data directory (generated on first start, 0600).
    pub bank_key_file: Option<PathBuf>,
    /// Operations expire after this many seconds.
    pub operation_ttl: u64,
    /// Activation ids expire after this many seconds.
    pub activation_ttl: u64,
    /// SMS OTPs (and recoveries) expire after this many seconds.
    pub otp_ttl: u64,
    /// Seconds before another SMS OTP may be sent for the same login, activation or recovery.
    pub otp_resend_interval: u64,
    /// Seconds between two SMS codes to one customer, and to one phone (alerts excepted);
    /// 0 lifts the limit; at most an hour (the window the sends are kept for).
    pub sms_min_interval: u64,
    /// SMS codes to one customer, and to one phone, in any hour (alerts excepted); 0 lifts the
    /// limit.
    pub sms_per_hour: u32,
    /// Events a slow push or status stream may fall behind before it lags (and resyncs from the
    /// database).
    pub hub_capacity: usize,
    /// Passwords and security codes one client (IP address) may have checked at once, before
    /// the rate below applies (a token bucket in front of argon2id); 0 lifts the limit.
    pub login_burst: u32,
    /// Passwords and security codes one client may have checked per second, sustained.
    pub login_per_second: u32,
    /// A web session ends after this many seconds without activity.
    pub session_idle: u64,
    /// A web session ends this many seconds after login, whatever the activity.
    pub session_lifetime: u64,
    /// Wrong answers in a row that block a credential.
    pub max_attempts: u32,
    /// The largest transfer, in cents.
    pub max_transfer_minor: u64,
    /// Above this amount (cents), OPERATION_ID codes are refused for an operation.
    pub operation_id_code_max_minor: u64,
    /// At or below this amount (cents), a TRANSACTION code may authorize a transfer; 0 disables.
    pub transaction_code_max_minor: u64,
    /// The bearer token of the 3-D Secure servers that may call the ACS; `None`: the ACS answers
    /// only in sandbox mode.
    pub acs_token: Option<String>,
    /// The bank's public address (`https://bank.example`), where the 3-D Secure challenge page
    /// is served; `None`: the address the merchant's request came to (its `Host`).
    pub public_url: Option<String>,
    /// The low-value exemption of 3-D Secure purchases: see [`defaults::EXEMPT_MAX_MINOR`].
    pub exempt_max_minor: u64,
    /// See [`defaults::EXEMPT_SUM_MINOR`].
    pub exempt_sum_minor: u64,
    /// See [`defaults::EXEMPT_COUNT`]; 0: every purchase is challenged.
    pub exempt_count: u32,
    /// Accepted distance, in seconds, between a device request's `ts` and the server clock.
    pub device_request_skew: u64,
    /// Set the `Secure` attribute on the session cookie.
    pub cookie_secure: bool,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Requests (other than event streams) taking longer are answered 408.
    pub request_timeout: Duration,
    /// Interval between heartbeats on event streams.
    pub sse_heartbeat: Duration,
    /// Concurrent password hashes; more waiting than `HASH_QUEUE_FACTOR` (64) times this are
    /// answered 429.
    pub password_hash_concurrency: usize,
    /// argon2id memory in KiB (OWASP: 19 456) and passes (2).
    pub argon2_memory_kib: u32,
    /// See [`argon2_memory_kib`](Self::argon2_memory_kib).
    pub argon2_iterations: u32,
    /// Most authorizations committed in one transaction (group commit).
    pub writer_batch_max: usize,
    /// Where messages go.
    pub messages: MessagesConfig,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets (admin token, secrets key, webhook token) are never printed.
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("sandbox", &self.sandbox)
            .field("admin_api", &self.admin_token.is_some())
            .field("operation_ttl", &self.operation_ttl)
            .field("session_idle", &self.session_idle)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// The defaults, with data in `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            ui_dir: None,
            database_url: None,
            sandbox: false,
            admin_token: None,
            secrets_key_hex: None,
            secrets_key_file: None,
            bank_key_file: None,
            operation_ttl: defaults::OPERATION_TTL,
            activation_ttl: 600,
            otp_ttl: 300,
            otp_resend_interval: 30,
            sms_min_interval: 30,
            sms_per_hour: 10,
            hub_capacity: 256,
            login_burst: defaults::LOGIN_BURST,
            login_per_second: defaults::LOGIN_PER_SECOND,
            session_idle: defaults::SESSION_IDLE,
            session_lifetime: defaults::SESSION_LIFETIME,
            max_attempts: 5,
            max_transfer_minor: defaults::MAX_TRANSFER_MINOR,
            operation_id_code_max_minor: defaults::OPERATION_ID_CODE_MAX_MINOR,
            transaction_code_max_minor: defaults::TRANSACTION_CODE_MAX_MINOR,
            acs_token: None,
            public_url: None,
            exempt_max_minor: defaults::EXEMPT_MAX_MINOR,
            exempt_sum_minor: defaults::EXEMPT_SUM_MINOR,
            exempt_count: defaults::EXEMPT_COUNT,
            device_request_skew: 120,
            cookie_secure: true,
            body_limit: defaults::BODY_LIMIT,
            request_timeout: Duration::from_secs(30),
            sse_heartbeat: Duration::from_secs(defaults::SSE_HEARTBEAT_SECS),
            password_hash_concurrency: defaults::PASSWORD_HASH_CONCURRENCY,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            writer_batch_max: defaults::WRITER_BATCH_MAX,
            messages: MessagesConfig::OutboxOnly,
        }
    }

    /// Lifts the SMS rate limits: what a sandbox does by default, where no SMS leaves the
    /// machine (they are read at `/dev/outbox`), so there is neither a phone to flood nor a bill.
    pub fn without_sms_limits(&mut self) {
        self.sms_min_interval = 0;
        self.sms_per_hour = 0;
    }

    /// The database URL in force.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("sca.db").display()))
    }
}
