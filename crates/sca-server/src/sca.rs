//! The SCA rules of docs/spec/sca1.md §8 on top of storage: checking codes against a customer's
//! devices, the single-use change of an operation's status, counting wrong answers, creating
//! signed operations, SMS OTPs. Handlers call these; every computation of the protocol itself is
//! `sca_protocol`'s.

use sca_protocol::{
    Code, CodeInput, Kind, Nonce, OpId, Operation, OperationData, SignedPayload, Step, UncheckedPayload,
    constant_time_eq, sha256,
};

use crate::api::extract::ClientIp;
use crate::crypto::random;
use crate::error::{ApiResult, AppError, ErrorKind};
use crate::state::{AppState, DeviceKeys, HubEvent};
use crate::storage::writer::{Approval, Booking, NewOperation};
use std::sync::Arc;

use crate::storage::{Counted, Credential, Customer, Holder, OperationRow, OperationStatus, Settle, Subject};

/// Which kinds of code an answer may be.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Allowed {
    /// OPERATION codes for the operation (dynamic linking).
    pub operation: bool,
    /// OPERATION_ID codes for the operation.
    pub operation_id: bool,
    /// LOGIN codes (step window).
    pub login: bool,
    /// TRANSACTION codes (step window).
    pub transaction: bool,
}

/// Which device made a right code, and the step it used (LOGIN/TRANSACTION).
#[derive(Debug, Clone)]
pub(crate) struct CodeMatch {
    pub device_id: String,
    /// `(is_transaction, step)`.
    pub step: Option<(bool, u64)>,
}

/// Checks `code` against every allowed code of every device, each comparison in constant time
/// and with no early exit, so timing tells nothing of which device or purpose was near.
pub(crate) fn match_code(
    keys: &[DeviceKeys],
    code: &Code,
    op: Option<&Operation>,
    allowed: Allowed,
    now: u64,
    only_device: Option<&str>,
) -> Option<CodeMatch> {
    let now_step = Step::at(now).0;
    let steps = [now_step.saturating_sub(1), now_step, now_step + 1];
    let data_sha = op.map(|o| o.data_sha());
    let mut found: Option<CodeMatch> = None;
    for device in keys {
        if only_device.is_some_and(|d| d != device.device_id) {
            continue;
        }
        let mut check = |input: CodeInput<'_>, step: Option<(bool, u64)>| {
            let fits = input.code(&device.k_poss, &device.k_know).ct_eq(code);
            if fits && found.is_none() {
                found = Some(CodeMatch {
                    device_id: device.device_id.clone(),
                    step,
                });
            }
        };
        if let (Some(op), Some(sha)) = (op, data_sha.as_ref()) {
            if allowed.operation {
                check(
                    CodeInput::Operation {
                        op_id: &op.op_id,
                        nonce: &op.nonce,
                        data_sha: sha,
                    },
                    None,
                );
            }
            if allowed.operation_id {
                check(CodeInput::OperationId(&op.op_id), None);
            }
        }
        for &s in &steps {
            if allowed.login {
                check(CodeInput::Login(Step(s)), Some((false, s)));
            }
            if allowed.transaction {
                check(CodeInput::Transaction(Step(s)), Some((true, s)));
            }
        }
    }
    found
}

/// Checks a TRANSACTION code ("OTP dispositiva": a change that needs no dynamic linking) against
/// the customer's devices, or one device: a right code spends its step and resets the count; a
/// wrong or replayed one is a wrong answer. `what` names the change in the audit log.
pub(crate) async fn check_transaction_code(
    state: &AppState,
    customer: &Customer,
    code: &Code,
    only_device: Option<&str>,
    what: &'static str,
) -> ApiResult<()> {
    let right = match_transaction_code(state, customer, code, only_device, what).await?;
    let (cid, user_code, max) = (customer.id, customer.user_code.clone(), state.config().max_attempts);
    let spent = state
        .store()
        .write(move |w| Box::pin(async move { right.spend(w, cid, &user_code, max).await }))
        .await?;
    right_code_spent(state, customer, spent).await
}

/// A TRANSACTION code found right, not yet spent: its device, step and what it confirms.
#[derive(Debug, Clone)]
pub(crate) struct RightCode {
    device_id: String,
    step: u64,
    now: u64,
    what: &'static str,
}

