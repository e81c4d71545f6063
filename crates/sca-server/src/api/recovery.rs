//! Self-service recovery: the user code by SMS; unblocking with the security code + an SMS OTP;
//! a new password with the security code + an SMS OTP. A wrong security code is counted like a
//! password (and blocks after 5, leaving the branch); each recovery's SMS OTP takes at most 3
//! wrong answers.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{Body, ClientIp};
use crate::crypto::{normalize_security_code, random};
use crate::customers::{check_new_password, check_phone};
use crate::error::{ApiResult, AppError, Problem};
use crate::sca::{self, OtpPurpose, Spent};
use crate::state::AppState;
use crate::storage::{Credential, Customer};

/// Who asks.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoverUserCode {
    /// The certified phone, E.164.
    pub phone: String,
}

/// Sends the user code(s) registered with this phone by SMS. Answers 202 (or 429 beyond the
/// phone's SMS rate limit) whether the phone is a customer's or not.
#[utoipa::path(post, path = "/api/v1/recovery/user-code", tag = "recovery", request_body = RecoverUserCode,
    responses((status = 202), (status = 400, body = Problem), (status = 429, body = Problem)))]
pub async fn recover_user_code(
    State(state): State<AppState>,
    Body(body): Body<RecoverUserCode>,
) -> ApiResult<StatusCode> {
    let phone = check_phone(&body.phone)?;
    let customers = state.store().customers_by_phone(&phone).await?;
    let now = state.now();
    let codes: Vec<String> = customers.iter().map(|c| c.user_code.clone()).collect();
    let list = codes.join(", ");
    let text = crate::texts::user_codes(&list);
    // A phone that is no customer's costs the same committed write (an audit row), so neither
    // the answer nor its time tells the two apart.
    // The phone's SMS rate limit applies whether it is a customer's or not, so a 429 tells
    // nothing either.
    let (min_interval, per_hour) = (state.config().sms_min_interval, state.config().sms_per_hour);
    let wait = state
        .store()
        .write(move |w| {
            Box::pin(async move {
                if let Some(wait) = w.sms_allowed(now, &phone, None, min_interval, per_hour).await? {
                    return Ok(Some(wait));
                }
                if codes.is_empty() {
                    w.audit(now, "user_code_recovery_unknown_phone", "", "").await?;
                    return Ok(None);
                }
                w.outbox(now, &phone, "sms", &text).await?;
                for code in &codes {
                    w.audit(now, "user_code_recovered", code, "by SMS").await?;
                }
                Ok(None)
            })
        })
        .await?;
    if let Some(wait) = wait {
        return Err(AppError::retry_after(
            format!("too many SMS to this phone: try again in {wait} seconds"),
            wait,
        ));
    }
    state.messages_queued();
    Ok(StatusCode::ACCEPTED)
}

/// The first step of a recovery.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRecovery {
    /// User code or alias.
    pub user: String,
    /// The 20-character security code (spaces and dashes ignored).
    pub security_code: String,
}

/// A recovery started: an SMS OTP went to the certified phone.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryStarted {
    /// For the second step.
    pub recovery_id: String,
    /// Unix seconds.
    pub expires: u64,
}

async fn check_security_code(state: &AppState, client: ClientIp, user: &str, code: &str) -> ApiResult<Customer> {
    let user = user.trim();
    if user.is_empty() || user.chars().count() > 64 {
        return Err(AppError::bad_request(
            "user",
            "a user code or alias is 1 to 64 characters",
        ));
    }
    let normalized =
        normalize_security_code(code).ok_or_else(|| AppError::bad_request("security_code", "20 letters and digits"))?;
    // A right security code resets nothing: the count starts again only once the recovery it
    // opens is finished (or at the branch).
    sca::check_secret(
        state,
        client,
        user,
        &normalized,
        Credential::SecurityCode,
        false,
        "recovery",
    )
    .await
}

async fn start(
    state: &AppState,
    client: ClientIp,
    body: StartRecovery,
    purpose: OtpPurpose,
) -> ApiResult<(StatusCode, Json<RecoveryStarted>)> {
    let customer = check_security_code(state, client, &body.user, &body.security_code).await?;
    // Its SMS code could not be used: say so now rather than send it.
    if state.store().failures(customer.id).await?.sms_otp >= state.config().max_attempts {
        return Err(AppError::blocked());
    }
    let id = random::b64u(&state.0.rng, 16).map_err(AppError::internal)?;
    sca::send_otp(state, &customer, purpose, &id, Some(id.clone())).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(RecoveryStarted {
            recovery_id: id,
            expires: state.now() + state.config().otp_ttl,
        }),
    ))
}

async fn recovery_customer(state: &AppState, id: &str, purpose: &str) -> ApiResult<Customer> {
    let otp = state
        .store()
        .otp(id)
        .await?
        .filter(|o| o.purpose == purpose)
        .ok_or_else(|| AppError::not_found("recovery"))?;
    state
        .store()
        .customer(otp.customer_id)
        .await?
        .ok_or_else(|| AppError::not_found("recovery"))
}

