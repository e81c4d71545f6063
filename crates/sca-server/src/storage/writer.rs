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
//! The methods of [`WriteCtx`] are the write queries; jobs compose them. This module is the engine
//! (batches, savepoints, the audit chain's head and its checkpoints); each table's writes live
//! beside it, one module per subject: `credentials` (attempts and blocks), `customers`
//! (customers, accounts, movements), `operations` (creation, approval, decisions), `devices`
//! (devices, activations, once-only requests), `otps` (SMS codes and their rate limits),
//! `outbox` (messages).

use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use super::StoreError;
use super::db::{Conn, Engine, conn};
use crate::audit;

type Ack = Box<dyn FnOnce(Option<&str>) + Send>;
type JobFn = Box<dyn for<'c> FnOnce(&'c mut WriteCtx) -> BoxFuture<'c, (bool, Ack)> + Send>;

struct Job {
    /// Run inside its own savepoint, so that its failure rolls back only its own writes. An
    /// unguarded job promises that when it fails it wrote nothing that matters; if it fails
    /// anyway, the whole batch is rolled back and every job in it answered with an error
    /// (nothing acknowledged is ever lost; nothing unacknowledged is kept).
    guarded: bool,
    /// The approval the job begins with, when it is known before the job runs: the approvals
    /// of consecutive such jobs are made in one statement (PostgreSQL), each job then finding its
    /// own made.
    approval: Option<ApprovalAnswer>,
    run: JobFn,
}

/// An approval a job begins with (an unguarded job of `WriteCtx::approve_operation`'s hot path),
/// as that call will ask for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalAnswer {
    /// The operation's row.
    pub id: i64,
    /// Now.
    pub at: u64,
    /// Who approves (`decided_by`).
    pub by: String,
    /// The customer.
    pub customer_id: i64,
    /// The credential that answered.
    pub credential: super::Credential,
    /// The attempts allowed.
    pub max: u32,
    /// The device that answered, if one did.
    pub device: Option<String>,
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
    pub(super) conn: Conn,
    head: (i64, [u8; 32]),
    audit_rows: Vec<PendingAudit>,
    signer: Option<audit::Signer>,
    reopen: Option<sqlx::postgres::PgConnectOptions>,
    /// The running job's approval, and whether it was made with its batch's others.
    pub(super) preapproved: Option<(ApprovalAnswer, bool)>,
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
    /// On PostgreSQL, `reopen` is how to connect again when the writing connection is lost (the
    /// server restarted, or terminated it): the batch that found it lost is run on the new one.
    pub async fn start(
        mut conn: Conn,
        batch_max: usize,
        signer: Option<audit::Signer>,
        reopen: Option<sqlx::postgres::PgConnectOptions>,
    ) -> Result<Self, StoreError> {
        let head = read_head(&mut conn).await?;
        let mut ctx = WriteCtx {
            conn,
            head,
            audit_rows: Vec::new(),
            signer,
            reopen,
            preapproved: None,
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
        self.submit(true, None, job).await
    }

    /// Like [`run`](Self::run) without a savepoint, for the hot job whose only write is one
    /// approval (atomic by itself) plus audit rows, and which begins with `approval` (it calls
    /// `WriteCtx::approve_operation` first, with the same arguments): the writer may make it
    /// together with the approvals of the jobs next to it. Should such a job fail, its whole batch
    /// is rolled back and answered with an error.
    pub async fn run_approval<T, F>(&self, approval: ApprovalAnswer, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut WriteCtx) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        self.submit(false, Some(approval), job).await
    }

    async fn submit<T, F>(&self, guarded: bool, approval: Option<ApprovalAnswer>, job: F) -> Result<T, StoreError>
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
            .send(Job {
                guarded,
                approval,
                run: boxed,
            })
            .await
            .map_err(|_| StoreError::WriterGone)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }
}

/// The query of the audit chain's head.
const HEAD: &str = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1";

/// The audit chain's head as stored.
async fn read_head(conn: &mut Conn) -> Result<(i64, [u8; 32]), StoreError> {
    let head: Option<(i64, Vec<u8>)> = conn!(conn, |c| sqlx::query_as(HEAD).fetch_optional(c).await)?;
    match head {
        Some((seq, hash)) => Ok((
            seq,
            hash.try_into()
                .map_err(|_| StoreError::Corrupt("audit hash is not 32 bytes".into()))?,
        )),
        None => Ok((0, audit::GENESIS)),
    }
}