/// Finds which device's TRANSACTION code `code` is; a wrong one is counted. The step is spent
/// later, by [`RightCode::spend`] in the write that acts on it.
pub(crate) async fn match_transaction_code(
    state: &AppState,
    customer: &Customer,
    code: &Code,
    only_device: Option<&str>,
    what: &'static str,
) -> ApiResult<RightCode> {
    if state.store().failures(customer.id).await?.code >= state.config().max_attempts {
        return Err(AppError::blocked());
    }
    let keys = state.device_keys(customer.id).await?;
    let now = state.now();
    let allowed = Allowed {
        transaction: true,
        ..Allowed::default()
    };
    let found = match_code(&keys, code, None, allowed, now, only_device);
    let Some((device_id, Some((_, step)))) = found.map(|m| (m.device_id, m.step)) else {
        return Err(wrong_answer(state, customer, Credential::Code, what, None).await);
    };
    Ok(RightCode {
        device_id,
        step,
        now,
        what,
    })
}

impl RightCode {
    /// Spends the code's step inside a write job: refused when the codes got blocked since the
    /// code was matched (wrong answers that arrived at the same time are counted in the same
    /// batch order), `Gone` when the step was already spent (a replay). A right code resets the
    /// count of wrong ones.
    pub(crate) async fn spend(
        &self,
        w: &mut crate::storage::WriteCtx,
        customer_id: i64,
        user_code: &str,
        max: u32,
    ) -> Result<Spent, crate::storage::StoreError> {
        if w.is_blocked(customer_id, Credential::Code, max).await? {
            return Ok(Spent::Blocked);
        }
        if !w.accept_step(&self.device_id, true, self.step).await? {
            return Ok(Spent::Gone);
        }
        w.reset_failures(customer_id, Credential::Code).await?;
        w.audit(
            self.now,
            "transaction_code_accepted",
            user_code,
            &format!("{}, device {}", self.what, self.device_id),
        )
        .await?;
        Ok(Spent::Now)
    }
}

/// The answer to a TRANSACTION code once [`RightCode::spend`] ran: a replayed step is a wrong
/// answer.
pub(crate) async fn right_code_spent(state: &AppState, customer: &Customer, spent: Spent) -> ApiResult<()> {
    match spent {
        Spent::Gone => Err(wrong_answer(state, customer, Credential::Code, "replayed step", None).await),
        other => other.ok(),
    }
}

/// Checks a password or a security code by count-then-verify (PSD2 RTS art. 4(3)(b): at most
/// `max_attempts` wrong answers, however many arrive at once): one write takes an attempt —
/// refused (423) when the credential is blocked or every attempt left is already being
/// evaluated —, then the argon2id hash is evaluated, then a second write settles the attempt: a
/// right answer resets the count when `reset_on_right`, a wrong one is counted and on the last
/// one blocks. A user name that is no customer's takes the very same steps against a dummy hash
/// and counters of its own, so statuses, `attempts_left` and work tell nobody which it is.
///
/// First of all, the client's token bucket: one address cannot take the hashing queue from the
/// others (429 with `Retry-After`).
///
/// The three steps run in a task of their own: a client that hangs up mid-hash cannot leave its
/// attempt taken and never settled.
pub(crate) async fn check_secret(
    state: &AppState,
    client: ClientIp,
    user: &str,
    secret: &str,
    credential: Credential,
    reset_on_right: bool,
    detail: &'static str,
) -> ApiResult<Customer> {
    // In front of everything else, so a client beyond its rate neither hashes nor takes an
    // attempt of anyone's.
    state.take_login_token(client.0)?;
    let (state, user, secret) = (
        state.clone(),
        user.to_owned(),
        zeroize::Zeroizing::new(secret.to_owned()),
    );
    let cookie = current_session();
    tokio::spawn(SESSION_COOKIE.scope(cookie, async move {
        check_secret_now(&state, &user, secret, credential, reset_on_right, detail).await
    }))
    .await
    .map_err(AppError::internal)?
}

/// The owned parts of a [`Subject`], to move into a write job.
enum Whose {
    Customer(i64, String, String, String),
    Unknown(String),
}

impl Whose {
    fn subject(&self) -> Subject<'_> {
        match self {
            Self::Customer(id, user_code, phone, email) => Subject::Customer(Holder {
                id: *id,
                user_code,
                phone,
                email,
            }),
            Self::Unknown(user) => Subject::Unknown(user),
        }
    }
}

