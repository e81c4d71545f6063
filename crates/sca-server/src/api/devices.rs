//! The authenticator's side (docs/api.md §5): activation (docs/spec/sca1.md §3) of a first device by
//! password + SMS OTP or of another one from an active device (a DEVICE operation approved there,
//! then a QR), device-signed requests, the push stream, lookup, approve and reject (§7).

use std::convert::Infallible;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, Sse};
use futures_util::Stream;
use sca_protocol::{
    ActivationId, Code, FieldKey, Kind, OperationData, PublicKey, Signature, approve_message, reject_message,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::banking::Decision;
use super::events::device_stream;
use super::extract::{Body, ClientIp, DeviceRequest};
use super::login::StatusResponse;
use crate::error::{ApiResult, AppError, ErrorKind, Problem};
use crate::sca::{self, Allowed, OtpPurpose, Via};
use crate::state::{AppState, HubEvent};
use crate::storage::{ActivationSource, Credential, OperationRow, OperationStatus};

/// First activation: who the customer is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartActivation {
    /// User code or alias.
    pub user: String,
    /// Password.
    pub password: String,
}

/// An activation started.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivationStarted {
    /// b64u of 16 random bytes; valid 10 minutes.
    pub activation_id: String,
    /// Unix seconds.
    pub expires: u64,
}

/// Starts activating a first device: checks the password, sends an SMS OTP to the certified
/// phone.
#[utoipa::path(post, path = "/api/v1/activations", tag = "devices", request_body = StartActivation,
    responses((status = 201, body = ActivationStarted), (status = 400, body = Problem),
        (status = 401, body = Problem, description = "invalid_credentials + attempts_left"),
        (status = 403, body = Problem, description = "first_access_unfinished"), (status = 423, body = Problem), (status = 429, body = Problem)))]
pub async fn start_activation(
    State(state): State<AppState>,
    client: ClientIp,
    Body(body): Body<StartActivation>,
) -> ApiResult<(StatusCode, Json<ActivationStarted>)> {
    let customer = sca::check_password(&state, client, &body.user, &body.password).await?;
    if state.store().failures(customer.id).await?.sms_otp >= state.config().max_attempts {
        return Err(AppError::blocked());
    }
    let id = ActivationId::random(&state.0.rng)?;
    let now = state.now();
    let expires = now + state.config().activation_ttl;
    let (cid, user_code, aid) = (customer.id, customer.user_code.clone(), id.to_string());
    state
        .store()
        .write(move |w| {
            Box::pin(async move {
                w.insert_activation(now, &aid, cid, ActivationSource::PasswordSms, None, None, expires)
                    .await?;
                w.audit(now, "device_activation_started", &user_code, "password").await
            })
        })
        .await?;
    sca::send_otp(&state, &customer, OtpPurpose::Activation, id.as_str(), None).await?;
    Ok((
        StatusCode::CREATED,
        Json(ActivationStarted {
            activation_id: id.to_string(),
            expires,
        }),
    ))
}

/// The device's half of the key exchange.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyExchangeBody {
    /// The SMS OTP (first device; not needed for an activation started from an active device).
    #[serde(default)]
    pub sms_otp: Option<String>,
    /// The device's ECDSA P-256 public key, 65-byte SEC1 point, b64u.
    pub device_pub: String,
    /// The device's ephemeral ECDH P-256 public key `Ed`, b64u.
    pub ecdh_pub: String,
    /// A name for the device, 1–40 characters.
    pub name: String,
}

/// The server's half.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivationAnswer {
    /// The new device's id (for `authorization: SCA1-Device id=…`).
    pub device_id: String,
    /// The server's ephemeral ECDH public key `Es`, b64u.
    pub server_ecdh_pub: String,
    /// The bank public key, b64u.
    pub bank_pub: String,
    /// b64u ECDSA of the bank key over `"SCA1-ACT" || lp(activation_id) || lp(Ed_pub) || lp(Es_pub)`.
    pub signature: String,
}

fn parse_activation_id(text: &str) -> ApiResult<ActivationId> {
    ActivationId::parse(text).map_err(|e| AppError::bad_request("activation_id", e))
}

