//! The single writer: group commit and the audit chain head.
//!
//! Every write is a job sent to one task that owns the only writing connection. The task takes
//! every job waiting (up to `batch_max`), runs them in one transaction, each inside its own
//! savepoint (a job that fails is rolled back alone), commits once (one fsync for the batch), and
//! only then answers each job. So an answer means "on disk", and throughput is bounded by fsyncs
//! per batch, not per write. Jobs run one after another, so a job that reads then writes is
//! atomic against every other write: of 50 concurrent right answers to one operation, the first
//! job flips it from pending and the 49 others find it approved.
//!
//! The methods of [`WriteCtx`] are the write queries; jobs compose them.

use futures_util::future::BoxFuture;
use sqlx::{Row as _, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

use super::{ActivationRow, Credential, OperationRow, OperationStatus, StoreError};
use crate::audit;

type Ack = Box<dyn FnOnce(Option<&str>) + Send>;
type JobFn = Box<dyn for<'c> FnOnce(&'c mut WriteCtx) -> BoxFuture<'c, (bool, Ack)> + Send>;

struct Job {
    /// Run inside its own savepoint, so that its failure rolls back only its own writes. An
    /// unguarded job promises that when it fails it wrote nothing that matters; if it fails
    /// anyway, the whole batch is rolled back and every job in it answered with an error
    /// (nothing acknowledged is ever lost; nothing unacknowledged is kept).
    guarded: bool,
    run: JobFn,
}

/// Write jobs that may wait for the writer. Each batch takes up to `writer_batch_max` of them;
/// a full queue makes callers wait (back-pressure), it never drops a job.
const WRITER_QUEUE: usize = 8192;

/// An audit row computed in memory, written with the others of its batch in one statement.
struct PendingAudit {
    seq: i64,
    at: i64,
    kind: String,
    customer: String,
    detail: String,
    prev_hash: [u8; 32],
    hash: [u8; 32],
}

/// Sends jobs to the writer task.
#[derive(Debug, Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

/// What a write job works with: the writing connection inside the batch's transaction, and the
/// audit chain head.
pub struct WriteCtx {
    conn: SqliteConnection,
    head: (i64, [u8; 32]),
    audit_rows: Vec<PendingAudit>,
    signer: Option<audit::Signer>,
}

impl std::fmt::Debug for WriteCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WriteCtx(audit head {})", self.head.0)
    }
}

/// The outcome of a counted wrong answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// Counted; this many attempts are left (0: now blocked).
    Wrong {
        /// Attempts left.
        attempts_left: u32,
    },
    /// Already blocked: nothing counted.
    Blocked,
}

impl Writer {
    /// Starts the writer task on `conn` (migrations already run). With a `signer`, every batch
    /// that appends audit rows also stores the new head signed (a checkpoint), and a chain that
    /// has none yet (older data) is verified whole and its head signed now.
    pub async fn start(
        mut conn: SqliteConnection,
        batch_max: usize,
        signer: Option<audit::Signer>,
    ) -> Result<Self, StoreError> {
        let head: Option<(i64, Vec<u8>)> = sqlx::query_as("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut conn)
            .await?;
        let head = match head {
            Some((seq, hash)) => (
                seq,
                hash.try_into()
                    .map_err(|_| StoreError::Corrupt("audit hash is not 32 bytes".into()))?,
            ),
            None => (0, audit::GENESIS),
        };
        let mut ctx = WriteCtx {
            conn,
            head,
            audit_rows: Vec::new(),
            signer,
        };
        ctx.anchor_unsigned_chain().await?;
        let (tx, rx) = mpsc::channel(WRITER_QUEUE);
        tokio::spawn(run(ctx, rx, batch_max.max(1)));
        Ok(Self { jobs: tx })
    }

    /// Runs `job` in the next batch and returns its result once the batch committed. A job that
    /// returns `Err` is rolled back (alone).
    pub async fn run<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut WriteCtx) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        self.submit(true, job).await
    }

    /// Like [`run`](Self::run) without a savepoint: for hot jobs whose only write is one
    /// statement (atomic by itself) plus audit rows. Should such a job fail, its whole batch is
    /// rolled back and answered with an error.
    pub async fn run_unguarded<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut WriteCtx) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        self.submit(false, job).await
    }

    async fn submit<T, F>(&self, guarded: bool, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut WriteCtx) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T, StoreError>>();
        let boxed: JobFn = Box::new(move |ctx| {
            Box::pin(async move {
                let result = job(ctx).await;
                let ok = result.is_ok();
                let ack: Ack = Box::new(move |commit_error| {
                    let answer = match commit_error {
                        None => result,
                        Some(e) => Err(StoreError::Commit(e.to_owned())),
                    };
                    let _ = tx.send(answer);
                });
                (ok, ack)
            })
        });
        self.jobs
            .send(Job { guarded, run: boxed })
            .await
            .map_err(|_| StoreError::WriterGone)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }
}

async fn exec(conn: &mut SqliteConnection, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::query(sql).execute(conn).await.map(|_| ())
}