async fn check_secret_now(
    state: &AppState,
    user: &str,
    secret: zeroize::Zeroizing<String>,
    credential: Credential,
    reset_on_right: bool,
    detail: &'static str,
) -> ApiResult<Customer> {
    let max = state.config().max_attempts;
    let customer = state.store().customer_by_user(user).await?;
    let whose = Arc::new(match &customer {
        Some(c) => Whose::Customer(c.id, c.user_code.clone(), c.phone.clone(), c.email.clone()),
        None => Whose::Unknown(user.to_ascii_lowercase()),
    });
    let now = state.now();
    let w2 = whose.clone();
    let taken = state
        .store()
        .write(move |w| Box::pin(async move { w.take_attempt(now, &w2.subject(), credential, max).await }))
        .await?;
    if !taken {
        return Err(AppError::blocked());
    }
    let phc = customer.as_ref().map(|c| match credential {
        Credential::SecurityCode => c.security_code_hash.clone(),
        _ => c.password_hash.clone(),
    });
    let verdict = state
        .hashing(move |h| match phc {
            Some(phc) => h.verify(&secret, &phc),
            None => {
                h.verify_dummy(&secret);
                false
            }
        })
        .await;
    let settle = match &verdict {
        Ok(true) => Settle::Right { reset: reset_on_right },
        Ok(false) => Settle::Wrong,
        Err(_) => Settle::NotEvaluated,
    };
    // The settle must not be lost: a batch that failed was rolled back whole, so the write is
    // tried again (an attempt left taken would refuse the customer until the next start).
    let mut tries = 0;
    let counted = loop {
        let (whose, now) = (whose.clone(), state.now());
        let settled = state
            .store()
            .write(move |w| {
                Box::pin(async move {
                    w.settle_attempt(now, &whose.subject(), credential, settle, max, detail)
                        .await
                })
            })
            .await;
        match settled {
            Ok(counted) => break counted,
            Err(e) if tries < SETTLE_RETRIES => {
                tries += 1;
                tracing::warn!(error = %e, tries, "settling an attempt failed; trying again");
                tokio::time::sleep(std::time::Duration::from_millis(50 * tries)).await;
            }
            Err(e) => return Err(e.into()),
        }
    };
    let cid = customer.as_ref().map(|c| c.id);
    match (verdict?, customer) {
        (true, Some(customer)) => Ok(customer),
        _ => {
            state.messages_queued();
            Err(counted_error(state, cid, counted, ErrorKind::InvalidCredentials))
        }
    }
}

/// The operation a stored payload describes (the server signed it; no signature check needed).
pub(crate) fn stored_operation(row: &OperationRow) -> ApiResult<Operation> {
    UncheckedPayload::parse(&row.payload)
        .map(|p| p.operation().clone())
        .map_err(|e| AppError::internal(format!("stored payload of operation {}: {e}", row.id)))
}

/// How an answer was given.
#[derive(Debug, Clone)]
pub(crate) enum Via {
    /// A right code typed into a page.
    Code(CodeMatch),
    /// A push approval from a device (its code and signature already checked).
    Device(String),
    /// An SMS OTP (its value already checked).
    Sms(String),
}

impl Via {
    fn credential(&self) -> Credential {
        match self {
            Self::Sms(_) => Credential::SmsOtp,
            Self::Code(_) | Self::Device(_) => Credential::Code,
        }
    }

    fn by(&self) -> String {
        match self {
            Self::Code(m) => format!("code:{}", m.device_id),
            Self::Device(d) => format!("device:{d}"),
            Self::Sms(_) => "sms".to_owned(),
        }
    }
}

#[derive(Debug)]
enum Outcome {
    Approved,
    NotPending,
    Expired,
    Blocked,
    Wrong(Counted),
    InsufficientFunds,
}