/// Key exchange (docs/spec/sca1.md §3.2 steps 2–3): the server makes `Es`, derives the keys, keeps them
/// sealed, and answers with `Es_pub` signed by the bank key.
#[utoipa::path(post, path = "/api/v1/activations/{activation_id}", tag = "devices", request_body = KeyExchangeBody,
    params(("activation_id" = String, Path)),
    responses((status = 200, body = ActivationAnswer), (status = 400, body = Problem), (status = 401, body = Problem, description = "wrong_otp + attempts_left"),
        (status = 403, body = Problem, description = "the DEVICE operation is not approved yet"), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 410, body = Problem), (status = 423, body = Problem)))]
pub async fn activation_keys(
    State(state): State<AppState>,
    Path(activation_id): Path<String>,
    Body(body): Body<KeyExchangeBody>,
) -> ApiResult<Json<ActivationAnswer>> {
    let aid = parse_activation_id(&activation_id)?;
    let device_pub = PublicKey::from_b64u(&body.device_pub).map_err(|e| AppError::bad_request("device_pub", e))?;
    let ed_pub = PublicKey::from_b64u(&body.ecdh_pub).map_err(|e| AppError::bad_request("ecdh_pub", e))?;
    let name = crate::customers::check_name("name", &body.name, sca_protocol::DEVICE_NAME_MAX)?;
    let done = sca::exchange_keys(&state, &aid, &device_pub, &ed_pub, name, body.sms_otp.as_deref()).await?;
    Ok(Json(ActivationAnswer {
        device_id: done.device_id,
        server_ecdh_pub: done.server_ecdh_pub.to_b64u(),
        bank_pub: state.bank_public_key().to_b64u(),
        signature: done.signature.to_b64u(),
    }))
}

/// The device's confirmation tag.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivationConfirm {
    /// Lower-case hex of `HMAC(K_conf, "device" || lp(activation_id) || lp(device_pub))`.
    pub confirm: String,
}

/// Confirms the activation (docs/spec/sca1.md §3.2 step 4); the device becomes active. A wrong tag voids
/// the activation.
#[utoipa::path(post, path = "/api/v1/activations/{activation_id}/confirm", tag = "devices", request_body = ActivationConfirm,
    params(("activation_id" = String, Path)),
    responses((status = 200, body = StatusResponse, description = "`active`"), (status = 400, body = Problem),
        (status = 401, body = Problem, description = "the tag does not verify; the activation is void"),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 410, body = Problem)))]
pub async fn activation_confirm(
    State(state): State<AppState>,
    Path(activation_id): Path<String>,
    Body(body): Body<ActivationConfirm>,
) -> ApiResult<Json<StatusResponse>> {
    let aid = parse_activation_id(&activation_id)?;
    let mut tag = [0u8; 32];
    hex::decode_to_slice(&body.confirm, &mut tag)
        .map_err(|_| AppError::bad_request("confirm", "must be 64 hex characters"))?;
    sca::confirm_activation(&state, &aid, &tag).await?;
    Ok(Json(StatusResponse {
        status: "active".into(),
    }))
}

/// Another device's activation, started from this one.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceActivationStarted {
    /// The activation id the new device uses (no SMS OTP needed once the DEVICE operation is
    /// approved).
    pub activation_id: String,
    /// Unix seconds.
    pub expires: u64,
    /// The DEVICE operation to approve on this (active) device first, with its PIN.
    pub op_id: String,
    /// Its signed payload.
    pub payload: String,
    /// The text of the QR code this device shows to the new one: `SCA1-ACTIVATE:<activation_id>`.
    pub qr_text: String,
}

/// Starts activating another device from this active one: a DEVICE operation (approve it here,
/// with the PIN) and an activation id for the new device, shown as a QR code
/// (`SCA1-ACTIVATE:<activation_id>`). Device-signed.
#[utoipa::path(post, path = "/api/v1/devices/{device_id}/activations", tag = "devices",
    params(("device_id" = String, Path), ("authorization" = String, Header, description = "SCA1-Device id=…,ts=…,sig=…")),
    responses((status = 201, body = DeviceActivationStarted), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn start_device_activation(
    State(state): State<AppState>,
    Path(_device_id): Path<String>,
    req: DeviceRequest,
) -> ApiResult<(StatusCode, Json<DeviceActivationStarted>)> {
    let started = start_second_device(&state, &req.customer, Some(&req.device.id)).await?;
    Ok((StatusCode::CREATED, Json(started)))
}

/// Starts activating another device from Area Clienti: the same DEVICE operation, approved on an
/// active device (push, or a code typed here); once approved, the page shows the activation QR.
#[utoipa::path(post, path = "/api/v1/devices/activations", tag = "devices",
    params(("x-csrf-token" = String, Header)),
    responses((status = 201, body = DeviceActivationStarted), (status = 401, body = Problem), (status = 403, body = Problem, description = "password_change_required: the bank-issued password must be changed first")))]
