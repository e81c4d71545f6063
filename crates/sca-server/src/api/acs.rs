//! The access control server (ACS) of 3-D Secure (issue 14), modelled on EMV 3-D Secure 2.x
//! without claiming conformance: what a merchant's 3-D Secure server asks (`authentications`),
//! and the challenge the cardholder answers at the bank's own origin (`challenges`) — by push in
//! the authenticator, by a code from an offline authenticator, or by an SMS code with the Key6.
//!
//! A purchase is a CARD_PAYMENT operation (fields `A`, `C`, `M`: dynamic linking as for a
//! transfer) beside an `acs_transactions` row; its approval books the money once (the approval
//! trigger). The acsTransID, a random UUID, is the challenge's only capability: the page needs no
//! session, as the cardholder may not be logged in to the bank.

use std::convert::Infallible;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use sca_protocol::{Amount, Code, FieldKey, Kind, OperationData};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::banking::{Decision, decimal};
use super::events::status_stream;
use super::extract::Body;
use crate::cards::{self, Brand, Pan};
use crate::error::{ApiResult, AppError, ErrorKind, Problem};
use crate::sca::{self, Beside, Made, Via};
use crate::state::{AppState, HubEvent};
use crate::storage::writer::{Approval, Booking};
use crate::storage::{AcsRow, CardRow, Credential, Customer, NewAcs, OperationRow, OperationStatus};

/// EMV `transStatusReason` codes this ACS gives, with what they mean here.
mod reason {
    /// Card authentication failed: a wrong or rejected answer, the Key6 blocked.
    pub(super) const AUTH_FAILED: (&str, &str) = ("01", "the cardholder did not confirm the purchase");
    /// No card record.
    pub(super) const NO_CARD: (&str, &str) = ("08", "no card with this number at this bank");
    /// Transaction not permitted to cardholder.
    pub(super) const NOT_PERMITTED: (&str, &str) = ("12", "the card cannot make this purchase");
    /// Transaction timed out at the ACS.
    pub(super) const TIMED_OUT: (&str, &str) = ("14", "the challenge expired");
}

/// What a merchant's 3-D Secure server sends for a purchase.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthenticationRequest {
    /// The card number, 13–19 digits (spaces allowed). Never answered, logged or stored.
    pub pan: String,
    /// `MM/YY`; optional as in EMV 3-D Secure, checked when given.
    #[serde(default)]
    pub expiry: Option<String>,
    /// Decimal with two fraction digits: `25.00`.
    pub amount: String,
    /// ISO 4217: the card account's currency.
    pub currency: String,
    /// As the cardholder will see it, 1–40 characters.
    pub merchant_name: String,
    /// The merchant's site, `https://…` (or `http://` on a loopback host).
    pub merchant_url: String,
    /// Where the challenge page sends the cardholder back, with `acsTransID` added to its query.
    pub return_url: String,
}

impl std::fmt::Debug for AuthenticationRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthenticationRequest")
            .field("amount", &self.amount)
            .field("merchant_name", &self.merchant_name)
            .finish_non_exhaustive()
    }
}

/// The ACS's answer, as EMV 3-D Secure names it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationResult {
    /// The authentication's id.
    #[serde(rename = "acsTransID")]
    pub acs_trans_id: String,
    /// `Y` authenticated (frictionless or after the challenge), `C` challenge required (open
    /// `challengeURL`), `N` not authenticated, `R` rejected.
    pub trans_status: String,
    /// EMV reason code with `N` and `R`: `01` not confirmed, `08` no such card, `12` not
    /// permitted, `14` timed out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trans_status_reason: Option<String>,
    /// The reason in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_text: Option<String>,
    /// With `C`: the bank's challenge page for the cardholder.
    #[serde(rename = "challengeURL", skip_serializing_if = "Option::is_none")]
    pub challenge_url: Option<String>,
    /// With `Y`: electronic commerce indicator (`05` Visa, `02` Mastercard).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eci: Option<String>,
    /// With `Y`: the authentication value (CAVV / AAV) the merchant passes on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication_value: Option<String>,
    /// With `Y`: whether the low-value exemption let it through without a challenge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frictionless: Option<bool>,
}

/// Challenges one card may have waiting at once.
const MAX_PENDING_CHALLENGES: i64 = 3;