/// Approves a pending operation once: checks (inside the writer, so atomically) that the
/// credential is not blocked, the operation still pending and unexpired, a LOGIN/TRANSACTION step
/// is fresh, an SMS OTP unused; then books a transfer, flips the status and audits, all in one
/// commit. Returns after the commit.
pub(crate) async fn approve(state: &AppState, customer: &Customer, op: &OperationRow, via: Via) -> ApiResult<()> {
    let now = state.now();
    let max = state.config().max_attempts;
    let (cid, user_code, contact) = (
        customer.id,
        customer.user_code.clone(),
        (customer.phone.clone(), customer.email.clone()),
    );
    let (op_row, kind, op_id) = (op.id, op.kind.clone(), op.op_id.clone());
    // OPERATION / OPERATION_ID codes and push approvals need nothing but the one conditional
    // UPDATE (its triggers book the money and reset the count): the hot path, without a
    // savepoint. Time-step codes and SMS OTPs also spend the step or the OTP first.
    let fast = matches!(&via, Via::Device(_) | Via::Code(CodeMatch { step: None, .. }));
    let args = ApproveArgs {
        fast,
        via: via.clone(),
        now,
        max,
        cid,
        user_code,
        contact,
        op_row,
        kind,
        op_id,
    };
    let outcome = if fast {
        state
            .store()
            .write_unguarded(move |w| Box::pin(approve_in_writer(w, args)))
            .await?
    } else {
        state
            .store()
            .write(move |w| Box::pin(approve_in_writer(w, args)))
            .await?
    };
    if !matches!(outcome, Outcome::Wrong(_) | Outcome::Blocked) {
        state.forget_operation(cid, &op.op_id);
    }
    match outcome {
        Outcome::Approved => {
            state.0.hub.publish(
                cid,
                HubEvent::Status {
                    op_id: op.op_id.clone(),
                    status: OperationStatus::Approved,
                },
            );
            if let Some(login_id) = &op.login_id {
                state.0.sessions.authenticate(login_id, now);
            }
            Ok(())
        }
        Outcome::NotPending => Err(AppError::not_pending()),
        Outcome::Expired => {
            state.0.hub.publish(
                cid,
                HubEvent::Status {
                    op_id: op.op_id.clone(),
                    status: OperationStatus::Expired,
                },
            );
            Err(AppError::expired())
        }
        Outcome::Blocked => Err(AppError::blocked()),
        Outcome::Wrong(counted) => {
            state.messages_queued();
            Err(counted_error(state, Some(cid), counted, ErrorKind::WrongCode))
        }
        Outcome::InsufficientFunds => {
            state.0.hub.publish(
                cid,
                HubEvent::Status {
                    op_id: op.op_id.clone(),
                    status: OperationStatus::Failed,
                },
            );
            Err(AppError::new(
                ErrorKind::InsufficientFunds,
                "the account does not hold the amount; the operation failed",
            ))
        }
    }
}

struct ApproveArgs {
    fast: bool,
    via: Via,
    now: u64,
    max: u32,
    cid: i64,
    user_code: String,
    contact: (String, String),
    op_row: i64,
    kind: String,
    op_id: String,
}

async fn approve_in_writer(
    w: &mut crate::storage::WriteCtx,
    a: ApproveArgs,
) -> Result<Outcome, crate::storage::StoreError> {
    let ApproveArgs {
        fast,
        via: via2,
        now,
        max,
        cid,
        user_code,
        contact,
        op_row,
        kind,
        op_id,
    } = a;
    let credential = via2.credential();
    let by = via2.by();
    if !fast {
        if w.is_blocked(cid, credential, max).await? {
            return Ok(Outcome::Blocked);
        }
        match w.operation(op_row).await? {
            Some(current) if current.status.is_pending() && now < current.expires_at as u64 => {}
            _ => return classify(w, op_row, now, &user_code, &op_id, cid, credential, max).await,
        }
        if let Via::Code(CodeMatch {
            device_id,
            step: Some((transaction, step)),
        }) = &via2
            && !w.accept_step(device_id, *transaction, *step).await?
        {
            let counted = w
                .count_failure(
                    now,
                    cid,
                    &user_code,
                    (&contact.0, &contact.1),
                    credential,
                    max,
                    "replayed time-step code",
                )
                .await?;
            return Ok(Outcome::Wrong(counted));
        }
        if let Via::Sms(otp_id) = &via2
            && !w.use_otp(otp_id, now, i64::MAX).await?
        {
            return Ok(Outcome::Expired);
        }
    }
    match w.approve_operation(op_row, now, &by, cid, credential, max).await? {
        Approval::Approved => {
            w.audit(
                now,
                "operation_approved",
                &user_code,
                &format!("{op_id} {kind} by {by}"),
            )
            .await?;
            Ok(Outcome::Approved)
        }
        Approval::InsufficientFunds => {
            w.decide_operation(op_row, OperationStatus::Failed, now, &by).await?;
            w.audit(
                now,
                "operation_failed",
                &user_code,
                &format!("{op_id}: insufficient funds"),
            )
            .await?;
            Ok(Outcome::InsufficientFunds)
        }
        Approval::NotApproved => classify(w, op_row, now, &user_code, &op_id, cid, credential, max).await,
    }
}

/// Why an operation could not be approved: blocked, not pending, or expired (then marked so).
#[allow(clippy::too_many_arguments)]
async fn classify(
    w: &mut crate::storage::WriteCtx,
    op_row: i64,
    now: u64,
    user_code: &str,
    op_id: &str,
    cid: i64,
    credential: Credential,
    max: u32,
) -> Result<Outcome, crate::storage::StoreError> {
    if w.is_blocked(cid, credential, max).await? {
        return Ok(Outcome::Blocked);
    }
    match w.operation(op_row).await? {
        Some(current) if current.status.is_pending() && now >= current.expires_at as u64 => {
            if w.decide_operation(op_row, OperationStatus::Expired, now, "clock")
                .await?
            {
                w.audit(now, "operation_expired", user_code, op_id).await?;
            }
            Ok(Outcome::Expired)
        }
        _ => Ok(Outcome::NotPending),
    }
}

