//! The branch (admin) API: create customers, unblock them, read the audit log. Every handler
//! needs `authorization: Bearer <SCA_ADMIN_TOKEN>`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{Admin, Body};
use crate::customers::{self, NewCustomerInput};
use crate::error::{ApiResult, AppError, Problem};
use crate::state::AppState;

/// A new customer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCustomer {
    /// Full name, 1–70 characters.
    pub name: String,
    /// Certified phone, E.164 (`+393331234567`).
    pub phone: String,
    /// E-mail.
    pub email: String,
    /// Optional alias, 3–32 of letters, digits, `.`, `_`, `-`; unique ignoring case.
    #[serde(default)]
    pub alias: Option<String>,
}

/// The credentials of a new customer (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedCustomer {
    /// 8-digit user code.
    pub user_code: String,
    /// 8 random digits, to be changed at first login.
    pub password: String,
    /// 20-character security code.
    pub security_code: String,
}

/// Creates a customer with fresh credentials (and, in sandbox mode, an account holding
/// 10 000.00 EUR).
#[utoipa::path(post, path = "/api/v1/admin/customers", tag = "branch",
    request_body = CreateCustomer,
    security(("branch" = [])),
    responses((status = 201, body = CreatedCustomer), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 409, body = Problem)))]
pub async fn create_customer(
    State(state): State<AppState>,
    _admin: Admin,
    Body(body): Body<CreateCustomer>,
) -> ApiResult<(StatusCode, Json<CreatedCustomer>)> {
    let created = customers::create(
        &state,
        NewCustomerInput {
            name: body.name,
            phone: body.phone,
            email: body.email,
            alias: body.alias,
            password: None,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedCustomer {
            user_code: created.user_code,
            password: created.password.to_string(),
            security_code: created.security_code.to_string(),
        }),
    ))
}

/// Unblocks every credential of a customer and ends all of the customer's web sessions.
#[utoipa::path(post, path = "/api/v1/admin/customers/{user_code}/unblock", tag = "branch",
    params(("user_code" = String, Path, description = "8-digit user code")),
    security(("branch" = [])),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn unblock_customer(
    State(state): State<AppState>,
    _admin: Admin,
    Path(user_code): Path<String>,
) -> ApiResult<StatusCode> {
    let code = sca_protocol::UserCode::parse(&user_code).map_err(|e| AppError::bad_request("user_code", e))?;
    let customer = state
        .store()
        .customer_by_user(code.as_str())
        .await?
        .ok_or_else(|| AppError::not_found("customer"))?;
    // The branch unblocks a customer who called in, and every session still open ends (one write).
    customers::unblock(&state, &customer, "branch").await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Audit query.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Entries after this sequence number (default 0).
    pub after: Option<String>,
    /// At most this many (default and maximum 1000).
    pub limit: Option<String>,
}

/// One audit entry: `hash = SHA-256(prev_hash || entry)`, see the server's README.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    /// Sequence number from 1, without gaps.
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    /// Event kind.
    pub kind: String,
    /// User code, or empty.
    pub customer: String,
    /// Details.
    pub detail: String,
    /// Hex.
    pub prev_hash: String,
    /// Hex.
    pub hash: String,
}

/// Reads the hash-chained audit log.
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "branch", params(AuditQuery),
    security(("branch" = [])),
    responses((status = 200, body = Vec<AuditEntry>), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub async fn audit(
    State(state): State<AppState>,
    _admin: Admin,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    let after = match q.after.as_deref() {
        None | Some("") => 0,
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| AppError::bad_request("after", "must be a sequence number"))?,
    };
    let limit = match q.limit.as_deref() {
        None | Some("") => 1000,
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| AppError::bad_request("limit", "must be 1 to 1000"))?,
    };
    let rows = state.store().audit_after(after, limit).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| AuditEntry {
                seq: r.seq,
                at: r.at,
                kind: r.kind,
                customer: r.customer,
                detail: r.detail,
                prev_hash: hex::encode(r.prev_hash),
                hash: hex::encode(r.hash),
            })
            .collect(),
    ))
}