pub async fn start_device_activation_web(
    State(state): State<AppState>,
    web: super::extract::WebSession,
) -> ApiResult<(StatusCode, Json<DeviceActivationStarted>)> {
    let started = start_second_device(&state, &web.customer, None).await?;
    Ok((StatusCode::CREATED, Json(started)))
}

/// A DEVICE operation for `customer` and an activation id bound to it; `from` is the device that
/// asked, or `None` for Area Clienti.
async fn start_second_device(
    state: &AppState,
    customer: &crate::storage::Customer,
    from: Option<&str>,
) -> ApiResult<DeviceActivationStarted> {
    let mut data = OperationData::default();
    data.set(
        FieldKey::Description,
        "Attivazione di un nuovo dispositivo / activate a new authenticator",
    )
    .map_err(AppError::internal)?;
    let created = sca::create_operation(state, customer, Kind::Device, data, None, None).await?;
    let id = ActivationId::random(&state.0.rng)?;
    let now = state.now();
    let expires = (now + state.config().activation_ttl).min(created.expires);
    let (aid, cid, user_code, source, op_row) = (
        id.to_string(),
        customer.id,
        customer.user_code.clone(),
        from.map(str::to_owned),
        created.row,
    );
    state
        .store()
        .write(move |w| {
            Box::pin(async move {
                w.insert_activation(
                    now,
                    &aid,
                    cid,
                    ActivationSource::Device,
                    source.as_deref(),
                    Some(op_row),
                    expires,
                )
                .await?;
                let detail = match &source {
                    Some(device) => format!("from device {device}"),
                    None => "from Area Clienti".to_owned(),
                };
                w.audit(now, "device_activation_started", &user_code, &detail).await
            })
        })
        .await?;
    Ok(DeviceActivationStarted {
        qr_text: format!("SCA1-ACTIVATE:{id}"),
        activation_id: id.to_string(),
        expires,
        op_id: created.op_id,
        payload: created.payload,
    })
}

/// The push stream of a device. Device-signed (a fresh signature per connection).
#[utoipa::path(get, path = "/api/v1/devices/{device_id}/events", tag = "devices",
    params(("device_id" = String, Path), ("authorization" = String, Header, description = "SCA1-Device id=…,ts=…,sig=…")),
    responses((status = 200, content_type = "text/event-stream",
        description = "`operation` {\"op_id\",\"payload\"} for each pending operation at connect and as they appear (a login's number to match is never sent: the customer types the one the page shows); `status` {\"op_id\",\"status\"}; heartbeat comments. The stream ends when the device is removed or the customer's codes are blocked"),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 423, body = Problem, description = "the customer's device codes are blocked: nothing can be approved until they are unblocked")))]
pub async fn device_events(
    State(state): State<AppState>,
    Path(_device_id): Path<String>,
    req: DeviceRequest,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    device_stream(&state, req.customer.id, req.device.id.clone()).await
}

/// An operation as a device fetches it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceOperation {
    /// The signed payload.
    pub payload: String,
    /// Its status now.
    pub status: String,
}

async fn device_operation_row(state: &AppState, req: &DeviceRequest, op_id: &str) -> ApiResult<OperationRow> {
    super::banking::own_operation(state, &req.customer, op_id).await
}

