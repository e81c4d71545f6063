//! Sandbox only: the outbox, so a developer (or the demo's simulated phone) can read SMS codes;
//! and the clock, moved forward so that a test sees a date come (a bank's opening day).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::Body;
use crate::error::{ApiResult, AppError, ErrorKind, Problem};
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

/// How far to move the sandbox's clock.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveClock {
    /// Seconds forward: 1 to 400 days.
    pub advance: u64,
}

/// The sandbox's time.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClockNow {
    /// Unix seconds, by the server's clock.
    pub now: u64,
}

/// Moves the server's clock forward (sandbox mode only; never back).
#[utoipa::path(post, path = "/dev/clock", tag = "sandbox", request_body = MoveClock,
    responses((status = 200, body = ClockNow), (status = 400, body = Problem), (status = 404, body = Problem, description = "not in sandbox mode"),
        (status = 409, body = Problem, description = "this server's clock does not move")))]
pub async fn move_clock(
    State(state): State<AppState>,
    Body(body): Body<MoveClock>,
) -> ApiResult<(StatusCode, Json<ClockNow>)> {
    if !(1..=400 * 86_400).contains(&body.advance) {
        return Err(AppError::bad_request("advance", "1 to 34560000 seconds (400 days)"));
    }
    if !state.0.clock.move_forward(body.advance) {
        return Err(AppError::new(ErrorKind::Conflict, "this server's clock does not move"));
    }
    tracing::warn!(advance = body.advance, "sandbox clock moved forward");
    Ok((StatusCode::OK, Json(ClockNow { now: state.now() })))
}