/// A URL a merchant names: absolute `https://`, or `http://` on a loopback host (a sandbox).
fn check_url(field: &'static str, text: &str) -> ApiResult<String> {
    let t = text.trim();
    if t.len() > 2048 || t.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(AppError::bad_request(
            field,
            "must be an absolute URL without spaces, at most 2048 characters",
        ));
    }
    let rest = if let Some(r) = t.strip_prefix("https://") {
        r
    } else if let Some(r) = t.strip_prefix("http://") {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
        let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
        if !matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
            return Err(AppError::bad_request(
                field,
                "must be https:// (http:// only on a loopback host)",
            ));
        }
        r
    } else {
        return Err(AppError::bad_request(field, "must be an absolute https:// URL"));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() {
        return Err(AppError::bad_request(field, "must name a host"));
    }
    // `https://bank.example@evil.example` names evil.example: no user part, ever.
    if authority.contains('@') || authority.contains('\\') {
        return Err(AppError::bad_request(field, "must not carry a user name"));
    }
    Ok(t.to_owned())
}

/// Unicode format characters that reorder or hide text (bidirectional controls, zero-width).
fn is_format_char(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{061C}')
}

/// A random UUID (version 4), the acsTransID.
fn new_trans_id(state: &AppState) -> ApiResult<String> {
    let mut b = [0u8; 16];
    sca_protocol::SecureRandom::fill(&state.0.rng, &mut b).map_err(|_| AppError::internal("random"))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

/// A path's acsTransID: a UUID's form, or 400.
fn trans_id(text: &str) -> ApiResult<String> {
    let ok = text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                b == b'-'
            } else {
                b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
            }
        });
    if ok {
        Ok(text.to_owned())
    } else {
        Err(AppError::bad_request("acsTransID", "must be a UUID in lower case"))
    }
}

/// Refused at once: stored (so the merchant can fetch it again) and answered.
async fn refuse(
    state: &AppState,
    card: Option<&CardRow>,
    amount: i64,
    currency: &str,
    body: &AuthenticationRequest,
    status: &str,
    why: (&str, &str),
) -> ApiResult<Json<AuthenticationResult>> {
    let id = new_trans_id(state)?;
    let acs = NewAcs {
        trans_id: id.clone(),
        card_id: card.map(|c| c.id),
        operation_id: None,
        amount_minor: amount,
        currency: currency.to_owned(),
        merchant_name: body.merchant_name.trim().to_owned(),
        merchant_url: body.merchant_url.trim().to_owned(),
        return_url: body.return_url.trim().to_owned(),
        refused: Some(format!("{status}:{}", why.0)),
        auth_value: String::new(),
    };
    let now = state.now();
    let detail = format!("{id} {status} {}", why.0);
    state
        .store()
        .write(move |w| {
            Box::pin(async move {
                w.insert_acs(now, &acs).await?;
                w.audit(now, "acs_refused", "-", &detail).await
            })
        })
        .await?;
    Ok(Json(AuthenticationResult {
        acs_trans_id: id,
        trans_status: status.to_owned(),
        trans_status_reason: Some(why.0.to_owned()),
        reason_text: Some(why.1.to_owned()),
        challenge_url: None,
        eci: None,
        authentication_value: None,
        frictionless: None,
    }))
}

/// The bank's own origin, as the request reached it: where the challenge page is served.
fn origin(headers: &axum::http::HeaderMap, state: &AppState) -> String {
    if let Some(url) = &state.config().public_url {
        return url.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)))
        .unwrap_or("localhost");
    let scheme = if state.config().cookie_secure { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// Authenticates a card purchase: `Y` at once under the low-value exemption, `C` with the
/// challenge page's URL (and a CARD_PAYMENT pushed to the cardholder's authenticators), or `N` /
/// `R` with the reason.
#[utoipa::path(post, path = "/api/v1/acs/authentications", tag = "acs", request_body = AuthenticationRequest,
    // Optional: a sandbox answers without the token (its demo shop calls from the browser).
    security((), ("acs" = [])),
    responses((status = 200, body = AuthenticationResult), (status = 400, body = Problem),
        (status = 401, body = Problem, description = "no valid 3-D Secure server token (when SCA_ACS_TOKEN is set)"),
        (status = 403, body = Problem, description = "the ACS is disabled: no SCA_ACS_TOKEN outside sandbox mode")))]