/// An acquired bank, as the branch sets it up.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcquiredBankInput {
    /// As customers know it, 1–70 characters: `UBI Banca`.
    pub name: String,
    /// The day its customers' first access opens, `YYYY-MM-DD` (midnight UTC).
    pub opens: String,
    /// The day it closes, if it does, `YYYY-MM-DD`.
    #[serde(default)]
    pub closes: Option<String>,
}

/// An acquired bank and how far its customers' move has come.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcquiredBankView {
    /// `ubi`.
    pub code: String,
    /// `UBI Banca`.
    pub name: String,
    /// Unix seconds.
    pub opens_at: i64,
    /// Unix seconds, if it closes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closes_at: Option<i64>,
    /// Customers imported and not moved yet (blocked ones included).
    pub pending: i64,
    /// Customers moved to new credentials.
    pub migrated: i64,
    /// Customers whose legacy credential is blocked.
    pub blocked: i64,
}

impl From<crate::storage::AcquiredBankRow> for AcquiredBankView {
    fn from(b: crate::storage::AcquiredBankRow) -> Self {
        Self {
            code: b.code,
            name: b.name,
            opens_at: b.opens_at,
            closes_at: b.closes_at,
            pending: b.pending,
            migrated: b.migrated,
            blocked: b.blocked,
        }
    }
}

/// Sets up an acquired bank (or changes its name and dates). Its customers come from its file:
/// `sca-server import-legacy --bank <code> FILE`.
#[utoipa::path(put, path = "/api/v1/admin/acquired-banks/{code}", tag = "branch", request_body = AcquiredBankInput,
    params(("code" = String, Path, description = "2–16 lower-case letters and digits")),
    security(("branch" = [])),
    responses((status = 200, body = AcquiredBankView), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub async fn put_acquired_bank(
    State(state): State<AppState>,
    _admin: Admin,
    Path(code): Path<String>,
    Body(body): Body<AcquiredBankInput>,
) -> ApiResult<Json<AcquiredBankView>> {
    let opens = crate::legacy::date_to_unix(body.opens.trim()).map_err(|e| AppError::bad_request("opens", e))?;
    let closes = match body.closes.as_deref().map(str::trim) {
        Some(c) => Some(crate::legacy::date_to_unix(c).map_err(|e| AppError::bad_request("closes", e))?),
        None => None,
    };
    crate::legacy::upsert_bank(&state, &code, &body.name, opens, closes).await?;
    let bank = state
        .store()
        .acquired_banks()
        .await?
        .into_iter()
        .find(|b| b.code == code)
        .ok_or_else(|| AppError::internal("the acquired bank just written is gone"))?;
    Ok(Json(bank.into()))
}

/// The acquired banks, with how many of their customers have moved, are waiting, are blocked.
#[utoipa::path(get, path = "/api/v1/admin/acquired-banks", tag = "branch",
    security(("branch" = [])),
    responses((status = 200, body = Vec<AcquiredBankView>), (status = 401, body = Problem)))]
pub async fn acquired_banks(State(state): State<AppState>, _admin: Admin) -> ApiResult<Json<Vec<AcquiredBankView>>> {
    Ok(Json(
        state
            .store()
            .acquired_banks()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Unblocks the legacy credential of a customer of an acquired bank, blocked after 5 wrong
/// passwords or codes at the first access.
#[utoipa::path(post, path = "/api/v1/admin/acquired-banks/{code}/customers/{legacy_code}/unblock", tag = "branch",
    params(("code" = String, Path, description = "the acquired bank"), ("legacy_code" = String, Path, description = "the customer code at the old bank")),
    security(("branch" = [])),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn unblock_legacy(
    State(state): State<AppState>,
    _admin: Admin,
    Path((code, legacy_code)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let legacy = state
        .store()
        .legacy_customer(&code, legacy_code.trim())
        .await?
        .ok_or_else(|| AppError::not_found("legacy customer"))?;
    let (holder, now) = (legacy.holder(), state.now());
    state
        .store()
        .write(move |w| Box::pin(async move { w.unblock_legacy(now, &holder).await }))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
