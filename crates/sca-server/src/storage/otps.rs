//! Writes of SMS codes: the rate limits per customer and per phone, issuing, spending and
//! counting a recovery code's tries.

use super::StoreError;
use super::db::conn;
use super::writer::WriteCtx;

impl WriteCtx {
    /// When the newest OTP for `ref`/`purpose` was made.
    pub async fn last_otp_at(&mut self, r#ref: &str, purpose: &str) -> Result<Option<u64>, StoreError> {
        let at: Option<i64> = conn!(&mut self.conn, |c| sqlx::query_scalar(
            "SELECT max(created_at) FROM otps WHERE ref = $1 AND purpose = $2"
        )
        .bind(r#ref)
        .bind(purpose)
        .fetch_one(c)
        .await)?;
        Ok(at.map(|a| a as u64))
    }

    /// The SMS rate limits (issue 11 §4): with `min_interval` seconds between two SMS codes and
    /// at most `per_hour` in any hour, to `phone` and to `customer_id` (each 0: no limit).
    /// `Some(seconds)`: refused, try again then; `None`: allowed, and the send is recorded.
    pub async fn sms_allowed(
        &mut self,
        now: u64,
        phone: &str,
        customer_id: Option<i64>,
        min_interval: u64,
        per_hour: u32,
    ) -> Result<Option<u64>, StoreError> {
        const HOUR: i64 = 3600;
        let now_i = now as i64;
        conn!(&mut self.conn, |c| sqlx::query("DELETE FROM sms_sends WHERE at <= $1")
            .bind(now_i - HOUR)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        let mut wait: i64 = 0;
        // The phone, and the customer when there is one: each bound as its column's type.
        enum Key<'a> {
            Phone(&'a str),
            Customer(i64),
        }
        macro_rules! bind_key {
            ($q:expr, $key:expr) => {
                match $key {
                    Key::Phone(p) => $q.bind(p),
                    Key::Customer(id) => $q.bind(id),
                }
            };
        }
        let keys = [
            ("phone", Some(Key::Phone(phone))),
            ("customer_id", customer_id.map(Key::Customer)),
        ];
        for (column, key) in keys {
            let Some(key) = key else { continue };
            if min_interval > 0 {
                let sql = format!("SELECT max(at) FROM sms_sends WHERE {column} = $1");
                let last: Option<i64> = conn!(&mut self.conn, |c| bind_key!(sqlx::query_scalar(&sql), &key)
                    .fetch_one(c)
                    .await)?;
                if let Some(last) = last {
                    wait = wait.max(last + min_interval as i64 - now_i);
                }
            }
            if per_hour > 0 {
                let sql = format!("SELECT count(*) FROM sms_sends WHERE {column} = $1");
                let n: i64 = conn!(&mut self.conn, |c| bind_key!(sqlx::query_scalar(&sql), &key)
                    .fetch_one(c)
                    .await)?;
                if n >= i64::from(per_hour) {
                    // The send that must leave the hour's window before another may go.
                    let sql = format!("SELECT at FROM sms_sends WHERE {column} = $1 ORDER BY at LIMIT 1 OFFSET $2");
                    let leaving: i64 = conn!(&mut self.conn, |c| bind_key!(sqlx::query_scalar(&sql), &key)
                        .bind(n - i64::from(per_hour))
                        .fetch_one(c)
                        .await)?;
                    wait = wait.max(leaving + HOUR - now_i);
                }
            }
        }
        if wait > 0 {
            return Ok(Some(wait as u64));
        }
        conn!(&mut self.conn, |c| sqlx::query(
            "INSERT INTO sms_sends (phone, customer_id, at) VALUES ($1, $2, $3)"
        )
        .bind(phone)
        .bind(customer_id)
        .bind(now_i)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(None)
    }

    /// Stores an OTP (its hash).
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_otp(
        &mut self,
        at: u64,
        id: &str,
        customer_id: i64,
        purpose: &str,
        r#ref: &str,
        hash: &[u8],
        expires_at: u64,
    ) -> Result<(), StoreError> {
        conn!(&mut self.conn, |c| {
            sqlx::query(
            "INSERT INTO otps (id, customer_id, purpose, ref, hash, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(customer_id)
        .bind(purpose)
        .bind(r#ref)
        .bind(hash)
        .bind(expires_at as i64)
        .bind(at as i64)
        .execute(c)
        .await.map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Uses an OTP once; `false` if already used, expired, or it took `max_failures` wrong
    /// answers.
    pub async fn use_otp(&mut self, id: &str, at: u64, max_failures: i64) -> Result<bool, StoreError> {
        let done = conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE otps SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND expires_at > $1 AND failures < $3",
        )
        .bind(at as i64)
        .bind(id)
        .bind(max_failures)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Counts a wrong answer to one OTP while it has taken fewer than `limit`; returns its
    /// failures, or `None` when it had already taken `limit` (nothing counted).
    pub async fn otp_failed(&mut self, id: &str, limit: i64) -> Result<Option<i64>, StoreError> {
        Ok(conn!(&mut self.conn, |c| sqlx::query_scalar(
            "UPDATE otps SET failures = failures + 1 WHERE id = $1 AND failures < $2 RETURNING failures",
        )
        .bind(id)
        .bind(limit)
        .fetch_optional(c)
        .await)?)
    }
}
