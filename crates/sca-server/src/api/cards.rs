//! Cards (issue 14): the branch registers a customer's card; the customer lists them. The PAN
//! goes in once, at registration, and never comes out: every answer names a card `**** 1234`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use sca_protocol::{Amount, Iban};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::banking::decimal;
use super::extract::{Admin, Body, WebSession};
use crate::cards::{self, CardKind, Expiry, Pan};
use crate::error::{ApiResult, AppError, ErrorKind, Problem};
use crate::state::AppState;
use crate::storage::CardRow;

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
}

/// `+39*******567`.
fn masked_phone(phone: &str) -> String {
    let keep = 3.min(phone.len());
    let (head, tail) = phone.split_at(phone.len() - keep);
    let prefix: String = head.chars().take(3).collect();
    format!("{prefix}{}{tail}", "*".repeat(head.chars().count().saturating_sub(3)))
}

impl From<CardRow> for CardView {
    fn from(c: CardRow) -> Self {
        Self {
            card_id: c.card_id,
            masked: cards::masked(&c.last4),
            brand: c.brand.as_str().to_owned(),
            kind: c.kind.as_str().to_owned(),
            expiry: Expiry::from_row(c.expiry_month, c.expiry_year).text(),
            account: c.iban,
            credit_limit: c.limit_minor.map(decimal),
            secure_phone: masked_phone(&c.secure_phone),
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
        kind: card.kind,
        brand: card.brand,
        last4: card.last4,
        expiry_month: i64::from(card.expiry.month),
        expiry_year: i64::from(card.expiry.year),
        limit_minor: card.limit_minor,
        secure_phone: card.secure_phone,
        created_at: now as i64,
    };
    Ok((StatusCode::CREATED, Json(card.into())))
}

/// The customer's cards.
#[utoipa::path(get, path = "/api/v1/cards", tag = "cards",
    responses((status = 200, body = Vec<CardView>), (status = 401, body = Problem), (status = 403, body = Problem, description = "password_change_required: the bank-issued password must be changed first")))]
pub async fn list_cards(State(state): State<AppState>, web: WebSession) -> ApiResult<Json<Vec<CardView>>> {
    let rows = state.store().cards(web.customer.id).await?;
    Ok(Json(rows.into_iter().map(CardView::from).collect()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_phone_shows_its_prefix_and_last_three_digits() {
        assert_eq!(super::masked_phone("+393331234567"), "+39*******567");
    }
}
