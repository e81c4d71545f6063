//! Storage: every SQL statement of the server lives here — reads in this file, writes in the
//! [`writer`] engine and its table modules (`credentials`, `customers`, `operations`, `devices`,
//! `otps`, `outbox`, `sessions` with the login buckets, `keys` the data is made with). Handlers
//! call methods; they never see SQL.
//!
//! Two engines, one set of statements ([`db`]): SQLite (the embedded default, one instance per
//! file) in WAL mode with `synchronous=FULL`, and PostgreSQL (several instances on one database)
//! with durable commits. Either way a commit is on disk before it is acknowledged. Reads go
//! through a pool of reader connections; every write goes through this process's one writer task
//! that batches concurrent writes into one transaction (group commit) and acknowledges each only
//! after that transaction commits. The writer reads the audit chain's head inside each batch's
//! write lock (SQLite's `BEGIN IMMEDIATE`, PostgreSQL's advisory transaction lock), so writers of
//! several processes append to one chain in turn, never forking it.

mod cards;
mod credentials;
mod customers;
pub mod db;
mod devices;
mod keys;
mod legacy;
mod operations;
mod otps;
mod outbox;
mod pagopa;
mod sessions;
pub mod writer;

use std::str::FromStr as _;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions as _, Connection as _};

use db::{Conn, Pool, pool};

pub use crate::audit::AuditRow;
pub use cards::{AcsRow, CardAction, CardRow, NewAcs, NewCard, Reveal};
pub use keys::KeyName;
pub use legacy::{AcquiredBankRow, FirstAccessRow, Imported, LegacyCustomerRow};
pub use pagopa::CreditorRow;
pub use sessions::{SessionKey, SessionRow};
pub use writer::{Counted, Holder, LegacyHolder, LegacyKnown, Settle, Subject, WriteCtx, Writer};

/// A storage failure (never a client's mistake).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Running migrations failed.
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The batch this write was in did not commit.
    #[error("commit failed: {0}")]
    Commit(String),
    /// The writer task stopped.
    #[error("the writer task is gone")]
    WriterGone,
    /// A stored value is not of its form.
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

/// A customer ("utenza").
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Customer {
    /// Row id.
    pub id: i64,
    /// 8-digit user code.
    pub user_code: String,
    /// Lower-case alias.
    pub alias: Option<String>,
    /// Full name.
    pub name: String,
    /// Certified phone, E.164.
    pub phone: String,
    /// E-mail.
    pub email: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// argon2id PHC string of the security code.
    pub security_code_hash: String,
    /// The password was set by the bank and must be changed.
    pub password_change_required: bool,
    /// `push` (the authenticator, SMS as the fallback) or `sms` (a one-time PIN by SMS at each
    /// login and operation).
    pub sca_policy: String,
    /// Made by a first access that has not ended: the user code does not log in yet.
    pub first_access_pending: bool,
}

/// An active (or removed) device.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceRow {
    /// Device id.
    pub id: String,
    /// Owner.
    pub customer_id: i64,
    /// Name given by the customer.
    pub name: String,
    /// 65-byte SEC1 point.
    pub public_key: Vec<u8>,
    /// Sealed `K_poss || K_know`.
    pub secrets: Vec<u8>,
    /// `active` | `removed`.
    pub status: DeviceStatus,
    /// Last accepted LOGIN step.
    pub last_login_step: i64,
    /// Last accepted TRANSACTION step.
    pub last_transaction_step: i64,
    /// Unix seconds.
    pub created_at: i64,
}

/// An operation's status, as stored (`operations.status`, which a CHECK keeps to these) and as
/// clients read it. A login's `Approved` is shown as `authenticated` (`api::login`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OperationStatus {
    /// Waiting for the customer.
    Pending,
    /// Approved (a transfer is booked in the same statement).
    Approved,
    /// Rejected from a device ("it wasn't me").
    Rejected,
    /// Past its expiry while pending.
    Expired,
    /// Ended by a wrong number pick or an account that could not cover it.
    Failed,
}