async fn exec(conn: &mut Conn, sql: &str) -> Result<(), sqlx::Error> {
    conn!(conn, |c| sqlx::query(sql).execute(c).await.map(|_| ()))
}

/// The lock every writer of a PostgreSQL database takes for its batch: the audit chain is one
/// sequence, so batches append to it one after another, whichever instance runs them (each
/// instance still commits many writes per batch). Released by the batch's commit or rollback.
const AUDIT_CHAIN_LOCK: i64 = 0x5349_4731_4155_4454; // "SIG1AUDT"

/// Begins a batch's transaction and takes the write lock: SQLite's `BEGIN IMMEDIATE`, or on
/// PostgreSQL a transaction holding the audit chain's advisory lock.
async fn begin(conn: &mut Conn) -> Result<(), sqlx::Error> {
    match conn.engine() {
        Engine::Sqlite => exec(conn, "BEGIN IMMEDIATE").await,
        // Two statements: the simple query protocol (a `&str` run as it is, not prepared).
        Engine::Postgres => conn!(conn, |c| sqlx::Executor::execute(c, BEGIN_LOCKED.as_str())
            .await
            .map(|_| ())),
    }
}

/// `BEGIN` and the audit chain's lock, in one round trip.
static BEGIN_LOCKED: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    // READ COMMITTED whatever the database's default: the statements after the lock must see
    // what the lock's previous holder committed.
    format!(
        "BEGIN ISOLATION LEVEL READ COMMITTED; DO $$ BEGIN PERFORM pg_advisory_xact_lock({AUDIT_CHAIN_LOCK}); END $$"
    )
});

/// [`begin`], then the audit chain's head read inside the lock: another process (another
/// instance, or a restart overlapping the old one) may have appended since, and the chain must
/// go on from the row it wrote, not fork. On PostgreSQL the three go in one round trip; the
/// head is read by a statement of its own, so with a snapshot taken after the lock.
fn begin_and_head(conn: &mut Conn) -> BoxFuture<'_, Result<(i64, [u8; 32]), StoreError>> {
    Box::pin(async move {
        let Conn::Pg(c) = conn else {
            begin(conn).await?;
            return read_head(conn).await;
        };
        // The hash as hex text: what the simple protocol returns is text.
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!(
                "{}; SELECT seq, encode(hash, 'hex') FROM audit ORDER BY seq DESC LIMIT 1",
                BEGIN_LOCKED.as_str()
            )
        });
        use sqlx::Row as _;
        // Three statements: the simple query protocol (a `&str` run as it is, not prepared).
        // Only the last returns rows.
        let rows = sqlx::Executor::fetch_all(c, SQL.as_str()).await?;
        match rows.iter().find(|r| r.len() == 2) {
            Some(row) => {
                let (seq, hash): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
                let hash = hex::decode(hash)
                    .ok()
                    .and_then(|h| <[u8; 32]>::try_from(h).ok())
                    .ok_or_else(|| StoreError::Corrupt("audit hash is not 32 bytes".into()))?;
                Ok((seq, hash))
            }
            None => Ok((0, audit::GENESIS)),
        }
    })
}

