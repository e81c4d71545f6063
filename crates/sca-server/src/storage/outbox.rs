//! Writes of the outbox: messages queued in the batch that decides them, delivered after its
//! commit by the gateway (`messages.rs`), and marked as they are.

use super::StoreError;
use super::db::conn;
use super::writer::WriteCtx;

impl WriteCtx {
    /// Queues a message in the outbox (delivered after commit by the gateway).
    pub async fn outbox(&mut self, at: u64, recipient: &str, channel: &str, body: &str) -> Result<(), StoreError> {
        conn!(&mut self.conn, |c| sqlx::query(
            "INSERT INTO outbox (recipient, channel, body, created_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(recipient)
        .bind(channel)
        .bind(body)
        .bind(at as i64)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Marks outbox messages delivered; unless `keep_body`, their text (which may hold an OTP)
    /// is dropped.
    pub async fn outbox_delivered(&mut self, ids: &[i64], at: u64, keep_body: bool) -> Result<(), StoreError> {
        for id in ids {
            let sql = if keep_body {
                "UPDATE outbox SET delivered_at = $1, attempts = attempts + 1 WHERE id = $2"
            } else {
                "UPDATE outbox SET delivered_at = $1, attempts = attempts + 1, body = '[delivered]' WHERE id = $2"
            };
            conn!(&mut self.conn, |c| sqlx::query(sql)
                .bind(at as i64)
                .bind(id)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    /// Counts a failed delivery attempt.
    pub async fn outbox_attempt_failed(&mut self, id: i64) -> Result<(), StoreError> {
        conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1 WHERE id = $1"
        )
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
