//! Writes of operations: creation, the one conditional UPDATE that approves (its triggers book a
//! transfer), and the other decisions.

use super::db::conn;
use super::writer::{Approval, NewOperation, WriteCtx, inserted_unless_taken};
use super::{Credential, OperationRow, OperationStatus, StoreError};

impl WriteCtx {
    /// Stores a pending operation; `None` if the op id was already used by this customer.
    pub async fn insert_operation(&mut self, at: u64, op: &NewOperation) -> Result<Option<i64>, StoreError> {
        let (account_id, amount, currency, iban, name, description) = match &op.booking {
            Some((b, currency)) => (
                Some(b.account_id),
                Some(b.amount_minor),
                Some(currency.as_str()),
                Some(b.payee_iban.as_str()),
                Some(b.payee_name.as_str()),
                Some(b.description.as_str()),
            ),
            None => (None, None, None, None, None, None),
        };
        self.begin_maybe_taken().await?;
        let r: Result<i64, _> = conn!(&mut self.conn, |c| sqlx::query_scalar(
            "INSERT INTO operations (customer_id, op_id, kind, payload, status, expires_at, login_id, number, \
             account_id, amount_minor, currency, payee_iban, payee_name, description, created_at) \
             VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
        )
        .bind(op.customer_id)
        .bind(&op.op_id)
        .bind(&op.kind)
        .bind(&op.payload)
        .bind(op.expires_at)
        .bind(&op.login_id)
        .bind(op.number)
        .bind(account_id)
        .bind(amount)
        .bind(currency)
        .bind(iban)
        .bind(name)
        .bind(description)
        .bind(at as i64)
        .fetch_one(c)
        .await);
        self.end_maybe_taken(r.is_err()).await?;
        inserted_unless_taken(r)
    }

    /// The operation as this batch sees it.
    pub async fn operation(&mut self, id: i64) -> Result<Option<OperationRow>, StoreError> {
        Ok(conn!(&mut self.conn, |c| sqlx::query_as(
            "SELECT id, customer_id, op_id, kind, payload, status, expires_at, login_id, number, account_id, \
             amount_minor, currency, payee_iban, payee_name, description, created_at FROM operations WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(c)
        .await)?)
    }

    /// Moves a pending operation to `status`; `false` if it was not pending.
    pub async fn decide_operation(
        &mut self,
        id: i64,
        status: OperationStatus,
        at: u64,
        by: &str,
    ) -> Result<bool, StoreError> {
        let done = conn!(&mut self.conn, |c| {
            sqlx::query(
            "UPDATE operations SET status = $1, decided_at = $2, decided_by = $3 WHERE id = $4 AND status = 'pending'",
        )
        .bind(status)
        .bind(at as i64)
        .bind(by)
        .bind(id)
        .execute(c)
        .await.map(|r| r.rows_affected())
        })?;
        Ok(done == 1)
    }

    /// Approves a pending, unexpired operation unless `credential` (a device code or an SMS code)
    /// is blocked, in one statement; its triggers book a transfer's money and reset the count of
    /// the credential it records in `approved_with`. A transfer the account cannot cover is left
    /// pending by that statement and then told apart by a read in the same job (the writer is
    /// alone, so nothing moves in between); the trigger's own refusal stays as the last guard.
    pub async fn approve_operation(
        &mut self,
        id: i64,
        at: u64,
        by: &str,
        customer_id: i64,
        credential: Credential,
        max: u32,
    ) -> Result<Approval, StoreError> {
        self.approve_as(id, at, by, customer_id, credential.as_str(), max).await
    }

    /// Approves a pending, unexpired CARD_PAYMENT by the card's own means (`by`: `exemption`, or
    /// `card` for the SMS code with the Key6), as [`approve_operation`](Self::approve_operation)
    /// does: `approved_with = 'card'`, a credential no customer-wide count holds or resets (the
    /// card's own count is checked by the caller, in the same write).
    pub async fn approve_by_card(
        &mut self,
        id: i64,
        at: u64,
        by: &str,
        customer_id: i64,
    ) -> Result<Approval, StoreError> {
        self.approve_as(id, at, by, customer_id, "card", 0).await
    }

    /// The one approval statement, recording `approved_with`: the credential that answered.
    async fn approve_as(
        &mut self,
        id: i64,
        at: u64,
        by: &str,
        customer_id: i64,
        credential: &str,
        max: u32,
    ) -> Result<Approval, StoreError> {
        let done = conn!(&mut self.conn, |c| approval_query!(
            APPROVE,
            at,
            by,
            id,
            customer_id,
            credential,
            max
        )
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        if done == 1 {
            return Ok(Approval::Approved);
        }
        // Not approved: because the account cannot cover it, or for a reason the caller sorts out.
        let short: Option<i64> = conn!(&mut self.conn, |c| sqlx::query_scalar(SHORT_OF_FUNDS)
            .bind(at as i64)
            .bind(by)
            .bind(id)
            .bind(customer_id)
            .bind(credential)
            .bind(i64::from(max))
            .fetch_optional(c)
            .await)?;
        Ok(if short.is_some() {
            Approval::InsufficientFunds
        } else {
            Approval::NotApproved
        })
    }
}

/// The conditions under which an operation may be approved: pending, unexpired, and the
/// credential that answered not blocked. Parameters: $1 now, $3 the row, $4 the customer,
/// $5 the credential, $6 the attempts allowed ($2 is who approves, for the UPDATE).
macro_rules! approvable {
    () => {
        "o.id = $3 AND o.status = 'pending' AND o.expires_at > $1 AND NOT EXISTS \
         (SELECT 1 FROM credential_failures WHERE customer_id = $4 AND credential = $5 AND failures >= $6)"
    };
}

/// The hot path: one statement, whose triggers book the money and reset the count. A transfer
/// the account cannot cover is left alone (the trigger's own refusal stays as the last guard), and
/// so is a PAGOPA whose notice is paid already.
const APPROVE: &str = concat!(
    "UPDATE operations AS o SET status = 'approved', decided_at = $1, decided_by = $2, approved_with = $5 WHERE ",
    approvable!(),
    " AND (o.account_id IS NULL OR (SELECT balance_minor FROM accounts WHERE id = o.account_id) >= o.amount_minor)",
    // A pagoPA notice is paid once: not when another operation paid it already. (Its trigger
    // marks the notice paid; the unique index on paid notices is the last guard.)
    " AND (o.kind <> 'PAGOPA' OR NOT EXISTS (SELECT 1 FROM pagopa_payments p JOIN pagopa_payments q \
       ON q.creditor_fiscal_code = p.creditor_fiscal_code AND q.notice_code = p.notice_code \
       WHERE p.operation_id = o.id AND q.paid_at IS NOT NULL))"
);

/// Whether an approvable operation was refused for want of funds.
const SHORT_OF_FUNDS: &str = concat!(
    "SELECT o.id FROM operations o WHERE ",
    approvable!(),
    " AND (SELECT balance_minor FROM accounts WHERE id = o.account_id) < o.amount_minor"
);

/// The approval statement with its six parameters bound (a macro: each engine binds its own).
macro_rules! approval_query {
    ($sql:expr, $at:expr, $by:expr, $id:expr, $customer_id:expr, $credential:expr, $max:expr) => {
        sqlx::query($sql)
            .bind($at as i64)
            .bind($by)
            .bind($id)
            .bind($customer_id)
            .bind($credential)
            .bind(i64::from($max))
    };
}
use approval_query;