async fn run(mut ctx: WriteCtx, mut rx: mpsc::Receiver<Job>, batch_max: usize) {
    let mut batch: Vec<Job> = Vec::with_capacity(batch_max);
    let mut acks: Vec<Ack> = Vec::with_capacity(batch_max);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < batch_max {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let start_head = ctx.head;
        ctx.audit_rows.clear();
        if let Err(e) = exec(&mut ctx.conn, "BEGIN IMMEDIATE").await {
            // The jobs never ran; dropping them answers each caller with `WriterGone`.
            tracing::error!(error = %e, "writer: BEGIN failed");
            batch.clear();
            continue;
        }
        let mut poisoned: Option<String> = None;
        for job in batch.drain(..) {
            let before = (ctx.head, ctx.audit_rows.len());
            if job.guarded
                && let Err(e) = exec(&mut ctx.conn, "SAVEPOINT job").await
            {
                tracing::error!(error = %e, "writer: SAVEPOINT failed");
                poisoned = Some(e.to_string());
                continue;
            }
            let (ok, ack) = (job.run)(&mut ctx).await;
            acks.push(ack);
            if !ok {
                ctx.head = before.0;
                ctx.audit_rows.truncate(before.1);
            }
            if job.guarded {
                let end = if ok {
                    exec(&mut ctx.conn, "RELEASE job").await
                } else {
                    match exec(&mut ctx.conn, "ROLLBACK TO job").await {
                        Ok(()) => exec(&mut ctx.conn, "RELEASE job").await,
                        Err(e) => Err(e),
                    }
                };
                if let Err(e) = end {
                    tracing::error!(error = %e, "writer: savepoint end failed");
                    poisoned = Some(e.to_string());
                }
            } else if !ok {
                poisoned = Some("an unguarded write failed".into());
            }
        }
        let commit = match poisoned {
            Some(e) => Err(e),
            None => match ctx.flush_audit().await {
                Ok(()) => match ctx
                    .checkpoint(start_head.0, ctx.audit_rows.last().map_or(0, |r| r.at))
                    .await
                {
                    Ok(()) => exec(&mut ctx.conn, "COMMIT").await.map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                },
                Err(e) => Err(e.to_string()),
            },
        };
        let error = match commit {
            Ok(()) => None,
            Err(e) => {
                tracing::error!(error = %e, "writer: the batch is rolled back");
                let _ = exec(&mut ctx.conn, "ROLLBACK").await;
                ctx.head = start_head;
                Some(e)
            }
        };
        ctx.audit_rows.clear();
        for ack in acks.drain(..) {
            ack(error.as_deref());
        }
    }
}

/// How long the counts of a user name that is no customer's are kept after its last attempt.
const UNKNOWN_USER_MEMORY_SECS: i64 = 30 * 24 * 3600;

/// A customer whose attempts are counted, with where a block alert goes.
#[derive(Debug, Clone, Copy)]
pub struct Holder<'a> {
    /// Row id.
    pub id: i64,
    /// For the audit log.
    pub user_code: &'a str,
    /// Certified phone (block alert).
    pub phone: &'a str,
    /// E-mail (block alert).
    pub email: &'a str,
}

/// Whose attempts are counted: a customer's, or those made on a user name that is no
/// customer's (lower-cased), which are counted the same way so that the answers do not tell
/// the two apart.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// A customer.
    Customer(Holder<'a>),
    /// A user name that is no customer's.
    Unknown(&'a str),
}

/// How a taken attempt ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    /// The answer was right; `reset` clears the count of wrong ones.
    Right {
        /// Whether the count of wrong answers starts again.
        reset: bool,
    },
    /// The answer was wrong: counted.
    Wrong,
    /// The answer could not be evaluated (the hashing queue was full, an internal error): the
    /// attempt is given back.
    NotEvaluated,
}

/// What [`WriteCtx::approve_operation`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    /// Approved (and booked).
    Approved,
    /// Not pending, expired, or the credential is blocked: nothing changed.
    NotApproved,
    /// The payer's balance is short: nothing changed.
    InsufficientFunds,
}

/// A transfer to book on approval.
#[derive(Debug, Clone)]
pub struct Booking {
    /// Debited account.
    pub account_id: i64,
    /// Cents.
    pub amount_minor: i64,
    /// Payee IBAN (credited if it is an account here).
    pub payee_iban: String,
    /// Payee name.
    pub payee_name: String,
    /// Description.
    pub description: String,
}

/// A new operation.
#[derive(Debug, Clone)]
pub struct NewOperation {
    /// Owner.
    pub customer_id: i64,
    /// 8-digit op id.
    pub op_id: String,
    /// Kind name.
    pub kind: String,
    /// Signed payload.
    pub payload: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// Logins.
    pub login_id: Option<String>,
    /// Number matching.
    pub number: Option<i64>,
    /// Transfers.
    pub booking: Option<(Booking, String)>,
}

/// A new customer.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    /// 8-digit user code.
    pub user_code: String,
    /// Lower-case alias.
    pub alias: Option<String>,
    /// Name.
    pub name: String,
    /// E.164 phone.
    pub phone: String,
    /// E-mail.
    pub email: String,
    /// argon2id PHC.
    pub password_hash: String,
    /// argon2id PHC.
    pub security_code_hash: String,
    /// The bank drew the password (the branch handed it over): it must be changed before any
    /// banking call.
    pub password_change_required: bool,
}