db::text_column!(OperationStatus {
    Pending => "pending",
    Approved => "approved",
    Rejected => "rejected",
    Expired => "expired",
    Failed => "failed",
});

impl OperationStatus {
    /// Still waiting: events keep coming.
    pub fn is_pending(self) -> bool {
        self == Self::Pending
    }
}

impl std::fmt::Display for OperationStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an activation is in its steps (`activations.status`, kept to these by a CHECK).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivationStatus {
    /// Started; the device has not sent its keys.
    AwaitingKeys,
    /// Keys exchanged; the device has not confirmed.
    AwaitingConfirm,
    /// Confirmed: the device is active.
    Active,
    /// Voided by a wrong confirmation tag.
    Failed,
}

db::text_column!(ActivationStatus { AwaitingKeys => "awaiting_keys", AwaitingConfirm => "awaiting_confirm", Active => "active", Failed => "failed" });

/// How an activation was started (`activations.source`, kept to these by a CHECK).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivationSource {
    /// A first device: password and an SMS code.
    PasswordSms,
    /// Another device, from a DEVICE operation approved on an active one.
    Device,
}

db::text_column!(ActivationSource { PasswordSms => "password_sms", Device => "device" });

/// A device's status (`devices.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Its codes, signatures and pushes count.
    Active,
    /// Removed by the customer: nothing of it counts.
    Removed,
}

db::text_column!(DeviceStatus { Active => "active", Removed => "removed" });

/// An operation as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OperationRow {
    /// Row id.
    pub id: i64,
    /// Owner.
    pub customer_id: i64,
    /// 8-digit op id.
    pub op_id: String,
    /// `TRANSFER`, `LOGIN`, `DEVICE`, …
    pub kind: String,
    /// The signed payload text.
    pub payload: String,
    /// Stored status (a pending one past `expires_at` reads as expired).
    pub status: OperationStatus,
    /// Unix seconds.
    pub expires_at: i64,
    /// For logins.
    pub login_id: Option<String>,
    /// Number matching (logins).
    pub number: Option<i64>,
    /// Debited account (transfers).
    pub account_id: Option<i64>,
    /// Cents.
    pub amount_minor: Option<i64>,
    /// ISO 4217.
    pub currency: Option<String>,
    /// Payee IBAN.
    pub payee_iban: Option<String>,
    /// Payee name.
    pub payee_name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
}

impl OperationRow {
    /// The status a client sees at `now`: a pending operation past its expiry is `expired`.
    pub fn status_at(&self, now: u64) -> OperationStatus {
        if self.status.is_pending() && now >= self.expires_at as u64 {
            OperationStatus::Expired
        } else {
            self.status
        }
    }
}

/// A bank account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Account {
    /// Row id.
    pub id: i64,
    /// Owner.
    pub customer_id: i64,
    /// IBAN.
    pub iban: String,
    /// Name ("Conto corrente").
    pub name: String,
    /// Cents.
    pub balance_minor: i64,
    /// ISO 4217.
    pub currency: String,
}

/// A booked movement.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Movement {
    /// Row id.
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    /// Cents, negative for a debit.
    pub amount_minor: i64,
    /// The other party.
    pub counterparty: String,
    /// Description.
    pub description: String,
}

/// An activation in progress.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActivationRow {
    /// The activation id.
    pub id: String,
    /// Owner.
    pub customer_id: i64,
    /// `password_sms` | `device`.
    pub source: ActivationSource,
    /// The row of the DEVICE operation that must be approved first (device-sourced
    /// activations); the column is `operation_id`, a row id, not an `op_id`.
    #[sqlx(rename = "operation_id")]
    pub operation_row: Option<i64>,
    /// `awaiting_keys` | `awaiting_confirm` | `active` | `failed`.
    pub status: ActivationStatus,
    /// Unix seconds.
    pub expires_at: i64,
    /// Assigned at key exchange.
    pub device_id: Option<String>,
    /// Given at key exchange.
    pub device_name: Option<String>,
    /// Given at key exchange.
    pub device_pub: Option<Vec<u8>>,
    /// Sealed `K_poss || K_know || K_conf`.
    pub secrets: Option<Vec<u8>>,
}

