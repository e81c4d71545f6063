//! Login with SCA (docs/api.md §2): password, then push approval with number matching, a LOGIN
//! code, an OPERATION / OPERATION_ID code for the login operation, or an SMS OTP. Also logout and
//! the customer's own password and alias changes.

use std::convert::Infallible;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use sca_protocol::{Code, Kind, OperationData};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::events::status_stream;
use super::extract::{AnySession, Body, ClientIp, SESSION_COOKIE, ScaSession, WebSession};
use crate::crypto::random;
use crate::customers::{check_alias, check_new_password};
use crate::error::{ApiResult, AppError, ErrorKind, Problem};
use crate::sca::{self, Allowed, OtpPurpose, Spent, Via};
use crate::sessions::{NewSession, Session};
use crate::state::AppState;
use crate::storage::{Credential, Customer, OperationRow, OperationStatus};

/// Password step.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// User code or alias.
    pub user: String,
    /// Password (digits).
    pub password: String,
}

/// A pending operation as shown to a page.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingOperation {
    /// 8-digit operation identifier.
    pub op_id: String,
    /// The signed payload (docs/spec/sca1.md §6); the login page draws its QR code itself.
    pub payload: String,
    /// Unix seconds.
    pub expires: u64,
}

/// Password accepted; SCA pending.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Login id (for `/api/v1/login/{login_id}/…`).
    pub login_id: String,
    /// Send it as `x-csrf-token` on every state-changing call of this session.
    pub csrf_token: String,
    /// Two-digit number the customer types in the authenticator (number matching; never sent to
    /// the device).
    pub number: u8,
    /// The login operation (for a QR, an op-id code, or push).
    pub operation: PendingOperation,
    /// The password was issued by the bank: once strong authentication is done, change it
    /// (`POST /api/v1/password`); until then every banking call answers 403
    /// `password_change_required`.
    pub password_change_required: bool,
    /// `push` (the authenticator; the SMS code as the fallback) or `sms` (the page asks for the
    /// SMS code: `POST /api/v1/login/{login_id}/sms`).
    pub sca_policy: String,
}

/// Answer to the login's SCA: exactly one of `code` and `sms_otp`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginCode {
    /// A LOGIN code, or an OPERATION / OPERATION_ID code for the login operation.
    #[serde(default)]
    pub code: Option<String>,
    /// The SMS OTP sent by `/sms`.
    #[serde(default)]
    pub sms_otp: Option<String>,
}

/// A status.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusResponse {
    /// `pending` | `authenticated` | `approved` | `rejected` | `expired` | `failed` | `active`.
    pub status: String,
}

fn session_cookie(state: &AppState, token: &str, max_age: u64) -> HeaderValue {
    let secure = if state.config().cookie_secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("sca_session=; Path=/; Max-Age=0"))
}

/// Checks the password and starts SCA: a LOGIN operation is signed, stored and pushed to the
/// customer's devices with a two-digit number; the session cookie is set.
#[utoipa::path(post, path = "/api/v1/login", tag = "login", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse, description = "session cookie set; SCA pending"),
        (status = 400, body = Problem), (status = 401, body = Problem, description = "invalid_credentials + attempts_left"),
        (status = 403, body = Problem, description = "first_access_unfinished"),
        (status = 423, body = Problem), (status = 429, body = Problem)))]
pub async fn login(
    State(state): State<AppState>,
    client: ClientIp,
    Body(body): Body<LoginRequest>,
) -> ApiResult<Response> {
    let customer = sca::check_password(&state, client, &body.user, &body.password).await?;
    let now = state.now();
    let user_code = customer.user_code.clone();
    state
        .store()
        .write(move |w| Box::pin(async move { w.audit(now, "login_password_ok", &user_code, "").await }))
        .await?;
    let login_id = random::b64u(&state.0.rng, 16).map_err(AppError::internal)?;
    let number = sca::matching_number(&state)?;
    let created = sca::create_operation(
        &state,
        &customer,
        Kind::Login,
        OperationData::default(),
        Some((login_id.clone(), number)),
        None,
    )
    .await?;
    let NewSession { token, csrf } = state.start_session(customer.id, &login_id).await?;
    let cfg = state.config();
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, session_cookie(&state, &token, cfg.session_lifetime));
    Ok((
        headers,
        Json(LoginResponse {
            login_id,
            csrf_token: csrf,
            number,
            operation: PendingOperation {
                op_id: created.op_id,
                payload: created.payload,
                expires: created.expires,
            },
            password_change_required: customer.password_change_required,
            sca_policy: customer.sca_policy.clone(),
        }),
    )
        .into_response())
}