/// The error for a counted answer. The answer that blocks the credential (0 left) also ends the
/// customer's other web sessions: whoever is guessing may be in one (issue 11 §5).
fn counted_error(state: &AppState, customer_id: Option<i64>, counted: Counted, kind: ErrorKind) -> AppError {
    match counted {
        Counted::Wrong { attempts_left } => {
            if attempts_left == 0
                && let Some(cid) = customer_id
            {
                state.0.sessions.end_customer(cid, current_session().as_deref());
                if kind == ErrorKind::WrongCode {
                    // No push may wait on a device whose codes cannot approve it.
                    state.0.hub.publish(cid, HubEvent::CodesBlocked);
                }
            }
            AppError::counted(kind, attempts_left)
        }
        Counted::Blocked => AppError::blocked(),
    }
}

tokio::task_local! {
    /// The session cookie of the request being served, if any (set by the app's middleware).
    pub(crate) static SESSION_COOKIE: Option<String>;
}

/// The session cookie of the request this task serves.
pub(crate) fn current_session() -> Option<String> {
    SESSION_COOKIE.try_with(Clone::clone).ok().flatten()
}

/// Counts a wrong answer for `credential` and returns the error to answer with: 401 with
/// `attempts_left`, or 423 once blocked. Optionally moves a pending operation to `failed` in the
/// same commit (a wrong number-matching pick).
pub(crate) async fn wrong_answer(
    state: &AppState,
    customer: &Customer,
    credential: Credential,
    detail: &str,
    fail_operation: Option<&OperationRow>,
) -> AppError {
    let now = state.now();
    let max = state.config().max_attempts;
    let (cid, user_code, phone, email, detail) = (
        customer.id,
        customer.user_code.clone(),
        customer.phone.clone(),
        customer.email.clone(),
        detail.to_owned(),
    );
    let fail = fail_operation.map(|o| (o.id, o.op_id.clone()));
    let result = state
        .store()
        .write(move |w| {
            Box::pin(async move {
                let counted = w
                    .count_failure(now, cid, &user_code, (&phone, &email), credential, max, &detail)
                    .await?;
                if let Some((row, op_id)) = fail
                    && w.decide_operation(row, OperationStatus::Failed, now, "wrong_answer")
                        .await?
                {
                    w.audit(now, "operation_failed", &user_code, &format!("{op_id}: {detail}"))
                        .await?;
                }
                Ok(counted)
            })
        })
        .await;
    if let Some(op) = fail_operation {
        state.0.hub.publish(
            customer.id,
            HubEvent::Status {
                op_id: op.op_id.clone(),
                status: OperationStatus::Failed,
            },
        );
    }
    let kind = match credential {
        Credential::Password | Credential::SecurityCode => ErrorKind::InvalidCredentials,
        Credential::Code => ErrorKind::WrongCode,
        Credential::SmsOtp => ErrorKind::WrongOtp,
    };
    match result {
        Ok(counted) => {
            state.messages_queued();
            counted_error(state, Some(customer.id), counted, kind)
        }
        Err(e) => AppError::from(e),
    }
}

/// A created operation.
#[derive(Debug, Clone)]
pub(crate) struct Created {
    pub row_id: i64,
    pub op_id: String,
    pub payload: String,
    pub expires: u64,
}

