//! The keys the stored data is made with (`keys_in_use`): read at start, recorded once by the
//! first instance. The rule that compares them lives in `state.rs` (`keys_match_the_data`).

use super::StoreError;
use super::db::conn;
use super::writer::WriteCtx;

/// A key whose use the database records (`keys_in_use.name`, kept to these by a CHECK).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyName {
    /// The bank signing key; recorded as its public key (b64u).
    BankSigning,
    /// The AES-256-GCM key of secrets at rest; recorded as its fingerprint.
    Secrets,
}

super::db::text_column!(KeyName { BankSigning => "bank_signing", Secrets => "secrets" });

impl WriteCtx {
    /// Records `value` for the key `name` unless a value is recorded already (an instance that
    /// started at the same moment); returns the value recorded.
    pub async fn record_key_in_use(&mut self, name: KeyName, value: &str, at: u64) -> Result<String, StoreError> {
        conn!(&mut self.conn, |c| sqlx::query(
            "INSERT INTO keys_in_use (name, value, since) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING"
        )
        .bind(name)
        .bind(value)
        .bind(at as i64)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(conn!(&mut self.conn, |c| sqlx::query_scalar(
            "SELECT value FROM keys_in_use WHERE name = $1"
        )
        .bind(name)
        .fetch_one(c)
        .await)?)
    }
}