async fn login_operation(state: &AppState, session: &Session, login_id: &str) -> ApiResult<(Customer, OperationRow)> {
    if session.login_id != login_id {
        return Err(AppError::not_found("login"));
    }
    let op = state
        .store()
        .operation_by_login(login_id)
        .await?
        .ok_or_else(|| AppError::not_found("login"))?;
    let customer = state
        .store()
        .customer(op.customer_id)
        .await?
        .ok_or_else(|| AppError::not_found("login"))?;
    Ok((customer, op))
}

fn require_pending(op: &OperationRow, now: u64) -> ApiResult<()> {
    match op.status_at(now) {
        OperationStatus::Pending => Ok(()),
        OperationStatus::Expired => Err(AppError::expired()),
        _ => Err(AppError::not_pending()),
    }
}

/// Completes the login's SCA with a code or an SMS OTP.
#[utoipa::path(post, path = "/api/v1/login/{login_id}/code", tag = "login", request_body = LoginCode,
    params(("login_id" = String, Path, description = "from the login answer"), ("x-csrf-token" = String, Header)),
    responses((status = 200, body = StatusResponse, description = "`authenticated`"),
        (status = 400, body = Problem), (status = 401, body = Problem, description = "wrong_code / wrong_otp + attempts_left"),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 410, body = Problem), (status = 423, body = Problem)))]
pub async fn login_code(
    State(state): State<AppState>,
    s: AnySession,
    Path(login_id): Path<String>,
    Body(body): Body<LoginCode>,
) -> ApiResult<Json<StatusResponse>> {
    let (customer, op) = login_operation(&state, &s.session, &login_id).await?;
    let now = state.now();
    match (body.code, body.sms_otp) {
        (Some(code), None) => {
            let code = Code::parse(&code).map_err(|e| AppError::bad_request("code", e))?;
            require_pending(&op, now)?;
            if state.store().failures(customer.id).await?.code >= state.config().max_attempts {
                return Err(AppError::blocked());
            }
            let operation = sca::stored_operation(&op)?;
            let keys = state.device_keys(customer.id).await?;
            let allowed = Allowed {
                operation: true,
                operation_id: true,
                login: true,
                transaction: false,
            };
            match sca::match_code(&keys, &code, Some(&operation), allowed, now, None) {
                Some(m) => sca::approve(&state, &customer, &op, Via::Code(m)).await?,
                None => return Err(sca::wrong_answer(&state, &customer, Credential::Code, "login code", None).await),
            }
        }
        (None, Some(otp)) => {
            require_pending(&op, now)?;
            let otp_id = sca::check_otp(&state, &customer, OtpPurpose::Login, &login_id, &otp).await?;
            sca::approve(&state, &customer, &op, Via::Sms(otp_id)).await?;
        }
        _ => return Err(AppError::bad_request("code", "give exactly one of code and sms_otp")),
    }
    Ok(Json(StatusResponse {
        status: "authenticated".into(),
    }))
}

/// Sends an SMS OTP for the login to the certified phone.
#[utoipa::path(post, path = "/api/v1/login/{login_id}/sms", tag = "login",
    params(("login_id" = String, Path), ("x-csrf-token" = String, Header)),
    responses((status = 202), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 410, body = Problem), (status = 423, body = Problem), (status = 429, body = Problem)))]
pub async fn login_sms(
    State(state): State<AppState>,
    s: AnySession,
    Path(login_id): Path<String>,
) -> ApiResult<StatusCode> {
    let (customer, op) = login_operation(&state, &s.session, &login_id).await?;
    require_pending(&op, state.now())?;
    if state.store().failures(customer.id).await?.sms_otp >= state.config().max_attempts {
        return Err(AppError::blocked());
    }
    sca::send_otp(&state, &customer, OtpPurpose::Login, &login_id, None).await?;
    Ok(StatusCode::ACCEPTED)
}