/// Why a new customer was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerConflict {
    /// The user code exists (draw another).
    UserCode,
    /// The alias is taken.
    Alias,
}

/// A UNIQUE constraint refused the write (by its kind, never by its message's text).
fn unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl WriteCtx {
    /// Appends to the audit chain (written with the rest of the batch, before its commit).
    pub async fn audit(&mut self, at: u64, kind: &str, customer: &str, detail: &str) -> Result<(), StoreError> {
        let seq = self.head.0 + 1;
        let detail = audit::clip_detail(detail);
        let at = at as i64;
        let hash = audit::chain_hash(&self.head.1, &audit::entry_bytes(seq, at, kind, customer, detail));
        self.audit_rows.push(PendingAudit {
            seq,
            at,
            kind: kind.to_owned(),
            customer: customer.to_owned(),
            detail: detail.to_owned(),
            prev_hash: self.head.1,
            hash,
        });
        self.head = (seq, hash);
        Ok(())
    }

    async fn flush_audit(&mut self) -> Result<(), StoreError> {
        for chunk in self.audit_rows.chunks(100) {
            let mut sql = String::from("INSERT INTO audit (seq, at, kind, customer, detail, prev_hash, hash) VALUES ");
            for i in 0..chunk.len() {
                sql.push_str(if i == 0 {
                    "(?, ?, ?, ?, ?, ?, ?)"
                } else {
                    ", (?, ?, ?, ?, ?, ?, ?)"
                });
            }
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q
                    .bind(r.seq)
                    .bind(r.at)
                    .bind(&r.kind)
                    .bind(&r.customer)
                    .bind(&r.detail)
                    .bind(&r.prev_hash[..])
                    .bind(&r.hash[..]);
            }
            q.execute(&mut self.conn).await?;
        }
        Ok(())
    }

    /// Signs the chain's head into `audit_checkpoints` when this batch moved it past `before`.
    async fn checkpoint(&mut self, before: i64, at: i64) -> Result<(), StoreError> {
        let Some(signer) = &self.signer else {
            return Ok(());
        };
        let (seq, hash) = self.head;
        if seq == before {
            return Ok(());
        }
        let signature = signer(&audit::checkpoint_bytes(seq, at, &hash))
            .ok_or_else(|| StoreError::Commit("signing the audit checkpoint failed".into()))?;
        sqlx::query("INSERT INTO audit_checkpoints (seq, at, hash, signature) VALUES (?, ?, ?, ?)")
            .bind(seq)
            .bind(at)
            .bind(&hash[..])
            .bind(signature)
            .execute(&mut self.conn)
            .await?;
        sqlx::query("INSERT INTO audit_anchor (id, value) VALUES (1, ?) ON CONFLICT DO NOTHING")
            .bind(seq)
            .execute(&mut self.conn)
            .await?;
        Ok(())
    }

    /// A chain with rows but no checkpoint (written before checkpoints existed): verified whole,
    /// then its head is signed, so that from now on a cut is seen.
    async fn anchor_unsigned_chain(&mut self) -> Result<(), StoreError> {
        if self.signer.is_none() || self.head.0 == 0 {
            return Ok(());
        }
        let signed: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_checkpoints")
            .fetch_one(&mut self.conn)
            .await?;
        if signed > 0 {
            return Ok(());
        }
        // Once only: a chain that was anchored and has lost its checkpoints since was tampered
        // with, and signing it now would vouch for the tampering. `audit-verify` reports it.
        let anchored: Option<i64> = sqlx::query_scalar("SELECT value FROM audit_anchor WHERE id = 1")
            .fetch_optional(&mut self.conn)
            .await?;
        if anchored.is_some() {
            tracing::error!("the audit checkpoints are gone: not signing the chain again (run audit-verify)");
            return Ok(());
        }
        let mut head = (0i64, audit::GENESIS);
        let mut at = 0;
        loop {
            let rows: Vec<audit::AuditRow> = sqlx::query_as(
                "SELECT seq, at, kind, customer, detail, prev_hash, hash FROM audit WHERE seq > ? ORDER BY seq LIMIT 10000",
            )
            .bind(head.0)
            .fetch_all(&mut self.conn)
            .await?;
            if rows.is_empty() {
                break;
            }
            head = audit::verify_rows(head, &rows)
                .map_err(|e| StoreError::Corrupt(format!("audit chain, before its first checkpoint: {e}")))?;
            at = rows.last().map_or(at, |r| r.at);
        }
        exec(&mut self.conn, "BEGIN IMMEDIATE").await?;
        self.checkpoint(0, at).await?;
        sqlx::query("INSERT INTO audit_anchor (id, value) VALUES (1, ?)")
            .bind(self.head.0)
            .execute(&mut self.conn)
            .await?;
        exec(&mut self.conn, "COMMIT").await?;
        Ok(())
    }

    /// Queues a message in the outbox (delivered after commit by the gateway).
    pub async fn outbox(&mut self, at: u64, recipient: &str, channel: &str, body: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO outbox (recipient, channel, body, created_at) VALUES (?, ?, ?, ?)")
            .bind(recipient)
            .bind(channel)
            .bind(body)
            .bind(at as i64)
            .execute(&mut self.conn)
            .await?;
        Ok(())
    }

    /// Marks outbox messages delivered; unless `keep_body`, their text (which may hold an OTP)
    /// is dropped.
    pub async fn outbox_delivered(&mut self, ids: &[i64], at: u64, keep_body: bool) -> Result<(), StoreError> {
        for id in ids {
            let sql = if keep_body {
                "UPDATE outbox SET delivered_at = ?, attempts = attempts + 1 WHERE id = ?"
            } else {
                "UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, body = '[delivered]' WHERE id = ?"
            };
            sqlx::query(sql)
                .bind(at as i64)
                .bind(id)
                .execute(&mut self.conn)
                .await?;
        }
        Ok(())
    }

    /// Counts a failed delivery attempt.
    pub async fn outbox_attempt_failed(&mut self, id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1 WHERE id = ?")
            .bind(id)
            .execute(&mut self.conn)
            .await?;
        Ok(())
    }

    // ----- credentials -----

    /// Wrong answers in a row for `credential`.
    pub async fn failures(&mut self, customer_id: i64, credential: Credential) -> Result<u32, StoreError> {
        let n: Option<i64> =
            sqlx::query_scalar("SELECT failures FROM credential_failures WHERE customer_id = ? AND credential = ?")
                .bind(customer_id)
                .bind(credential.as_str())
                .fetch_optional(&mut self.conn)
                .await?;
        Ok(n.map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)))
    }

    /// Whether `credential` is blocked (`max` wrong answers in a row).
    pub async fn is_blocked(&mut self, customer_id: i64, credential: Credential, max: u32) -> Result<bool, StoreError> {
        Ok(self.failures(customer_id, credential).await? >= max)
    }

    /// Counts a wrong answer whose evaluation ran in this job's batch order (codes and SMS
    /// codes, cheap to check, are settled by the job that consumes them). On the `max`-th in a
    /// row the credential is blocked, the customer is alerted by SMS and e-mail, and the block is
    /// audited.
    #[allow(clippy::too_many_arguments)]
    pub async fn count_failure(
        &mut self,
        at: u64,
        customer_id: i64,
        user_code: &str,
        contact: (&str, &str),
        credential: Credential,
        max: u32,
        detail: &str,
    ) -> Result<Counted, StoreError> {
        let before = self.failures(customer_id, credential).await?;
        if before >= max {
            self.audit(at, "attempt_while_blocked", user_code, credential.as_str())
                .await?;
            return Ok(Counted::Blocked);
        }
        let now_failures = before + 1;
        let blocked = now_failures >= max;
        sqlx::query(
            "INSERT INTO credential_failures (customer_id, credential, failures, blocked_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (customer_id, credential) DO UPDATE SET failures = excluded.failures, blocked_at = excluded.blocked_at",
        )
        .bind(customer_id)
        .bind(credential.as_str())
        .bind(i64::from(now_failures))
        .bind(blocked.then_some(at as i64))
        .execute(&mut self.conn)
        .await?;
        let holder = Holder {
            id: customer_id,
            user_code,
            phone: contact.0,
            email: contact.1,
        };
        self.wrong_counted(at, &holder, credential, max, now_failures, detail)
            .await?;
        Ok(Counted::Wrong {
            attempts_left: max.saturating_sub(now_failures),
        })
    }

    /// Audits a counted wrong answer and, on the `max`-th in a row, alerts the customer by SMS
    /// and e-mail and audits the block.
    async fn wrong_counted(
        &mut self,
        at: u64,
        holder: &Holder<'_>,
        credential: Credential,
        max: u32,
        failures: u32,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.audit(
            at,
            &format!("{}_wrong", credential.as_str()),
            holder.user_code,
            &format!("{detail}; failures={failures}"),
        )
        .await?;
        if failures == max {
            let text = crate::texts::blocked_alert(credential, max);
            self.outbox(at, holder.phone, "sms", &text).await?;
            self.outbox(at, holder.email, "email", &text).await?;
            self.audit(at, "credential_blocked", holder.user_code, credential.as_str())
                .await?;
        }
        Ok(())
    }

    /// Count-then-verify: takes an attempt at `credential` before the answer is evaluated, in
    /// one statement, only while `failures + pending < max`. `false`: none is left (blocked, or
    /// every attempt left is already being evaluated), so the answer must not be evaluated. An
    /// attempt taken must be settled with [`settle_attempt`](Self::settle_attempt).
    pub async fn take_attempt(
        &mut self,
        at: u64,
        subject: &Subject<'_>,
        credential: Credential,
        max: u32,
    ) -> Result<bool, StoreError> {
        let taken = match subject {
            Subject::Customer(h) => sqlx::query(
                "INSERT INTO credential_failures (customer_id, credential, failures, pending) VALUES (?1, ?2, 0, 1) \
                 ON CONFLICT (customer_id, credential) DO UPDATE SET pending = pending + 1 \
                 WHERE failures + pending < ?3 RETURNING pending",
            )
            .bind(h.id)
            .bind(credential.as_str())
            .bind(i64::from(max))
            .fetch_optional(&mut self.conn)
            .await?
            .is_some(),
            Subject::Unknown(user) => {
                sqlx::query("DELETE FROM unknown_user_failures WHERE updated_at < ?")
                    .bind((at as i64).saturating_sub(UNKNOWN_USER_MEMORY_SECS))
                    .execute(&mut self.conn)
                    .await?;
                sqlx::query(
                    "INSERT INTO unknown_user_failures (user, credential, failures, pending, updated_at) \
                     VALUES (?1, ?2, 0, 1, ?4) ON CONFLICT (user, credential) DO UPDATE SET pending = pending + 1, \
                     updated_at = ?4 WHERE failures + pending < ?3 RETURNING pending",
                )
                .bind(*user)
                .bind(credential.as_str())
                .bind(i64::from(max))
                .bind(at as i64)
                .fetch_optional(&mut self.conn)
                .await?
                .is_some()
            }
        };
        if !taken && let Subject::Customer(h) = subject {
            // Blocked, or every attempt left is being evaluated by answers that came at once.
            let kind = if self.failures(h.id, credential).await? >= max {
                "attempt_while_blocked"
            } else {
                "attempt_while_others_evaluated"
            };
            self.audit(at, kind, h.user_code, credential.as_str()).await?;
        }
        Ok(taken)
    }

    /// Settles an attempt taken with [`take_attempt`](Self::take_attempt): a wrong answer is
    /// counted (and on the `max`-th blocks, alerting the customer), a right one resets the count
    /// of wrong ones when `Settle::Right { reset: true }`, and an answer that could not be
    /// evaluated gives its attempt back. Returns the wrong answers left before the block (not
    /// counting the attempts other answers hold: a customer sees 4, 3, 2, 1, 0 whether the
    /// answers came one by one or at once).
    pub async fn settle_attempt(
        &mut self,
        at: u64,
        subject: &Subject<'_>,
        credential: Credential,
        settle: Settle,
        max: u32,
        detail: &str,
    ) -> Result<Counted, StoreError> {
        let set = match settle {
            Settle::Wrong => {
                "pending = max(pending - 1, 0), failures = failures + 1, \
                 blocked_at = CASE WHEN failures + 1 >= ?3 THEN coalesce(blocked_at, ?4) ELSE blocked_at END"
            }
            Settle::Right { reset: true } => "pending = max(pending - 1, 0), failures = 0, blocked_at = NULL",
            Settle::Right { reset: false } | Settle::NotEvaluated => "pending = max(pending - 1, 0)",
        };
        let (table, key) = match subject {
            Subject::Customer(_) => ("credential_failures", "customer_id"),
            Subject::Unknown(_) => ("unknown_user_failures", "user"),
        };
        // Every variant binds the same four parameters; `?3 = ?3 AND ?4 = ?4` names the two that
        // only `Wrong` uses, so that SQLite counts four.
        let sql = format!(
            "UPDATE {table} SET {set} WHERE {key} = ?1 AND credential = ?2 AND ?3 = ?3 AND ?4 = ?4 \
             RETURNING failures"
        );
        let q = sqlx::query(&sql);
        let q = match subject {
            Subject::Customer(h) => q.bind(h.id),
            Subject::Unknown(user) => q.bind(*user),
        };
        let row = q
            .bind(credential.as_str())
            .bind(i64::from(max))
            .bind(at as i64)
            .fetch_optional(&mut self.conn)
            .await?;
        let Some(row) = row else {
            return Err(StoreError::Corrupt(format!(
                "no attempt at {} to settle",
                credential.as_str()
            )));
        };
        let failures = u32::try_from(row.try_get::<i64, _>(0)?).unwrap_or(u32::MAX);
        if let Subject::Customer(h) = subject {
            match settle {
                Settle::Wrong => self.wrong_counted(at, h, credential, max, failures, detail).await?,
                // Audited where it is decided: the rows after it tell what the answer opened.
                Settle::Right { .. } => {
                    self.audit(at, &format!("{}_right", credential.as_str()), h.user_code, detail)
                        .await?;
                }
                Settle::NotEvaluated => {}
            }
        }
        Ok(Counted::Wrong {
            attempts_left: max.saturating_sub(failures),
        })
    }

    /// A right answer: the count of `credential` starts again.
    pub async fn reset_failures(&mut self, customer_id: i64, credential: Credential) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE credential_failures SET failures = 0, blocked_at = NULL WHERE customer_id = ? AND credential = ?",
        )
        .bind(customer_id)
        .bind(credential.as_str())
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    /// Unblocks every credential.
    pub async fn unblock_all(&mut self, customer_id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE credential_failures SET failures = 0, blocked_at = NULL WHERE customer_id = ?")
            .bind(customer_id)
            .execute(&mut self.conn)
            .await?;
        Ok(())
    }

    // ----- customers and accounts -----

    /// Stores a customer.
    pub async fn insert_customer(
        &mut self,
        at: u64,
        c: &NewCustomer,
    ) -> Result<Result<i64, CustomerConflict>, StoreError> {
        // Two unique columns: which one refused is asked, not read out of the error's text (the
        // writer is alone, so nothing takes the alias between this read and the insert).
        if let Some(alias) = &c.alias
            && self.alias_taken(alias, None).await?
        {
            return Ok(Err(CustomerConflict::Alias));
        }
        let r = sqlx::query(
            "INSERT INTO customers (user_code, alias, name, phone, email, password_hash, security_code_hash, \
             password_change_required, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&c.user_code)
        .bind(&c.alias)
        .bind(&c.name)
        .bind(&c.phone)
        .bind(&c.email)
        .bind(&c.password_hash)
        .bind(&c.security_code_hash)
        .bind(c.password_change_required)
        .bind(at as i64)
        .execute(&mut self.conn)
        .await;
        match r {
            Ok(done) => Ok(Ok(done.last_insert_rowid())),
            Err(e) if unique_violation(&e) => Ok(Err(CustomerConflict::UserCode)),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether another customer than `except` has `alias`.
    async fn alias_taken(&mut self, alias: &str, except: Option<i64>) -> Result<bool, StoreError> {
        let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM customers WHERE alias = ? AND id IS NOT ?")
            .bind(alias)
            .bind(except)
            .fetch_optional(&mut self.conn)
            .await?;
        Ok(taken.is_some())
    }

    /// Sets or clears the alias; `false` if taken.
    pub async fn set_alias(&mut self, customer_id: i64, alias: Option<&str>) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE customers SET alias = ? WHERE id = ?")
            .bind(alias)
            .bind(customer_id)
            .execute(&mut self.conn)
            .await;
        match r {
            Ok(_) => Ok(true),
            Err(e) if unique_violation(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Replaces the password hash.
    pub async fn set_password(
        &mut self,
        customer_id: i64,
        hash: &str,
        change_required: bool,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE customers SET password_hash = ?, password_change_required = ? WHERE id = ?")
            .bind(hash)
            .bind(change_required)
            .bind(customer_id)
            .execute(&mut self.conn)
            .await?;
        Ok(())
    }

    /// Opens an account; `None` if the IBAN exists.
    pub async fn insert_account(
        &mut self,
        at: u64,
        customer_id: i64,
        iban: &str,
        name: &str,
        balance_minor: i64,
        currency: &str,
    ) -> Result<Option<i64>, StoreError> {
        let r = sqlx::query(
            "INSERT INTO accounts (customer_id, iban, name, balance_minor, currency, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(customer_id)
        .bind(iban)
        .bind(name)
        .bind(balance_minor)
        .bind(currency)
        .bind(at as i64)
        .execute(&mut self.conn)
        .await;
        match r {
            Ok(done) => Ok(Some(done.last_insert_rowid())),
            Err(e) if unique_violation(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Books a movement (demo seeding and transfers).
    pub async fn insert_movement(
        &mut self,
        at: u64,
        account_id: i64,
        amount_minor: i64,
        counterparty: &str,
        description: &str,
        operation_id: Option<i64>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO movements (account_id, at, amount_minor, counterparty, description, operation_id) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(account_id)
        .bind(at as i64)
        .bind(amount_minor)
        .bind(counterparty)
        .bind(description)
        .bind(operation_id)
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    // ----- operations -----

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
        let r = sqlx::query(
            "INSERT INTO operations (customer_id, op_id, kind, payload, status, expires_at, login_id, number, \
             account_id, amount_minor, currency, payee_iban, payee_name, description, created_at) \
             VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        .execute(&mut self.conn)
        .await;
        match r {
            Ok(done) => Ok(Some(done.last_insert_rowid())),
            Err(e) if unique_violation(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The operation as this batch sees it.
    pub async fn operation(&mut self, id: i64) -> Result<Option<OperationRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, customer_id, op_id, kind, payload, status, expires_at, login_id, number, account_id, \
             amount_minor, currency, payee_iban, payee_name, description, created_at FROM operations WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&mut self.conn)
        .await?)
    }

    /// Moves a pending operation to `status`; `false` if it was not pending.
    pub async fn decide_operation(
        &mut self,
        id: i64,
        status: OperationStatus,
        at: u64,
        by: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE operations SET status = ?, decided_at = ?, decided_by = ? WHERE id = ? AND status = 'pending'",
        )
        .bind(status)
        .bind(at as i64)
        .bind(by)
        .bind(id)
        .execute(&mut self.conn)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Approves a pending, unexpired operation unless `credential` (a device code or an SMS code)
    /// is blocked, in one statement; its triggers book a transfer's money and reset the count of
    /// the credential it records in `approved_with`. A transfer the account cannot cover is
    /// found by a read in the same batch first (the writer is alone, so the balance cannot move
    /// in between); the trigger's own refusal stays as the last guard, an internal error if met.
    pub async fn approve_operation(
        &mut self,
        id: i64,
        at: u64,
        by: &str,
        customer_id: i64,
        credential: Credential,
        max: u32,
    ) -> Result<Approval, StoreError> {
        const APPROVABLE: &str = "o.id = ?3 AND o.status = 'pending' AND o.expires_at > ?1 AND NOT EXISTS \
             (SELECT 1 FROM credential_failures WHERE customer_id = ?4 AND credential = ?5 AND failures >= ?6)";
        let short: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT o.id FROM operations o JOIN accounts a ON a.id = o.account_id \
             WHERE {APPROVABLE} AND a.balance_minor < o.amount_minor"
        ))
        .bind(at as i64)
        .bind(by)
        .bind(id)
        .bind(customer_id)
        .bind(credential.as_str())
        .bind(i64::from(max))
        .fetch_optional(&mut self.conn)
        .await?;
        if short.is_some() {
            return Ok(Approval::InsufficientFunds);
        }
        let done = sqlx::query(&format!(
            "UPDATE operations AS o SET status = 'approved', decided_at = ?1, decided_by = ?2, approved_with = ?5 \
             WHERE {APPROVABLE}"
        ))
        .bind(at as i64)
        .bind(by)
        .bind(id)
        .bind(customer_id)
        .bind(credential.as_str())
        .bind(i64::from(max))
        .execute(&mut self.conn)
        .await?;
        Ok(if done.rows_affected() == 1 {
            Approval::Approved
        } else {
            Approval::NotApproved
        })
    }

    /// Accepts a LOGIN or TRANSACTION step for a device only above the last one accepted.
    pub async fn accept_step(&mut self, device_id: &str, transaction: bool, step: u64) -> Result<bool, StoreError> {
        let sql = if transaction {
            "UPDATE devices SET last_transaction_step = ?1 WHERE id = ?2 AND status = 'active' AND last_transaction_step < ?1"
        } else {
            "UPDATE devices SET last_login_step = ?1 WHERE id = ?2 AND status = 'active' AND last_login_step < ?1"
        };
        let done = sqlx::query(sql)
            .bind(step as i64)
            .bind(device_id)
            .execute(&mut self.conn)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a device-signed request by `key` until `until`; `false` if it was already
    /// recorded (a replay). Records past their time are dropped on the way.
    pub async fn first_use_of_request(&mut self, key: &[u8; 32], until: u64, now: u64) -> Result<bool, StoreError> {
        sqlx::query("DELETE FROM device_requests_seen WHERE expires_at < ?")
            .bind(now as i64)
            .execute(&mut self.conn)
            .await?;
        let done =
            sqlx::query("INSERT INTO device_requests_seen (key, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING")
                .bind(&key[..])
                .bind(until as i64)
                .execute(&mut self.conn)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    // ----- devices and activations -----

    /// Stores an activation.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_activation(
        &mut self,
        at: u64,
        id: &str,
        customer_id: i64,
        source: &str,
        source_device: Option<&str>,
        operation_id: Option<i64>,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO activations (id, customer_id, source, source_device, operation_id, status, expires_at, created_at) \
             VALUES (?, ?, ?, ?, ?, 'awaiting_keys', ?, ?)",
        )
        .bind(id)
        .bind(customer_id)
        .bind(source)
        .bind(source_device)
        .bind(operation_id)
        .bind(expires_at as i64)
        .bind(at as i64)
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    /// The activation as this batch sees it.
    pub async fn activation(&mut self, id: &str) -> Result<Option<ActivationRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, customer_id, source, operation_id, status, expires_at, device_id, device_name, device_pub, \
             secrets FROM activations WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&mut self.conn)
        .await?)
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
        let done = sqlx::query(
            "UPDATE activations SET status = 'awaiting_confirm', device_id = ?, device_name = ?, device_pub = ?, \
             secrets = ? WHERE id = ? AND status = 'awaiting_keys'",
        )
        .bind(device_id)
        .bind(name)
        .bind(device_pub)
        .bind(sealed)
        .bind(id)
        .execute(&mut self.conn)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends an activation (`active` or `failed`) from `from`; `false` if it was not in `from`.
    pub async fn finish_activation(&mut self, id: &str, from: &str, to: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE activations SET status = ?, secrets = NULL WHERE id = ? AND status = ?")
            .bind(to)
            .bind(id)
            .bind(from)
            .execute(&mut self.conn)
            .await?;
        Ok(done.rows_affected() == 1)
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
        sqlx::query(
            "INSERT INTO devices (id, customer_id, name, public_key, secrets, status, created_at) \
             VALUES (?, ?, ?, ?, ?, 'active', ?)",
        )
        .bind(id)
        .bind(customer_id)
        .bind(name)
        .bind(public_key)
        .bind(sealed)
        .bind(at as i64)
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    /// Renames an active device of the customer; `false` if none.
    pub async fn rename_device(&mut self, customer_id: i64, id: &str, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE devices SET name = ? WHERE id = ? AND customer_id = ? AND status = 'active'")
            .bind(name)
            .bind(id)
            .bind(customer_id)
            .execute(&mut self.conn)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes an active device of the customer and wipes its secrets; `false` if none.
    pub async fn remove_device(&mut self, at: u64, customer_id: i64, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE devices SET status = 'removed', removed_at = ?, secrets = x'' WHERE id = ? AND customer_id = ? \
             AND status = 'active'",
        )
        .bind(at as i64)
        .bind(id)
        .bind(customer_id)
        .execute(&mut self.conn)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    // ----- OTPs -----

    /// When the newest OTP for `ref`/`purpose` was made.
    pub async fn last_otp_at(&mut self, r#ref: &str, purpose: &str) -> Result<Option<u64>, StoreError> {
        let at: Option<i64> = sqlx::query_scalar("SELECT max(created_at) FROM otps WHERE ref = ? AND purpose = ?")
            .bind(r#ref)
            .bind(purpose)
            .fetch_one(&mut self.conn)
            .await?;
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
        sqlx::query("DELETE FROM sms_sends WHERE at <= ?")
            .bind(now_i - HOUR)
            .execute(&mut self.conn)
            .await?;
        let mut wait: i64 = 0;
        let keys = [
            ("phone", Some(phone.to_owned())),
            ("customer_id", customer_id.map(|c| c.to_string())),
        ];
        for (column, value) in keys {
            let Some(value) = value else { continue };
            if min_interval > 0 {
                let last: Option<i64> =
                    sqlx::query_scalar(&format!("SELECT max(at) FROM sms_sends WHERE {column} = ?"))
                        .bind(&value)
                        .fetch_one(&mut self.conn)
                        .await?;
                if let Some(last) = last {
                    wait = wait.max(last + min_interval as i64 - now_i);
                }
            }
            if per_hour > 0 {
                let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM sms_sends WHERE {column} = ?"))
                    .bind(&value)
                    .fetch_one(&mut self.conn)
                    .await?;
                if n >= i64::from(per_hour) {
                    // The send that must leave the hour's window before another may go.
                    let leaving: i64 = sqlx::query_scalar(&format!(
                        "SELECT at FROM sms_sends WHERE {column} = ? ORDER BY at LIMIT 1 OFFSET ?"
                    ))
                    .bind(&value)
                    .bind(n - i64::from(per_hour))
                    .fetch_one(&mut self.conn)
                    .await?;
                    wait = wait.max(leaving + HOUR - now_i);
                }
            }
        }
        if wait > 0 {
            return Ok(Some(wait as u64));
        }
        sqlx::query("INSERT INTO sms_sends (phone, customer_id, at) VALUES (?, ?, ?)")
            .bind(phone)
            .bind(customer_id)
            .bind(now_i)
            .execute(&mut self.conn)
            .await?;
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
        sqlx::query(
            "INSERT INTO otps (id, customer_id, purpose, ref, hash, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(customer_id)
        .bind(purpose)
        .bind(r#ref)
        .bind(hash)
        .bind(expires_at as i64)
        .bind(at as i64)
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    /// Uses an OTP once; `false` if already used, expired, or it took `max_failures` wrong
    /// answers.
    pub async fn use_otp(&mut self, id: &str, at: u64, max_failures: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE otps SET used_at = ?1 WHERE id = ?2 AND used_at IS NULL AND expires_at > ?1 AND failures < ?3",
        )
        .bind(at as i64)
        .bind(id)
        .bind(max_failures)
        .execute(&mut self.conn)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Counts a wrong answer to one OTP while it has taken fewer than `limit`; returns its
    /// failures, or `None` when it had already taken `limit` (nothing counted).
    pub async fn otp_failed(&mut self, id: &str, limit: i64) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "UPDATE otps SET failures = failures + 1 WHERE id = ? AND failures < ? RETURNING failures",
        )
        .bind(id)
        .bind(limit)
        .fetch_optional(&mut self.conn)
        .await?)
    }
}

impl WriteCtx {
    /// The customer's first (current) account.
    pub async fn first_account(&mut self, customer_id: i64) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT id FROM accounts WHERE customer_id = ? ORDER BY id LIMIT 1")
            .bind(customer_id)
            .fetch_optional(&mut self.conn)
            .await?
            .ok_or_else(|| StoreError::Corrupt("the customer has no account".into()))
    }
}

impl WriteCtx {
    /// `(journal_mode, synchronous)` of the writing connection: `("wal", 2)` means every commit
    /// is fsynced (FULL) before it is acknowledged.
    pub async fn durability(&mut self) -> Result<(String, i64), StoreError> {
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut self.conn)
            .await?;
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut self.conn)
            .await?;
        Ok((mode, sync))
    }
}

#[cfg(test)]
mod tests {
    use crate::storage::Store;

    #[tokio::test]
    async fn the_writer_commits_durably_and_keeps_the_audit_chain() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::open(&url, 16, None).await.unwrap();
        let (mode, sync) = store
            .write(|w| Box::pin(async move { w.durability().await }))
            .await
            .unwrap();
        assert_eq!((mode.as_str(), sync), ("wal", 2));
        // Concurrent writes land in batches; the chain stays whole; a failed guarded job leaves
        // no audit row behind.
        let mut tasks = Vec::new();
        for i in 0..100u64 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .write(move |w| {
                        Box::pin(async move {
                            w.audit(i, "test", "", &format!("entry {i}")).await?;
                            if i % 10 == 0 {
                                return Err(crate::storage::StoreError::Corrupt("rolled back".into()));
                            }
                            Ok(())
                        })
                    })
                    .await
            }));
        }
        let mut failed = 0;
        for t in tasks {
            failed += usize::from(t.await.unwrap().is_err());
        }
        assert_eq!(failed, 10);
        assert_eq!(store.verify_audit().await.unwrap().unwrap(), 90);
        drop(store);
        let again = Store::open(&url, 16, None).await.unwrap();
        again
            .write(|w| Box::pin(async move { w.audit(1, "after restart", "", "").await }))
            .await
            .unwrap();
        assert_eq!(again.verify_audit().await.unwrap().unwrap(), 91);
    }
}
