//! Writes of operations: creation, the one conditional UPDATE that approves (its triggers book a
//! transfer), and the other decisions.

use super::db::conn;
use super::writer::{Approval, ApprovalAnswer, NewOperation, WriteCtx, inserted_unless_taken};
use super::{OperationRow, OperationStatus, StoreError};

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

    /// Fails operation `id`, whose approval the write refused for money (`short`: the account
    /// short of the amount, or a credit card's monthly limit), recording `decided_by`, and says
    /// which in the audit.
    pub async fn fail_short(
        &mut self,
        id: i64,
        at: u64,
        decided_by: &str,
        customer: &str,
        op_id: &str,
        short: Approval,
    ) -> Result<(), StoreError> {
        let why = if short == Approval::OverLimit {
            "over the card's monthly limit"
        } else {
            "insufficient funds"
        };
        self.decide_operation(id, OperationStatus::Failed, at, decided_by)
            .await?;
        self.audit(at, "operation_failed", customer, &format!("{op_id}: {why}"))
            .await
    }

    /// Approves a pending, unexpired operation unless `credential` (a device code or an SMS code)
    /// is blocked or the answering `device` (when a device answered) is no longer active, in one
    /// statement; its triggers book a transfer's money and reset the count of the credential it
    /// records in `approved_with`. A transfer the account cannot cover is left
    /// pending by that statement and then told apart by a read in the same job (the writer is
    /// alone, so nothing moves in between); the trigger's own refusal stays as the last guard.
    pub async fn approve_operation(&mut self, a: &ApprovalAnswer) -> Result<Approval, StoreError> {
        // Made already, with the approvals next to it in its batch (`approve_many`).
        if matches!(&self.preapproved, Some((made, true)) if made == a) {
            self.preapproved = None;
            return Ok(Approval::Approved);
        }
        self.approve_as(
            a.id,
            a.at,
            &a.by,
            a.customer_id,
            a.credential.as_str(),
            a.max,
            a.device.as_deref(),
        )
        .await
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
        self.approve_as(id, at, by, customer_id, "card", 0, None).await
    }

    /// The one approval statement, recording `approved_with`: the credential that answered.
    #[allow(clippy::too_many_arguments)]
    async fn approve_as(
        &mut self,
        id: i64,
        at: u64,
        by: &str,
        customer_id: i64,
        credential: &str,
        max: u32,
        device: Option<&str>,
    ) -> Result<Approval, StoreError> {
        let postgres = self.conn.engine() == super::db::Engine::Postgres;
        let approve = if postgres { APPROVE_PG } else { APPROVE_SQLITE };
        let done = conn!(&mut self.conn, |c| approval_query!(
            approve,
            at,
            by,
            id,
            customer_id,
            credential,
            max,
            device
        )
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        if done == 1 {
            return Ok(Approval::Approved);
        }
        // Not approved: because the account cannot cover it, because the card's monthly limit
        // does not, or for a reason the caller sorts out.
        let over_limit = if postgres { OVER_LIMIT_PG } else { OVER_LIMIT_SQLITE };
        for (sql, why) in [
            (SHORT_OF_FUNDS, Approval::InsufficientFunds),
            (over_limit, Approval::OverLimit),
        ] {
            let found: Option<i64> = conn!(&mut self.conn, |c| sqlx::query_scalar(sql)
                .bind(at as i64)
                .bind(by)
                .bind(id)
                .bind(customer_id)
                .bind(credential)
                .bind(i64::from(max))
                .bind(device)
                .fetch_optional(c)
                .await)?;
            if found.is_some() {
                return Ok(why);
            }
        }
        Ok(Approval::NotApproved)
    }

    /// On PostgreSQL, makes the approvals of `jobs` (consecutive jobs of a batch, of different
    /// customers: `writer::run_of_approvals`) in one statement ([`APPROVE_MANY`]), inside a
    /// savepoint, all or none: `true` when every one was made. Otherwise the statement is rolled
    /// back (one of them not pending, an account that covers the transfers only one at a time, a
    /// notice paid twice…) and each job makes its own, which tells why. (All or none keeps the
    /// outcome that of the jobs one after another: a statement that made some would have judged
    /// the others on what the database held before any of them.)
    pub(super) fn approve_many(
        &mut self,
        jobs: Vec<ApprovalAnswer>,
    ) -> futures_util::future::BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(async move {
            let super::db::Conn::Pg(c) = &mut self.conn else {
                return Ok(false);
            };
            let n = jobs.len();
            // The columns of `unnest`, one array each.
            #[derive(Default)]
            struct Columns {
                at: Vec<i64>,
                by: Vec<String>,
                id: Vec<i64>,
                customer: Vec<i64>,
                credential: Vec<&'static str>,
                max: Vec<i64>,
                device: Vec<Option<String>>,
                idx: Vec<i32>,
            }
            let mut cols = Columns::default();
            for (i, a) in jobs.into_iter().enumerate() {
                cols.at.push(a.at as i64);
                cols.by.push(a.by);
                cols.id.push(a.id);
                cols.customer.push(a.customer_id);
                cols.credential.push(a.credential.as_str());
                cols.max.push(i64::from(a.max));
                cols.device.push(a.device);
                cols.idx.push(i as i32);
            }
            sqlx::query("SAVEPOINT approve_many").execute(&mut *c).await?;
            let approved: Result<Vec<i32>, sqlx::Error> = sqlx::query_scalar(APPROVE_MANY)
                .bind(&cols.at)
                .bind(&cols.by)
                .bind(&cols.id)
                .bind(&cols.customer)
                .bind(&cols.credential)
                .bind(&cols.max)
                .bind(&cols.device)
                .bind(&cols.idx)
                .fetch_all(&mut *c)
                .await;
            let all = match approved {
                Ok(rows) => {
                    let mut seen = vec![false; n];
                    for i in rows {
                        if let Some(d) = usize::try_from(i).ok().and_then(|i| seen.get_mut(i)) {
                            *d = true;
                        }
                    }
                    seen.iter().all(|d| *d)
                }
                Err(e) => {
                    tracing::debug!(error = %e, "approvals of a batch: one at a time");
                    false
                }
            };
            if !all {
                sqlx::query("ROLLBACK TO approve_many").execute(&mut *c).await?;
            }
            sqlx::query("RELEASE approve_many").execute(&mut *c).await?;
            Ok(all)
        })
    }
}