/// A login's status as its page reads it: an approved login is `authenticated`.
pub(crate) fn login_status_name(status: OperationStatus) -> &'static str {
    match status {
        OperationStatus::Approved => "authenticated",
        other => other.as_str(),
    }
}

fn login_status(op: &OperationRow, now: u64) -> &'static str {
    login_status_name(op.status_at(now))
}

/// The login's SCA status.
#[utoipa::path(get, path = "/api/v1/login/{login_id}", tag = "login", params(("login_id" = String, Path)),
    responses((status = 200, body = StatusResponse, description = "pending | authenticated | rejected | expired | failed"),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn login_state(
    State(state): State<AppState>,
    s: AnySession,
    Path(login_id): Path<String>,
) -> ApiResult<Json<StatusResponse>> {
    let (_, op) = login_operation(&state, &s.session, &login_id).await?;
    Ok(Json(StatusResponse {
        status: login_status(&op, state.now()).to_owned(),
    }))
}

/// The login's SCA status as server-sent events (`status` events with `{"status"}`), ending at a
/// final status.
#[utoipa::path(get, path = "/api/v1/login/{login_id}/events", tag = "login", params(("login_id" = String, Path)),
    responses((status = 200, content_type = "text/event-stream", description = "events `status` {\"status\"}"),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn login_events(
    State(state): State<AppState>,
    s: AnySession,
    Path(login_id): Path<String>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let (_, op) = login_operation(&state, &s.session, &login_id).await?;
    Ok(status_stream(&state, op, true))
}

/// Ends the session.
#[utoipa::path(post, path = "/api/v1/logout", tag = "login", params(("x-csrf-token" = String, Header)),
    responses((status = 204, description = "session ended, cookie cleared"), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn logout(State(state): State<AppState>, s: AnySession) -> ApiResult<Response> {
    let now = state.now();
    let (key, user_code) = (s.session.key, s.session.customer.user_code.clone());
    state
        .store()
        .write(move |w| {
            Box::pin(async move {
                w.end_session(&key).await?;
                w.audit(now, "logout", &user_code, "").await
            })
        })
        .await?;
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, session_cookie(&state, "", 0));
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}

/// Password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    /// The current password.
    pub current_password: String,
    /// 8 to 32 digits.
    pub new_password: String,
    /// Strong authentication of the change: a TRANSACTION code ("OTP dispositiva") from the
    /// authenticator …
    #[serde(default)]
    pub code: Option<String>,
    /// … or the SMS code sent by `POST /api/v1/password/sms` (for customers with no device yet).
    #[serde(default)]
    pub sms_otp: Option<String>,
}

/// The reference of a customer's password-change SMS codes.
fn password_change_ref(customer: &Customer) -> String {
    format!("password-change:{}", customer.user_code)
}

/// Changes the password, with strong authentication: the current password (knowledge) and a
/// TRANSACTION code from the authenticator, or an SMS code to the certified phone (possession).
/// A wrong password, code or SMS code is counted like any other. Every other session of the
/// customer ends.
#[utoipa::path(post, path = "/api/v1/password", tag = "login", request_body = ChangePassword,
    params(("x-csrf-token" = String, Header)),
    responses((status = 204), (status = 400, body = Problem, description = "bad form, or neither/both of code and sms_otp"),
        (status = 401, body = Problem, description = "invalid_credentials or wrong_code/wrong_otp + attempts_left"),
        (status = 423, body = Problem)))]
