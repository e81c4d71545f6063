//! Web banking (authenticated session): accounts, transfers, operations and their QR codes,
//! authorization with a code, and the customer's devices.

use std::convert::Infallible;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use sca_protocol::{Amount, Code, FieldKey, Iban, Kind, OpId, OperationData};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::events::status_stream;
use super::extract::{Body, WebSession};
use crate::error::{ApiResult, AppError, ErrorKind, Problem};
use crate::sca::{self, OtpPurpose, Via};
use crate::state::AppState;
use crate::storage::writer::Booking;
use crate::storage::{Credential, Customer, OperationRow, OperationStatus};

pub(crate) fn decimal(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    format!("{sign}{}.{:02}", m / 100, m % 100)
}

/// An account.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    /// IBAN.
    pub iban: String,
    /// Name.
    pub name: String,
    /// Decimal string with two fraction digits.
    pub balance: String,
    /// ISO 4217.
    pub currency: String,
}

/// The customer's accounts.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "banking",
    responses((status = 200, body = Vec<AccountView>), (status = 401, body = Problem), (status = 403, body = Problem, description = "password_change_required: the bank-issued password must be changed first")))]
pub async fn accounts(State(state): State<AppState>, web: WebSession) -> ApiResult<Json<Vec<AccountView>>> {
    let rows = state.store().accounts(web.customer.id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|a| AccountView {
                iban: a.iban,
                name: a.name,
                balance: decimal(a.balance_minor),
                currency: a.currency,
            })
            .collect(),
    ))
}

/// A booked movement.
#[derive(Debug, Serialize, ToSchema)]
pub struct MovementView {
    /// Unix seconds.
    pub at: i64,
    /// Decimal string, negative for a debit.
    pub amount: String,
    /// The other party.
    pub counterparty: String,
    /// Description.
    pub description: String,
}

/// The newest 100 movements of one of the customer's accounts.
#[utoipa::path(get, path = "/api/v1/accounts/{iban}/movements", tag = "banking",
    params(("iban" = String, Path)),
    responses((status = 200, body = Vec<MovementView>), (status = 401, body = Problem), (status = 404, body = Problem), (status = 403, body = Problem, description = "password_change_required: the bank-issued password must be changed first")))]
pub async fn movements(
    State(state): State<AppState>,
    web: WebSession,
    Path(iban): Path<String>,
) -> ApiResult<Json<Vec<MovementView>>> {
    let account = state
        .store()
        .accounts(web.customer.id)
        .await?
        .into_iter()
        .find(|a| a.iban == iban)
        .ok_or_else(|| AppError::not_found("account"))?;
    let rows = state.store().movements(account.id, 100).await?;
    Ok(Json(
        rows.into_iter()
            .map(|m| MovementView {
                at: m.at,
                amount: decimal(m.amount_minor),
                counterparty: m.counterparty,
                description: m.description,
            })
            .collect(),
    ))
}

/// A transfer ("bonifico").
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// Payee name, 1–70 characters.
    pub payee_name: String,
    /// Payee IBAN (spaces allowed; mod-97 checked).
    pub payee_iban: String,
    /// Decimal string with two fraction digits: `"12.50"`.
    pub amount: String,
    /// ISO 4217, the account's currency (`EUR`).
    pub currency: String,
    /// Description ("causale"), up to 140 characters.
    #[serde(default)]
    pub description: Option<String>,
}

/// A new pending operation.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperationCreated {
    /// 8-digit operation identifier.
    pub op_id: String,
    /// Signed payload (docs/spec/sca1.md §6).
    pub payload: String,
    /// Unix seconds.
    pub expires: u64,
}

impl From<sca::Created> for OperationCreated {
    fn from(c: sca::Created) -> Self {
        Self {
            op_id: c.op_id,
            payload: c.payload,
            expires: c.expires,
        }
    }
}

fn field_error(key: FieldKey, e: impl std::fmt::Display) -> AppError {
    let field = match key {
        FieldKey::PayeeName => "payee_name",
        FieldKey::Description => "description",
        FieldKey::PayeeIban => "payee_iban",
        FieldKey::Amount => "amount",
        _ => "body",
    };
    AppError::bad_request(field, e)
}

