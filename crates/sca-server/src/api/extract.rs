//! Extractors: JSON bodies that name the faulty field, web sessions with CSRF, the branch's
//! bearer token, and device-signed requests (docs/spec/sca1.md §9 `authorization: SCA1-Device …`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Request};
use axum::http::request::Parts;
use axum::http::{Method, header};
use serde::de::DeserializeOwned;

use sca_protocol::{DeviceAuthorization, PublicKey, constant_time_eq, request_message, sha256};

use crate::error::{AppError, ErrorKind};
use crate::sessions::Session;
use crate::state::AppState;
use crate::storage::{Customer, DeviceRow};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "sca_session";
/// The CSRF header.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Parses a JSON body into `T`; a failure names the field (`code`, `amount`, `body`…).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        let field = if path != "." && !path.contains('?') {
            path
        } else if let Some(name) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            name.to_owned()
        } else if let Some(name) = message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split('`').next())
        {
            name.to_owned()
        } else {
            "body".to_owned()
        };
        // serde's message already says what was expected; drop its " at line 1 column 9".
        let detail = message.split(" at line ").next().unwrap_or(&message);
        AppError::bad_request(field, without_the_value(detail))
    })?;
    de.end()
        .map_err(|_| AppError::bad_request("body", "trailing characters after the JSON value"))?;
    Ok(value)
}

/// serde quotes the value it refused (``invalid type: integer `4111…`, expected a string``): a
/// password or a card number sent as a number would come back in the answer and in the log.
/// The value goes; what was expected stays.
fn without_the_value(detail: &str) -> String {
    if !(detail.starts_with("invalid type: ") || detail.starts_with("invalid value: ")) {
        return detail.to_owned();
    }
    match (detail.find('`'), detail.rfind('`')) {
        (Some(open), Some(close)) if close > open => {
            format!("{}{}", detail[..open].trim_end(), &detail[close + 1..])
        }
        _ => detail.to_owned(),
    }
}

async fn body_bytes<S: Send + Sync>(req: Request, state: &S, limit: usize) -> Result<Bytes, AppError> {
    let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            let mut e = AppError::new(ErrorKind::PayloadTooLarge, format!("body: larger than {limit} bytes"));
            e = e.with_field("body");
            e
        } else {
            AppError::bad_request("body", "could not be read")
        }
    })?;
    if bytes.len() > limit {
        return Err(
            AppError::new(ErrorKind::PayloadTooLarge, format!("body: larger than {limit} bytes")).with_field("body"),
        );
    }
    Ok(bytes)
}

/// The client's IP address: the TCP peer's, when the server runs with it (`serve`); `None` when
/// the router is embedded without it.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// A JSON request body.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Body<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AppError> {
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
            let essence = ct.split(';').next().unwrap_or("").trim();
            if essence != "application/json" && !essence.ends_with("+json") {
                return Err(AppError::new(
                    ErrorKind::UnsupportedMediaType,
                    "content-type: the body must be application/json",
                )
                .with_field("content-type"));
            }
        }
        let bytes = body_bytes(req, state, state.config().body_limit).await?;
        parse_json(&bytes).map(Body)
    }
}

/// The session cookie's value among `headers`, if any: what the session extractors read, and
/// what the app's middleware keeps for the request (`sca::current_session`).
pub(crate) fn session_cookie(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v)
}

async fn session_from(parts: &Parts, state: &AppState) -> Result<(String, Session), AppError> {
    let token =
        session_cookie(&parts.headers).ok_or_else(|| AppError::new(ErrorKind::Unauthenticated, "log in first"))?;
    let session = state.session(token).await?;
    if parts.method != Method::GET && parts.method != Method::HEAD {
        let given = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !constant_time_eq(given.as_bytes(), session.csrf.as_bytes()) {
            return Err(AppError::new(
                ErrorKind::Forbidden,
                "x-csrf-token: missing or not the token given at login",
            ));
        }
    }
    Ok((token.to_owned(), session))
}

/// Any session, SCA completed or not (the login steps, logout). State-changing methods must
/// carry the CSRF token.
#[derive(Debug)]
pub struct AnySession {
    /// The cookie value.
    pub token: String,
    /// The session.
    pub session: Session,
}

impl FromRequestParts<AppState> for AnySession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let (token, session) = session_from(parts, state).await?;
        Ok(Self { token, session })
    }
}

/// A session whose strong authentication is complete, with its customer, whether or not its
/// password is still the one the bank issued: what the password change itself needs.
#[derive(Debug)]
pub struct ScaSession {
    /// The cookie value.
    pub token: String,
    /// The session.
    pub session: Session,
    /// The customer.
    pub customer: Arc<Customer>,
}

impl FromRequestParts<AppState> for ScaSession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let (token, session) = session_from(parts, state).await?;
        if !session.authenticated {
            return Err(AppError::new(
                ErrorKind::Unauthenticated,
                "strong authentication is not complete",
            ));
        }
        let customer = session.customer.clone();
        Ok(Self {
            token,
            session,
            customer,
        })
    }
}

/// A web-banking session: strong authentication complete and a password the customer chose.
/// This is the one place that keeps a branch-issued password away from banking (issue 11 §5):
/// every banking route takes this extractor, and only the password change takes [`ScaSession`].
/// Its fields are those of the [`ScaSession`] it wraps.
#[derive(Debug)]
pub struct WebSession(ScaSession);

impl std::ops::Deref for WebSession {
    type Target = ScaSession;

    fn deref(&self) -> &ScaSession {
        &self.0
    }
}