pub async fn authenticate(
    State(state): State<AppState>,
    _caller: super::extract::AcsCaller,
    headers: axum::http::HeaderMap,
    Body(body): Body<AuthenticationRequest>,
) -> ApiResult<Json<AuthenticationResult>> {
    let pan = Pan::parse(&body.pan).map_err(|e| AppError::bad_request("pan", e))?;
    let amount = Amount::from_decimal(body.amount.trim(), body.currency.trim()).map_err(|e| match e {
        sca_protocol::AmountError::Currency => AppError::bad_request("currency", e),
        other => AppError::bad_request("amount", other),
    })?;
    if amount.minor_units() == 0 {
        return Err(AppError::bad_request("amount", "must be more than 0.00"));
    }
    let cfg = state.config();
    if amount.minor_units() > cfg.max_transfer_minor {
        return Err(AppError::bad_request(
            "amount",
            format!("the largest purchase is {}", decimal(cfg.max_transfer_minor as i64)),
        ));
    }
    let minor = i64::try_from(amount.minor_units()).map_err(|_| AppError::bad_request("amount", "too large"))?;
    let merchant = body.merchant_name.trim();
    // The name goes into the bank's SMS and the device's notification: one line, no characters
    // that reorder or hide text.
    if merchant.chars().any(|c| c.is_control() || is_format_char(c)) {
        return Err(AppError::bad_request(
            "merchant_name",
            "must be one line without control or text-direction characters",
        ));
    }
    let mut data = OperationData::default();
    data.set(FieldKey::Merchant, merchant)
        .map_err(|e| AppError::bad_request("merchant_name", e))?;
    check_url("merchant_url", &body.merchant_url)?;
    check_url("return_url", &body.return_url)?;
    let now = state.now();
    let expiry = match body.expiry.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        // A past expiry is the card's refusal (R), not a malformed request.
        Some(text) => Some(match cards::Expiry::parse(text, 0) {
            Ok(e) => e,
            Err(e) => return Err(AppError::bad_request("expiry", e)),
        }),
        None => None,
    };
    let currency = amount.currency().to_owned();
    let Some(card) = state
        .store()
        .card_by_pan(&state.0.secrets.pan_digest(pan.digits()))
        .await?
    else {
        return refuse(&state, None, minor, &currency, &body, "R", reason::NO_CARD).await;
    };
    let card_expiry = cards::Expiry::from_row(card.expiry_month, card.expiry_year);
    // A wrong expiry is answered as an unknown card: no way to try expiries against a number.
    if expiry.is_some_and(|e| e != card_expiry) || card_expiry.is_past(now) {
        return refuse(&state, Some(&card), minor, &currency, &body, "R", reason::NO_CARD).await;
    }
    let customer = state
        .store()
        .customer(card.customer_id)
        .await?
        .ok_or_else(|| AppError::internal("a card without its customer"))?;
    let account = state
        .store()
        .accounts(customer.id)
        .await?
        .into_iter()
        .find(|a| a.id == card.account_id)
        .ok_or_else(|| AppError::internal("a card without its account"))?;
    // (Whether the account holds the amount is the approval's question, in its own write.)
    if account.currency != currency {
        return refuse(&state, Some(&card), minor, &currency, &body, "N", reason::NOT_PERMITTED).await;
    }
    // A credit card spends within its monthly limit.
    if let Some(limit) = card.limit_minor {
        let spent = state.store().card_spent_since(card.id, cards::month_start(now)).await?;
        if spent + minor > limit {
            return refuse(&state, Some(&card), minor, &currency, &body, "N", reason::NOT_PERMITTED).await;
        }
    }
    // A card has at most a few challenges waiting at once: a card number alone cannot flood
    // the cardholder's authenticator.
    if state.store().pending_challenges(card.id, now).await? >= MAX_PENDING_CHALLENGES {
        return refuse(&state, Some(&card), minor, &currency, &body, "N", reason::NOT_PERMITTED).await;
    }
    data.set(FieldKey::Amount, &amount.to_string())
        .map_err(|e| AppError::bad_request("amount", e))?;
    data.set(FieldKey::Card, &format!("****{}", card.last4))
        .map_err(AppError::internal)?;
    let masked = cards::masked(&card.last4);
    let booking = Booking {
        account_id: card.account_id,
        amount_minor: minor,
        payee_iban: String::new(),
        payee_name: merchant.to_owned(),
        description: format!("{} {masked}", crate::texts::CARD_PAYMENT),
    };
    let exempt = (cfg.exempt_count > 0 && amount.minor_units() <= cfg.exempt_max_minor).then(|| {
        (
            cfg.exempt_count,
            i64::try_from(cfg.exempt_sum_minor).unwrap_or(i64::MAX),
        )
    });
    let id = new_trans_id(&state)?;
    let mut auth = [0u8; 20];
    sca_protocol::SecureRandom::fill(&state.0.rng, &mut auth).map_err(|_| AppError::internal("random"))?;
    let auth_value = sca_protocol::b64u_encode(&auth);
    let acs = NewAcs {
        trans_id: id.clone(),
        card_id: Some(card.id),
        operation_id: None,
        amount_minor: minor,
        currency: currency.clone(),
        merchant_name: merchant.to_owned(),
        merchant_url: body.merchant_url.trim().to_owned(),
        return_url: body.return_url.trim().to_owned(),
        refused: None,
        auth_value: auth_value.clone(),
    };
    let (_, made) = sca::create_operation_with(
        &state,
        &customer,
        Kind::CardPayment,
        data,
        None,
        Some((booking, currency)),
        Beside::Acs { acs, exempt },
    )
    .await?;
    let mut result = AuthenticationResult {
        acs_trans_id: id.clone(),
        trans_status: "C".to_owned(),
        trans_status_reason: None,
        reason_text: None,
        challenge_url: None,
        eci: None,
        authentication_value: None,
        frictionless: None,
    };
    match made {
        Made::Exempt => {
            result.trans_status = "Y".to_owned();
            result.eci = Some(eci(card.brand).to_owned());
            result.authentication_value = Some(auth_value);
            result.frictionless = Some(true);
        }
        Made::ShortOfFunds => {
            result.trans_status = "N".to_owned();
            result.trans_status_reason = Some(reason::NOT_PERMITTED.0.to_owned());
            result.reason_text = Some(reason::NOT_PERMITTED.1.to_owned());
        }
        Made::Pending => {
            result.challenge_url = Some(format!("{}/challenge.html#{id}", origin(&headers, &state)));
        }
    }
    Ok(Json(result))
}

