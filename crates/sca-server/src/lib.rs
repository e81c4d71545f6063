//! # sca-server — the bank side of Sigillo
//!
//! Customers and credentials, login with SCA, operations with dynamic linking, device activation
//! and push, lockout and recovery, the messages outbox and the hash-chained audit log, over the
//! HTTP contract of `docs/api.md`, implementing docs/spec/sca1.md §8 with `sca_protocol` for every protocol
//! computation.
//!
//! [`app`] builds the router from an [`AppState`]; `main.rs` only loads the configuration and
//! binds. Module map: [`api`] (handlers, one file per resource), [`sca`] (the SCA rules),
//! [`storage`] (all SQL; the group-commit writer), [`state`] (sessions, push hub, caches),
//! [`crypto`] (keys at rest, argon2id), [`messages`] (gateway + outbox), [`audit`] (the chain),
//! [`error`] (problem+json), [`clock`], [`config`].
#![forbid(unsafe_code)]

pub mod api;
pub mod audit;
pub mod cards;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod customers;
pub mod error;
pub mod legacy;
pub mod messages;
pub mod push;
pub(crate) mod sca;
pub mod sessions;
pub mod state;
pub mod storage;
pub(crate) mod texts;
pub mod tls;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Request, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use clock::{Clock, ManualClock, ShiftedClock, SystemClock};
pub use config::{Config, MessagesConfig};
pub use customers::{DemoCredentials, seed_demo};
pub use error::{AppError, ErrorKind};
pub use state::{AppState, StartError};

use crate::error::AppError as Error;

/// Serves the request with its session cookie known to the code below (`sca::current_session`):
/// an answer that blocks a credential ends the customer's *other* sessions.
async fn session_scope(req: Request<Body>, next: Next) -> Response {
    let cookie = api::extract::session_cookie(req.headers()).map(str::to_owned);
    sca::SESSION_COOKIE.scope(cookie, next.run(req)).await
}

/// Turns any error answer that is not already a problem document (axum's own rejections: unknown
/// route, wrong method, bad path or query, timeouts) into one, so that every error a client sees
/// has the same shape.
async fn problem_for_everything(req: Request<Body>, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if is_problem {
        return response;
    }
    let kind = match status {
        StatusCode::NOT_FOUND => ErrorKind::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorKind::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorKind::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorKind::UnsupportedMediaType,
        StatusCode::REQUEST_TIMEOUT => ErrorKind::Timeout,
        s if s.is_client_error() => ErrorKind::BadRequest,
        _ => ErrorKind::Internal,
    };
    let detail = match kind {
        ErrorKind::NotFound => "no such resource",
        ErrorKind::MethodNotAllowed => "method not allowed here",
        ErrorKind::PayloadTooLarge => "body: too large",
        ErrorKind::Timeout => "the request took too long",
        ErrorKind::BadRequest => "path or query: malformed",
        _ => "internal error",
    };
    let mut e = Error::new(kind, detail);
    if kind == ErrorKind::BadRequest {
        e = e.with_field("path");
    }
    e.into_response()
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let cfg = state.config().clone();
    let timed = api::routes(cfg.sandbox).layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        cfg.request_timeout,
    ));
    let security_headers = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; img-src 'self'; frame-ancestors 'none'",
        ),
        (HeaderName::from_static("cross-origin-resource-policy"), "same-origin"),
    ];
    let mut router = timed
        .merge(api::stream_routes())
        .fallback(api::pages::page)
        .layer(middleware::from_fn(session_scope))
        .layer(middleware::from_fn(problem_for_everything))
        .layer(DefaultBodyLimit::max(cfg.body_limit));
    for (name, value) in security_headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    if cfg.cookie_secure {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ));
    }
    router.layer(TraceLayer::new_for_http()).with_state(state)
}

/// Serves `app` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
