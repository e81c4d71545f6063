//! Cards (issue 14): the branch registers a customer's card; the customer lists them. The PAN
//! goes in once, at registration, and never comes out: every answer names a card `**** 1234`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use sca_protocol::{Amount, Iban};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::banking::{OperationCreated, decimal};
use super::extract::{Admin, Body, WebSession};
use crate::cards::{self, CardKind, Expiry, Key6, Pan};
use crate::error::{ApiResult, AppError, ErrorKind, Problem};
use crate::sca::{self, Beside};
use crate::state::AppState;
use crate::storage::{CardAction, CardRow, Customer, Reveal};

/// A card the bank has made for a customer.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueCard {
    /// The card number: 13–19 digits (spaces allowed), Visa or Mastercard. Stored only as a
    /// keyed digest and its last four digits.
    pub pan: String,
    /// `MM/YY`, as printed; not in the past.
    pub expiry: String,
    /// `debit` | `credit` | `prepaid`.
    pub kind: String,
    /// IBAN of the customer's account the card charges.
    pub account: String,
    /// The phone that receives 3-D Secure SMS codes, E.164; the certified phone if absent.
    #[serde(default)]
    pub secure_phone: Option<String>,
    /// Credit cards only, required for them: the monthly limit, a decimal in the account's
    /// currency (`1500.00`).
    #[serde(default)]
    pub credit_limit: Option<String>,
}

impl std::fmt::Debug for IssueCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssueCard")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// A card as shown: never its number.
#[derive(Debug, Serialize, ToSchema)]
pub struct CardView {
    /// Public id.
    pub card_id: String,
    /// `**** 1234`.
    pub masked: String,
    /// `visa` | `mastercard`.
    pub brand: String,
    /// `debit` | `credit` | `prepaid`.
    pub kind: String,
    /// `MM/YY`.
    pub expiry: String,
    /// IBAN of the account it charges.
    pub account: String,
    /// Credit cards: the monthly limit (decimal string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_limit: Option<String>,
    /// The phone that receives 3-D Secure SMS codes, all but its last 3 digits hidden.
    pub secure_phone: String,
    /// The 3-D Secure Key6: `unset` | `set` | `blocked`.
    pub key6: String,
    /// What the card can spend now (decimal string): a credit card's limit less this calendar
    /// month's purchases (UTC), the account's balance for the others.
    pub available: String,
}

/// A card's 3-D Secure phone as shown: `+39*******567`.
pub(crate) fn masked_phone(phone: &str) -> String {
    crate::customers::masked_phone(phone, 3)
}

impl CardView {
    /// As shown; `max` wrong answers block a Key6; a credit card has `spent` this month.
    pub(crate) fn of(c: CardRow, max: u32, spent: i64) -> Self {
        let key6 = key6_state(&c, max).to_owned();
        let available = decimal(match c.limit_minor {
            Some(limit) => (limit - spent).max(0),
            None => c.balance_minor,
        });
        Self {
            card_id: c.card_id,
            masked: cards::masked(&c.last4),
            brand: c.brand.as_str().to_owned(),
            kind: c.kind.as_str().to_owned(),
            expiry: Expiry::from_row(c.expiry_month, c.expiry_year).text(),
            account: c.iban,
            credit_limit: c.limit_minor.map(decimal),
            secure_phone: masked_phone(&c.secure_phone),
            key6,
            available,
        }
    }
}

/// Registers a card the bank has made for a customer, on one of the customer's accounts.
#[utoipa::path(post, path = "/api/v1/admin/customers/{user_code}/cards", tag = "branch",
    request_body = IssueCard,
    params(("user_code" = String, Path, description = "8-digit user code")),
    security(("branch" = [])),
    responses((status = 201, body = CardView), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "the PAN is already a card's")))]