/// `05` (Visa) or `02` (Mastercard): authenticated.
fn eci(brand: Brand) -> &'static str {
    match brand {
        Brand::Visa => "05",
        Brand::Mastercard => "02",
    }
}

/// The result an authentication has now.
fn result_of(row: &AcsRow, brand: Option<Brand>, now: u64) -> AuthenticationResult {
    let mut r = AuthenticationResult {
        acs_trans_id: row.trans_id.clone(),
        trans_status: "N".to_owned(),
        trans_status_reason: None,
        reason_text: None,
        challenge_url: None,
        eci: None,
        authentication_value: None,
        frictionless: None,
    };
    let why = |r: &mut AuthenticationResult, (code, text): (&str, &str)| {
        r.trans_status_reason = Some(code.to_owned());
        r.reason_text = Some(text.to_owned());
    };
    if let Some(refused) = &row.refused {
        let (status, code) = refused.split_once(':').unwrap_or(("R", "12"));
        r.trans_status = status.to_owned();
        let found = [
            reason::AUTH_FAILED,
            reason::NO_CARD,
            reason::NOT_PERMITTED,
            reason::TIMED_OUT,
        ]
        .into_iter()
        .find(|(c, _)| *c == code)
        .unwrap_or(reason::NOT_PERMITTED);
        why(&mut r, found);
        return r;
    }
    let by = row.decided_by.as_deref().unwrap_or("");
    match row.status {
        Some(OperationStatus::Approved) => {
            r.trans_status = "Y".to_owned();
            r.eci = brand.map(|b| eci(b).to_owned());
            r.authentication_value = Some(row.auth_value.clone());
            r.frictionless = Some(by == "exemption");
        }
        Some(OperationStatus::Pending) if now < row.expires_at.unwrap_or(0) as u64 => {
            r.trans_status = "C".to_owned();
        }
        Some(OperationStatus::Pending | OperationStatus::Expired) => why(&mut r, reason::TIMED_OUT),
        Some(OperationStatus::Rejected) if by == CANCELLED_BY => {
            why(&mut r, ("01", "the cardholder cancelled the purchase"));
        }
        // Failed by a wrong answer (a wrong code on the challenge page), else for want of funds.
        Some(OperationStatus::Failed) if by != sca::FAILED_BY_WRONG_ANSWER => why(&mut r, reason::NOT_PERMITTED),
        _ => why(&mut r, reason::AUTH_FAILED),
    }
    r
}

/// How a cancelled challenge is recorded (`operations.decided_by`).
const CANCELLED_BY: &str = "cancel";

/// An authentication by its id, or 404.
async fn acs_row(state: &AppState, id: &str) -> ApiResult<AcsRow> {
    let id = trans_id(id)?;
    state
        .store()
        .acs(&id)
        .await?
        .ok_or_else(|| AppError::not_found("authentication"))
}

/// The card's brand, if the authentication found a card.
async fn brand_of(state: &AppState, row: &AcsRow) -> ApiResult<Option<CardRow>> {
    match row.card_id {
        Some(id) => Ok(state.store().card(id).await?),
        None => Ok(None),
    }
}

