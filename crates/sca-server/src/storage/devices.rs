//! Writes of devices and activations, the once-only device requests and the accepted time steps.

use super::db::conn;
use super::writer::WriteCtx;
use super::{ActivationRow, ActivationSource, ActivationStatus, StoreError};

impl WriteCtx {
    /// Accepts a LOGIN or TRANSACTION step for a device only above the last one accepted.
    pub async fn accept_step(&mut self, device_id: &str, transaction: bool, step: u64) -> Result<bool, StoreError> {
        let sql = if transaction {
            "UPDATE devices SET last_transaction_step = $1 WHERE id = $2 AND status = 'active' AND last_transaction_step < $1"
        } else {
            "UPDATE devices SET last_login_step = $1 WHERE id = $2 AND status = 'active' AND last_login_step < $1"
        };
        let done = conn!(&mut self.conn, |c| sqlx::query(sql)
            .bind(step as i64)
            .bind(device_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Records a device-signed request by `key` until `until`; `false` if it was already
    /// recorded (a replay). Records past their time are dropped on the way.
    pub async fn first_use_of_request(&mut self, key: &[u8; 32], until: u64, now: u64) -> Result<bool, StoreError> {
        conn!(&mut self.conn, |c| sqlx::query(
            "DELETE FROM device_requests_seen WHERE expires_at < $1"
        )
        .bind(now as i64)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        let done = conn!(&mut self.conn, |c| sqlx::query(
            "INSERT INTO device_requests_seen (key, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        )
        .bind(&key[..])
        .bind(until as i64)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Stores an activation.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_activation(
        &mut self,
        at: u64,
        id: &str,
        customer_id: i64,
        source: ActivationSource,
        source_device: Option<&str>,
        operation_row: Option<i64>,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        conn!(&mut self.conn, |c| {
            sqlx::query(
            "INSERT INTO activations (id, customer_id, source, source_device, operation_id, status, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'awaiting_keys', $6, $7)",
        )
        .bind(id)
        .bind(customer_id)
        .bind(source)
        .bind(source_device)
        .bind(operation_row)
        .bind(expires_at as i64)
        .bind(at as i64)
        .execute(c)
        .await.map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// The activation as this batch sees it.
    pub async fn activation(&mut self, id: &str) -> Result<Option<ActivationRow>, StoreError> {
        Ok(conn!(&mut self.conn, |c| sqlx::query_as(
            "SELECT id, customer_id, source, operation_id, status, expires_at, device_id, device_name, device_pub, \
             secrets FROM activations WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(c)
        .await)?)
    }

    /// Records the key exchange: `awaiting_keys` → `awaiting_confirm`; `false` if not awaiting keys.
    pub async fn activation_keys(
        &mut self,
        id: &str,
        device_id: &str,
        name: &str,
        device_pub: &[u8],
        sealed: &[u8],
    ) -> Result<bool, StoreError> {
        let done = conn!(&mut self.conn, |c| {
            sqlx::query(
            "UPDATE activations SET status = 'awaiting_confirm', device_id = $1, device_name = $2, device_pub = $3, \
             secrets = $4 WHERE id = $5 AND status = 'awaiting_keys'",
        )
        .bind(device_id)
        .bind(name)
        .bind(device_pub)
        .bind(sealed)
        .bind(id)
        .execute(c)
        .await.map(|r| r.rows_affected())
        })?;
        Ok(done == 1)
    }

    /// Ends an activation (`active` or `failed`) from `from`; `false` if it was not in `from`.
    pub async fn finish_activation(
        &mut self,
        id: &str,
        from: ActivationStatus,
        to: ActivationStatus,
    ) -> Result<bool, StoreError> {
        let done = conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE activations SET status = $1, secrets = NULL WHERE id = $2 AND status = $3"
        )
        .bind(to)
        .bind(id)
        .bind(from)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Stores an active device.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_device(
        &mut self,
        at: u64,
        id: &str,
        customer_id: i64,
        name: &str,
        public_key: &[u8],
        sealed: &[u8],
    ) -> Result<(), StoreError> {
        conn!(&mut self.conn, |c| sqlx::query(
            "INSERT INTO devices (id, customer_id, name, public_key, secrets, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'active', $6)",
        )
        .bind(id)
        .bind(customer_id)
        .bind(name)
        .bind(public_key)
        .bind(sealed)
        .bind(at as i64)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Renames an active device of the customer; `false` if none.
    pub async fn rename_device(&mut self, customer_id: i64, id: &str, name: &str) -> Result<bool, StoreError> {
        let done = conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE devices SET name = $1 WHERE id = $2 AND customer_id = $3 AND status = 'active'"
        )
        .bind(name)
        .bind(id)
        .bind(customer_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Removes an active device of the customer and wipes its secrets; `false` if none.
    pub async fn remove_device(&mut self, at: u64, customer_id: i64, id: &str) -> Result<bool, StoreError> {
        let done = conn!(&mut self.conn, |c| {
            sqlx::query(
            "UPDATE devices SET status = 'removed', removed_at = $1, secrets = $4 WHERE id = $2 AND customer_id = $3 \
             AND status = 'active'",
        )
        .bind(at as i64)
        .bind(id)
        .bind(customer_id)
        .bind(&[][..] as &[u8])
        .execute(c)
        .await.map(|r| r.rows_affected())
        })?;
        Ok(done == 1)
    }

    /// Whether `id` is an active device of the customer, read inside the write.
    pub async fn device_active(&mut self, customer_id: i64, id: &str) -> Result<bool, StoreError> {
        let found: Option<i32> = conn!(&mut self.conn, |c| sqlx::query_scalar(
            "SELECT 1 FROM devices WHERE id = $1 AND customer_id = $2 AND status = 'active'"
        )
        .bind(id)
        .bind(customer_id)
        .fetch_optional(c)
        .await)?;
        Ok(found.is_some())
    }
}
