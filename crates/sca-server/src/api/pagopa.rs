//! Paying a pagoPA notice (docs/api.md §13): the creditor's name for a fiscal code, and a
//! PAGOPA operation that pays the notice once approved with SCA — its signed payload carries the
//! amount, the creditor's name and fiscal code, and the notice code (dynamic linking).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use sca_protocol::{FieldKey, Kind, OperationData};
use sca_qr::bill::{parse_creditor_fiscal_code, parse_notice_code};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::banking::{OperationCreated, paying_account};
use super::extract::{Body, WebSession};
use crate::error::{ApiResult, AppError, ErrorKind, Problem};
use crate::sca::{self, Beside};
use crate::state::AppState;
use crate::storage::CreditorRow;
use crate::storage::writer::Booking;

/// A creditor of pagoPA notices.
#[derive(Debug, Serialize, ToSchema)]
pub struct Creditor {
    /// Its fiscal code, 11 digits.
    pub fiscal_code: String,
    /// Its name.
    pub name: String,
}

/// A pagoPA notice to pay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PagoPaRequest {
    /// The notice code ("codice avviso"), 18 digits, the first (the aux digit) 0–3; spaces are
    /// ignored, as printed on the notice in groups.
    pub notice_code: String,
    /// The creditor's fiscal code, 11 digits with its check digit.
    pub creditor_fiscal_code: String,
    /// Decimal string with two fraction digits: `"12.50"`.
    pub amount: String,
    /// `EUR`.
    pub currency: String,
}

fn without_spaces(text: &str) -> String {
    text.chars().filter(|c| *c != ' ').collect()
}

/// A known creditor by its fiscal code (`field`: the name the error gives the input).
async fn creditor(state: &AppState, text: &str, field: &str) -> ApiResult<CreditorRow> {
    let code = parse_creditor_fiscal_code(text.trim()).map_err(|e| AppError::bad_request(field, e))?;
    state.store().pagopa_creditor(&code).await?.ok_or_else(|| {
        AppError::new(
            ErrorKind::UnknownCreditor,
            "the bank pays no pagoPA creditor with this fiscal code",
        )
        .with_field(field)
    })
}

/// The creditor of a fiscal code, for the page to name it before the customer confirms.
#[utoipa::path(get, path = "/api/v1/pagopa/creditors/{fiscal_code}", tag = "banking",
    params(("fiscal_code" = String, Path, description = "11 digits")),
    responses((status = 200, body = Creditor), (status = 400, body = Problem),
        (status = 404, body = Problem, description = "unknown_creditor")))]
pub async fn get_creditor(
    State(state): State<AppState>,
    _web: WebSession,
    Path(fiscal_code): Path<String>,
) -> ApiResult<Json<Creditor>> {
    let c = creditor(&state, &fiscal_code, "fiscal_code").await?;
    Ok(Json(Creditor {
        fiscal_code: c.fiscal_code,
        name: c.name,
    }))
}

/// Pays a pagoPA notice: a PAGOPA operation, pending, pushed to the customer's devices; once
/// approved it debits the account once and the notice is paid (by nobody again).
#[utoipa::path(post, path = "/api/v1/pagopa/payments", tag = "banking", request_body = PagoPaRequest,
    params(("x-csrf-token" = String, Header)),
    responses((status = 201, body = OperationCreated), (status = 400, body = Problem),
        (status = 403, body = Problem, description = "password_change_required: the bank-issued password must be changed first"),
        (status = 404, body = Problem, description = "unknown_creditor / unknown_notice"),
        (status = 409, body = Problem, description = "notice_paid / notice_amount (the notice asks for another amount) / insufficient_funds")))]