/// The result of an authentication now (`C` while its challenge waits): what the merchant
/// fetches when the cardholder comes back to its return URL.
#[utoipa::path(get, path = "/api/v1/acs/authentications/{acsTransID}", tag = "acs",
    params(("acsTransID" = String, Path)),
    responses((status = 200, body = AuthenticationResult), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn authentication(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<AuthenticationResult>> {
    let row = acs_row(&state, &id).await?;
    let card = brand_of(&state, &row).await?;
    Ok(Json(result_of(&row, card.map(|c| c.brand), state.now())))
}

/// What the challenge page shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChallengeView {
    /// The authentication's id.
    #[serde(rename = "acsTransID")]
    pub acs_trans_id: String,
    /// As the merchant named itself.
    pub merchant_name: String,
    /// The merchant's site.
    pub merchant_url: String,
    /// Decimal string.
    pub amount: String,
    /// ISO 4217.
    pub currency: String,
    /// `**** 1234`.
    pub card: String,
    /// `visa` | `mastercard`.
    pub brand: String,
    /// Unix seconds.
    pub expires: u64,
    /// `pending` | `approved` | `rejected` | `expired` | `failed` | `cancelled`.
    pub status: String,
    /// The CARD_PAYMENT's op id, for an offline authenticator.
    pub op_id: String,
    /// Its signed payload, for the QR code.
    pub payload: String,
    /// Where the page sends the cardholder back.
    pub return_url: String,
    /// Whether the card has a Key6 (the SMS way needs one).
    pub key6_set: bool,
    /// Whether the Key6 is blocked.
    pub key6_blocked: bool,
}

/// The challenge of an authentication, with its card and operation; 404 if it has none.
async fn challenge_parts(state: &AppState, id: &str) -> ApiResult<(AcsRow, CardRow, OperationRow, Customer)> {
    let row = acs_row(state, id).await?;
    let not_found = || AppError::not_found("challenge");
    let card = brand_of(state, &row).await?.ok_or_else(not_found)?;
    let (Some(op_id), Some(customer_id)) = (row.op_id.clone(), row.customer_id) else {
        return Err(not_found());
    };
    let op = state
        .store()
        .operation(customer_id, &op_id)
        .await?
        .ok_or_else(not_found)?;
    let customer = state.store().customer(customer_id).await?.ok_or_else(not_found)?;
    Ok((row, card, op, customer))
}

/// What the challenge page shows: merchant, amount, masked card, time left, status.
#[utoipa::path(get, path = "/api/v1/acs/challenges/{acsTransID}", tag = "acs",
    params(("acsTransID" = String, Path)),
    responses((status = 200, body = ChallengeView), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn challenge(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<ChallengeView>> {
    let (row, card, op, _) = challenge_parts(&state, &id).await?;
    let now = state.now();
    let status = match op.status_at(now) {
        OperationStatus::Rejected if row.decided_by.as_deref() == Some(CANCELLED_BY) => "cancelled".to_owned(),
        s => s.to_string(),
    };
    Ok(Json(ChallengeView {
        acs_trans_id: row.trans_id,
        merchant_name: row.merchant_name,
        merchant_url: row.merchant_url,
        amount: decimal(row.amount_minor),
        currency: row.currency,
        card: cards::masked(&card.last4),
        brand: card.brand.as_str().to_owned(),
        expires: op.expires_at.max(0) as u64,
        status,
        op_id: op.op_id,
        payload: op.payload,
        return_url: row.return_url,
        key6_set: card.key6_set,
        key6_blocked: card.key6_failures >= i64::from(state.config().max_attempts),
    }))
}

/// The challenge's status as server-sent events (`status` with `{"status"}`), ending at a final
/// status.
#[utoipa::path(get, path = "/api/v1/acs/challenges/{acsTransID}/events", tag = "acs",
    params(("acsTransID" = String, Path)),
    responses((status = 200, content_type = "text/event-stream", description = "events `status` {\"status\"}"),
        (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn challenge_events(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let (_, _, op, _) = challenge_parts(&state, &id).await?;
    Ok(status_stream(&state, op, false))
}

/// The challenge's payload as a QR code (SVG), for an offline authenticator.
#[utoipa::path(get, path = "/api/v1/acs/challenges/{acsTransID}/qr.svg", tag = "acs",
    params(("acsTransID" = String, Path)),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = 404, body = Problem)))]
pub async fn challenge_qr(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let (_, _, op, _) = challenge_parts(&state, &id).await?;
    let svg = sca_qr::render_svg(&op.payload).map_err(AppError::internal)?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

/// A code from an offline authenticator.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeCode {
    /// 6 digits: an OPERATION code (from the QR) or an OPERATION_ID code (from the op id).
    pub code: String,
}

/// Approves the purchase with a code from an offline authenticator (counted as any code).
#[utoipa::path(post, path = "/api/v1/acs/challenges/{acsTransID}/code", tag = "acs", request_body = ChallengeCode,
    params(("acsTransID" = String, Path)),
    responses((status = 200, body = Decision), (status = 400, body = Problem),
        (status = 401, body = Problem, description = "wrong_code + attempts_left"), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 410, body = Problem), (status = 423, body = Problem)))]