/// Unblocking, step 1: the security code; an SMS OTP is sent.
#[utoipa::path(post, path = "/api/v1/recovery/unblock", tag = "recovery", request_body = StartRecovery,
    responses((status = 202, body = RecoveryStarted), (status = 400, body = Problem), (status = 403, body = Problem, description = "first_access_unfinished"),
        (status = 401, body = Problem, description = "invalid_credentials + attempts_left"), (status = 423, body = Problem), (status = 429, body = Problem)))]
pub async fn unblock_start(
    State(state): State<AppState>,
    client: ClientIp,
    Body(body): Body<StartRecovery>,
) -> ApiResult<(StatusCode, Json<RecoveryStarted>)> {
    start(&state, client, body, OtpPurpose::Unblock).await
}

/// The SMS OTP of a recovery.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinishUnblock {
    /// 6 digits.
    pub sms_otp: String,
}

/// Unblocking, step 2: the SMS OTP; every credential is unblocked.
#[utoipa::path(post, path = "/api/v1/recovery/unblock/{recovery_id}", tag = "recovery", request_body = FinishUnblock,
    params(("recovery_id" = String, Path)),
    responses((status = 204), (status = 400, body = Problem), (status = 401, body = Problem, description = "wrong_otp + attempts_left"),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 410, body = Problem)))]
pub async fn unblock_finish(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body<FinishUnblock>,
) -> ApiResult<StatusCode> {
    let customer = recovery_customer(&state, &id, "unblock").await?;
    let otp_id = sca::check_otp(&state, &customer, OtpPurpose::Unblock, &id, &body.sms_otp).await?;
    let (cid, user_code, now, max) = (
        customer.id,
        customer.user_code.clone(),
        state.now(),
        state.config().max_attempts,
    );
    state
        .store()
        .write(move |w| {
            Box::pin(async move {
                let spent = sca::spend_otp(w, &otp_id, now, OtpPurpose::Unblock, cid, max).await?;
                if spent != Spent::Now {
                    return Ok(spent);
                }
                w.unblock_all(now, cid).await?;
                w.audit(now, "unblocked", &user_code, "security_code+sms").await?;
                Ok(Spent::Now)
            })
        })
        .await?
        .ok()?;
    Ok(StatusCode::NO_CONTENT)
}

/// Password reset, step 1: the security code; an SMS OTP is sent.
#[utoipa::path(post, path = "/api/v1/recovery/password", tag = "recovery", request_body = StartRecovery,
    responses((status = 202, body = RecoveryStarted), (status = 400, body = Problem), (status = 403, body = Problem, description = "first_access_unfinished"),
        (status = 401, body = Problem), (status = 423, body = Problem), (status = 429, body = Problem)))]
pub async fn password_start(
    State(state): State<AppState>,
    client: ClientIp,
    Body(body): Body<StartRecovery>,
) -> ApiResult<(StatusCode, Json<RecoveryStarted>)> {
    start(&state, client, body, OtpPurpose::PasswordReset).await
}

/// The SMS OTP and the new password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinishPasswordReset {
    /// 6 digits.
    pub sms_otp: String,
    /// 8 to 32 digits.
    pub new_password: String,
}

/// Password reset, step 2: the SMS OTP and the new password (which also unblocks the password);
/// every session of the customer ends.
#[utoipa::path(post, path = "/api/v1/recovery/password/{recovery_id}", tag = "recovery", request_body = FinishPasswordReset,
    params(("recovery_id" = String, Path)),
    responses((status = 204), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 410, body = Problem)))]
pub async fn password_finish(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body<FinishPasswordReset>,
) -> ApiResult<StatusCode> {
    check_new_password("new_password", &body.new_password)?;
    let customer = recovery_customer(&state, &id, "password_reset").await?;
    let otp_id = sca::check_otp(&state, &customer, OtpPurpose::PasswordReset, &id, &body.sms_otp).await?;
    let hash = sca::hash_new_password(&state, &body.new_password).await?;
    let (cid, user_code) = (customer.id, customer.user_code.clone());
    let (now, max) = (state.now(), state.config().max_attempts);
    // Whoever logged in with the old password is logged out in the write that sets the new one.
    sca::to_the_end(async move {
        state
            .store()
            .write(move |w| {
                Box::pin(async move {
                    let spent = sca::spend_otp(w, &otp_id, now, OtpPurpose::PasswordReset, cid, max).await?;
                    if spent != Spent::Now {
                        return Ok(spent);
                    }
                    w.set_password(cid, &hash, false).await?;
                    w.reset_failures(cid, Credential::Password).await?;
                    w.reset_failures(cid, Credential::SecurityCode).await?;
                    w.end_customer_sessions(cid, None).await?;
                    w.audit(now, "password_reset", &user_code, "security_code+sms").await?;
                    Ok(Spent::Now)
                })
            })
            .await?
            .ok()?;
        Ok::<(), AppError>(())
    })
    .await??;
    Ok(StatusCode::NO_CONTENT)
}