/// The conditions under which an operation may be approved: pending, unexpired, the credential
/// that answered not blocked, and the device that answered (if one did) still the customer's and
/// active: its keys may still be cached by an instance that missed the hint of its removal.
/// Arguments: the SQL of now, the row, the customer, the credential, the attempts allowed and the
/// answering device or NULL (bound parameters for one approval, columns for a batch of them).
macro_rules! approvable {
    ($now:literal, $id:literal, $customer:literal, $credential:literal, $max:literal, $device:literal) => {
        concat!(
            "o.id = ",
            $id,
            " AND o.status = 'pending' AND o.expires_at > ",
            $now,
            " AND NOT EXISTS (SELECT 1 FROM credential_failures WHERE customer_id = ",
            $customer,
            " AND credential = ",
            $credential,
            " AND failures >= ",
            $max,
            ")",
            " AND (",
            $device,
            " IS NULL OR EXISTS (SELECT 1 FROM devices d WHERE d.id = ",
            $device,
            " AND d.customer_id = ",
            $customer,
            " AND d.status = 'active'))"
        )
    };
    // One approval: $1 now, $3 the row, $4 the customer, $5 the credential, $6 the attempts
    // allowed, $7 the device ($2 is who approves, for the UPDATE).
    () => {
        approvable!("$1", "$3", "$4", "$5", "$6", "$7")
    };
}

/// The start of the UTC calendar month of `$now` (an SQL expression of unix seconds), in unix
/// seconds, in each engine's SQL (`cards::month_start` in Rust).
macro_rules! month_start {
    (sqlite, $now:literal) => {
        concat!(
            "CAST(strftime('%s', ",
            $now,
            ", 'unixepoch', 'start of month') AS INTEGER)"
        )
    };
    (pg, $now:literal) => {
        concat!(
            "CAST(extract(epoch FROM date_trunc('month', to_timestamp(",
            $now,
            ") AT TIME ZONE 'UTC')) AS BIGINT)"
        )
    };
}