pub async fn challenge_code(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body<ChallengeCode>,
) -> ApiResult<Json<Decision>> {
    let code = Code::parse(&body.code).map_err(|e| AppError::bad_request("code", e))?;
    let (_, _, op, customer) = challenge_parts(&state, &id).await?;
    let now = state.now();
    sca::answerable(&op, now)?;
    // Whoever has a card number can open a challenge without logging in: the page must not be
    // able to take the customer's last attempts at the authenticator's codes (and with them the
    // customer's logins and push approvals). It leaves them RESERVED_CODE_ATTEMPTS.
    let max = state.config().max_attempts;
    if state.store().failures(customer.id).await?.code + RESERVED_CODE_ATTEMPTS >= max {
        return Err(AppError::new(
            ErrorKind::Blocked,
            "too many wrong codes: approve in the authenticator, or with the SMS code and the Key6",
        ));
    }
    let operation = sca::stored_operation(&op)?;
    let keys = state.device_keys(customer.id).await?;
    // OPERATION and OPERATION_ID codes only: a TRANSACTION code names no purchase.
    let allowed = sca::Allowed {
        transaction: false,
        ..sca::allowed_for(state.config(), &op)
    };
    match sca::match_code(&keys, &code, Some(&operation), allowed, now, None) {
        Some(m) => {
            sca::approve(&state, &customer, &op, Via::Code(m)).await?;
            Ok(Json(Decision {
                status: OperationStatus::Approved.to_string(),
            }))
        }
        // A wrong code also fails the purchase: each try needs a new one from the merchant.
        None => Err(sca::wrong_answer(
            &state,
            &customer,
            Credential::Code,
            &format!("3-D Secure {}", op.op_id),
            Some(&op),
        )
        .await),
    }
}

/// The attempts at the authenticator's codes that the challenge page leaves to the customer.
const RESERVED_CODE_ATTEMPTS: u32 = 2;

/// An SMS code sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct SmsSent {
    /// The card's 3-D Secure phone, masked.
    pub phone: String,
    /// Unix seconds: the code counts until then.
    pub expires: u64,
}

/// How many SMS codes one challenge may send.
const SMS_PER_CHALLENGE: i64 = 3;

/// Sends a one-time code to the card's 3-D Secure phone (the last one sent counts), naming the
/// amount, the merchant and the card: the second factor with the Key6.
#[utoipa::path(post, path = "/api/v1/acs/challenges/{acsTransID}/sms", tag = "acs",
    params(("acsTransID" = String, Path)),
    responses((status = 200, body = SmsSent), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "conflict: the card has no Key6; not_pending"),
        (status = 423, body = Problem, description = "the Key6 is blocked"),
        (status = 429, body = Problem, description = "too many codes for this challenge or phone")))]
pub async fn challenge_sms(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<SmsSent>> {
    let (row, card, op, customer) = challenge_parts(&state, &id).await?;
    let now = state.now();
    sca::answerable(&op, now)?;
    if !card.key6_set {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "this card has no Key6: set it in Area Clienti, or approve in the authenticator",
        ));
    }
    let max = state.config().max_attempts;
    if card.key6_failures >= i64::from(max) {
        return Err(AppError::blocked());
    }
    let otp = crate::crypto::random::digits(&state.0.rng, 6).map_err(AppError::internal)?;
    let hash = sca::otp_hash(&row.trans_id, &otp);
    let ttl = state
        .config()
        .otp_ttl
        .min((op.expires_at.max(0) as u64).saturating_sub(now));
    let expires = now + ttl;
    let text = crate::texts::purchase_sms(
        &otp,
        &cards::masked(&card.last4),
        &format!("{} {}", decimal(row.amount_minor).replace('.', ","), row.currency),
        &row.merchant_name,
        ttl.div_ceil(60),
    );
    let (phone, trans, user_code) = (
        card.secure_phone.clone(),
        row.trans_id.clone(),
        customer.user_code.clone(),
    );
    let cfg = state.config();
    let (min_interval, per_hour) = (cfg.sms_min_interval, cfg.sms_per_hour);
    let refused = state
        .store()
        .write(move |w| {
            Box::pin(async move {
                let Some(current) = w.acs(&trans).await? else {
                    return Ok(Some((0, "unknown")));
                };
                if current.otp_sends >= SMS_PER_CHALLENGE {
                    return Ok(Some((
                        0,
                        "no more SMS codes for this purchase: approve in the authenticator",
                    )));
                }
                if let Some(wait) = w.sms_allowed(now, &phone, None, min_interval, per_hour).await? {
                    w.audit(now, "sms_otp_held_back", &user_code, "3ds").await?;
                    return Ok(Some((wait, "too many SMS codes to this phone")));
                }
                w.set_acs_otp(&trans, &hash, expires).await?;
                w.outbox(now, &phone, "sms", &text).await?;
                w.audit(now, "sms_otp_sent", &user_code, &format!("3ds {trans}"))
                    .await?;
                Ok(None)
            })
        })
        .await?;
    if let Some((wait, why)) = refused {
        return Err(if wait == 0 {
            AppError::new(ErrorKind::TooManyRequests, why)
        } else {
            AppError::retry_after(format!("{why}: try again in {wait} seconds"), wait)
        });
    }
    state.messages_queued();
    Ok(Json(SmsSent {
        phone: super::cards::masked_phone(&card.secure_phone),
        expires,
    }))
}