pub async fn issue_card(
    State(state): State<AppState>,
    _admin: Admin,
    Path(user_code): Path<String>,
    Body(body): Body<IssueCard>,
) -> ApiResult<(StatusCode, Json<CardView>)> {
    let code = sca_protocol::UserCode::parse(&user_code).map_err(|e| AppError::bad_request("user_code", e))?;
    let pan = Pan::parse(&body.pan).map_err(|e| AppError::bad_request("pan", e))?;
    let now = state.now();
    let expiry = Expiry::parse(&body.expiry, now).map_err(|e| AppError::bad_request("expiry", e))?;
    let kind = CardKind::parse(body.kind.trim())
        .ok_or_else(|| AppError::bad_request("kind", "must be debit, credit or prepaid"))?;
    let iban = Iban::parse_typed(&body.account).map_err(|e| AppError::bad_request("account", e))?;
    let customer = state
        .store()
        .customer_by_user(code.as_str())
        .await?
        .ok_or_else(|| AppError::not_found("customer"))?;
    let account = state
        .store()
        .accounts(customer.id)
        .await?
        .into_iter()
        .find(|a| a.iban == iban.as_str())
        .ok_or_else(|| AppError::bad_request("account", "is not an account of this customer"))?;
    let limit_minor = match (kind, body.credit_limit.as_deref()) {
        (CardKind::Credit, Some(limit)) => {
            let amount = Amount::from_decimal(limit.trim(), &account.currency)
                .map_err(|e| AppError::bad_request("credit_limit", e))?;
            if amount.minor_units() == 0 {
                return Err(AppError::bad_request("credit_limit", "must be more than 0.00"));
            }
            Some(i64::try_from(amount.minor_units()).map_err(|_| AppError::bad_request("credit_limit", "too large"))?)
        }
        (CardKind::Credit, None) => return Err(AppError::bad_request("credit_limit", "a credit card needs one")),
        (_, Some(_)) => return Err(AppError::bad_request("credit_limit", "only a credit card has one")),
        (_, None) => None,
    };
    let secure_phone = cards::check_secure_phone(body.secure_phone.as_deref(), &customer.phone)?;
    let card = cards::new_card(&state, &pan, kind, expiry, limit_minor, &secure_phone)?;
    let (cid, account_id, user_code) = (customer.id, account.id, customer.user_code.clone());
    let issued = card.clone();
    let id = state
        .store()
        .write(move |w| {
            Box::pin(async move {
                let id = w.insert_card(now, cid, account_id, &issued).await?;
                if id.is_some() {
                    let what = format!("{} {} {}", issued.card_id, kind.as_str(), cards::masked(&issued.last4));
                    w.audit(now, "card_issued", &user_code, &what).await?;
                }
                Ok(id)
            })
        })
        .await?
        .ok_or_else(|| AppError::new(ErrorKind::Conflict, "this card number is already registered"))?;
    let card = CardRow {
        id,
        card_id: card.card_id,
        customer_id: cid,
        account_id,
        iban: account.iban,
        balance_minor: account.balance_minor,
        kind: card.kind,
        brand: card.brand,
        last4: card.last4,
        expiry_month: i64::from(card.expiry.month),
        expiry_year: i64::from(card.expiry.year),
        limit_minor: card.limit_minor,
        secure_phone: card.secure_phone,
        created_at: now as i64,
        key6_set: false,
        key6_failures: 0,
    };
    Ok((
        StatusCode::CREATED,
        Json(CardView::of(card, state.config().max_attempts, 0)),
    ))
}

/// The customer's cards.
#[utoipa::path(get, path = "/api/v1/cards", tag = "cards",
    responses((status = 200, body = Vec<CardView>), (status = 401, body = Problem), (status = 403, body = Problem, description = "password_change_required: the bank-issued password must be changed first")))]
pub async fn list_cards(State(state): State<AppState>, web: WebSession) -> ApiResult<Json<Vec<CardView>>> {
    let rows = state.store().cards(web.customer.id).await?;
    let max = state.config().max_attempts;
    let month = cards::month_start(state.now());
    let mut views = Vec::with_capacity(rows.len());
    for c in rows {
        let spent = match c.kind {
            CardKind::Credit => state.store().card_spent_since(c.id, month).await?,
            _ => 0,
        };
        views.push(CardView::of(c, max, spent));
    }
    Ok(Json(views))
}