/// An SMS one-time password (or a recovery, which is one).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OtpRow {
    /// Id (the recovery id for recoveries).
    pub id: String,
    /// Owner.
    pub customer_id: i64,
    /// `login` | `activation` | `unblock` | `password_reset`.
    pub purpose: String,
    /// What it unlocks.
    pub r#ref: String,
    /// SHA-256(id || otp).
    pub hash: Vec<u8>,
    /// Unix seconds.
    pub expires_at: i64,
    /// Wrong answers to this OTP.
    pub failures: i64,
    /// When it was used.
    pub used_at: Option<i64>,
}

/// One message of the outbox.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    /// Row id.
    pub id: i64,
    /// Phone or e-mail.
    pub recipient: String,
    /// `sms` | `email`.
    pub channel: String,
    /// Text.
    pub body: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// Wrong answers in a row per credential.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Failures {
    /// Passwords.
    pub password: u32,
    /// 6-digit codes.
    pub code: u32,
    /// SMS OTPs.
    pub sms_otp: u32,
    /// Security codes.
    pub security_code: u32,
}

/// A counted credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Credential {
    /// The password.
    Password,
    /// 6-digit codes from a device.
    Code,
    /// SMS one-time passwords.
    SmsOtp,
    /// The 20-character security code.
    SecurityCode,
}

impl Credential {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Code => "code",
            Self::SmsOtp => "sms_otp",
            Self::SecurityCode => "security_code",
        }
    }
}

/// Background work held by this instance ([`Store::lease`]).
#[derive(Debug)]
pub struct Lease(Option<sqlx::PgConnection>);

impl Lease {
    /// Whether it is still held (its connection still answers).
    pub async fn held(&mut self) -> bool {
        match &mut self.0 {
            None => true,
            Some(conn) => sqlx::query("SELECT 1").execute(&mut *conn).await.is_ok(),
        }
    }
}

/// The storage: a reader pool and the writer.
#[derive(Debug, Clone)]
pub struct Store {
    read: Pool,
    writer: Writer,
}

fn options(url: &str) -> Result<SqliteConnectOptions, StoreError> {
    Ok(SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: every commit is fsynced before it returns, so an acknowledged write survives
        // kill -9 and power loss; group commit pays for it.
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        .statement_cache_capacity(256)
        .disable_statement_logging())
}

impl Store {
    /// Opens (creating if needed) the database at `url` — `sqlite://…` or `postgres://…` —,
    /// runs its engine's migrations, starts the writer; with a `signer` (the bank key), the writer
    /// signs the audit chain's head as it grows.
    pub async fn open(url: &str, batch_max: usize, signer: Option<crate::audit::Signer>) -> Result<Self, StoreError> {
        let (conn, read, reopen) = if url.starts_with("sqlite:") {
            let (conn, read) = Self::open_sqlite(url).await?;
            (conn, read, None)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let opts = PgConnectOptions::from_str(url)?.disable_statement_logging();
            let (conn, read) = Self::open_postgres(&opts).await?;
            (conn, read, Some(opts))
        } else {
            return Err(StoreError::Corrupt(format!(
                "unsupported DATABASE_URL scheme (sqlite:// or postgres://): {}",
                url.split(':').next().unwrap_or("")
            )));
        };
        let writer = Writer::start(conn, batch_max, signer, reopen).await?;
        Ok(Self { read, writer })
    }

