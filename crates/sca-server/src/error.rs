//! Every error an HTTP handler can return, and its one mapping to `application/problem+json`
//! (RFC 9457).
//!
//! The client sees a stable snake_case `code`, a `detail` meant for it (naming the field for a
//! 400) and `attempts_left` where an attempt was counted. The cause of a server-side failure goes
//! to the log only. No variant carries a secret: a refused code says *that* it was refused, never
//! which element (user code or password, PIN or device) was wrong.

use std::borrow::Cow;
use std::fmt;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// What went wrong, as far as the client may know. One `match` ([`ErrorKind::status_and_code`])
/// maps each kind to its status and stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Malformed input: the `field` names what.
    BadRequest,
    /// The body is larger than the configured limit.
    PayloadTooLarge,
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// User code/alias or password (or security code) wrong; counted.
    InvalidCredentials,
    /// A 6-digit code did not fit; counted.
    WrongCode,
    /// An SMS OTP did not fit; counted.
    WrongOtp,
    /// A device signature is missing, stale, replayed or does not verify.
    InvalidSignature,
    /// No session, or the request needs an authenticated one.
    Unauthenticated,
    /// The session ended (idle timeout or absolute lifetime).
    SessionExpired,
    /// Authenticated but not allowed (CSRF token, admin token, someone else's resource).
    Forbidden,
    /// The password was issued by the bank: the customer must change it before any banking call.
    PasswordChangeRequired,
    /// Unknown resource or route.
    NotFound,
    /// The route exists with other methods.
    MethodNotAllowed,
    /// The operation (or activation, recovery) is no longer pending.
    NotPending,
    /// A unique value (alias) is taken, or a state conflict.
    Conflict,
    /// The account does not hold the amount.
    InsufficientFunds,
    /// A pagoPA creditor the bank does not know.
    UnknownCreditor,
    /// The pagoPA notice has been paid already.
    NoticePaid,
    /// A pagoPA notice that its creditor did not issue.
    UnknownNotice,
    /// An amount other than the one the pagoPA notice asks for.
    NoticeAmount,
    /// The operation, activation or OTP expired.
    Expired,
    /// The credential is blocked after 5 wrong answers.
    Blocked,
    /// The customer of an acquired bank has moved already: the legacy credentials are over.
    AlreadyMigrated,
    /// The acquired bank's first access is not open (before its opening day, after its closing).
    NotOpen,
    /// The user code belongs to a first access that has not ended.
    FirstAccessUnfinished,
    /// Too many requests, try later.
    TooManyRequests,
    /// The request took longer than the server's limit (`SCA_REQUEST_TIMEOUT`).
    Timeout,
    /// A server-side failure; the cause is logged, never sent.
    Internal,
}

