//! Acquired banks and their customers' legacy records (rules in `crate::legacy`).

use super::db::{conn, pool};
use super::writer::{Counted, LegacyHolder, WriteCtx};
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

/// A legacy customer with its acquired bank, as a first access reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LegacyCustomerRow {
    /// `legacy_customers.id`.
    pub id: i64,
    /// The acquired bank's code.
    pub bank_code: String,
    /// The acquired bank's name.
    pub bank_name: String,
    /// Unix seconds.
    pub opens_at: i64,
    /// Unix seconds.
    pub closes_at: Option<i64>,
    /// The old bank's customer code.
    pub legacy_code: String,
    /// PHC or bcrypt MCF.
    pub password_hash: String,
    /// Full name.
    pub name: String,
    /// The mobile the old bank certified.
    pub phone: String,
    /// E-mail.
    pub email: String,
    /// `app` | `card`.
    pub auth_method: String,
    /// `pending` | `migrated`.
    pub status: String,
    /// The new customer, once made.
    pub customer_id: Option<i64>,
    /// Where a half-finished first access stopped: `phone` | `email`.
    pub reached: Option<String>,
    /// Unix seconds, when blocked.
    pub blocked_at: Option<i64>,
}

impl LegacyCustomerRow {
    /// As a block needs it.
    pub fn holder(&self) -> LegacyHolder {
        LegacyHolder {
            key: LegacyHolder::key_of(&self.bank_code, &self.legacy_code),
            known: Some(super::writer::LegacyKnown {
                id: self.id,
                bank_name: self.bank_name.clone(),
                phone: self.phone.clone(),
                email: self.email.clone(),
            }),
        }
    }
}

const LEGACY_COLUMNS: &str = "l.id, b.code AS bank_code, b.name AS bank_name, b.opens_at, b.closes_at, l.legacy_code, \
     l.password_hash, l.name, l.phone, l.email, l.auth_method, l.status, l.customer_id, l.reached, l.blocked_at \
     FROM legacy_customers l JOIN acquired_banks b ON b.id = l.bank_id";

/// A first access with its legacy customer, and the new customer once made.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FirstAccessRow {
    /// Random id.
    pub id: String,
    /// `legacy_customers.id`.
    pub legacy_customer_id: i64,
    /// What comes next.
    pub step: String,
    /// SHA-256(id || step || code) of the current step's code.
    pub code_hash: Option<Vec<u8>>,
    /// Where it went.
    pub code_to: Option<String>,
    /// Unix seconds.
    pub code_sent_at: Option<i64>,
    /// Unix seconds.
    pub code_expires_at: Option<i64>,
    /// Wrong answers to the current code.
    pub code_failures: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// Unix seconds: done, or stopped by a newer one.
    pub ended_at: Option<i64>,
    /// Codes sent so far.
    pub sends: i64,
}