    async fn open_sqlite(url: &str) -> Result<(Conn, Pool), StoreError> {
        let opts = options(url)?;
        let mut conn = opts.connect().await?;
        // A migration that makes a table anew (0006) replaces the parent of foreign keys, which
        // SQLite allows only with them off, and only outside the migration's transaction. They
        // are checked once every migration has run, and on again for the writer.
        sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut conn).await?;
        sqlx::migrate!("./migrations").run(&mut conn).await?;
        let broken: Vec<(String, Option<i64>)> =
            sqlx::query_as("SELECT \"table\", rowid FROM pragma_foreign_key_check")
                .fetch_all(&mut conn)
                .await?;
        if let Some((table, row)) = broken.first() {
            return Err(StoreError::Corrupt(format!(
                "after the migrations, {} rows point nowhere (first: {table} row {row:?})",
                broken.len()
            )));
        }
        sqlx::query("PRAGMA foreign_keys = ON").execute(&mut conn).await?;
        // An attempt taken and never settled (the process died while hashing the answer) counts
        // as a wrong answer: failing closed is what a lockout must do. One process owns an SQLite
        // file, so at open no attempt is really in flight.
        for table in ["credential_failures", "unknown_user_failures"] {
            sqlx::query(&format!(
                "UPDATE {table} SET failures = failures + pending, pending = 0 WHERE pending > 0"
            ))
            .execute(&mut conn)
            .await?;
        }
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(1)
            .connect_with(opts)
            .await?;
        Ok((Conn::Sqlite(conn), Pool::Sqlite(read)))
    }

    /// PostgreSQL: its own migrations (`migrations-postgres/`, run under the migrator's advisory
    /// lock, so instances starting together run them once). Attempts left taken are not settled
    /// here: other instances may be evaluating them right now.
    async fn open_postgres(opts: &PgConnectOptions) -> Result<(Conn, Pool), StoreError> {
        let mut conn = sqlx::PgConnection::connect_with(opts).await?;
        sqlx::migrate!("./migrations-postgres").run(&mut conn).await?;
        let read = PgPoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(opts.clone())
            .await?;
        Ok((Conn::Pg(conn), Pool::Pg(read)))
    }

    /// Takes the lease of background work `key` if no instance holds it: work that one instance at
    /// a time must do (delivering the outbox). On SQLite (one instance per file) it is always
    /// granted. On PostgreSQL it is a session advisory lock on a connection of its own, held as
    /// long as that connection lives: if the instance dies, the database ends the session, and
    /// another instance's next try takes the lease.
    pub async fn lease(&self, key: i64) -> Result<Option<Lease>, StoreError> {
        match &self.read {
            Pool::Sqlite(_) => Ok(Some(Lease(None))),
            Pool::Pg(pool) => {
                let mut conn = pool.acquire().await?;
                let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                    .bind(key)
                    .fetch_one(&mut *conn)
                    .await?;
                // Held: the connection leaves the pool with its lock (closing it releases it).
                Ok(got.then(|| Lease(Some(conn.detach()))))
            }
        }
    }

    /// The PostgreSQL pool, for what only that engine has (`push.rs`).
    pub fn postgres_pool(&self) -> Option<sqlx::PgPool> {
        match &self.read {
            Pool::Pg(pool) => Some(pool.clone()),
            Pool::Sqlite(_) => None,
        }
    }

    /// The writer, for writes (see [`writer`]).
    pub fn writer(&self) -> &Writer {
        &self.writer
    }

    /// Runs a write job in the next batch; returns after its batch committed.
    pub async fn write<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut WriteCtx) -> futures_util::future::BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        self.writer.run(job).await
    }

    /// Runs the hot job of an approval without a savepoint (see [`Writer::run_approval`]).
    pub async fn write_approval<T, F>(&self, approval: writer::ApprovalAnswer, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut WriteCtx) -> futures_util::future::BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        self.writer.run_approval(approval, job).await
    }

    // ----- customers -----

    const CUSTOMER_COLUMNS: &'static str = "id, user_code, alias, name, phone, email, password_hash, \
        security_code_hash, password_change_required, sca_policy, first_access_pending";

    /// By user code or alias (case-insensitive).
    pub async fn customer_by_user(&self, user: &str) -> Result<Option<Customer>, StoreError> {
        let sql = format!(
            "SELECT {} FROM customers WHERE user_code = $1 OR alias = lower($1)",
            Self::CUSTOMER_COLUMNS
        );
        Ok(pool!(&self.read, |p| sqlx::query_as(&sql)
            .bind(user)
            .fetch_optional(p)
            .await)?)
    }

    /// By row id.
    pub async fn customer(&self, id: i64) -> Result<Option<Customer>, StoreError> {
        let sql = format!("SELECT {} FROM customers WHERE id = $1", Self::CUSTOMER_COLUMNS);
        Ok(pool!(&self.read, |p| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(p)
            .await)?)
    }

    /// Everyone with this certified phone.
    pub async fn customers_by_phone(&self, phone: &str) -> Result<Vec<Customer>, StoreError> {
        let sql = format!("SELECT {} FROM customers WHERE phone = $1", Self::CUSTOMER_COLUMNS);
        Ok(pool!(&self.read, |p| sqlx::query_as(&sql)
            .bind(phone)
            .fetch_all(p)
            .await)?)
    }

    /// Wrong answers in a row, per credential.
    pub async fn failures(&self, customer_id: i64) -> Result<Failures, StoreError> {
        let rows: Vec<(String, i64)> = pool!(&self.read, |p| sqlx::query_as(
            "SELECT credential, failures FROM credential_failures WHERE customer_id = $1"
        )
        .bind(customer_id)
        .fetch_all(p)
        .await)?;
        let mut f = Failures::default();
        for (credential, n) in rows {
            let n = u32::try_from(n).unwrap_or(u32::MAX);
            match credential.as_str() {
                "password" => f.password = n,
                "code" => f.code = n,
                "sms_otp" => f.sms_otp = n,
                "security_code" => f.security_code = n,
                _ => {}
            }
        }
        Ok(f)
    }

    // ----- devices -----

    const DEVICE_COLUMNS: &'static str = "id, customer_id, name, public_key, secrets, status, last_login_step, \
        last_transaction_step, created_at";

    /// A device, active or removed.
    pub async fn device(&self, id: &str) -> Result<Option<DeviceRow>, StoreError> {
        let sql = format!("SELECT {} FROM devices WHERE id = $1", Self::DEVICE_COLUMNS);
        Ok(pool!(&self.read, |p| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(p)
            .await)?)
    }

    /// A customer's active devices, oldest first.
    pub async fn active_devices(&self, customer_id: i64) -> Result<Vec<DeviceRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM devices WHERE customer_id = $1 AND status = 'active' ORDER BY created_at, id",
            Self::DEVICE_COLUMNS
        );
        Ok(pool!(&self.read, |p| sqlx::query_as(&sql)
            .bind(customer_id)
            .fetch_all(p)
            .await)?)
    }

    // ----- operations -----

    const OPERATION_COLUMNS: &'static str = "id, customer_id, op_id, kind, payload, status, expires_at, login_id, \
        number, account_id, amount_minor, currency, payee_iban, payee_name, description, created_at";

    /// A customer's operation by op id.
    pub async fn operation(&self, customer_id: i64, op_id: &str) -> Result<Option<OperationRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM operations WHERE customer_id = $1 AND op_id = $2",
            Self::OPERATION_COLUMNS
        );
        Ok(pool!(&self.read, |p| sqlx::query_as(&sql)
            .bind(customer_id)
            .bind(op_id)
            .fetch_optional(p)
            .await)?)
    }

    /// An operation by row id.
    pub async fn operation_by_row(&self, id: i64) -> Result<Option<OperationRow>, StoreError> {
        let sql = format!("SELECT {} FROM operations WHERE id = $1", Self::OPERATION_COLUMNS);
        Ok(pool!(&self.read, |p| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(p)
            .await)?)
    }

    /// The operation of a login.
    pub async fn operation_by_login(&self, login_id: &str) -> Result<Option<OperationRow>, StoreError> {
        let sql = format!("SELECT {} FROM operations WHERE login_id = $1", Self::OPERATION_COLUMNS);
        Ok(pool!(&self.read, |p| sqlx::query_as(&sql)
            .bind(login_id)
            .fetch_optional(p)
            .await)?)
    }

    /// A customer's pending, unexpired operations, oldest first.
    pub async fn pending_operations(&self, customer_id: i64, now: u64) -> Result<Vec<OperationRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM operations WHERE customer_id = $1 AND status = 'pending' AND expires_at > $2 ORDER BY id",
            Self::OPERATION_COLUMNS
        );
        Ok(pool!(&self.read, |p| sqlx::query_as(&sql)
            .bind(customer_id)
            .bind(now as i64)
            .fetch_all(p)
            .await)?)
    }

    // ----- accounts -----

    /// A customer's accounts, oldest first.
    pub async fn accounts(&self, customer_id: i64) -> Result<Vec<Account>, StoreError> {
        Ok(pool!(&self.read, |p| {
            sqlx::query_as(
            "SELECT id, customer_id, iban, name, balance_minor, currency FROM accounts WHERE customer_id = $1 ORDER BY id",
        )
        .bind(customer_id)
        .fetch_all(p)
        .await
        })?)
    }

    /// Whether an IBAN is already an account here.
    pub async fn iban_taken(&self, iban: &str) -> Result<bool, StoreError> {
        let n: i64 = pool!(&self.read, |p| sqlx::query_scalar(
            "SELECT count(*) FROM accounts WHERE iban = $1"
        )
        .bind(iban)
        .fetch_one(p)
        .await)?;
        Ok(n > 0)
    }

    /// The newest movements of an account.
    pub async fn movements(&self, account_id: i64, limit: i64) -> Result<Vec<Movement>, StoreError> {
        Ok(pool!(&self.read, |p| sqlx::query_as(
            "SELECT id, at, amount_minor, counterparty, description FROM movements WHERE account_id = $1 \
             ORDER BY id DESC LIMIT $2",
        )
        .bind(account_id)
        .bind(limit)
        .fetch_all(p)
        .await)?)
    }

    /// How many movements an operation booked (tests and checks: exactly-once money).
    pub async fn movements_of_operation(&self, operation_row: i64) -> Result<i64, StoreError> {
        Ok(pool!(&self.read, |p| sqlx::query_scalar(
            "SELECT count(*) FROM movements WHERE operation_id = $1"
        )
        .bind(operation_row)
        .fetch_one(p)
        .await)?)
    }

    // ----- activations and OTPs -----

    /// An activation.
    pub async fn activation(&self, id: &str) -> Result<Option<ActivationRow>, StoreError> {
        Ok(pool!(&self.read, |p| sqlx::query_as(
            "SELECT id, customer_id, source, operation_id, status, expires_at, device_id, device_name, device_pub, \
             secrets FROM activations WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    /// The newest OTP for `ref` and `purpose`.
    pub async fn latest_otp(&self, r#ref: &str, purpose: &str) -> Result<Option<OtpRow>, StoreError> {
        Ok(pool!(&self.read, |p| sqlx::query_as(
            "SELECT id, customer_id, purpose, ref, hash, expires_at, failures, used_at FROM otps \
             WHERE ref = $1 AND purpose = $2 ORDER BY created_at DESC, rowid DESC LIMIT 1",
        )
        .bind(r#ref)
        .bind(purpose)
        .fetch_optional(p)
        .await)?)
    }

    /// An OTP (recovery) by id.
    pub async fn otp(&self, id: &str) -> Result<Option<OtpRow>, StoreError> {
        Ok(pool!(&self.read, |p| sqlx::query_as(
            "SELECT id, customer_id, purpose, ref, hash, expires_at, failures, used_at FROM otps WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    // ----- outbox and audit -----

    /// Messages to `recipient`, newest first.
    pub async fn outbox(&self, recipient: &str, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
        Ok(pool!(&self.read, |p| {
            sqlx::query_as(
            "SELECT id, recipient, channel, body, created_at FROM outbox WHERE recipient = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(recipient)
        .bind(limit)
        .fetch_all(p)
        .await
        })?)
    }

    /// Messages not delivered yet, oldest first.
    pub async fn undelivered(&self, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
        Ok(pool!(&self.read, |p| sqlx::query_as(
            "SELECT id, recipient, channel, body, created_at FROM outbox WHERE delivered_at IS NULL \
             ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(p)
        .await)?)
    }

    /// Audit rows after `seq`, in order.
    pub async fn audit_after(&self, seq: i64, limit: i64) -> Result<Vec<AuditRow>, StoreError> {
        Ok(pool!(&self.read, |p| sqlx::query_as(
            "SELECT seq, at, kind, customer, detail, prev_hash, hash FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(seq)
        .bind(limit)
        .fetch_all(p)
        .await)?)
    }

    /// Verifies the whole audit chain, page by page. Returns the number of rows.
    pub async fn verify_audit(&self) -> Result<Result<i64, crate::audit::ChainError>, StoreError> {
        let mut head = (0i64, crate::audit::GENESIS);
        loop {
            let rows = self.audit_after(head.0, 10_000).await?;
            if rows.is_empty() {
                return Ok(Ok(head.0));
            }
            match crate::audit::verify_rows(head, &rows) {
                Ok(h) => head = h,
                Err(e) => return Ok(Err(e)),
            }
        }
    }

    /// The signed checkpoints, oldest first.
    pub async fn audit_checkpoints(&self) -> Result<Vec<crate::audit::Checkpoint>, StoreError> {
        Ok(pool!(&self.read, |p| sqlx::query_as(
            "SELECT seq, at, hash, signature FROM audit_checkpoints ORDER BY seq"
        )
        .fetch_all(p)
        .await)?)
    }

    /// The newest signed checkpoint, if any.
    pub async fn latest_audit_checkpoint(&self) -> Result<Option<crate::audit::Checkpoint>, StoreError> {
        Ok(pool!(&self.read, |p| sqlx::query_as(
            "SELECT seq, at, hash, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1"
        )
        .fetch_optional(p)
        .await)?)
    }

    // ----- keys -----

    /// The value recorded for a key the data is made with, if any.
    pub async fn key_in_use(&self, name: KeyName) -> Result<Option<String>, StoreError> {
        Ok(pool!(&self.read, |p| sqlx::query_scalar(
            "SELECT value FROM keys_in_use WHERE name = $1"
        )
        .bind(name)
        .fetch_optional(p)
        .await)?)
    }

    /// One secret sealed with the secrets key and the associated data it was sealed with (an
    /// active device's, since a removed one's is wiped, else an activation's), if any: what tells
    /// the key of data older than `keys_in_use`.
    pub async fn a_sealed_secret(&self) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        Ok(pool!(&self.read, |p| sqlx::query_as(
            "SELECT id, secrets FROM devices WHERE status = 'active' UNION ALL \
             SELECT id, secrets FROM activations WHERE secrets IS NOT NULL LIMIT 1",
        )
        .fetch_optional(p)
        .await)?)
    }

    /// Verifies the chain and its signed checkpoints with the bank's public key: each signature
    /// holds, each names a row the chain still has with that hash, and no row comes after the
    /// newest (a cut-off tail, or one rewritten without the key, fails). Returns the number of
    /// rows and of checkpoints.
    pub async fn verify_audit_signed(
        &self,
        bank: &sca_protocol::PublicKey,
    ) -> Result<Result<(i64, usize), crate::audit::ChainError>, StoreError> {
        use crate::audit::ChainError;
        let rows = match self.verify_audit().await? {
            Ok(n) => n,
            Err(e) => return Ok(Err(e)),
        };
        let checkpoints = self.audit_checkpoints().await?;
        for c in &checkpoints {
            let Some(hash) = c.signed_hash(bank) else {
                return Ok(Err(ChainError::CheckpointSignature(c.seq)));
            };
            let row: Option<Vec<u8>> = pool!(&self.read, |p| sqlx::query_scalar(
                "SELECT hash FROM audit WHERE seq = $1"
            )
            .bind(c.seq)
            .fetch_optional(p)
            .await)?;
            if row.as_deref() != Some(&hash[..]) {
                return Ok(Err(ChainError::CheckpointMismatch(c.seq)));
            }
        }
        let signed = checkpoints.last().map_or(0, |c| c.seq);
        if rows > signed {
            return Ok(Err(ChainError::UnsignedTail {
                from: signed + 1,
                to: rows,
            }));
        }
        Ok(Ok((rows, checkpoints.len())))
    }
}