/// A card purchase (`o`) that its credit card's monthly limit does not cover: what the card spent
/// since the start of the month of `$now` (month_start!'s SQL), and this amount, exceed it.
macro_rules! over_limit {
    ($since:expr) => {
        concat!(
            "EXISTS (SELECT 1 FROM acs_transactions t JOIN cards k ON k.id = t.card_id \
               WHERE t.operation_id = o.id AND k.limit_minor IS NOT NULL \
               AND o.amount_minor + (SELECT coalesce(sum(-m.amount_minor), 0) FROM movements m \
                 JOIN acs_transactions u ON u.operation_id = m.operation_id \
                 WHERE u.card_id = k.id AND m.account_id = k.account_id AND m.at >= ",
            $since,
            ") > k.limit_minor)"
        )
    };
}

/// What an approval needs besides the conditions: a transfer the account can cover, a PAGOPA
/// whose notice no other operation paid, and a credit card purchase within the card's monthly
/// limit (`$since`: month_start!'s SQL). (The booking trigger's own refusal stays as the last
/// guard of the first; the unique index on paid notices of the second.) The limit is checked
/// here, in the write: purchases waiting for their challenge at once, or made at once under the
/// exemption, were each within it when they were made.
macro_rules! covered {
    ($since:expr) => {
        concat!(
            " AND (o.account_id IS NULL OR (SELECT balance_minor FROM accounts WHERE id = o.account_id) >= o.amount_minor)",
            " AND (o.kind <> 'PAGOPA' OR NOT EXISTS (SELECT 1 FROM pagopa_payments p JOIN pagopa_payments q \
               ON q.creditor_fiscal_code = p.creditor_fiscal_code AND q.notice_code = p.notice_code \
               WHERE p.operation_id = o.id AND q.paid_at IS NOT NULL))",
            " AND (o.kind <> 'CARD_PAYMENT' OR NOT ",
            over_limit!($since),
            ")"
        )
    };
}

/// The hot path: one statement, whose triggers book the money and reset the count. A transfer
/// the account cannot cover is left alone, and so is a PAGOPA whose notice is paid already. One
/// text per engine (`sqlite` or `pg`), whose month arithmetic differs.
macro_rules! approve {
    ($engine:ident) => {
        concat!(
            "UPDATE operations AS o SET status = 'approved', decided_at = $1, decided_by = $2, approved_with = $5 WHERE ",
            approvable!(),
            covered!(month_start!($engine, "$1"))
        )
    };
}
const APPROVE_SQLITE: &str = approve!(sqlite);
const APPROVE_PG: &str = approve!(pg);

/// The hot path of a batch on PostgreSQL: the approvals of consecutive jobs in one statement (one
/// round trip instead of one each), under the same conditions, each row its own. Of several
/// answers to one operation, one approves it (`RETURNING` names which).
const APPROVE_MANY: &str = concat!(
    "UPDATE operations AS o SET status = 'approved', decided_at = v.at, decided_by = v.by, approved_with = v.credential \
     FROM unnest($1::int8[], $2::text[], $3::int8[], $4::int8[], $5::text[], $6::int8[], $7::text[], $8::int4[]) \
     AS v(at, by, id, customer, credential, max, device, idx) WHERE ",
    approvable!("v.at", "v.id", "v.customer", "v.credential", "v.max", "v.device"),
    covered!(month_start!(pg, "v.at")),
    " RETURNING v.idx"
);

/// Whether an approvable operation was refused for want of funds.
const SHORT_OF_FUNDS: &str = concat!(
    "SELECT o.id FROM operations o WHERE ",
    approvable!(),
    " AND (SELECT balance_minor FROM accounts WHERE id = o.account_id) < o.amount_minor"
);

/// Whether an approvable card purchase was refused for its card's monthly limit (per engine, as
/// [`approve!`]).
macro_rules! over_limit_refused {
    ($engine:ident) => {
        concat!(
            "SELECT o.id FROM operations o WHERE ",
            approvable!(),
            " AND o.kind = 'CARD_PAYMENT' AND ",
            over_limit!(month_start!($engine, "$1"))
        )
    };
}
const OVER_LIMIT_SQLITE: &str = over_limit_refused!(sqlite);
const OVER_LIMIT_PG: &str = over_limit_refused!(pg);

/// The approval statement with its seven parameters bound (a macro: each engine binds its own).
macro_rules! approval_query {
    ($sql:expr, $at:expr, $by:expr, $id:expr, $customer_id:expr, $credential:expr, $max:expr, $device:expr) => {
        sqlx::query($sql)
            .bind($at as i64)
            .bind($by)
            .bind($id)
            .bind($customer_id)
            .bind($credential)
            .bind(i64::from($max))
            .bind($device)
    };
}
use approval_query;
