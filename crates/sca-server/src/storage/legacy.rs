//! Acquired banks and their customers' legacy records (rules in `crate::legacy`).

use super::db::{conn, pool};
use super::writer::WriteCtx;
use super::{Store, StoreError};
use crate::legacy::LegacyRow;

/// An acquired bank, with how far its customers' migration has come.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AcquiredBankRow {
    /// Row id.
    pub id: i64,
    /// `ubi`.
    pub code: String,
    /// `UBI Banca`.
    pub name: String,
    /// Unix seconds.
    pub opens_at: i64,
    /// Unix seconds, if it closes.
    pub closes_at: Option<i64>,
    /// Customers imported and not moved yet (blocked ones included).
    pub pending: i64,
    /// Customers moved to new credentials.
    pub migrated: i64,
    /// Customers whose legacy credential is blocked.
    pub blocked: i64,
}

const BANK_COLUMNS: &str = "b.id, b.code, b.name, b.opens_at, b.closes_at, \
     CAST(coalesce(sum(CASE WHEN l.status = 'pending' THEN 1 ELSE 0 END), 0) AS BIGINT) AS pending, \
     CAST(coalesce(sum(CASE WHEN l.status = 'migrated' THEN 1 ELSE 0 END), 0) AS BIGINT) AS migrated, \
     CAST(coalesce(sum(CASE WHEN l.blocked_at IS NOT NULL AND l.status = 'pending' THEN 1 ELSE 0 END), 0) AS BIGINT) AS blocked \
     FROM acquired_banks b LEFT JOIN legacy_customers l ON l.bank_id = b.id";

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Imported {
    /// New legacy customers.
    pub added: usize,
    /// Customers already imported (by legacy code), left as they were.
    pub unchanged: usize,
}

impl WriteCtx {
    /// Makes the acquired bank `code`, or updates its name and dates: its row id.
    pub async fn upsert_acquired_bank(
        &mut self,
        at: u64,
        code: &str,
        name: &str,
        opens_at: i64,
        closes_at: Option<i64>,
    ) -> Result<i64, StoreError> {
        Ok(conn!(&mut self.conn, |c| sqlx::query_scalar(
            "INSERT INTO acquired_banks (code, name, opens_at, closes_at, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, opens_at = excluded.opens_at, \
             closes_at = excluded.closes_at RETURNING id"
        )
        .bind(code)
        .bind(name)
        .bind(opens_at)
        .bind(closes_at)
        .bind(at as i64)
        .fetch_one(c)
        .await)?)
    }

    /// The IBANs among `ibans` that are already an account here, or a legacy account of a
    /// customer other than (`bank_id`, `legacy_code`).
    pub async fn ibans_taken(
        &mut self,
        bank_id: i64,
        legacy_code: &str,
        ibans: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let mut taken = Vec::new();
        for iban in ibans {
            let found: i64 = conn!(&mut self.conn, |c| sqlx::query_scalar(
                "SELECT (SELECT count(*) FROM accounts WHERE iban = $1) + \
                        (SELECT count(*) FROM legacy_accounts a JOIN legacy_customers l ON l.id = a.legacy_customer_id \
                          WHERE a.iban = $1 AND NOT (l.bank_id = $2 AND l.legacy_code = $3))"
            )
            .bind(iban)
            .bind(bank_id)
            .bind(legacy_code)
            .fetch_one(c)
            .await)?;
            if found > 0 {
                taken.push(iban.clone());
            }
        }
        Ok(taken)
    }

    /// Imports a legacy customer of `bank_id` with its accounts, unless its legacy code is there
    /// already: whether it was added.
    pub async fn insert_legacy(&mut self, at: u64, bank_id: i64, row: &LegacyRow) -> Result<bool, StoreError> {
        let id: Option<i64> = conn!(&mut self.conn, |c| {
            sqlx::query_scalar(
            "INSERT INTO legacy_customers (bank_id, legacy_code, password_hash, name, phone, email, auth_method, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (bank_id, legacy_code) DO NOTHING RETURNING id"
        )
        .bind(bank_id)
        .bind(&row.legacy_code)
        .bind(&row.password_hash)
        .bind(&row.name)
        .bind(&row.phone)
        .bind(&row.email)
        .bind(row.auth)
        .bind(at as i64)
        .fetch_optional(c)
        .await
        })?;
        let Some(id) = id else {
            return Ok(false);
        };
        for a in &row.accounts {
            conn!(&mut self.conn, |c| sqlx::query(
                "INSERT INTO legacy_accounts (legacy_customer_id, iban, name, balance_minor, currency) \
                 VALUES ($1, $2, $3, $4, $5)"
            )
            .bind(id)
            .bind(&a.iban)
            .bind(&a.name)
            .bind(a.balance_minor)
            .bind(&a.currency)
            .execute(c)
            .await
            .map(|_| ()))?;
        }
        Ok(true)
    }

    /// The acquired bank `code`'s row id.
    pub async fn acquired_bank_id(&mut self, code: &str) -> Result<Option<i64>, StoreError> {
        Ok(conn!(&mut self.conn, |c| sqlx::query_scalar(
            "SELECT id FROM acquired_banks WHERE code = $1"
        )
        .bind(code)
        .fetch_optional(c)
        .await)?)
    }
}

impl Store {
    /// The acquired banks, with their migration's progress, in the order they were made.
    pub async fn acquired_banks(&self) -> Result<Vec<AcquiredBankRow>, StoreError> {
        let sql = format!("SELECT {BANK_COLUMNS} GROUP BY b.id, b.code, b.name, b.opens_at, b.closes_at ORDER BY b.id");
        Ok(pool!(&self.read, |p| sqlx::query_as(&sql).fetch_all(p).await)?)
    }

    /// How many legacy customers `bank_code` has (tests and reports).
    pub async fn legacy_count(&self, bank_code: &str) -> Result<i64, StoreError> {
        Ok(pool!(&self.read, |p| sqlx::query_scalar(
            "SELECT count(*) FROM legacy_customers l JOIN acquired_banks b ON b.id = l.bank_id WHERE b.code = $1"
        )
        .bind(bank_code)
        .fetch_one(p)
        .await)?)
    }
}