impl ErrorKind {
    /// The one mapping from kinds to HTTP statuses and stable codes.
    pub fn status_and_code(self) -> (StatusCode, &'static str) {
        match self {
            Self::BadRequest => (StatusCode::BAD_REQUEST, "invalid_input"),
            Self::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            Self::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            Self::WrongCode => (StatusCode::UNAUTHORIZED, "wrong_code"),
            Self::WrongOtp => (StatusCode::UNAUTHORIZED, "wrong_otp"),
            Self::InvalidSignature => (StatusCode::UNAUTHORIZED, "invalid_signature"),
            Self::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            Self::SessionExpired => (StatusCode::UNAUTHORIZED, "session_expired"),
            Self::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            Self::PasswordChangeRequired => (StatusCode::FORBIDDEN, "password_change_required"),
            Self::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::NotPending => (StatusCode::CONFLICT, "not_pending"),
            Self::Conflict => (StatusCode::CONFLICT, "conflict"),
            Self::InsufficientFunds => (StatusCode::CONFLICT, "insufficient_funds"),
            Self::UnknownCreditor => (StatusCode::NOT_FOUND, "unknown_creditor"),
            Self::NoticePaid => (StatusCode::CONFLICT, "notice_paid"),
            Self::UnknownNotice => (StatusCode::NOT_FOUND, "unknown_notice"),
            Self::NoticeAmount => (StatusCode::CONFLICT, "notice_amount"),
            Self::Expired => (StatusCode::GONE, "expired"),
            Self::Blocked => (StatusCode::LOCKED, "blocked"),
            Self::AlreadyMigrated => (StatusCode::CONFLICT, "already_migrated"),
            Self::NotOpen => (StatusCode::CONFLICT, "not_open"),
            Self::FirstAccessUnfinished => (StatusCode::FORBIDDEN, "first_access_unfinished"),
            Self::TooManyRequests => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            Self::Timeout => (StatusCode::REQUEST_TIMEOUT, "timeout"),
            Self::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

/// An error on its way to becoming a problem document.
#[derive(Debug)]
pub struct AppError {
    kind: ErrorKind,
    detail: Cow<'static, str>,
    field: Option<String>,
    attempts_left: Option<u32>,
    retry_after: Option<u64>,
    cause: Option<String>,
}

/// The problem document (RFC 9457) every error answers with.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: `code` is the stable identifier.
    #[serde(rename = "type")]
    pub type_: &'static str,
    /// The HTTP reason phrase.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// Stable snake_case identifier of the error.
    pub code: &'static str,
    /// What went wrong, for the client.
    pub detail: String,
    /// The input field at fault (400; also the pagoPA refusals `unknown_creditor`, `unknown_notice`,
    /// `notice_amount`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Attempts left before the credential is blocked, where an attempt was counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
    /// Seconds to wait before trying again (429 only; also the `Retry-After` header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl AppError {
    /// An error of `kind` with a client-facing `detail`.
    pub fn new(kind: ErrorKind, detail: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            field: None,
            attempts_left: None,
            retry_after: None,
            cause: None,
        }
    }

    /// Malformed input in `field`.
    pub fn bad_request(field: impl Into<String>, detail: impl fmt::Display) -> Self {
        let field = field.into();
        let mut e = Self::new(ErrorKind::BadRequest, format!("{field}: {detail}"));
        e.field = Some(field);
        e
    }

    /// A counted failure of `kind` with `attempts_left`.
    pub fn counted(kind: ErrorKind, attempts_left: u32) -> Self {
        let detail = match kind {
            ErrorKind::InvalidCredentials => "the credentials are not valid",
            ErrorKind::WrongCode => "the code is not valid",
            ErrorKind::WrongOtp => "the SMS code is not valid",
            _ => "the answer is not valid",
        };
        let mut e = Self::new(kind, detail);
        e.attempts_left = Some(attempts_left);
        e
    }

    /// The credential is blocked.
    pub fn blocked() -> Self {
        Self::new(
            ErrorKind::Blocked,
            "blocked after too many wrong answers: unblock with the security code and an SMS code, or at the branch",
        )
    }

    /// Unknown `what`.
    pub fn not_found(what: &'static str) -> Self {
        Self::new(ErrorKind::NotFound, format!("{what} not found"))
    }

    /// The operation (or other one-shot thing) is not pending any more.
    pub fn not_pending() -> Self {
        Self::new(ErrorKind::NotPending, "not pending any more")
    }

    /// A credit card purchase its card's monthly limit does not cover, refused by the approval.
    pub fn over_limit() -> Self {
        Self::new(
            ErrorKind::InsufficientFunds,
            "the card's monthly limit does not cover the amount; the purchase failed",
        )
    }

    /// Expired.
    pub fn expired() -> Self {
        Self::new(ErrorKind::Expired, "expired")
    }

    /// A server-side failure: `cause` is logged, the client learns nothing of it.
    pub fn internal(cause: impl fmt::Display) -> Self {
        let mut e = Self::new(ErrorKind::Internal, "internal error");
        e.cause = Some(cause.to_string());
        e
    }

    /// Names the input field at fault.
    pub fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Attempts left, if counted.
    pub fn attempts_left(&self) -> Option<u32> {
        self.attempts_left
    }

    /// The problem document.
    pub fn problem(&self) -> Problem {
        let (status, code) = self.kind.status_and_code();
        Problem {
            type_: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            code,
            detail: self.detail.to_string(),
            field: self.field.clone(),
            attempts_left: self.attempts_left,
            retry_after: self.retry_after,
        }
    }

    /// Too many requests: try again in `seconds` (the `Retry-After` header and `retry_after`).
    pub fn retry_after(detail: impl Into<Cow<'static, str>>, seconds: u64) -> Self {
        let mut e = Self::new(ErrorKind::TooManyRequests, detail);
        e.retry_after = Some(seconds.max(1));
        e
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.status_and_code().1, self.detail)
    }
}

impl std::error::Error for AppError {}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        Self::internal(format!("database: {e}"))
    }
}

impl From<crate::storage::StoreError> for AppError {
    fn from(e: crate::storage::StoreError) -> Self {
        Self::internal(e)
    }
}

impl From<sca_protocol::KeyError> for AppError {
    fn from(e: sca_protocol::KeyError) -> Self {
        Self::internal(format!("crypto: {e}"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let Some(cause) = &self.cause {
            tracing::error!(code = problem.code, %cause, "request failed");
        } else if status.is_server_error() {
            tracing::error!(code = problem.code, detail = %problem.detail, "request failed");
        } else {
            tracing::debug!(code = problem.code, detail = %problem.detail, "request refused");
        }
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = problem.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// What handlers return.
pub type ApiResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_json_is_pinned() {
        let p = AppError::counted(ErrorKind::WrongCode, 3).problem();
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type":"about:blank","title":"Unauthorized","status":401,
                "code":"wrong_code","detail":"the code is not valid","attempts_left":3})
        );
        let p = AppError::bad_request("amount", "must be like 12.50").problem();
        assert_eq!(p.field.as_deref(), Some("amount"));
        assert_eq!(p.detail, "amount: must be like 12.50");
        assert_eq!(p.status, 400);
    }

    #[test]
    fn internal_cause_is_never_sent() {
        let p = AppError::internal("disk on fire at /secret/path").problem();
        assert_eq!(p.detail, "internal error");
        assert_eq!(p.code, "internal");
    }

    #[test]
    fn statuses_follow_the_api_contract() {
        for (kind, status) in [
            (ErrorKind::NotPending, 409),
            (ErrorKind::Expired, 410),
            (ErrorKind::Blocked, 423),
            (ErrorKind::TooManyRequests, 429),
            (ErrorKind::InvalidCredentials, 401),
            (ErrorKind::PasswordChangeRequired, 403),
            (ErrorKind::Timeout, 408),
        ] {
            assert_eq!(kind.status_and_code().0.as_u16(), status);
        }
    }
}
