//! SMS codes: their purposes, sending within the rate limits, checking, and spending them in
//! the write that acts on them.

use sca_protocol::{constant_time_eq, sha256};

use super::*;
use crate::crypto::random;
use crate::error::{ApiResult, AppError, ErrorKind};
use crate::state::AppState;
use crate::storage::{Counted, Credential, Customer, Holder};

pub(crate) fn otp_hash(id: &str, otp: &str) -> [u8; 32] {
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
    Operation,
}

impl OtpPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Activation => "activation",
            Self::Unblock => "unblock",
            Self::PasswordReset => "password_reset",
            Self::PasswordChange => "password_change",
            Self::Operation => "operation",
        }
    }

    /// What the code is for, in Italian and in English.
    /// Each recovery's code takes at most this many wrong answers (they count against the
    /// customer's SMS codes too, so once those are blocked only the branch unblocks).
    fn per_otp_limit(self) -> Option<i64> {
        matches!(self, Self::Unblock | Self::PasswordReset).then_some(RECOVERY_CODE_TRIES)
    }
}

/// Wrong answers one recovery's SMS code takes before it is spent: a typo or two, not a search
/// (the customer asks for a new recovery; all of them count against the SMS-code block as well).
const RECOVERY_CODE_TRIES: i64 = 3;

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
    let minutes = state.config().otp_ttl / 60;
    send_otp_saying(state, customer, purpose, reference, id, |otp| {
        crate::texts::otp_sms(otp, purpose, minutes)
    })
    .await
}

/// [`send_otp`] for an operation: the SMS says what the code authorizes (`what`: the signed
/// data), so that the code is linked to it (PSD2 RTS art. 5).
pub(crate) async fn send_operation_otp(
    state: &AppState,
    customer: &Customer,
    reference: &str,
    what: &str,
) -> ApiResult<String> {
    let minutes = state.config().otp_ttl / 60;
    send_otp_saying(state, customer, OtpPurpose::Operation, reference, None, |otp| {
        crate::texts::operation_sms(otp, what, minutes)
    })
    .await
}

async fn send_otp_saying(
    state: &AppState,
    customer: &Customer,
    purpose: OtpPurpose,
    reference: &str,
    id: Option<String>,
    text: impl FnOnce(&str) -> String,
) -> ApiResult<String> {
    let now = state.now();
    let id = match id {
        Some(id) => id,
        None => random::b64u(&state.0.rng, 16).map_err(AppError::internal)?,
    };
    let otp = random::digits(&state.0.rng, 6).map_err(AppError::internal)?;
    let hash = otp_hash(&id, &otp);
    let text = text(&otp);
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
    let (id, holder) = (otp.id.clone(), Holder::new(customer, current_session_key()));
    let counted = state
        .store()
        .write(move |w| {
            Box::pin(async move {
                let Some(n) = w.otp_failed(&id, limit).await? else {
                    return Ok(None);
                };
                let detail = format!("{}; failures of this code={n}", purpose.as_str());
                let counted = w.count_failure(now, &holder, Credential::SmsOtp, max, &detail).await?;
                Ok(Some((n, counted)))
            })
        })
        .await?;
    state.messages_queued();
    match counted {
        None => Err(otp_spent_error()),
        Some((_, Counted::Blocked)) => Err(AppError::blocked()),
        Some((n, Counted::Wrong { attempts_left })) => {
            // (At 0 left the customer's SMS codes are blocked now, and the other sessions ended
            // in the same write.)
            let this_code = u32::try_from((limit - n).max(0)).unwrap_or(0);
            Err(AppError::counted(ErrorKind::WrongOtp, attempts_left.min(this_code)))
        }
    }
}

pub(super) fn otp_spent_error() -> AppError {
    AppError::new(
        ErrorKind::Blocked,
        "sms_otp: this SMS code took its wrong answers; start again for a new one",
    )
    .with_field("sms_otp")
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