/// The account that pays `amount` (an API decimal and currency, fields `amount` and `currency`):
/// the customer's account, in that currency, holding it; the amount more than zero and within the
/// bank's largest transfer. Transfers and pagoPA notices both pay through it.
pub(crate) async fn paying_account(
    state: &AppState,
    customer: &Customer,
    amount: &str,
    currency: &str,
) -> ApiResult<(crate::storage::Account, Amount, i64)> {
    let amount = Amount::from_decimal(amount.trim(), currency.trim()).map_err(|e| match e {
        sca_protocol::AmountError::Currency => AppError::bad_request("currency", e),
        other => AppError::bad_request("amount", other),
    })?;
    let cfg = state.config();
    if amount.minor_units() == 0 {
        return Err(AppError::bad_request("amount", "must be more than 0.00"));
    }
    if amount.minor_units() > cfg.max_transfer_minor {
        return Err(AppError::bad_request(
            "amount",
            format!("the largest transfer is {}", decimal(cfg.max_transfer_minor as i64)),
        ));
    }
    let account = state
        .store()
        .accounts(customer.id)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::new(ErrorKind::Conflict, "the customer has no account"))?;
    if account.currency != amount.currency() {
        return Err(AppError::bad_request(
            "currency",
            format!("the account is in {}", account.currency),
        ));
    }
    let minor = i64::try_from(amount.minor_units()).map_err(|_| AppError::bad_request("amount", "too large"))?;
    if account.balance_minor < minor {
        return Err(AppError::new(
            ErrorKind::InsufficientFunds,
            "the account does not hold the amount",
        ));
    }
    Ok((account, amount, minor))
}

/// Creates a transfer: a TRANSFER operation (amount, payee, IBAN, description) signed by the
/// bank, pending, pushed to the customer's devices.
#[utoipa::path(post, path = "/api/v1/transfers", tag = "banking", request_body = TransferRequest,
    params(("x-csrf-token" = String, Header)),
    responses((status = 201, body = OperationCreated), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem, description = "password_change_required: the bank-issued password must be changed first"), (status = 409, body = Problem, description = "insufficient_funds")))]
pub async fn create_transfer(
    State(state): State<AppState>,
    web: WebSession,
    Body(body): Body<TransferRequest>,
) -> ApiResult<(StatusCode, Json<OperationCreated>)> {
    let iban = Iban::parse_typed(&body.payee_iban).map_err(|e| AppError::bad_request("payee_iban", e))?;
    let (account, amount, minor) = paying_account(&state, &web.customer, &body.amount, &body.currency).await?;
    if account.iban == iban.as_str() {
        return Err(AppError::bad_request("payee_iban", "is the paying account"));
    }
    let mut data = OperationData::default();
    data.set(FieldKey::Amount, &amount.to_string())
        .map_err(|e| field_error(FieldKey::Amount, e))?;
    data.set(FieldKey::PayeeName, body.payee_name.trim())
        .map_err(|e| field_error(FieldKey::PayeeName, e))?;
    data.set(FieldKey::PayeeIban, iban.as_str())
        .map_err(|e| field_error(FieldKey::PayeeIban, e))?;
    let description = body.description.as_deref().map(str::trim).filter(|d| !d.is_empty());
    if let Some(d) = description {
        data.set(FieldKey::Description, d)
            .map_err(|e| field_error(FieldKey::Description, e))?;
    }
    let booking = Booking {
        account_id: account.id,
        amount_minor: minor,
        payee_iban: iban.to_string(),
        payee_name: body.payee_name.trim().to_owned(),
        description: description.unwrap_or("").to_owned(),
    };
    let created = sca::create_operation(
        &state,
        &web.customer,
        Kind::Transfer,
        data,
        None,
        Some((booking, account.currency.clone())),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// An operation.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperationView {
    /// 8-digit operation identifier.
    pub op_id: String,
    /// `TRANSFER` | `LOGIN` | `DEVICE` | …
    pub kind: String,
    /// `pending` | `approved` | `rejected` | `expired` | `failed`.
    pub status: String,
    /// Signed payload.
    pub payload: String,
    /// Unix seconds.
    pub expires: u64,
}

pub(crate) async fn own_operation(state: &AppState, customer: &Customer, op_id: &str) -> ApiResult<OperationRow> {
    let op_id = OpId::parse(op_id).map_err(|e| AppError::bad_request("op_id", e))?;
    state
        .store()
        .operation(customer.id, op_id.as_str())
        .await?
        .ok_or_else(|| AppError::not_found("operation"))
}

/// An operation of the customer.
#[utoipa::path(get, path = "/api/v1/operations/{op_id}", tag = "banking", params(("op_id" = String, Path)),
    responses((status = 200, body = OperationView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem), (status = 403, body = Problem, description = "password_change_required: the bank-issued password must be changed first")))]