/// Signs and stores a new pending operation with an op id the customer never had, then pushes
/// it to the customer's devices.
pub(crate) async fn create_operation(
    state: &AppState,
    customer: &Customer,
    kind: Kind,
    data: OperationData,
    login: Option<(String, i64)>,
    booking: Option<(Booking, String)>,
) -> ApiResult<Created> {
    let now = state.now();
    let expires = now + state.config().operation_ttl;
    for _ in 0..8 {
        let op_id = OpId::random(&state.0.rng)?;
        let operation = Operation {
            op_id,
            kind,
            data: data.clone(),
            nonce: Nonce::random(&state.0.rng)?,
            expires,
        };
        let signed = SignedPayload::sign(operation, &state.0.bank_key, &state.0.rng)
            .map_err(|e| AppError::internal(format!("signing: {e}")))?;
        let new = NewOperation {
            customer_id: customer.id,
            op_id: op_id.to_string(),
            kind: kind.as_str().to_owned(),
            payload: signed.text().to_owned(),
            expires_at: expires as i64,
            login_id: login.as_ref().map(|l| l.0.clone()),
            number: login.as_ref().map(|l| l.1),
            booking: booking.clone(),
        };
        let user_code = customer.user_code.clone();
        let new2 = new.clone();
        let row = state
            .store()
            .write(move |w| {
                Box::pin(async move {
                    let row = w.insert_operation(now, &new2).await?;
                    if row.is_some() {
                        w.audit(
                            now,
                            "operation_created",
                            &user_code,
                            &format!("{} {}", new2.op_id, new2.kind),
                        )
                        .await?;
                    }
                    Ok(row)
                })
            })
            .await?;
        if let Some(row_id) = row {
            let (account_id, amount_minor, currency, payee_iban, payee_name, description) = match &new.booking {
                Some((b, cur)) => (
                    Some(b.account_id),
                    Some(b.amount_minor),
                    Some(cur.clone()),
                    Some(b.payee_iban.clone()),
                    Some(b.payee_name.clone()),
                    Some(b.description.clone()),
                ),
                None => (None, None, None, None, None, None),
            };
            state.remember_operation(OperationRow {
                id: row_id,
                customer_id: customer.id,
                op_id: new.op_id.clone(),
                kind: new.kind.clone(),
                payload: new.payload.clone(),
                status: OperationStatus::Pending,
                expires_at: new.expires_at,
                login_id: new.login_id.clone(),
                number: new.number,
                account_id,
                amount_minor,
                currency,
                payee_iban,
                payee_name,
                description,
                created_at: now as i64,
            });
            state.0.hub.publish(
                customer.id,
                HubEvent::Operation {
                    op_id: new.op_id.clone(),
                    payload: new.payload.clone(),
                },
            );
            return Ok(Created {
                row_id,
                op_id: new.op_id,
                payload: new.payload,
                expires,
            });
        }
    }
    Err(AppError::internal("no free op id after 8 draws"))
}

fn otp_hash(id: &str, otp: &str) -> [u8; 32] {
    let mut buf = Vec::with_capacity(id.len() + otp.len());
    buf.extend_from_slice(id.as_bytes());
    buf.extend_from_slice(otp.as_bytes());
    sha256(&buf)
}

/// What an SMS OTP is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OtpPurpose {
    Login,
    Activation,
    Unblock,
    PasswordReset,
    PasswordChange,
}

impl OtpPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Activation => "activation",
            Self::Unblock => "unblock",
            Self::PasswordReset => "password_reset",
            Self::PasswordChange => "password_change",
        }
    }

    /// What the code is for, in Italian and in English.
    fn text(self) -> (&'static str, &'static str) {
        match self {
            Self::Login => ("per accedere all'Area Clienti", "to log in to Area Clienti"),
            Self::Activation => ("per attivare un nuovo autenticatore", "to activate a new authenticator"),
            Self::Unblock => ("per sbloccare le tue credenziali", "to unblock your credentials"),
            Self::PasswordReset => ("per reimpostare la password", "to reset your password"),
            Self::PasswordChange => ("per cambiare la password", "to change your password"),
        }
    }

    /// Each recovery's code takes at most this many wrong answers (they count against the
    /// customer's SMS codes too, so once those are blocked only the branch unblocks).
    fn per_otp_limit(self) -> Option<i64> {
        matches!(self, Self::Unblock | Self::PasswordReset).then_some(RECOVERY_CODE_TRIES)
    }
}

/// Wrong answers one recovery's SMS code takes before it is spent: a typo or two, not a search
/// (the customer asks for a new recovery; all of them count against the SMS-code block as well).
const RECOVERY_CODE_TRIES: i64 = 3;

/// How many times a failed write that settles an attempt is retried before the answer fails:
/// a passing `SQLITE_BUSY` or a full writer queue, never a wrong answer.
const SETTLE_RETRIES: u64 = 3;

