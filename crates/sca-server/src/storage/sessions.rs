//! Web sessions and the per-address login buckets (issue 13): rows, so that any instance serves
//! any request and a restart logs nobody out. The rules (lifetimes, when a session is touched,
//! what ends one) live in `crate::sessions`; a block ending the customer's other sessions is in
//! the write that counts it (`credentials`).

use super::db::{conn, pool};
use super::writer::WriteCtx;
use super::{Customer, OperationStatus, Store, StoreError};

/// A session's key: the SHA-256 of its cookie value (the value itself is never stored).
pub type SessionKey = [u8; 32];

/// A session as read for a request, with its customer's current row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    /// The login that made it.
    pub login_id: String,
    /// The CSRF token.
    pub csrf: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last request written (at most `sessions::TOUCH_EVERY` behind).
    pub last_seen: i64,
    /// Its login operation's status (`None`: the operation is gone).
    pub login_status: Option<OperationStatus>,
    /// The customer.
    #[sqlx(flatten)]
    pub customer: Customer,
}

impl Store {
    /// The session with this key, if any.
    pub async fn session(&self, key: &SessionKey) -> Result<Option<SessionRow>, StoreError> {
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!(
                "SELECT s.login_id, s.csrf, s.created_at, s.last_seen, o.status AS login_status, {} \
                 FROM sessions s JOIN customers c ON c.id = s.customer_id \
                 LEFT JOIN operations o ON o.login_id = s.login_id WHERE s.token_hash = $1",
                Store::CUSTOMER_COLUMNS
                    .split(',')
                    .map(|c| format!("c.{}", c.trim()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        Ok(pool!(&self.read, |p| sqlx::query_as(SQL.as_str())
            .bind(&key[..])
            .fetch_optional(p)
            .await)?)
    }
}

impl WriteCtx {
    /// Stores a new session.
    pub async fn insert_session(
        &mut self,
        key: &SessionKey,
        customer_id: i64,
        login_id: &str,
        csrf: &str,
        at: u64,
    ) -> Result<(), StoreError> {
        conn!(&mut self.conn, |c| sqlx::query(
            "INSERT INTO sessions (token_hash, customer_id, login_id, csrf, created_at, last_seen) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&key[..])
        .bind(customer_id)
        .bind(login_id)
        .bind(csrf)
        .bind(at as i64)
        .bind(at as i64)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Records a request of the session at `at`.
    pub async fn touch_session(&mut self, key: &SessionKey, at: u64) -> Result<(), StoreError> {
        conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE sessions SET last_seen = $1 WHERE token_hash = $2 AND last_seen < $1"
        )
        .bind(at as i64)
        .bind(&key[..])
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Ends one session.
    pub async fn end_session(&mut self, key: &SessionKey) -> Result<(), StoreError> {
        conn!(&mut self.conn, |c| sqlx::query(
            "DELETE FROM sessions WHERE token_hash = $1"
        )
        .bind(&key[..])
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Ends every session of a customer but `keep`; returns how many ended.
    pub async fn end_customer_sessions(
        &mut self,
        customer_id: i64,
        keep: Option<&SessionKey>,
    ) -> Result<u64, StoreError> {
        Ok(conn!(&mut self.conn, |c| sqlx::query(
            "DELETE FROM sessions WHERE customer_id = $1 AND token_hash IS DISTINCT FROM $2"
        )
        .bind(customer_id)
        .bind(keep.map(|k| &k[..]))
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?)
    }

    /// Drops the sessions idle since before `idle_before` or made before `made_before`, and the
    /// login buckets that are full again at `at`; returns how many sessions went.
    pub async fn sweep_sessions(
        &mut self,
        idle_before: u64,
        made_before: u64,
        at: u64,
        bucket: (u32, u32),
    ) -> Result<u64, StoreError> {
        let ended = conn!(&mut self.conn, |c| sqlx::query(
            "DELETE FROM sessions WHERE last_seen <= $1 OR created_at <= $2"
        )
        .bind(idle_before as i64)
        .bind(made_before as i64)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        conn!(&mut self.conn, |c| sqlx::query(
            "DELETE FROM login_buckets WHERE tokens + ($1 - at) * $2 >= $3"
        )
        .bind(at as i64)
        .bind(i64::from(bucket.1))
        .bind(i64::from(bucket.0))
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(ended)
    }

    /// Takes a token from `client`'s bucket (`burst` tokens at most, `rate` back each second)
    /// in one statement: `false` when it is empty.
    pub async fn take_login_token(&mut self, client: &str, at: u64, burst: u32, rate: u32) -> Result<bool, StoreError> {
        // The refill, capped at the burst: `CASE` rather than `min`/`LEAST`, which the two
        // engines spell differently.
        let left: Option<i64> = conn!(&mut self.conn, |c| sqlx::query_scalar(
            "INSERT INTO login_buckets AS b (client, tokens, at) VALUES ($1, $2 - 1, $3) \
             ON CONFLICT (client) DO UPDATE SET at = $3, tokens = \
               CASE WHEN b.tokens + ($3 - b.at) * $4 >= $2 THEN $2 ELSE b.tokens + ($3 - b.at) * $4 END - 1 \
             WHERE b.tokens + ($3 - b.at) * $4 > 0 RETURNING tokens",
        )
        .bind(client)
        .bind(i64::from(burst))
        .bind(at as i64)
        .bind(i64::from(rate))
        .fetch_optional(c)
        .await)?;
        Ok(left.is_some())
    }
}