pub async fn operation(
    State(state): State<AppState>,
    web: WebSession,
    Path(op_id): Path<String>,
) -> ApiResult<Json<OperationView>> {
    let op = own_operation(&state, &web.customer, &op_id).await?;
    Ok(Json(OperationView {
        status: op.status_at(state.now()).to_string(),
        op_id: op.op_id,
        kind: op.kind,
        payload: op.payload,
        expires: u64::try_from(op.expires_at).map_err(AppError::internal)?,
    }))
}

/// The operation's status as server-sent events (`status` with `{"status"}`), ending at a final
/// status.
#[utoipa::path(get, path = "/api/v1/operations/{op_id}/events", tag = "banking", params(("op_id" = String, Path)),
    responses((status = 200, content_type = "text/event-stream", description = "events `status` {\"status\"}"),
        (status = 401, body = Problem), (status = 404, body = Problem), (status = 403, body = Problem, description = "password_change_required: the bank-issued password must be changed first")))]
pub async fn operation_events(
    State(state): State<AppState>,
    web: WebSession,
    Path(op_id): Path<String>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let op = own_operation(&state, &web.customer, &op_id).await?;
    Ok(status_stream(&state, op, false))
}

/// The signed payload as a QR code (SVG).
#[utoipa::path(get, path = "/api/v1/operations/{op_id}/qr.svg", tag = "banking", params(("op_id" = String, Path)),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = 401, body = Problem), (status = 404, body = Problem), (status = 403, body = Problem, description = "password_change_required: the bank-issued password must be changed first")))]
pub async fn qr_svg(State(state): State<AppState>, web: WebSession, Path(op_id): Path<String>) -> ApiResult<Response> {
    let op = own_operation(&state, &web.customer, &op_id).await?;
    let svg = sca_qr::render_svg(&op.payload).map_err(AppError::internal)?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

/// The signed payload as a QR code (PNG, 6 pixels per module).
#[utoipa::path(get, path = "/api/v1/operations/{op_id}/qr.png", tag = "banking", params(("op_id" = String, Path)),
    responses((status = 200, content_type = "image/png", body = Vec<u8>), (status = 401, body = Problem), (status = 404, body = Problem), (status = 403, body = Problem, description = "password_change_required: the bank-issued password must be changed first")))]
pub async fn qr_png(State(state): State<AppState>, web: WebSession, Path(op_id): Path<String>) -> ApiResult<Response> {
    let op = own_operation(&state, &web.customer, &op_id).await?;
    let png = sca_qr::render_png(&op.payload, 6).map_err(AppError::internal)?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

/// A code for an operation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeRequest {
    /// 6 digits: an OPERATION code (from the QR), an OPERATION_ID code (typed identifier, up to
    /// the configured amount) or a TRANSACTION code (up to the configured amount, 0 = never).
    #[serde(default)]
    pub code: Option<String>,
    /// … or the SMS code sent by `POST /api/v1/operations/{op_id}/sms`.
    #[serde(default)]
    pub sms_otp: Option<String>,
}

/// The decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct Decision {
    /// `approved` | `rejected`.
    pub status: String,
}

/// The reference of an operation's SMS codes.
fn operation_sms_ref(op: &crate::storage::OperationRow) -> String {
    format!("operation:{}", op.id)
}

/// Whether an SMS code to the certified phone may authorize `op`: a transfer, a pagoPA notice, or
/// a request on the customer's own cards. Not a login (its own route), not a new device (which is to replace the
/// SMS), not a card purchase (3-D Secure has its own SMS, to the card's phone, with the Key6).
fn sms_may_authorize(op: &crate::storage::OperationRow) -> ApiResult<()> {
    match Kind::parse(&op.kind) {
        Ok(Kind::Transfer | Kind::PagoPa | Kind::Generic) => Ok(()),
        _ => Err(AppError::new(
            ErrorKind::Conflict,
            "this operation is not authorized by an SMS code: use the authenticator",
        )),
    }
}

/// What an operation's SMS says it authorizes: the signed data itself (dynamic linking).
fn sms_summary(op: &sca_protocol::Operation) -> String {
    let d = &op.data;
    let mut parts = Vec::new();
    if let Some(a) = &d.amount {
        parts.push(format!("{} {}", a.decimal().replace('.', ","), a.currency()));
    }
    if let Some(p) = &d.payee_name {
        parts.push(p.clone());
    }
    if let Some(i) = &d.payee_iban {
        parts.push(i.to_string());
    }
    if let Some(n) = &d.notice_code {
        parts.push(format!("avviso {n}"));
    }
    if let Some(m) = &d.merchant {
        parts.push(m.clone());
    }
    if let Some(c) = &d.card {
        parts.push(c.to_string());
    }
    if let Some(t) = &d.description {
        parts.push(t.clone());
    }
    if parts.is_empty() {
        parts.push(op.kind.to_string());
    }
    format!("{} {}", op.op_id, parts.join(" · "))
}