/// Looks up an operation by its identifier (typed by hand), to show its signed details.
/// Device-signed.
#[utoipa::path(get, path = "/api/v1/devices/{device_id}/operations/{op_id}", tag = "devices",
    params(("device_id" = String, Path), ("op_id" = String, Path), ("authorization" = String, Header)),
    responses((status = 200, body = DeviceOperation), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn device_operation(
    State(state): State<AppState>,
    Path((_device_id, op_id)): Path<(String, String)>,
    req: DeviceRequest,
) -> ApiResult<Json<DeviceOperation>> {
    let op = device_operation_row(&state, &req, &op_id).await?;
    Ok(Json(DeviceOperation {
        status: op.status_at(state.now()).to_string(),
        payload: op.payload,
    }))
}

/// A push approval (docs/spec/sca1.md §7).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveRequest {
    /// The OPERATION code, made with the PIN.
    pub code: String,
    /// b64u ECDSA of the device key over `"SCA1-APPROVE" || lp(op_id) || lp(nonce) || lp(SHA(data)) || lp(code)`.
    pub signature: String,
    /// The two-digit number the customer typed, as the login page shows it (logins: number
    /// matching; a wrong one counts as a wrong answer and fails the login).
    #[serde(default)]
    pub number: Option<u8>,
}

fn require_pending(op: &OperationRow, now: u64) -> ApiResult<()> {
    match op.status_at(now) {
        OperationStatus::Pending => Ok(()),
        OperationStatus::Expired => Err(AppError::expired()),
        _ => Err(AppError::not_pending()),
    }
}

/// Approves an operation from the device. Device-signed.
#[utoipa::path(post, path = "/api/v1/devices/{device_id}/operations/{op_id}/approve", tag = "devices", request_body = ApproveRequest,
    params(("device_id" = String, Path), ("op_id" = String, Path), ("authorization" = String, Header)),
    responses((status = 200, body = Decision, description = "`approved`"), (status = 400, body = Problem),
        (status = 401, body = Problem, description = "wrong_code + attempts_left, or invalid_signature"), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 410, body = Problem), (status = 423, body = Problem)))]
pub async fn approve(
    State(state): State<AppState>,
    Path((_device_id, op_id)): Path<(String, String)>,
    req: DeviceRequest,
) -> ApiResult<Json<Decision>> {
    let body: ApproveRequest = req.json()?;
    let code = Code::parse(&body.code).map_err(|e| AppError::bad_request("code", e))?;
    let signature = Signature::from_b64u(&body.signature).map_err(|e| AppError::bad_request("signature", e))?;
    let op_id = sca_protocol::OpId::parse(&op_id).map_err(|e| AppError::bad_request("op_id", e))?;
    let op = state.operation_to_answer(req.customer.id, op_id.as_str()).await?;
    let now = state.now();
    require_pending(&op, now)?;
    let operation = sca::stored_operation(&op)?;
    let public = PublicKey::from_bytes(&req.device.public_key).map_err(|_| AppError::internal("stored device key"))?;
    let message = approve_message(&operation.op_id, &operation.nonce, &operation.data_sha(), &code);
    if !public.verify(&message, &signature) {
        return Err(AppError::new(ErrorKind::InvalidSignature, "signature: does not verify"));
    }
    if let Some(expected) = op.number {
        let Some(number) = body.number else {
            return Err(AppError::bad_request(
                "number",
                "missing: type the number the login page shows",
            ));
        };
        if i64::from(number) != expected {
            // A wrong pick is how push fatigue shows: the login fails and the pick is counted.
            return Err(sca::wrong_answer(&state, &req.customer, Credential::Code, "number matching", Some(&op)).await);
        }
    }
    let keys = state.device_keys(req.customer.id).await?;
    let allowed = Allowed {
        operation: true,
        ..Allowed::default()
    };
    match sca::match_code(&keys, &code, Some(&operation), allowed, now, Some(&req.device.id)) {
        Some(_) => {
            sca::approve(&state, &req.customer, &op, Via::Device(req.device.id.clone())).await?;
            Ok(Json(Decision {
                status: OperationStatus::Approved.to_string(),
            }))
        }
        None => Err(sca::wrong_answer(
            &state,
            &req.customer,
            Credential::Code,
            &format!("push {}", op.op_id),
            None,
        )
        .await),
    }
}

/// A rejection ("non sono io").
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// b64u ECDSA of the device key over `"SCA1-REJECT" || lp(op_id) || lp(nonce)`.
    pub signature: String,
}

/// Rejects an operation from the device (no PIN); the customer is alerted by SMS and e-mail.
/// Device-signed.
#[utoipa::path(post, path = "/api/v1/devices/{device_id}/operations/{op_id}/reject", tag = "devices", request_body = RejectRequest,
    params(("device_id" = String, Path), ("op_id" = String, Path), ("authorization" = String, Header)),
    responses((status = 200, body = Decision, description = "`rejected`"), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 410, body = Problem)))]