/// Sends a fresh 6-digit OTP by SMS for `reference` (a login id, activation id or recovery id).
/// `id` is the OTP's own id (a recovery's id is its OTP's). Refuses (429 with `Retry-After`) a
/// resend sooner than the configured interval, and any SMS code beyond the rate limits per
/// customer and per phone (`sms_min_interval`, `sms_per_hour`).
pub(crate) async fn send_otp(
    state: &AppState,
    customer: &Customer,
    purpose: OtpPurpose,
    reference: &str,
    id: Option<String>,
) -> ApiResult<String> {
    let now = state.now();
    let id = match id {
        Some(id) => id,
        None => random::b64u(&state.0.rng, 16).map_err(AppError::internal)?,
    };
    let otp = random::digits(&state.0.rng, 6).map_err(AppError::internal)?;
    let hash = otp_hash(&id, &otp);
    let ((it, en), minutes, otp_text) = (purpose.text(), state.config().otp_ttl / 60, otp.as_str());
    let text = format!(
        "Sigillo: {otp_text} è il tuo codice {it}. Scade tra {minutes} minuti. Non darlo a nessuno, neanche alla banca. \
         / {otp_text} is your code {en}. It expires in {minutes} minutes. Never give it to anyone, not even the bank."
    );
    let (cid, user_code, phone, reference, interval, ttl) = (
        customer.id,
        customer.user_code.clone(),
        customer.phone.clone(),
        reference.to_owned(),
        state.config().otp_resend_interval,
        state.config().otp_ttl,
    );
    let id2 = id.clone();
    let (min_interval, per_hour) = (state.config().sms_min_interval, state.config().sms_per_hour);
    let refused = state
        .store()
        .write(move |w| {
            Box::pin(async move {
                if let Some(last) = w.last_otp_at(&reference, purpose.as_str()).await?
                    && now < last + interval
                {
                    return Ok(Some((
                        last + interval - now,
                        "an SMS code for this was sent moments ago",
                    )));
                }
                if let Some(wait) = w.sms_allowed(now, &phone, Some(cid), min_interval, per_hour).await? {
                    w.audit(now, "sms_otp_held_back", &user_code, purpose.as_str()).await?;
                    return Ok(Some((wait, "too many SMS codes to this customer or phone")));
                }
                w.insert_otp(now, &id2, cid, purpose.as_str(), &reference, &hash, now + ttl)
                    .await?;
                w.outbox(now, &phone, "sms", &text).await?;
                w.audit(now, "sms_otp_sent", &user_code, purpose.as_str()).await?;
                Ok(None)
            })
        })
        .await?;
    if let Some((wait, why)) = refused {
        return Err(AppError::retry_after(
            format!("{why}: try again in {wait} seconds"),
            wait,
        ));
    }
    state.messages_queued();
    Ok(id)
}

/// Checks an SMS OTP for `reference`; returns its id (to be used once, atomically, by the
/// caller's write). A wrong one is counted.
pub(crate) async fn check_otp(
    state: &AppState,
    customer: &Customer,
    purpose: OtpPurpose,
    reference: &str,
    given: &str,
) -> ApiResult<String> {
    let now = state.now();
    if given.len() != 6 || !given.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::bad_request("sms_otp", "an SMS code is exactly 6 digits"));
    }
    let limit = purpose.per_otp_limit();
    let max = state.config().max_attempts;
    if state.store().failures(customer.id).await?.sms_otp >= max {
        return Err(AppError::blocked());
    }
    let Some(otp) = state.store().latest_otp(reference, purpose.as_str()).await? else {
        return Err(AppError::new(ErrorKind::Conflict, "no SMS code was sent for this"));
    };
    if otp.used_at.is_some() {
        return Err(AppError::not_pending());
    }
    if limit.is_some_and(|l| otp.failures >= l) {
        return Err(otp_spent_error());
    }
    if now >= otp.expires_at as u64 {
        return Err(AppError::expired());
    }
    if constant_time_eq(&otp_hash(&otp.id, given), &otp.hash) {
        return Ok(otp.id);
    }
    let Some(limit) = limit else {
        return Err(wrong_answer(state, customer, Credential::SmsOtp, purpose.as_str(), None).await);
    };
    // A recovery's code: counted against its own 3 tries and, across recoveries, against the
    // customer's SMS codes like any other (a new recovery is not 3 fresh guesses). Counted only
    // below the limits, in the statements that count: of answers that arrive at once, no more
    // than the limits are ever answered "wrong".
    let (id, user_code, phone, email, cid) = (
        otp.id.clone(),
        customer.user_code.clone(),
        customer.phone.clone(),
        customer.email.clone(),
        customer.id,
    );
    let counted = state
        .store()
        .write(move |w| {
            Box::pin(async move {
                let Some(n) = w.otp_failed(&id, limit).await? else {
                    return Ok(None);
                };
                let counted = w
                    .count_failure(
                        now,
                        cid,
                        &user_code,
                        (&phone, &email),
                        Credential::SmsOtp,
                        max,
                        &format!("{}; failures of this code={n}", purpose.as_str()),
                    )
                    .await?;
                Ok(Some((n, counted)))
            })
        })
        .await?;
    state.messages_queued();
    match counted {
        None => Err(otp_spent_error()),
        Some((_, Counted::Blocked)) => Err(AppError::blocked()),
        Some((n, Counted::Wrong { attempts_left })) => {
            if attempts_left == 0 {
                // The customer's SMS codes are blocked now.
                let _ = counted_error(
                    state,
                    Some(customer.id),
                    Counted::Wrong { attempts_left },
                    ErrorKind::WrongOtp,
                );
            }
            let this_code = u32::try_from((limit - n).max(0)).unwrap_or(0);
            Err(AppError::counted(ErrorKind::WrongOtp, attempts_left.min(this_code)))
        }
    }
}