impl FromRequestParts<AppState> for WebSession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let sca = ScaSession::from_request_parts(parts, state).await?;
        // The bank-issued password flag is the customer's row, read with the session.
        if sca.customer.password_change_required {
            return Err(AppError::new(
                ErrorKind::PasswordChangeRequired,
                "the password was issued by the bank: change it first (POST /api/v1/password)",
            ));
        }
        Ok(Self(sca))
    }
}

/// The branch: `authorization: Bearer <SCA_ADMIN_TOKEN>`.
#[derive(Debug)]
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let Some(expected) = &state.config().admin_token else {
            return Err(AppError::new(
                ErrorKind::Forbidden,
                "the branch API is disabled (no SCA_ADMIN_TOKEN)",
            ));
        };
        if !bearer_is(parts, expected) {
            return Err(AppError::new(
                ErrorKind::Unauthenticated,
                "authorization: a valid branch token is required",
            ));
        }
        Ok(Admin)
    }
}

/// Whether the request carries `authorization: Bearer <expected>` (compared in constant time,
/// whatever the lengths).
fn bearer_is(parts: &Parts, expected: &str) -> bool {
    let given = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    !given.is_empty() && constant_time_eq(sha256(given.as_bytes()).as_ref(), sha256(expected.as_bytes()).as_ref())
}

/// A merchant's 3-D Secure server (in EMV, the directory server on its behalf) calling the ACS:
/// `authorization: Bearer <SCA_ACS_TOKEN>`. Without a token configured the ACS answers only in
/// sandbox mode (the demo shop calls it from the browser), and refuses otherwise.
#[derive(Debug)]
pub struct AcsCaller;

impl FromRequestParts<AppState> for AcsCaller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let Some(expected) = &state.config().acs_token else {
            if state.config().sandbox {
                return Ok(AcsCaller);
            }
            return Err(AppError::new(
                ErrorKind::Forbidden,
                "the ACS is disabled (no SCA_ACS_TOKEN)",
            ));
        };
        if !bearer_is(parts, expected) {
            return Err(AppError::new(
                ErrorKind::Unauthenticated,
                "authorization: a valid 3-D Secure server token is required",
            ));
        }
        Ok(AcsCaller)
    }
}

/// A request signed by an active device (docs/spec/sca1.md §9, docs/api.md §1): the header is checked against the device key,
/// the method, the path as sent, `ts` (±skew) and the exact body; each signed request is accepted
/// once (kept in the database until its `ts` falls out of the window, so also after a restart).
#[derive(Debug)]
pub struct DeviceRequest {
    /// The device.
    pub device: DeviceRow,
    /// The device's customer.
    pub customer: Customer,
    /// The exact body.
    pub body: Bytes,
}

impl DeviceRequest {
    /// The body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, AppError> {
        parse_json(&self.body)
    }
}

fn refused(detail: &'static str) -> AppError {
    AppError::new(ErrorKind::InvalidSignature, detail)
}

impl FromRequest<AppState> for DeviceRequest {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AppError> {
        let header_value = req
            .headers()
            .get(header::AUTHORIZATION)
            .ok_or_else(|| refused("authorization: a device signature is required"))?
            .to_str()
            .map_err(|_| AppError::bad_request("authorization", "not ASCII"))?
            .to_owned();
        let auth = DeviceAuthorization::parse(&header_value).map_err(|e| AppError::bad_request("authorization", e))?;
        let method = req.method().as_str().to_owned();
        let path = req
            .extensions()
            .get::<OriginalUri>()
            .map(|u| u.0.clone())
            .unwrap_or_else(|| req.uri().clone());
        let path = path.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
        // The device id in the path must be the signer's.
        let prefix = "/api/v1/devices/";
        if let Some(rest) = path.strip_prefix(prefix) {
            let id = rest.split(['/', '?']).next().unwrap_or("");
            if id != auth.device_id {
                return Err(AppError::new(ErrorKind::Forbidden, "the path names another device"));
            }
        }
        let now = state.now();
        let skew = state.config().device_request_skew;
        if auth.ts.saturating_add(skew) < now || auth.ts > now.saturating_add(skew) {
            return Err(refused("authorization: ts is too far from the server clock"));
        }
        let body = body_bytes(req, state, state.config().body_limit).await?;
        let device = state
            .store()
            .device(&auth.device_id)
            .await?
            .filter(|d| d.status == crate::storage::DeviceStatus::Active)
            .ok_or_else(|| refused("authorization: unknown or removed device"))?;
        let public = PublicKey::from_bytes(&device.public_key)
            .map_err(|_| AppError::internal(format!("device {}: stored public key", device.id)))?;
        let message =
            request_message(&method, &path, auth.ts, &body).map_err(|_| AppError::bad_request("path", "too long"))?;
        if !public.verify(&message, &auth.sig) {
            return Err(refused("authorization: the signature does not verify"));
        }
        // Once only, also across restarts and instances: the key is the signature's low-S form,
        // never its bytes as sent (ECDSA lets anyone turn (r, s) into a valid (r, n - s)). Two
        // signings of the same request (another nonce) are two requests, as a client that asks
        // twice in one second means them.
        let mut keyed = Vec::with_capacity(device.id.len() + 1 + 64);
        keyed.extend_from_slice(device.id.as_bytes());
        keyed.push(0);
        keyed.extend_from_slice(&auth.sig.low_s());
        let key = sha256(&keyed);
        let until = auth.ts.saturating_add(skew + 1);
        let fresh = state
            .store()
            .write(move |w| Box::pin(async move { w.first_use_of_request(&key, until, now).await }))
            .await?;
        if !fresh {
            return Err(refused(
                "authorization: this request was already accepted once; sign it again",
            ));
        }
        let customer = state
            .store()
            .customer(device.customer_id)
            .await?
            .ok_or_else(|| AppError::internal("device without customer"))?;
        Ok(Self { device, customer, body })
    }
}