/// Sends an SMS code for an operation to the certified phone; the SMS says what it authorizes.
#[utoipa::path(post, path = "/api/v1/operations/{op_id}/sms", tag = "banking",
    params(("op_id" = String, Path), ("x-csrf-token" = String, Header)),
    responses((status = 202), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 410, body = Problem), (status = 423, body = Problem), (status = 429, body = Problem),
        (status = 403, body = Problem, description = "password_change_required: the bank-issued password must be changed first")))]
pub async fn operation_sms(
    State(state): State<AppState>,
    web: WebSession,
    Path(op_id): Path<String>,
) -> ApiResult<StatusCode> {
    let op_id = OpId::parse(&op_id).map_err(|e| AppError::bad_request("op_id", e))?;
    let op = state.operation_to_answer(web.customer.id, op_id.as_str()).await?;
    sms_may_authorize(&op)?;
    sca::answerable(&op, state.now())?;
    if state.store().failures(web.customer.id).await?.sms_otp >= state.config().max_attempts {
        return Err(AppError::blocked());
    }
    let what = sms_summary(&sca::stored_operation(&op)?);
    sca::send_operation_otp(&state, &web.customer, &operation_sms_ref(&op), &what).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Authorizes an operation with a code or an SMS code. Exactly one of concurrent right answers
/// succeeds; a transfer moves money once.
#[utoipa::path(post, path = "/api/v1/operations/{op_id}/authorize", tag = "banking", request_body = AuthorizeRequest,
    params(("op_id" = String, Path), ("x-csrf-token" = String, Header)),
    responses((status = 200, body = Decision, description = "`approved`"), (status = 400, body = Problem),
        (status = 401, body = Problem, description = "wrong_code / wrong_otp + attempts_left"), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "not_pending / insufficient_funds / notice_paid / no SMS code sent"), (status = 410, body = Problem),
        (status = 423, body = Problem), (status = 403, body = Problem, description = "password_change_required: the bank-issued password must be changed first")))]
pub async fn authorize(
    State(state): State<AppState>,
    web: WebSession,
    Path(op_id): Path<String>,
    Body(body): Body<AuthorizeRequest>,
) -> ApiResult<Json<Decision>> {
    enum Answer<'a> {
        Code(Code),
        Sms(&'a str),
    }
    let answer = match (body.code.as_deref(), body.sms_otp.as_deref()) {
        (Some(code), None) => Answer::Code(Code::parse(code).map_err(|e| AppError::bad_request("code", e))?),
        (None, Some(otp)) => Answer::Sms(otp),
        _ => return Err(AppError::bad_request("code", "give exactly one of code and sms_otp")),
    };
    let op_id = OpId::parse(&op_id).map_err(|e| AppError::bad_request("op_id", e))?;
    // No read of the status or of the block here: the writer checks both, atomically.
    let op = state.operation_to_answer(web.customer.id, op_id.as_str()).await?;
    let now = state.now();
    let code = match answer {
        Answer::Sms(otp) => {
            sms_may_authorize(&op)?;
            sca::answerable(&op, now)?;
            let otp_id = sca::check_otp(
                &state,
                &web.customer,
                OtpPurpose::Operation,
                &operation_sms_ref(&op),
                otp,
            )
            .await?;
            sca::approve(&state, &web.customer, &op, Via::Sms(otp_id)).await?;
            return Ok(Json(Decision {
                status: OperationStatus::Approved.to_string(),
            }));
        }
        Answer::Code(code) => code,
    };
    sca::answerable(&op, now)?;
    let operation = sca::stored_operation(&op)?;
    let keys = state.device_keys(web.customer.id).await?;
    match sca::match_code(
        &keys,
        &code,
        Some(&operation),
        sca::allowed_for(state.config(), &op),
        now,
        None,
    ) {
        Some(m) => {
            sca::approve(&state, &web.customer, &op, Via::Code(m)).await?;
            Ok(Json(Decision {
                status: OperationStatus::Approved.to_string(),
            }))
        }
        None => Err(sca::wrong_answer(
            &state,
            &web.customer,
            Credential::Code,
            &format!("authorize {}", op.op_id),
            None,
        )
        .await),
    }
}

