//! Sandbox only: the outbox, so a developer (or the demo's simulated phone) can read SMS codes.

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiResult, AppError, Problem};
use crate::state::AppState;

/// Whose messages.
#[derive(Debug, Deserialize, IntoParams)]
pub struct OutboxQuery {
    /// A phone (E.164) or e-mail address.
    pub to: Option<String>,
}

/// One message.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxMessage {
    /// Phone or e-mail.
    pub to: String,
    /// `sms` | `email`.
    pub channel: String,
    /// Text; an OTP appears as 6 digits.
    pub body: String,
    /// Unix seconds.
    pub at: i64,
}

/// Messages sent to `to`, newest first (sandbox mode only).
#[utoipa::path(get, path = "/dev/outbox", tag = "sandbox", params(OutboxQuery),
    responses((status = 200, body = Vec<OutboxMessage>), (status = 400, body = Problem), (status = 404, body = Problem, description = "not in sandbox mode")))]
pub async fn outbox(
    State(state): State<AppState>,
    Query(q): Query<OutboxQuery>,
) -> ApiResult<Json<Vec<OutboxMessage>>> {
    let to =
        q.to.filter(|t| !t.is_empty())
            .ok_or_else(|| AppError::bad_request("to", "missing: a phone or e-mail"))?;
    let to = to.replace(' ', "+");
    let rows = state.store().outbox(&to, 100).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| OutboxMessage {
                to: r.recipient,
                channel: r.channel,
                body: r.body,
                at: r.created_at,
            })
            .collect(),
    ))
}