pub async fn reject(
    State(state): State<AppState>,
    Path((_device_id, op_id)): Path<(String, String)>,
    req: DeviceRequest,
) -> ApiResult<Json<Decision>> {
    let body: RejectRequest = req.json()?;
    let signature = Signature::from_b64u(&body.signature).map_err(|e| AppError::bad_request("signature", e))?;
    let op = device_operation_row(&state, &req, &op_id).await?;
    let now = state.now();
    require_pending(&op, now)?;
    let operation = sca::stored_operation(&op)?;
    let public = PublicKey::from_bytes(&req.device.public_key).map_err(|_| AppError::internal("stored device key"))?;
    if !public.verify(&reject_message(&operation.op_id, &operation.nonce), &signature) {
        return Err(AppError::new(ErrorKind::InvalidSignature, "signature: does not verify"));
    }
    let (row, user_code, phone, email, did, oid, kind) = (
        op.id,
        req.customer.user_code.clone(),
        req.customer.phone.clone(),
        req.customer.email.clone(),
        req.device.id.clone(),
        op.op_id.clone(),
        op.kind.clone(),
    );
    let rejected = state
        .store()
        .write(move |w| {
            Box::pin(async move {
                if !w
                    .decide_operation(row, OperationStatus::Rejected, now, &format!("device:{did}"))
                    .await?
                {
                    return Ok(false);
                }
                let text = crate::texts::operation_rejected(&oid);
                w.outbox(now, &phone, "sms", &text).await?;
                w.outbox(now, &email, "email", &text).await?;
                w.audit(
                    now,
                    "operation_rejected",
                    &user_code,
                    &format!("{oid} {kind} by device:{did}"),
                )
                .await?;
                Ok(true)
            })
        })
        .await?;
    state.forget_operation(req.customer.id, &op.op_id);
    if !rejected {
        return Err(AppError::not_pending());
    }
    state.messages_queued();
    state.0.hub.publish(
        req.customer.id,
        HubEvent::Status {
            op_id: op.op_id.clone(),
            status: OperationStatus::Rejected,
        },
    );
    Ok(Json(Decision {
        status: OperationStatus::Rejected.to_string(),
    }))
}

/// The bank's public key.
#[derive(Debug, Serialize, ToSchema)]
pub struct BankKey {
    /// 65-byte SEC1 point, b64u.
    pub bank_pub: String,
    /// `key_id(bank_pub)`.
    pub key_id: String,
}

/// The bank's public key, for checking signed payloads.
#[utoipa::path(get, path = "/api/v1/bank-key", tag = "devices", responses((status = 200, body = BankKey)))]
pub async fn bank_key(State(state): State<AppState>) -> Json<BankKey> {
    let key = state.bank_public_key();
    Json(BankKey {
        bank_pub: key.to_b64u(),
        key_id: key.key_id().to_string(),
    })
}

/// A code for the server to check.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckCode {
    /// A TRANSACTION code made by this device with its current PIN.
    pub code: String,
}

/// Checks a TRANSACTION code made by this device before the authenticator changes its PIN
/// (docs/spec/sca1.md §4: the device keeps no PIN verifier, so only the server can say the old PIN was
/// right). Counted like any code: a wrong one costs an attempt and the fifth blocks; a right one
/// spends its time step and resets the count. Device-signed.
#[utoipa::path(post, path = "/api/v1/devices/{device_id}/check-code", tag = "devices", request_body = CheckCode,
    params(("device_id" = String, Path), ("authorization" = String, Header, description = "SCA1-Device id=…,ts=…,sig=…")),
    responses((status = 200, body = StatusResponse, description = "`ok`: the code fits"), (status = 400, body = Problem),
        (status = 401, body = Problem, description = "wrong_code + attempts_left"), (status = 423, body = Problem)))]
pub async fn check_code(
    State(state): State<AppState>,
    Path(_device_id): Path<String>,
    req: DeviceRequest,
) -> ApiResult<Json<StatusResponse>> {
    let body: CheckCode = req.json()?;
    let code = Code::parse(&body.code).map_err(|e| AppError::bad_request("code", e))?;
    sca::check_transaction_code(&state, &req.customer, &code, Some(&req.device.id), "PIN change check").await?;
    Ok(Json(StatusResponse { status: "ok".into() }))
}