/// A device as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceView {
    /// Device id.
    pub device_id: String,
    /// Name.
    pub name: String,
    /// `key_id` of the device key.
    pub key_id: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// The customer's active devices.
#[utoipa::path(get, path = "/api/v1/devices", tag = "devices",
    responses((status = 200, body = Vec<DeviceView>), (status = 401, body = Problem), (status = 403, body = Problem, description = "password_change_required: the bank-issued password must be changed first")))]
pub async fn list_devices(State(state): State<AppState>, web: WebSession) -> ApiResult<Json<Vec<DeviceView>>> {
    let rows = state.store().active_devices(web.customer.id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|d| DeviceView {
                key_id: sca_protocol::PublicKey::from_bytes(&d.public_key)
                    .map(|k| k.key_id().to_string())
                    .unwrap_or_default(),
                device_id: d.id,
                name: d.name,
                created_at: d.created_at,
            })
            .collect(),
    ))
}

/// A new name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameDevice {
    /// 1–40 characters.
    pub name: String,
}

/// Renames a device.
#[utoipa::path(patch, path = "/api/v1/devices/{device_id}", tag = "devices", request_body = RenameDevice,
    params(("device_id" = String, Path), ("x-csrf-token" = String, Header)),
    responses((status = 204), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem), (status = 403, body = Problem, description = "password_change_required: the bank-issued password must be changed first")))]
pub async fn rename_device(
    State(state): State<AppState>,
    web: WebSession,
    Path(device_id): Path<String>,
    Body(body): Body<RenameDevice>,
) -> ApiResult<StatusCode> {
    let name = crate::customers::check_name("name", &body.name, sca_protocol::DEVICE_NAME_MAX)?;
    let (cid, user_code, now) = (web.customer.id, web.customer.user_code.clone(), state.now());
    let ok = state
        .store()
        .write(move |w| {
            Box::pin(async move {
                let ok = w.rename_device(cid, &device_id, &name).await?;
                if ok {
                    w.audit(now, "device_renamed", &user_code, &device_id).await?;
                }
                Ok(ok)
            })
        })
        .await?;
    if !ok {
        return Err(AppError::not_found("device"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a device: its secrets are wiped and its codes and signatures no longer count. Either
/// from Area Clienti (session cookie and `x-csrf-token`), or by the device itself when its
/// profile is removed from the authenticator (`authorization: SCA1-Device …`, its own id only).
#[utoipa::path(delete, path = "/api/v1/devices/{device_id}", tag = "devices",
    params(("device_id" = String, Path), ("x-csrf-token" = Option<String>, Header, description = "with a session"),
        ("authorization" = Option<String>, Header, description = "SCA1-Device id=…,ts=…,sig=…: the device removes itself")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem, description = "password_change_required: the bank-issued password must be changed first"), (status = 404, body = Problem)))]
pub async fn remove_device(
    State(state): State<AppState>,
    Path(device_id): Path<String>,
    req: axum::extract::Request,
) -> ApiResult<StatusCode> {
    use axum::extract::{FromRequest as _, FromRequestParts as _};
    let by_device = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("SCA1-Device "));
    let customer = if by_device {
        std::sync::Arc::new(super::extract::DeviceRequest::from_request(req, &state).await?.customer)
    } else {
        let (mut parts, _) = req.into_parts();
        WebSession::from_request_parts(&mut parts, &state)
            .await?
            .customer
            .clone()
    };
    let removed = device_id.clone();
    let (cid, user_code, phone, email, now) = (
        customer.id,
        customer.user_code.clone(),
        customer.phone.clone(),
        customer.email.clone(),
        state.now(),
    );
    let ok = state
        .store()
        .write(move |w| {
            Box::pin(async move {
                let ok = w.remove_device(now, cid, &device_id).await?;
                if ok {
                    w.outbox(now, &phone, "sms", crate::texts::DEVICE_REMOVED).await?;
                    w.outbox(now, &email, "email", crate::texts::DEVICE_REMOVED).await?;
                    w.audit(now, "device_removed", &user_code, &device_id).await?;
                }
                Ok(ok)
            })
        })
        .await?;
    state.forget_device_keys(cid);
    if !ok {
        return Err(AppError::not_found("device"));
    }
    state
        .0
        .hub
        .publish(cid, crate::state::HubEvent::DeviceRemoved { device_id: removed });
    state.messages_queued();
    Ok(StatusCode::NO_CONTENT)
}