/// The SMS code with the Key6.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeOtp {
    /// The 6-digit code received by SMS.
    pub otp: String,
    /// The card's Key6.
    pub key6: String,
}

impl std::fmt::Debug for ChallengeOtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChallengeOtp(******)")
    }
}

/// How one answer of SMS code and Key6 ended.
enum Answered {
    Approved,
    Wrong(u32),
    Blocked,
    NoCode,
    CodeExpired,
    NotPending,
    Expired,
    ShortOfFunds,
    OverLimit,
}

/// Approves the purchase with the SMS code and the Key6. A wrong one of either counts once
/// against the card (`max` in a row block its Key6, with an alert); the check, the count and
/// the approval are one write, so concurrent answers are evaluated at most `max` times.
#[utoipa::path(post, path = "/api/v1/acs/challenges/{acsTransID}/otp", tag = "acs", request_body = ChallengeOtp,
    params(("acsTransID" = String, Path)),
    responses((status = 200, body = Decision), (status = 400, body = Problem),
        (status = 401, body = Problem, description = "wrong_otp + attempts_left: the SMS code or the Key6 is wrong"),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "not_pending; conflict: no SMS code was sent"),
        (status = 410, body = Problem, description = "expired: the purchase or its SMS code"),
        (status = 423, body = Problem, description = "the Key6 is blocked")))]
pub async fn challenge_otp(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body<ChallengeOtp>,
) -> ApiResult<Json<Decision>> {
    let otp = body.otp.trim().to_owned();
    if otp.len() != 6 || !otp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::bad_request("otp", "must be 6 digits"));
    }
    let key6 = zeroize::Zeroizing::new(body.key6.trim().to_owned());
    if key6.len() != 6 || !key6.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::bad_request("key6", "must be 6 digits"));
    }
    let (row, card, op, customer) = challenge_parts(&state, &id).await?;
    let now = state.now();
    let max = state.config().max_attempts;
    let state2 = state.clone();
    let (trans, card_row, card_pub, op_row, op_id) = (
        row.trans_id.clone(),
        card.id,
        card.card_id.clone(),
        op.id,
        op.op_id.clone(),
    );
    let customer_id = customer.id;
    let (user_code, email, masked) = (
        customer.user_code.clone(),
        customer.email.clone(),
        cards::masked(&card.last4),
    );
    let answered = state
        .store()
        .write(move |w| {
            Box::pin(async move {
                let (sealed, failures) = w.key6_of(card_row).await?;
                if failures >= i64::from(max) {
                    w.audit(now, "attempt_while_blocked", &user_code, &format!("key6 {card_pub}"))
                        .await?;
                    return Ok(Answered::Blocked);
                }
                let Some(current) = w.acs(&trans).await? else {
                    return Ok(Answered::NotPending);
                };
                match current.status {
                    Some(OperationStatus::Pending) if now < current.expires_at.unwrap_or(0) as u64 => {}
                    Some(OperationStatus::Pending | OperationStatus::Expired) => return Ok(Answered::Expired),
                    _ => return Ok(Answered::NotPending),
                }
                let (Some(hash), Some(until)) = (current.otp_hash.as_deref(), current.otp_expires) else {
                    return Ok(Answered::NoCode);
                };
                if now >= until as u64 {
                    return Ok(Answered::CodeExpired);
                }
                let otp_ok = sca_protocol::constant_time_eq(hash, &sca::otp_hash(&trans, &otp));
                let key6_ok = sealed
                    .as_deref()
                    .is_some_and(|s| cards::key6_matches(&state2.0.secrets, &card_pub, s, &key6));
                if otp_ok && key6_ok {
                    return Ok(match w.approve_by_card(op_row, now, "card", customer_id).await? {
                        Approval::Approved => {
                            w.spend_acs_otp(&trans).await?;
                            w.reset_key6_failures(card_row).await?;
                            w.audit(
                                now,
                                "operation_approved",
                                &user_code,
                                &format!("{op_id} CARD_PAYMENT by sms+key6"),
                            )
                            .await?;
                            Answered::Approved
                        }
                        short @ (Approval::InsufficientFunds | Approval::OverLimit) => {
                            w.fail_short(op_row, now, short.failed_by(), &user_code, &op_id, short)
                                .await?;
                            if short == Approval::OverLimit {
                                Answered::OverLimit
                            } else {
                                Answered::ShortOfFunds
                            }
                        }
                        Approval::NotApproved => Answered::NotPending,
                    });
                }
                let Some(after) = w.count_key6_failure(now, card_row, max).await? else {
                    return Ok(Answered::Blocked);
                };
                w.audit(
                    now,
                    "key6_wrong",
                    &user_code,
                    &format!("{card_pub} {op_id}: wrong sms code or key6; failures={after}"),
                )
                .await?;
                if after >= max {
                    let alert = crate::texts::key6_blocked(&masked, max);
                    let phone = w.card_phone(card_row).await?;
                    w.outbox(now, &phone, "sms", &alert).await?;
                    w.outbox(now, &email, "email", &alert).await?;
                    w.audit(now, "key6_blocked", &user_code, &card_pub).await?;
                }
                Ok(Answered::Wrong(max.saturating_sub(after)))
            })
        })
        .await?;
    let publish = |status| {
        state.forget_operation(customer.id, &op.op_id);
        state.0.hub.publish(
            customer.id,
            HubEvent::Status {
                op_id: op.op_id.clone(),
                status,
            },
        );
    };
    match answered {
        Answered::Approved => {
            publish(OperationStatus::Approved);
            Ok(Json(Decision {
                status: OperationStatus::Approved.to_string(),
            }))
        }
        Answered::Wrong(left) => {
            state.messages_queued();
            Err(AppError::counted(ErrorKind::WrongOtp, left))
        }
        Answered::Blocked => Err(AppError::blocked()),
        Answered::NoCode => Err(AppError::new(ErrorKind::Conflict, "ask for an SMS code first")),
        Answered::CodeExpired => Err(AppError::new(
            ErrorKind::Expired,
            "the SMS code expired: ask for a new one",
        )),
        Answered::NotPending => Err(AppError::not_pending()),
        Answered::Expired => Err(AppError::expired()),
        Answered::ShortOfFunds => {
            publish(OperationStatus::Failed);
            Err(AppError::new(
                ErrorKind::InsufficientFunds,
                "the account does not hold the amount; the purchase failed",
            ))
        }
        Answered::OverLimit => {
            publish(OperationStatus::Failed);
            Err(AppError::over_limit())
        }
    }
}