impl WriteCtx {
    /// When the legacy customer's credential was blocked, if it is.
    pub async fn legacy_blocked_at(&mut self, id: i64) -> Result<Option<i64>, StoreError> {
        Ok(conn!(&mut self.conn, |c| sqlx::query_scalar(
            "SELECT blocked_at FROM legacy_customers WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(c)
        .await)?
        .flatten())
    }

    /// What a block of a legacy credential does (the code behind it exists): the block, the
    /// alert by SMS and e-mail, the end of its first accesses, the audit.
    pub async fn legacy_blocked(&mut self, at: u64, holder: &LegacyHolder, max: u32) -> Result<(), StoreError> {
        let Some(known) = &holder.known else {
            return Ok(());
        };
        conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE legacy_customers SET blocked_at = coalesce(blocked_at, $2) WHERE id = $1"
        )
        .bind(known.id)
        .bind(at as i64)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE first_accesses SET ended_at = $2 WHERE legacy_customer_id = $1 AND ended_at IS NULL"
        )
        .bind(known.id)
        .bind(at as i64)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        let text = crate::texts::legacy_blocked_alert(&known.bank_name, max);
        self.outbox(at, &known.phone, "sms", &text).await?;
        self.outbox(at, &known.email, "email", &text).await?;
        self.audit(at, "legacy_credential_blocked", &holder.key, "").await
    }

    /// Counts a wrong code (SMS or e-mail) of a first access against the legacy credential: on
    /// the `max`-th in a row it is blocked.
    pub async fn legacy_code_wrong(&mut self, at: u64, holder: &LegacyHolder, max: u32) -> Result<Counted, StoreError> {
        let failures: i64 = conn!(&mut self.conn, |c| sqlx::query_scalar(
            "INSERT INTO legacy_failures AS f (key, credential, failures, pending, updated_at) \
             VALUES ($1, 'sms_otp', 1, 0, $2) ON CONFLICT (key, credential) DO UPDATE \
             SET failures = f.failures + 1, updated_at = $2 RETURNING failures"
        )
        .bind(&holder.key)
        .bind(at as i64)
        .fetch_one(c)
        .await)?;
        let failures = u32::try_from(failures).unwrap_or(u32::MAX);
        self.audit(at, "legacy_code_wrong", &holder.key, &format!("failures={failures}"))
            .await?;
        if failures == max {
            self.legacy_blocked(at, holder, max).await?;
        }
        if failures >= max {
            return Ok(Counted::Blocked);
        }
        Ok(Counted::Wrong {
            attempts_left: max - failures,
        })
    }

    /// A right code: the count of wrong codes starts again.
    pub async fn legacy_code_right(&mut self, holder: &LegacyHolder) -> Result<(), StoreError> {
        conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE legacy_failures SET failures = 0 WHERE key = $1 AND credential = 'sms_otp'"
        )
        .bind(&holder.key)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The branch's unblock of a legacy credential: its block and its counts of wrong passwords
    /// and codes end (attempts being evaluated now stay taken).
    pub async fn unblock_legacy(&mut self, at: u64, holder: &LegacyHolder) -> Result<(), StoreError> {
        if let Some(known) = &holder.known {
            conn!(&mut self.conn, |c| sqlx::query(
                "UPDATE legacy_customers SET blocked_at = NULL WHERE id = $1"
            )
            .bind(known.id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        }
        conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE legacy_failures SET failures = 0, blocked_at = NULL, \
             pending = CASE WHEN coalesce(taken_at, 0) < $2 THEN 0 ELSE pending END WHERE key = $1"
        )
        .bind(&holder.key)
        .bind(at as i64 - super::credentials::UNSETTLED_AFTER_SECS)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        self.audit(at, "legacy_unblocked", &holder.key, "branch").await
    }

    /// Starts a first access of legacy customer `legacy_id` at step `sms` with its code; any
    /// earlier one still open ends.
    #[allow(clippy::too_many_arguments)]
    pub async fn start_first_access(
        &mut self,
        at: u64,
        id: &str,
        legacy_id: i64,
        expires_at: u64,
        code_hash: &[u8],
        code_to: &str,
        code_expires_at: u64,
    ) -> Result<(), StoreError> {
        conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE first_accesses SET ended_at = $2 WHERE legacy_customer_id = $1 AND ended_at IS NULL"
        )
        .bind(legacy_id)
        .bind(at as i64)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        conn!(&mut self.conn, |c| {
            sqlx::query(
            "INSERT INTO first_accesses (id, legacy_customer_id, step, code_hash, code_to, code_sent_at, code_expires_at, \
             expires_at, created_at, sends) VALUES ($1, $2, 'sms', $3, $4, $5, $6, $7, $5, 1)"
        )
        .bind(id)
        .bind(legacy_id)
        .bind(code_hash)
        .bind(code_to)
        .bind(at as i64)
        .bind(code_expires_at as i64)
        .bind(expires_at as i64)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// A first access as it is now, inside the write that changes it.
    pub async fn first_access(&mut self, id: &str) -> Result<Option<FirstAccessRow>, StoreError> {
        let sql = format!("SELECT {FIRST_ACCESS_COLUMNS} FROM first_accesses WHERE id = $1");
        Ok(conn!(&mut self.conn, |c| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(c)
            .await)?)
    }

    /// The legacy customer `id`, inside a write.
    pub async fn legacy_customer(&mut self, id: i64) -> Result<Option<LegacyCustomerRow>, StoreError> {
        let sql = format!("SELECT {LEGACY_COLUMNS} WHERE l.id = $1");
        Ok(conn!(&mut self.conn, |c| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(c)
            .await)?)
    }

    /// Moves a first access to `step` (a code of the step before is gone), 20 minutes on.
    pub async fn set_first_access_step(&mut self, id: &str, step: &str, expires_at: u64) -> Result<(), StoreError> {
        conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE first_accesses SET step = $2, expires_at = $3, code_hash = NULL, code_to = NULL, \
             code_expires_at = NULL, code_sent_at = NULL, code_failures = 0 WHERE id = $1"
        )
        .bind(id)
        .bind(step)
        .bind(expires_at as i64)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Gives a first access a fresh code for `step` (sent to `to`).
    pub async fn set_first_access_code(
        &mut self,
        at: u64,
        id: &str,
        step: &str,
        hash: &[u8],
        to: &str,
        code_expires_at: u64,
    ) -> Result<(), StoreError> {
        conn!(&mut self.conn, |c| {
            sqlx::query(
            "UPDATE first_accesses SET step = $2, code_hash = $3, code_to = $4, code_sent_at = $5, code_expires_at = $6, \
             code_failures = 0, sends = sends + 1 WHERE id = $1"
        )
        .bind(id)
        .bind(step)
        .bind(hash)
        .bind(to)
        .bind(at as i64)
        .bind(code_expires_at as i64)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Counts a wrong answer to a first access's current code: its failures now.
    pub async fn first_access_code_failed(&mut self, id: &str) -> Result<i64, StoreError> {
        Ok(conn!(&mut self.conn, |c| sqlx::query_scalar(
            "UPDATE first_accesses SET code_failures = code_failures + 1 WHERE id = $1 RETURNING code_failures"
        )
        .bind(id)
        .fetch_one(c)
        .await)?)
    }

    /// Ends a first access (done).
    pub async fn end_first_access(&mut self, at: u64, id: &str) -> Result<(), StoreError> {
        conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE first_accesses SET ended_at = $2 WHERE id = $1"
        )
        .bind(id)
        .bind(at as i64)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Links the new customer to its legacy record, once: `false` when it already has one.
    pub async fn link_legacy_customer(&mut self, legacy_id: i64, customer_id: i64) -> Result<bool, StoreError> {
        let n = conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE legacy_customers SET customer_id = $2, reached = 'phone' WHERE id = $1 AND customer_id IS NULL"
        )
        .bind(legacy_id)
        .bind(customer_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Where a half-finished first access of this legacy customer stopped.
    pub async fn set_legacy_reached(&mut self, legacy_id: i64, reached: &str) -> Result<(), StoreError> {
        conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE legacy_customers SET reached = $2 WHERE id = $1"
        )
        .bind(legacy_id)
        .bind(reached)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The end of a first access: the legacy customer has moved, its accounts are the new
    /// customer's (with their balances), and the new customer logs in. `false` when it had
    /// moved already (nothing changed).
    pub async fn migrate_legacy(&mut self, at: u64, legacy_id: i64, customer_id: i64) -> Result<bool, StoreError> {
        let n = conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE legacy_customers SET status = 'migrated', reached = NULL WHERE id = $1 AND status = 'pending' \
             AND customer_id = $2"
        )
        .bind(legacy_id)
        .bind(customer_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        if n != 1 {
            return Ok(false);
        }
        conn!(&mut self.conn, |c| {
            sqlx::query(
            "INSERT INTO accounts (customer_id, iban, name, balance_minor, currency, created_at) \
             SELECT $2, iban, name, balance_minor, currency, $3 FROM legacy_accounts WHERE legacy_customer_id = $1 ORDER BY id"
        )
        .bind(legacy_id)
        .bind(customer_id)
        .bind(at as i64)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE customers SET first_access_pending = $2 WHERE id = $1"
        )
        .bind(customer_id)
        .bind(false)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(true)
    }

    /// A first-access customer's new password, alias (and security code): a restart.
    pub async fn reset_first_access_credentials(
        &mut self,
        customer_id: i64,
        password_hash: &str,
        security_code_hash: &str,
    ) -> Result<(), StoreError> {
        conn!(&mut self.conn, |c| {
            sqlx::query(
            "UPDATE customers SET password_hash = $2, security_code_hash = $3 WHERE id = $1 AND first_access_pending = $4"
        )
        .bind(customer_id)
        .bind(password_hash)
        .bind(security_code_hash)
        .bind(true)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Sets a customer's SCA policy (`push` | `sms`): whether it changed.
    pub async fn set_sca_policy(&mut self, customer_id: i64, policy: &str) -> Result<bool, StoreError> {
        let n = conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE customers SET sca_policy = $2 WHERE id = $1 AND sca_policy <> $2"
        )
        .bind(customer_id)
        .bind(policy)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// A customer's user code.
    pub async fn user_code_of(&mut self, customer_id: i64) -> Result<String, StoreError> {
        Ok(conn!(&mut self.conn, |c| sqlx::query_scalar(
            "SELECT user_code FROM customers WHERE id = $1"
        )
        .bind(customer_id)
        .fetch_one(c)
        .await)?)
    }

    /// A customer's certified phone or e-mail.
    pub async fn set_contact(
        &mut self,
        customer_id: i64,
        phone: Option<&str>,
        email: Option<&str>,
    ) -> Result<(), StoreError> {
        conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE customers SET phone = coalesce($2, phone), email = coalesce($3, email) WHERE id = $1"
        )
        .bind(customer_id)
        .bind(phone)
        .bind(email)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

const FIRST_ACCESS_COLUMNS: &str = "id, legacy_customer_id, step, code_hash, code_to, code_sent_at, \
     code_expires_at, code_failures, expires_at, ended_at, sends";

impl Store {
    /// A first access.
    pub async fn first_access(&self, id: &str) -> Result<Option<FirstAccessRow>, StoreError> {
        let sql = format!("SELECT {FIRST_ACCESS_COLUMNS} FROM first_accesses WHERE id = $1");
        Ok(pool!(&self.read, |p| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(p)
            .await)?)
    }

    /// The legacy customer `id`.
    pub async fn legacy_customer_by_id(&self, id: i64) -> Result<Option<LegacyCustomerRow>, StoreError> {
        let sql = format!("SELECT {LEGACY_COLUMNS} WHERE l.id = $1");
        Ok(pool!(&self.read, |p| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(p)
            .await)?)
    }

    /// The old password hash of the acquired bank's first customer: what a legacy code that
    /// never existed is checked against, so that it costs what the bank's own hashes cost.
    pub async fn legacy_sample_hash(&self, bank_code: &str) -> Result<Option<String>, StoreError> {
        Ok(pool!(&self.read, |p| sqlx::query_scalar(
            "SELECT l.password_hash FROM legacy_customers l JOIN acquired_banks b ON b.id = l.bank_id \
             WHERE b.code = $1 ORDER BY l.id LIMIT 1"
        )
        .bind(bank_code)
        .fetch_optional(p)
        .await)?)
    }

    /// The legacy customer `legacy_code` of the acquired bank `bank_code`.
    pub async fn legacy_customer(
        &self,
        bank_code: &str,
        legacy_code: &str,
    ) -> Result<Option<LegacyCustomerRow>, StoreError> {
        let sql = format!("SELECT {LEGACY_COLUMNS} WHERE b.code = $1 AND l.legacy_code = $2");
        Ok(pool!(&self.read, |p| sqlx::query_as(&sql)
            .bind(bank_code)
            .bind(legacy_code)
            .fetch_optional(p)
            .await)?)
    }

    /// The acquired bank `code`: its name and dates.
    pub async fn acquired_bank(&self, code: &str) -> Result<Option<AcquiredBankRow>, StoreError> {
        let sql =
            format!("SELECT {BANK_COLUMNS} WHERE b.code = $1 GROUP BY b.id, b.code, b.name, b.opens_at, b.closes_at");
        Ok(pool!(&self.read, |p| sqlx::query_as(&sql)
            .bind(code)
            .fetch_optional(p)
            .await)?)
    }

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