/// The card's purchases, newest first (at most 100): what its approved 3-D Secure payments
/// booked on its account.
#[utoipa::path(get, path = "/api/v1/cards/{card_id}/movements", tag = "cards", params(("card_id" = String, Path)),
    responses((status = 200, body = Vec<super::banking::MovementView>), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 403, body = Problem, description = "password_change_required: the bank-issued password must be changed first")))]
pub async fn card_movements(
    State(state): State<AppState>,
    web: WebSession,
    Path(card_id): Path<String>,
) -> ApiResult<Json<Vec<super::banking::MovementView>>> {
    let card = own_card(&state, &web.customer, &card_id).await?;
    let rows = state.store().card_movements(card.id, 100).await?;
    Ok(Json(
        rows.into_iter()
            .map(|m| super::banking::MovementView {
                at: m.at,
                amount: decimal(m.amount_minor),
                counterparty: m.counterparty,
                description: m.description,
            })
            .collect(),
    ))
}

/// `unset`, `set` or `blocked`.
pub(crate) fn key6_state(c: &CardRow, max: u32) -> &'static str {
    if !c.key6_set {
        "unset"
    } else if c.key6_failures >= i64::from(max) {
        "blocked"
    } else {
        "set"
    }
}

/// A card of the signed-in customer.
async fn own_card(state: &AppState, customer: &Customer, card_id: &str) -> ApiResult<CardRow> {
    state
        .store()
        .customer_card(customer.id, card_id)
        .await?
        .ok_or_else(|| AppError::not_found("card"))
}

/// What a card operation does once approved (`card_requests`).
struct CardRequest {
    action: CardAction,
    key6: Option<Vec<u8>>,
    phone: Option<String>,
    alert: Option<String>,
}

impl CardRequest {
    fn new(action: CardAction) -> Self {
        Self {
            action,
            key6: None,
            phone: None,
            alert: None,
        }
    }
}

/// Creates the GENERIC operation that authorizes `action` on `card` (fields `C`, the masked
/// card, and `D`, what it does), with the request it carries out once approved.
async fn card_operation(
    state: &AppState,
    customer: &Customer,
    card: &CardRow,
    what: &str,
    request: CardRequest,
) -> ApiResult<(StatusCode, Json<OperationCreated>)> {
    let mut data = sca_protocol::OperationData::default();
    data.set(sca_protocol::FieldKey::Card, &format!("****{}", card.last4))
        .map_err(AppError::internal)?;
    data.set(sca_protocol::FieldKey::Description, what)
        .map_err(AppError::internal)?;
    let beside = Beside::CardRequest {
        card_row: card.id,
        action: request.action,
        key6: request.key6,
        phone: request.phone,
        alert: request.alert,
    };
    let (created, _) =
        sca::create_operation_with(state, customer, sca_protocol::Kind::Generic, data, None, None, beside).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// A new Key6.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetKey6 {
    /// 6 digits, not all the same, not a run up or down.
    pub key6: String,
}

impl std::fmt::Debug for SetKey6 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SetKey6(******)")
    }
}

/// Sets the card's Key6, or changes it: an operation to authorize with SCA, carried out when
/// approved (the Key6 is sealed at once and kept only so).
#[utoipa::path(put, path = "/api/v1/cards/{card_id}/key6", tag = "cards", request_body = SetKey6,
    params(("card_id" = String, Path), ("x-csrf-token" = String, Header)),
    responses((status = 201, body = OperationCreated), (status = 400, body = Problem, description = "invalid_input, field key6: a weak or malformed Key6"),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn set_key6(
    State(state): State<AppState>,
    web: WebSession,
    Path(card_id): Path<String>,
    Body(body): Body<SetKey6>,
) -> ApiResult<(StatusCode, Json<OperationCreated>)> {
    let card = own_card(&state, &web.customer, &card_id).await?;
    let key6 = Key6::parse(&body.key6).map_err(|e| AppError::bad_request("key6", e))?;
    let sealed = cards::seal_key6(&state, &card.card_id, &key6)?;
    let what = if card.key6_set {
        crate::texts::KEY6_CHANGE
    } else {
        crate::texts::KEY6_SET
    };
    card_operation(
        &state,
        &web.customer,
        &card,
        what,
        CardRequest {
            key6: Some(sealed),
            alert: Some(crate::texts::key6_changed(&cards::masked(&card.last4))),
            ..CardRequest::new(CardAction::Key6Set)
        },
    )
    .await
}

/// Asks to see the card's Key6: once approved, `reveal` shows it once, within 30 s.
#[utoipa::path(post, path = "/api/v1/cards/{card_id}/key6/show", tag = "cards",
    params(("card_id" = String, Path), ("x-csrf-token" = String, Header)),
    responses((status = 201, body = OperationCreated), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "conflict: no Key6 is set")))]
