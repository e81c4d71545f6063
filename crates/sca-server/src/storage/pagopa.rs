//! pagoPA: the creditors the bank can pay, and the notices its PAGOPA operations pay (rules in
//! `crate::api::pagopa`; paid once: the approval statement in `operations.rs`).

use super::db::{conn, pool};
use super::writer::WriteCtx;
use super::{Store, StoreError};

/// A public body that issues pagoPA notices, as the bank knows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CreditorRow {
    /// 11 digits.
    pub fiscal_code: String,
    /// Its name, as the customer reads it.
    pub name: String,
    /// Where the bank pays it.
    pub iban: String,
}

impl Store {
    /// A creditor by its fiscal code.
    pub async fn pagopa_creditor(&self, fiscal_code: &str) -> Result<Option<CreditorRow>, StoreError> {
        Ok(pool!(&self.read, |p| sqlx::query_as(
            "SELECT fiscal_code, name, iban FROM pagopa_creditors WHERE fiscal_code = $1"
        )
        .bind(fiscal_code)
        .fetch_optional(p)
        .await)?)
    }

    /// Whether a notice has been paid (by any customer: a notice is paid once).
    pub async fn pagopa_notice_paid(&self, fiscal_code: &str, notice_code: &str) -> Result<bool, StoreError> {
        let found: Option<i64> = pool!(&self.read, |p| sqlx::query_scalar(
            "SELECT operation_id FROM pagopa_payments \
             WHERE creditor_fiscal_code = $1 AND notice_code = $2 AND paid_at IS NOT NULL"
        )
        .bind(fiscal_code)
        .bind(notice_code)
        .fetch_optional(p)
        .await)?;
        Ok(found.is_some())
    }
}

impl WriteCtx {
    /// The amount (cents) a notice asks for; a sandbox's creditor issues an unknown notice at
    /// `asked` first (`issue`), anyone else's is `None`. One statement each, so that two first
    /// requests of one notice agree on the amount.
    pub async fn pagopa_notice_amount(
        &mut self,
        fiscal_code: &str,
        notice_code: &str,
        asked: i64,
        issue: bool,
        at: u64,
    ) -> Result<Option<i64>, StoreError> {
        if issue {
            conn!(&mut self.conn, |x| sqlx::query(
                "INSERT INTO pagopa_notices (creditor_fiscal_code, notice_code, amount_minor, issued_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (creditor_fiscal_code, notice_code) DO NOTHING"
            )
            .bind(fiscal_code)
            .bind(notice_code)
            .bind(asked)
            .bind(at as i64)
            .execute(x)
            .await
            .map(|_| ()))?;
        }
        Ok(conn!(&mut self.conn, |x| sqlx::query_scalar(
            "SELECT amount_minor FROM pagopa_notices WHERE creditor_fiscal_code = $1 AND notice_code = $2"
        )
        .bind(fiscal_code)
        .bind(notice_code)
        .fetch_optional(x)
        .await)?)
    }

    /// Adds or renames a creditor (the sandbox's list at start; idempotent).
    pub async fn put_pagopa_creditor(&mut self, c: &CreditorRow) -> Result<(), StoreError> {
        conn!(&mut self.conn, |x| sqlx::query(
            "INSERT INTO pagopa_creditors (fiscal_code, name, iban) VALUES ($1, $2, $3) \
             ON CONFLICT (fiscal_code) DO UPDATE SET name = excluded.name, iban = excluded.iban"
        )
        .bind(&c.fiscal_code)
        .bind(&c.name)
        .bind(&c.iban)
        .execute(x)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Stores the notice a new PAGOPA operation pays, in the operation's commit.
    pub async fn insert_pagopa_payment(
        &mut self,
        operation_id: i64,
        fiscal_code: &str,
        notice_code: &str,
    ) -> Result<(), StoreError> {
        conn!(&mut self.conn, |x| sqlx::query(
            "INSERT INTO pagopa_payments (operation_id, creditor_fiscal_code, notice_code) VALUES ($1, $2, $3)"
        )
        .bind(operation_id)
        .bind(fiscal_code)
        .bind(notice_code)
        .execute(x)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Whether the notice that operation `operation_id` pays has been paid (by it or another).
    pub async fn pagopa_paid_for(&mut self, operation_id: i64) -> Result<bool, StoreError> {
        let found: Option<i64> = conn!(&mut self.conn, |x| sqlx::query_scalar(
            "SELECT q.operation_id FROM pagopa_payments p JOIN pagopa_payments q \
               ON q.creditor_fiscal_code = p.creditor_fiscal_code AND q.notice_code = p.notice_code \
             WHERE p.operation_id = $1 AND q.paid_at IS NOT NULL"
        )
        .bind(operation_id)
        .fetch_optional(x)
        .await)?;
        Ok(found.is_some())
    }
}