/// Cancels the challenge: the purchase is not authenticated (`N`).
#[utoipa::path(post, path = "/api/v1/acs/challenges/{acsTransID}/cancel", tag = "acs",
    params(("acsTransID" = String, Path)),
    responses((status = 200, body = Decision, description = "`cancelled`"), (status = 400, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn challenge_cancel(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Decision>> {
    let (_, _, op, customer) = challenge_parts(&state, &id).await?;
    let now = state.now();
    sca::answerable(&op, now)?;
    let (op_row, op_id, user_code) = (op.id, op.op_id.clone(), customer.user_code.clone());
    let done = state
        .store()
        .write(move |w| {
            Box::pin(async move {
                let done = w
                    .decide_operation(op_row, OperationStatus::Rejected, now, CANCELLED_BY)
                    .await?;
                if done {
                    w.audit(now, "operation_cancelled", &user_code, &op_id).await?;
                }
                Ok(done)
            })
        })
        .await?;
    if !done {
        return Err(AppError::not_pending());
    }
    state.forget_operation(customer.id, &op.op_id);
    state.0.hub.publish(
        customer.id,
        HubEvent::Status {
            op_id: op.op_id.clone(),
            status: OperationStatus::Rejected,
        },
    );
    Ok(Json(Decision {
        status: "cancelled".to_owned(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merchant_urls_are_https_or_loopback_http() {
        assert!(check_url("u", "https://shop.example/pay?x=1").is_ok());
        assert!(check_url("u", "http://127.0.0.1:8080/shop.html").is_ok());
        assert!(check_url("u", "http://localhost/x").is_ok());
        assert!(check_url("u", "http://shop.example/").is_err());
        assert!(check_url("u", "javascript:alert(1)").is_err());
        assert!(check_url("u", "https:///nohost").is_err());
        assert!(check_url("u", "https://a b").is_err());
    }

    #[test]
    fn a_trans_id_is_a_lower_case_uuid() {
        assert!(trans_id("0f8fad5b-d9cb-469f-a165-70867728950e").is_ok());
        assert!(trans_id("0F8FAD5B-D9CB-469F-A165-70867728950E").is_err());
        assert!(trans_id("../etc/passwd").is_err());
    }
}