pub async fn show_key6(
    State(state): State<AppState>,
    web: WebSession,
    Path(card_id): Path<String>,
) -> ApiResult<(StatusCode, Json<OperationCreated>)> {
    let card = own_card(&state, &web.customer, &card_id).await?;
    if !card.key6_set {
        return Err(AppError::new(ErrorKind::Conflict, "this card has no Key6 yet"));
    }
    card_operation(
        &state,
        &web.customer,
        &card,
        crate::texts::KEY6_SHOW,
        CardRequest::new(CardAction::Key6Show),
    )
    .await
}

/// Unblocks the card's Key6 (its wrong answers forgiven) once approved.
#[utoipa::path(post, path = "/api/v1/cards/{card_id}/key6/unblock", tag = "cards",
    params(("card_id" = String, Path), ("x-csrf-token" = String, Header)),
    responses((status = 201, body = OperationCreated), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "conflict: the Key6 is not blocked")))]
pub async fn unblock_key6(
    State(state): State<AppState>,
    web: WebSession,
    Path(card_id): Path<String>,
) -> ApiResult<(StatusCode, Json<OperationCreated>)> {
    let card = own_card(&state, &web.customer, &card_id).await?;
    if key6_state(&card, state.config().max_attempts) != "blocked" {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "the Key6 of this card is not blocked",
        ));
    }
    card_operation(
        &state,
        &web.customer,
        &card,
        crate::texts::KEY6_UNBLOCK,
        CardRequest::new(CardAction::Key6Unblock),
    )
    .await
}

/// A new 3-D Secure phone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetSecurePhone {
    /// E.164, like `+393331234567`.
    pub phone: String,
}

/// Changes the phone that receives the card's 3-D Secure SMS codes, once approved.
#[utoipa::path(put, path = "/api/v1/cards/{card_id}/secure-phone", tag = "cards", request_body = SetSecurePhone,
    params(("card_id" = String, Path), ("x-csrf-token" = String, Header)),
    responses((status = 201, body = OperationCreated), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
pub async fn set_secure_phone(
    State(state): State<AppState>,
    web: WebSession,
    Path(card_id): Path<String>,
    Body(body): Body<SetSecurePhone>,
) -> ApiResult<(StatusCode, Json<OperationCreated>)> {
    let card = own_card(&state, &web.customer, &card_id).await?;
    let phone = crate::customers::check_phone(&body.phone)
        .map_err(|_| AppError::bad_request("phone", "must be in E.164 form, like +393331234567"))?;
    // The whole number: the customer's own authenticator shows what is approved.
    let what = format!("{} {phone}", crate::texts::SECURE_PHONE);
    let alert = crate::texts::secure_phone_changed(&cards::masked(&card.last4), &masked_phone(&phone));
    card_operation(
        &state,
        &web.customer,
        &card,
        &what,
        CardRequest {
            phone: Some(phone),
            alert: Some(alert),
            ..CardRequest::new(CardAction::SecurePhone)
        },
    )
    .await
}

/// The approved `show` operation whose Key6 to reveal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealKey6 {
    /// The op id of the approved `show` operation.
    pub op_id: String,
}

/// The Key6, revealed.
#[derive(Serialize, ToSchema)]
pub struct Key6Shown {
    /// The 6 digits.
    pub key6: String,
    /// Unix seconds: the page hides it then (30 s at most after the approval).
    pub visible_until: u64,
}