fn otp_spent_error() -> AppError {
    AppError::new(
        ErrorKind::Blocked,
        "sms_otp: this SMS code took its wrong answers; start again for a new one",
    )
    .with_field("sms_otp")
}

/// The outcome of spending an SMS code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spent {
    /// Spent now, by this write.
    Now,
    /// The customer's SMS codes got blocked since it was checked.
    Blocked,
    /// This recovery code took its wrong answers since it was checked.
    Exhausted,
    /// Already used or expired.
    Gone,
}

impl Spent {
    /// `Ok` for [`Spent::Now`], the error to answer with otherwise.
    pub(crate) fn ok(self) -> ApiResult<()> {
        match self {
            Self::Now => Ok(()),
            Self::Blocked => Err(AppError::blocked()),
            Self::Exhausted => Err(otp_spent_error()),
            Self::Gone => Err(AppError::not_pending()),
        }
    }
}

/// Spends an SMS code that [`check_otp`] found right, inside the write job that acts on it —
/// where the block is checked again, since wrong answers that arrived at the same time may have
/// blocked the customer's SMS codes (or used up a recovery code's tries) after the check.
pub(crate) async fn spend_otp(
    w: &mut crate::storage::WriteCtx,
    otp_id: &str,
    now: u64,
    purpose: OtpPurpose,
    customer_id: i64,
    max: u32,
) -> Result<Spent, crate::storage::StoreError> {
    let limit = purpose.per_otp_limit();
    if w.is_blocked(customer_id, Credential::SmsOtp, max).await? {
        return Ok(Spent::Blocked);
    }
    if w.use_otp(otp_id, now, limit.unwrap_or(i64::MAX)).await? {
        return Ok(Spent::Now);
    }
    Ok(if limit.is_some() { Spent::Exhausted } else { Spent::Gone })
}

/// A two-digit number for number matching (10–99).
pub(crate) fn matching_number(state: &AppState) -> ApiResult<i64> {
    Ok(i64::from(random::below(&state.0.rng, 90).map_err(AppError::internal)?) + 10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sca_protocol::{KnowledgeKey, PossessionKey};

    fn device(id: &str, seed: u8) -> DeviceKeys {
        DeviceKeys {
            device_id: id.into(),
            k_poss: PossessionKey::from_bytes([seed; 32]),
            k_know: KnowledgeKey::from_bytes([seed + 1; 32]),
        }
    }

    #[test]
    fn codes_match_the_right_device_purpose_and_step_window() {
        let keys = vec![device("a", 1), device("b", 3)];
        let now = 1_700_000_000;
        let step = Step::at(now).0;
        let login = |d: &DeviceKeys, s: u64| CodeInput::Login(Step(s)).code(&d.k_poss, &d.k_know);
        let allowed = Allowed {
            login: true,
            ..Allowed::default()
        };
        for s in [step - 1, step, step + 1] {
            let m = match_code(&keys, &login(&keys[1], s), None, allowed, now, None).unwrap();
            assert_eq!((m.device_id.as_str(), m.step), ("b", Some((false, s))));
        }
        for s in [step - 2, step + 2] {
            let code = login(&keys[1], s);
            // A code of a step outside the window fits nothing (unless by a 1e-6 chance).
            if let Some(m) = match_code(&keys, &code, None, allowed, now, None) {
                assert_ne!(m.step, Some((false, s)));
            }
        }
        // A LOGIN code is not a TRANSACTION code, and the device filter holds.
        let code = login(&keys[0], step);
        let tx_only = Allowed {
            transaction: true,
            ..Allowed::default()
        };
        assert!(match_code(&keys, &code, None, tx_only, now, None).is_none());
        assert!(match_code(&keys, &code, None, allowed, now, Some("b")).is_none());
        assert!(match_code(&keys, &code, None, allowed, now, Some("a")).is_some());
    }
}