pub async fn pay_notice(
    State(state): State<AppState>,
    web: WebSession,
    Body(body): Body<PagoPaRequest>,
) -> ApiResult<(StatusCode, Json<OperationCreated>)> {
    let notice =
        parse_notice_code(&without_spaces(&body.notice_code)).map_err(|e| AppError::bad_request("notice_code", e))?;
    let creditor = creditor(&state, &body.creditor_fiscal_code, "creditor_fiscal_code").await?;
    if body.currency.trim() != "EUR" {
        return Err(AppError::bad_request("currency", "pagoPA notices are paid in EUR"));
    }
    let (account, amount, minor) = paying_account(&state, &web.customer, &body.amount, &body.currency).await?;
    // Said early, for a clear answer; the approval is what refuses to pay a notice twice.
    if state.store().pagopa_notice_paid(&creditor.fiscal_code, &notice).await? {
        return Err(AppError::new(
            ErrorKind::NoticePaid,
            "this pagoPA notice has been paid already",
        ));
    }
    // The amount is the notice's: what its creditor asks for, not what was typed.
    let (creditor_code, notice_code, sandbox, now) = (
        creditor.fiscal_code.clone(),
        notice.clone(),
        state.config().sandbox,
        state.now(),
    );
    let due = state
        .store()
        .write(move |w| {
            Box::pin(async move {
                w.pagopa_notice_amount(&creditor_code, &notice_code, minor, sandbox, now)
                    .await
            })
        })
        .await?;
    match due {
        None => {
            return Err(AppError::new(
                ErrorKind::UnknownNotice,
                "the creditor has issued no notice with this code",
            )
            .with_field("notice_code"));
        }
        Some(due) if due != minor => {
            return Err(AppError::new(
                ErrorKind::NoticeAmount,
                format!("the notice asks for {} EUR", super::banking::decimal(due)),
            )
            .with_field("amount"));
        }
        Some(_) => {}
    }
    let mut data = OperationData::default();
    for (key, value, field) in [
        (FieldKey::Amount, amount.to_string(), "amount"),
        (FieldKey::PayeeName, creditor.name.clone(), "creditor_fiscal_code"),
        (
            FieldKey::CreditorFiscalCode,
            creditor.fiscal_code.clone(),
            "creditor_fiscal_code",
        ),
        (FieldKey::NoticeCode, notice.clone(), "notice_code"),
    ] {
        data.set(key, &value).map_err(|e| AppError::bad_request(field, e))?;
    }
    let booking = Booking {
        account_id: account.id,
        amount_minor: minor,
        payee_iban: creditor.iban.clone(),
        payee_name: creditor.name.clone(),
        description: format!("pagoPA {notice}"),
    };
    let (created, _) = sca::create_operation_with(
        &state,
        &web.customer,
        Kind::PagoPa,
        data,
        None,
        Some((booking, account.currency.clone())),
        Beside::PagoPa {
            creditor_fiscal_code: creditor.fiscal_code,
            notice_code: notice,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// The creditors a sandbox pays (real public bodies' fiscal codes; made-up IBANs), put at start.
pub const SANDBOX_CREDITORS: [(&str, &str, &str); 5] = [
    ("80078750587", "INPS", "IT53X0100003245348300001234"),
    ("01199250158", "Comune di Milano", "IT54X0100003245348300005678"),
    ("02438750586", "Roma Capitale", "IT52X0100003245348300009012"),
    (
        "13756881002",
        "Agenzia delle Entrate-Riscossione",
        "IT05X0100003245348300003456",
    ),
    ("00514490010", "Città di Torino", "IT82X0100003245348300007890"),
];

/// Puts the sandbox's creditors (idempotent).
pub async fn seed_sandbox_creditors(state: &AppState) -> ApiResult<()> {
    state
        .store()
        .write(|w| {
            Box::pin(async move {
                for (fiscal_code, name, iban) in SANDBOX_CREDITORS {
                    w.put_pagopa_creditor(&CreditorRow {
                        fiscal_code: fiscal_code.to_owned(),
                        name: name.to_owned(),
                        iban: iban.to_owned(),
                    })
                    .await?;
                }
                Ok(())
            })
        })
        .await?;
    Ok(())
}