pub async fn change_password(
    State(state): State<AppState>,
    web: ScaSession,
    client: ClientIp,
    Body(body): Body<ChangePassword>,
) -> ApiResult<StatusCode> {
    check_new_password("new_password", &body.new_password)?;
    if body.new_password == body.current_password {
        return Err(AppError::bad_request(
            "new_password",
            "must differ from the current password",
        ));
    }
    let proof = match (body.code.as_deref(), body.sms_otp.as_deref()) {
        (Some(code), None) => Ok(Code::parse(code).map_err(|e| AppError::bad_request("code", e))?),
        (None, Some(otp)) => Err(otp.to_owned()),
        _ => {
            return Err(AppError::bad_request(
                "code",
                "confirm with a TRANSACTION code from your authenticator, or with sms_otp",
            ));
        }
    };
    // The second factor is matched first (cheap, and counted when wrong), but spent only in the
    // write that changes the password, where its block is checked again: of many changes sent
    // at once, only one with a right code and a right password goes through.
    let (code, used_otp) = match proof {
        Ok(code) => (
            Some(sca::match_transaction_code(&state, &web.customer, &code, None, "password change").await?),
            None,
        ),
        Err(otp) => (
            None,
            Some(
                sca::check_otp(
                    &state,
                    &web.customer,
                    OtpPurpose::PasswordChange,
                    &password_change_ref(&web.customer),
                    &otp,
                )
                .await?,
            ),
        ),
    };
    let customer = sca::check_password(&state, client, &web.customer.user_code, &body.current_password).await?;
    let by_code = code.is_some();
    let hash = sca::hash_new_password(&state, &body.new_password).await?;
    let (cid, user_code) = (customer.id, customer.user_code.clone());
    let (now, max) = (state.now(), state.config().max_attempts);
    // From here on the change runs to its end even if the client hangs up: once the new password
    // is committed, the other sessions end (in the same write) and this one opens (issue 11 §5).
    let keep = web.session.key;
    sca::to_the_end(async move {
        let spent = state
            .store()
            .write(move |w| {
                Box::pin(async move {
                    if let Some(code) = &code {
                        let spent = code.spend(w, cid, &user_code, max).await?;
                        if spent != Spent::Now {
                            return Ok(spent);
                        }
                    }
                    if let Some(id) = &used_otp {
                        let spent = sca::spend_otp(w, id, now, OtpPurpose::PasswordChange, cid, max).await?;
                        if spent != Spent::Now {
                            return Ok(spent);
                        }
                        w.reset_failures(cid, Credential::SmsOtp).await?;
                    }
                    // (The right current password already reset its count, in check_password.)
                    w.set_password(cid, &hash, false).await?;
                    w.end_customer_sessions(cid, Some(&keep)).await?;
                    w.audit(now, "password_changed", &user_code, "by the customer").await?;
                    Ok(Spent::Now)
                })
            })
            .await?;
        if by_code {
            sca::right_code_spent(&state, &customer, spent).await?;
        } else {
            spent.ok()?;
        }
        Ok::<(), AppError>(())
    })
    .await??;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends an SMS code to confirm a password change (for customers without an authenticator).
#[utoipa::path(post, path = "/api/v1/password/sms", tag = "login",
    params(("x-csrf-token" = String, Header)),
    responses((status = 202), (status = 401, body = Problem), (status = 423, body = Problem), (status = 429, body = Problem)))]
pub async fn password_sms(State(state): State<AppState>, web: ScaSession) -> ApiResult<StatusCode> {
    if state.store().failures(web.customer.id).await?.sms_otp >= state.config().max_attempts {
        return Err(AppError::blocked());
    }
    let reference = password_change_ref(&web.customer);
    sca::send_otp(&state, &web.customer, OtpPurpose::PasswordChange, &reference, None).await?;
    state.messages_queued();
    Ok(StatusCode::ACCEPTED)
}

/// Alias change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetAlias {
    /// The alias, or null to remove it.
    pub alias: Option<String>,
}

/// Sets or removes the customer's alias (unique ignoring case).
#[utoipa::path(put, path = "/api/v1/alias", tag = "login", request_body = SetAlias,
    params(("x-csrf-token" = String, Header)),
    responses((status = 204), (status = 400, body = Problem), (status = 409, body = Problem), (status = 403, body = Problem, description = "password_change_required: the bank-issued password must be changed first")))]
pub async fn set_alias(
    State(state): State<AppState>,
    web: WebSession,
    Body(body): Body<SetAlias>,
) -> ApiResult<StatusCode> {
    let alias = body.alias.as_deref().map(check_alias).transpose()?;
    let (cid, user_code, now) = (web.customer.id, web.customer.user_code.clone(), state.now());
    let ok = state
        .store()
        .write(move |w| {
            Box::pin(async move {
                let ok = w.set_alias(cid, alias.as_deref()).await?;
                if ok {
                    w.audit(now, "alias_changed", &user_code, alias.as_deref().unwrap_or(""))
                        .await?;
                }
                Ok(ok)
            })
        })
        .await?;
    if !ok {
        return Err(AppError::new(ErrorKind::Conflict, "alias: already taken").with_field("alias"));
    }
    Ok(StatusCode::NO_CONTENT)
}