/// [`begin_and_head`], and on PostgreSQL, when the connection is gone, a new connection and
/// again (a few tries, a second apart): a server restart or a terminated backend costs the
/// waiting batch a delay, not an error.
async fn begin_or_reopen(ctx: &mut WriteCtx) -> Result<(i64, [u8; 32]), StoreError> {
    let mut error = match begin_and_head(&mut ctx.conn).await {
        Ok(head) => return Ok(head),
        Err(e) => e,
    };
    let Some(opts) = ctx.reopen.clone() else {
        return Err(error);
    };
    if !matches!(error, StoreError::Database(_)) {
        return Err(error);
    }
    for attempt in 1..=5u64 {
        tracing::warn!(%error, attempt, "writer: connecting to PostgreSQL again");
        if attempt > 1 {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
        match sqlx::Connection::connect_with(&opts).await {
            Ok(conn) => {
                ctx.conn = Conn::Pg(conn);
                match begin_and_head(&mut ctx.conn).await {
                    Ok(head) => return Ok(head),
                    Err(e) => error = e,
                }
            }
            Err(e) => error = e.into(),
        }
    }
    Err(error)
}

/// The approvals that may be made in one statement from the start of `next`: those of the jobs
/// in a row, up to the second of one customer. Each customer's approvals debit only their own
/// accounts, count and reset only their own credentials and touch only their own cards, so when
/// the statement makes every one of them, the outcome is that of making them one after another
/// in the jobs' order (another customer's approval can only credit an account); two answers to
/// one operation, or two transfers of one account, go one at a time.
fn run_of_approvals(next: &[Option<ApprovalAnswer>]) -> Vec<ApprovalAnswer> {
    let mut customers = std::collections::HashSet::new();
    next.iter()
        .map_while(Option::as_ref)
        .take_while(|a| customers.insert(a.customer_id))
        .cloned()
        .collect()
}

/// The order in which the jobs of a batch run on PostgreSQL: each stretch of consecutive approval
/// jobs by rounds, first every customer's first approval in the stretch, then every one's second,
/// and so on, each round in arrival order; every other job where it is. A round is then one
/// statement ([`run_of_approvals`]) where cutting at each customer's second approval made many.
/// No job of a batch has been answered before the batch commits, so any order is one in which
/// they could have arrived; one customer's approvals keep theirs, and the audit records what the
/// database did in the order it did it.
fn approval_rounds(approvals: &[Option<ApprovalAnswer>]) -> Vec<usize> {
    let mut order = Vec::with_capacity(approvals.len());
    let mut start = 0;
    while start < approvals.len() {
        let stretch = approvals[start..].iter().take_while(|a| a.is_some()).count();
        if stretch == 0 {
            order.push(start);
            start += 1;
            continue;
        }
        let mut seen: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
        let mut keyed: Vec<(usize, usize)> = approvals[start..start + stretch]
            .iter()
            .enumerate()
            .filter_map(|(k, a)| a.as_ref().map(|a| (k, a.customer_id)))
            .map(|(k, customer)| {
                let round = seen.entry(customer).or_insert(0);
                *round += 1;
                (*round, start + k)
            })
            .collect();
        keyed.sort_unstable();
        order.extend(keyed.into_iter().map(|(_, k)| k));
        start += stretch;
    }
    order
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
        ctx.audit_rows.clear();
        match begin_or_reopen(&mut ctx).await {
            Ok(head) => ctx.head = head,
            Err(e) => {
                // The jobs never ran; dropping them answers each caller with `WriterGone`.
                tracing::error!(error = %e, "writer: BEGIN or reading the audit head failed");
                let _ = exec(&mut ctx.conn, "ROLLBACK").await;
                batch.clear();
                continue;
            }
        }
        let start_head = ctx.head;
        let mut poisoned: Option<String> = None;
        // Approvals made ahead for the jobs of the current run of consecutive approvals.
        let mut approvals: Vec<Option<ApprovalAnswer>> = batch.iter_mut().map(|j| j.approval.take()).collect();
        let mut made: std::collections::VecDeque<bool> = std::collections::VecDeque::new();
        let mut jobs = std::mem::replace(&mut batch, Vec::with_capacity(batch_max));
        if ctx.conn.engine() == Engine::Postgres && approvals.iter().filter(|a| a.is_some()).count() > 1 {
            let order = approval_rounds(&approvals);
            let mut slots: Vec<Option<(Job, Option<ApprovalAnswer>)>> =
                jobs.into_iter().zip(approvals).map(Some).collect();
            (jobs, approvals) = order
                .into_iter()
                .filter_map(|k| slots.get_mut(k).and_then(Option::take))
                .unzip();
        }
        for (i, job) in jobs.into_iter().enumerate() {
            let before = (ctx.head, ctx.audit_rows.len());
            if let Some(answer) = approvals[i].clone() {
                let run = if made.is_empty() && poisoned.is_none() && ctx.conn.engine() == Engine::Postgres {
                    run_of_approvals(&approvals[i..])
                } else {
                    Vec::new()
                };
                if run.len() > 1 {
                    // This job's approval and those of the jobs right after it, in one statement,
                    // here: after every job before them, before every job after them.
                    let n = run.len();
                    match ctx.approve_many(run).await {
                        // All made, or none (each of these jobs then makes its own).
                        Ok(all) => made.extend(std::iter::repeat_n(all, n)),
                        Err(e) => {
                            tracing::error!(error = %e, "writer: the batch's approvals failed");
                            poisoned = Some(e.to_string());
                        }
                    }
                }
                ctx.preapproved = made.pop_front().map(|done| (answer, done));
            }
            if job.guarded
                && let Err(e) = exec(&mut ctx.conn, "SAVEPOINT job").await
            {
                tracing::error!(error = %e, "writer: SAVEPOINT failed");
                poisoned = Some(e.to_string());
                continue;
            }
            let (ok, ack) = (job.run)(&mut ctx).await;
            acks.push(ack);
            if let Some((answer, true)) = ctx.preapproved.take() {
                // Made, yet the job did not take it up: it would stand without its audit row.
                tracing::error!(
                    row = answer.id,
                    "writer: an approval made ahead was not taken up by its job"
                );
                poisoned = Some("an approval made ahead was not taken up".into());
            }
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
            None => match ctx.write_audit(start_head.0).await {
                Ok(()) => exec(&mut ctx.conn, "COMMIT").await.map_err(|e| e.to_string()),
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

/// A customer whose attempts are counted, with where a block alert goes and the web session
/// that a block leaves open (the one that gave the answer, so that it can show the block).
#[derive(Debug, Clone)]
pub struct Holder {
    /// Row id.
    pub id: i64,
    /// For the audit log.
    pub user_code: String,
    /// Certified phone (block alert).
    pub phone: String,
    /// E-mail (block alert).
    pub email: String,
    /// The session of the request that answers; a block ends the customer's other sessions.
    pub keep_session: Option<super::SessionKey>,
}

impl Holder {
    /// `customer`, answering from the session `keep_session` (if any).
    pub fn new(customer: &super::Customer, keep_session: Option<super::SessionKey>) -> Self {
        Self {
            id: customer.id,
            user_code: customer.user_code.clone(),
            phone: customer.phone.clone(),
            email: customer.email.clone(),
            keep_session,
        }
    }
}

/// Whose attempts are counted: a customer's, or those made on a user name that is no
/// customer's (lower-cased), which are counted the same way so that the answers do not tell
/// the two apart.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// A customer.
    Customer(&'a Holder),
    /// A user name that is no customer's.
    Unknown(&'a str),
    /// A legacy customer code of an acquired bank, whether it exists or not.
    Legacy(&'a LegacyHolder),
}

impl Subject<'_> {
    /// The name the counters of a user name or a legacy code are kept under.
    pub(crate) fn name(&self) -> Option<&str> {
        match self {
            Self::Customer(_) => None,
            Self::Unknown(user) => Some(user),
            Self::Legacy(h) => Some(&h.key),
        }
    }
}

/// Whose legacy credential is answered: the name its counters are kept under in
/// `legacy_failures` (`legacy:<bank>:<legacy code>`), and the legacy customer behind it, if any.
#[derive(Debug, Clone)]
pub struct LegacyHolder {
    /// `legacy:ubi:U1234567`.
    pub key: String,
    /// The legacy customer, when the code exists.
    pub known: Option<LegacyKnown>,
}

/// A legacy customer as a block needs it.
#[derive(Debug, Clone)]
pub struct LegacyKnown {
    /// `legacy_customers.id`.
    pub id: i64,
    /// The acquired bank's name, for the alert.
    pub bank_name: String,
    /// The mobile the old bank certified (block alert).
    pub phone: String,
    /// E-mail (block alert).
    pub email: String,
}

impl LegacyHolder {
    /// The counters' name of `legacy_code` (as typed: legacy codes are matched exactly) at the
    /// acquired bank `bank`.
    pub fn key_of(bank: &str, legacy_code: &str) -> String {
        format!("legacy:{bank}:{legacy_code}")
    }
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
    /// A credit card purchase over what the card's monthly limit leaves: nothing changed.
    OverLimit,
}

impl Approval {
    /// What `decided_by` records of an operation failed for this refusal, where no approver does.
    pub fn failed_by(self) -> &'static str {
        match self {
            Self::OverLimit => "over_limit",
            _ => "insufficient_funds",
        }
    }
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
    /// `push` or `sms` (docs/api.md §12).
    pub sca_policy: &'static str,
    /// Made by a first access that has not ended: the user code does not log in yet.
    pub first_access_pending: bool,
}

/// Why a new customer was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerConflict {
    /// The user code exists (draw another).
    UserCode,
    /// The alias is taken.
    Alias,
}

/// The new row's id (from `RETURNING id`), or `None` when a unique constraint refused it (the
/// caller draws another identifier and tries again).
pub(super) fn inserted_unless_taken(result: Result<i64, sqlx::Error>) -> Result<Option<i64>, StoreError> {
    match result {
        Ok(id) => Ok(Some(id)),
        Err(e) if unique_violation(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A UNIQUE constraint refused the write (by its kind, never by its message's text).
pub(super) fn unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl WriteCtx {
    /// Opens a savepoint around one statement that a unique key may refuse (a drawn identifier
    /// or an alias already taken): PostgreSQL aborts the whole transaction on a refused
    /// statement, SQLite does not. Closed by [`end_maybe_taken`](Self::end_maybe_taken).
    pub(super) async fn begin_maybe_taken(&mut self) -> Result<(), StoreError> {
        exec(&mut self.conn, "SAVEPOINT maybe_taken").await?;
        Ok(())
    }

    /// Closes the savepoint of [`begin_maybe_taken`](Self::begin_maybe_taken), undoing the
    /// statement if it `failed`, so that the batch goes on either way.
    pub(super) async fn end_maybe_taken(&mut self, failed: bool) -> Result<(), StoreError> {
        if failed {
            exec(&mut self.conn, "ROLLBACK TO maybe_taken").await?;
        }
        exec(&mut self.conn, "RELEASE maybe_taken").await?;
        Ok(())
    }

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

    /// Writes the batch's audit rows and, when the head moved past `before`, its signed
    /// checkpoint: on PostgreSQL in one statement.
    fn write_audit(&mut self, before: i64) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let at = self.audit_rows.last().map_or(0, |r| r.at);
            let Conn::Pg(c) = &mut self.conn else {
                self.flush_audit().await?;
                return self.checkpoint(before, at).await;
            };
            if self.audit_rows.is_empty() {
                return Ok(());
            }
            const ROWS: &str = "INSERT INTO audit (seq, at, kind, customer, detail, prev_hash, hash) \
                 SELECT * FROM unnest($1::int8[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::bytea[])";
            static ROWS_AND_CHECKPOINT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
                format!(
                    "WITH rows AS ({ROWS}), checkpoint AS \
                     (INSERT INTO audit_checkpoints (seq, at, hash, signature) VALUES ($8, $9, $10, $11)) \
                     INSERT INTO audit_anchor (id, value) VALUES (1, $8) ON CONFLICT DO NOTHING"
                )
            });
            let rows = &self.audit_rows;
            let (seq, hash) = self.head;
            let signature = match &self.signer {
                Some(signer) if seq != before => Some(
                    signer(&audit::checkpoint_bytes(seq, at, &hash))
                        .ok_or_else(|| StoreError::Commit("signing the audit checkpoint failed".into()))?,
                ),
                _ => None,
            };
            let q = sqlx::query(if signature.is_some() {
                ROWS_AND_CHECKPOINT.as_str()
            } else {
                ROWS
            })
            .bind(rows.iter().map(|r| r.seq).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.at).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.customer.as_str()).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.detail.as_str()).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.prev_hash.to_vec()).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.hash.to_vec()).collect::<Vec<_>>());
            let q = match signature {
                Some(signature) => q.bind(seq).bind(at).bind(hash.to_vec()).bind(signature),
                None => q,
            };
            q.execute(&mut *c).await?;
            Ok(())
        })
    }

    async fn flush_audit(&mut self) -> Result<(), StoreError> {
        for chunk in self.audit_rows.chunks(100) {
            let mut sql = String::from("INSERT INTO audit (seq, at, kind, customer, detail, prev_hash, hash) VALUES ");
            for i in 0..chunk.len() {
                let n = i * 7;
                let sep = if i == 0 { "" } else { ", " };
                sql.push_str(&format!(
                    "{sep}(${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5,
                    n + 6,
                    n + 7
                ));
            }
            conn!(&mut self.conn, |c| {
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
                q.execute(c).await.map(|_| ())
            })?;
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
        conn!(&mut self.conn, |c| sqlx::query(
            "INSERT INTO audit_checkpoints (seq, at, hash, signature) VALUES ($1, $2, $3, $4)"
        )
        .bind(seq)
        .bind(at)
        .bind(&hash[..])
        .bind(signature)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        conn!(&mut self.conn, |c| sqlx::query(
            "INSERT INTO audit_anchor (id, value) VALUES (1, $1) ON CONFLICT DO NOTHING"
        )
        .bind(seq)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A chain with rows but no checkpoint (written before checkpoints existed): verified whole,
    /// then its head is signed, so that from now on a cut is seen.
    async fn anchor_unsigned_chain(&mut self) -> Result<(), StoreError> {
        if self.signer.is_none() || self.head.0 == 0 {
            return Ok(());
        }
        let signed: i64 = conn!(&mut self.conn, |c| sqlx::query_scalar(
            "SELECT count(*) FROM audit_checkpoints"
        )
        .fetch_one(c)
        .await)?;
        if signed > 0 {
            return Ok(());
        }
        // Once only: a chain that was anchored and has lost its checkpoints since was tampered
        // with, and signing it now would vouch for the tampering. `audit-verify` reports it.
        let anchored: Option<i64> = conn!(&mut self.conn, |c| sqlx::query_scalar(
            "SELECT value FROM audit_anchor WHERE id = 1"
        )
        .fetch_optional(c)
        .await)?;
        if anchored.is_some() {
            tracing::error!("the audit checkpoints are gone: not signing the chain again (run audit-verify)");
            return Ok(());
        }
        let mut head = (0i64, audit::GENESIS);
        let mut at = 0;
        loop {
            let rows: Vec<audit::AuditRow> = conn!(&mut self.conn, |c| {
                sqlx::query_as(
                "SELECT seq, at, kind, customer, detail, prev_hash, hash FROM audit WHERE seq > $1 ORDER BY seq LIMIT 10000",
            )
            .bind(head.0)
            .fetch_all(c)
            .await
            })?;
            if rows.is_empty() {
                break;
            }
            head = audit::verify_rows(head, &rows)
                .map_err(|e| StoreError::Corrupt(format!("audit chain, before its first checkpoint: {e}")))?;
            at = rows.last().map_or(at, |r| r.at);
        }
        begin(&mut self.conn).await?;
        self.checkpoint(0, at).await?;
        conn!(&mut self.conn, |c| sqlx::query(
            "INSERT INTO audit_anchor (id, value) VALUES (1, $1)"
        )
        .bind(self.head.0)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        exec(&mut self.conn, "COMMIT").await?;
        Ok(())
    }
}

impl WriteCtx {
    /// Whether a commit of the writing connection is on disk before it is acknowledged: SQLite
    /// in WAL mode with `synchronous=FULL`, or PostgreSQL with `fsync` and a durable
    /// `synchronous_commit` (`on`, `remote_write`, `remote_apply`; not `local` or `off`).
    pub async fn durable(&mut self) -> Result<bool, StoreError> {
        match self.conn.engine() {
            Engine::Sqlite => {
                let mode: String = conn!(&mut self.conn, |c| sqlx::query_scalar("PRAGMA journal_mode")
                    .fetch_one(c)
                    .await)?;
                let sync: i64 = conn!(&mut self.conn, |c| sqlx::query_scalar("PRAGMA synchronous")
                    .fetch_one(c)
                    .await)?;
                Ok(mode == "wal" && sync >= 2)
            }
            Engine::Postgres => {
                let fsync: String = conn!(&mut self.conn, |c| sqlx::query_scalar("SHOW fsync").fetch_one(c).await)?;
                let commit: String = conn!(&mut self.conn, |c| sqlx::query_scalar("SHOW synchronous_commit")
                    .fetch_one(c)
                    .await)?;
                Ok(fsync == "on" && matches!(commit.as_str(), "on" | "remote_write" | "remote_apply"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn approvals_go_by_rounds_of_distinct_customers() {
        let a = |customer_id: i64| {
            Some(super::ApprovalAnswer {
                id: customer_id,
                at: 0,
                by: String::new(),
                customer_id,
                credential: super::super::Credential::Code,
                max: 5,
                device: None,
            })
        };
        // Customers 1, 2, 1, 3, 1 | another job | 4, 4.
        let approvals = [a(1), a(2), a(1), a(3), a(1), None, a(4), a(4)];
        assert_eq!(super::approval_rounds(&approvals), [0, 1, 3, 2, 4, 5, 6, 7]);
        assert_eq!(super::approval_rounds(&[a(8), a(8), a(9), a(9), a(8)]), [0, 2, 1, 3, 4]);
        assert_eq!(super::approval_rounds(&[None, a(7), None]), [0, 1, 2]);
    }

    use crate::storage::Store;

    #[tokio::test]
    async fn the_writer_commits_durably_and_keeps_the_audit_chain() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::open(&url, 16, None).await.unwrap();
        let durable = store
            .write(|w| Box::pin(async move { w.durable().await }))
            .await
            .unwrap();
        assert!(durable, "WAL with synchronous=FULL");
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