impl std::fmt::Debug for Key6Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key6Shown(******)")
    }
}

/// How long after its approval a `show` operation may reveal the Key6, and the page keep it.
pub(crate) const KEY6_VISIBLE_SECS: u64 = 30;

/// Shows the card's Key6 for an approved `show` operation: once, within 30 s of the approval.
#[utoipa::path(post, path = "/api/v1/cards/{card_id}/key6/reveal", tag = "cards", request_body = RevealKey6,
    params(("card_id" = String, Path), ("x-csrf-token" = String, Header)),
    responses((status = 200, body = Key6Shown), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "not_pending: not approved, or already shown"),
        (status = 410, body = Problem, description = "expired: approved more than 30 s ago")))]
pub async fn reveal_key6(
    State(state): State<AppState>,
    web: WebSession,
    Path(card_id): Path<String>,
    Body(body): Body<RevealKey6>,
) -> ApiResult<Json<Key6Shown>> {
    let card = own_card(&state, &web.customer, &card_id).await?;
    let op = super::banking::own_operation(&state, &web.customer, &body.op_id).await?;
    let now = state.now();
    let (card_row, op_row, user_code) = (card.id, op.id, web.customer.user_code.clone());
    let what = format!("{} {}", op.op_id, card.card_id);
    let revealed = state
        .store()
        .write(move |w| {
            Box::pin(async move {
                let r = w.reveal_key6(now, card_row, op_row, KEY6_VISIBLE_SECS).await?;
                if r.is_ok() {
                    w.audit(now, "key6_shown", &user_code, &what).await?;
                }
                Ok(r)
            })
        })
        .await?;
    let (sealed, approved_at) = match revealed {
        Ok(found) => found,
        Err(Reveal::Shown) => return Err(AppError::new(ErrorKind::NotPending, "this Key6 was already shown")),
        Err(Reveal::TooLate) => return Err(AppError::expired()),
        Err(Reveal::NotApproved) => return Err(AppError::not_pending()),
    };
    let key6 = cards::open_key6(&state.0.secrets, &card.card_id, &sealed).map_err(AppError::internal)?;
    Ok(Json(Key6Shown {
        key6: String::from_utf8_lossy(&key6).into_owned(),
        // 30 seconds from the approval, as the rule says, not from this request.
        visible_until: u64::try_from(approved_at).unwrap_or(now) + KEY6_VISIBLE_SECS,
    }))
}

/// Unblocks a card's Key6 at the branch (its wrong answers forgiven).
#[utoipa::path(post, path = "/api/v1/admin/customers/{user_code}/cards/{card_id}/key6/unblock", tag = "branch",
    params(("user_code" = String, Path, description = "8-digit user code"), ("card_id" = String, Path)),
    security(("branch" = [])),
    responses((status = 204), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "the Key6 is not blocked")))]
pub async fn branch_unblock_key6(
    State(state): State<AppState>,
    _admin: Admin,
    Path((user_code, card_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let code = sca_protocol::UserCode::parse(&user_code).map_err(|e| AppError::bad_request("user_code", e))?;
    let customer = state
        .store()
        .customer_by_user(code.as_str())
        .await?
        .ok_or_else(|| AppError::not_found("customer"))?;
    let card = own_card(&state, &customer, &card_id).await?;
    let (now, row, user_code, card_pub) = (state.now(), card.id, customer.user_code.clone(), card.card_id.clone());
    let done = state
        .store()
        .write(move |w| {
            Box::pin(async move {
                let done = w.unblock_key6(row).await?;
                if done {
                    w.audit(now, "key6_unblocked", &user_code, &format!("{card_pub} by branch"))
                        .await?;
                }
                Ok(done)
            })
        })
        .await?;
    if !done {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "the Key6 of this card has no wrong answers to forgive",
        ));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_phone_shows_its_prefix_and_last_three_digits() {
        assert_eq!(super::masked_phone("+393331234567"), "+39*******567");
    }
}
