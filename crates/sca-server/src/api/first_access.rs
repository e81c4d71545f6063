//! The first access of customers of acquired banks (issue 15): what the login page shows of it.
//! The flow itself (legacy credentials, SMS code, new credentials) is still to come.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiResult, Problem};
use crate::state::AppState;

/// An acquired bank as the login page shows its box.
#[derive(Debug, Serialize, ToSchema)]
pub struct FirstAccessBank {
    /// `ubi`.
    pub code: String,
    /// `UBI Banca`: the box reads "Ex clienti UBI Banca — attivazione Internet Banking".
    pub name: String,
    /// Unix seconds: when its customers' first access opens.
    pub opens_at: i64,
    /// Unix seconds, if it closes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closes_at: Option<i64>,
    /// `upcoming` (the box says when it opens) or `open`.
    pub state: String,
}

/// The acquired banks whose customers' first access is open or still to open, in the order they
/// were set up; a closed one is not listed. No session: the login page asks.
#[utoipa::path(get, path = "/api/v1/first-access/banks", tag = "login",
    responses((status = 200, body = Vec<FirstAccessBank>), (status = 500, body = Problem)))]
pub async fn banks(State(state): State<AppState>) -> ApiResult<Json<Vec<FirstAccessBank>>> {
    let now = state.now() as i64;
    Ok(Json(
        state
            .store()
            .acquired_banks()
            .await?
            .into_iter()
            .filter(|b| b.closes_at.is_none_or(|c| now < c))
            .map(|b| FirstAccessBank {
                state: if now < b.opens_at { "upcoming" } else { "open" }.to_owned(),
                code: b.code,
                name: b.name,
                opens_at: b.opens_at,
                closes_at: b.closes_at,
            })
            .collect(),
    ))
}
