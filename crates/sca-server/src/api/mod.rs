//! The HTTP API: one file per resource, each exporting its handlers; [`routes`] puts them
//! together and [`ApiDoc`] describes every one of them (served at `/api/openapi.json`).

pub mod acs;
pub mod admin;
pub mod banking;
pub mod cards;
pub mod contract;
pub mod dev;
pub mod devices;
pub mod events;
pub mod extract;
pub mod first_access;
pub mod login;
pub mod pages;
pub mod pagopa;
pub mod recovery;

use axum::Json;
use axum::Router;
use axum::routing::{get, patch, post};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::Problem;
use crate::state::AppState;

/// Every (method, path) the server routes, for the OpenAPI coverage test.
pub const ROUTES: &[(&str, &str)] = &[
    ("post", "/api/v1/admin/customers"),
    ("post", "/api/v1/admin/customers/{user_code}/unblock"),
    ("get", "/api/v1/admin/audit"),
    ("get", "/api/v1/admin/acquired-banks"),
    ("put", "/api/v1/admin/acquired-banks/{code}"),
    ("post", "/api/v1/admin/customers/{user_code}/cards"),
    ("get", "/api/v1/cards"),
    (
        "post",
        "/api/v1/admin/customers/{user_code}/cards/{card_id}/key6/unblock",
    ),
    ("get", "/api/v1/cards/{card_id}/movements"),
    ("put", "/api/v1/cards/{card_id}/key6"),
    ("post", "/api/v1/cards/{card_id}/key6/show"),
    ("post", "/api/v1/cards/{card_id}/key6/reveal"),
    ("post", "/api/v1/cards/{card_id}/key6/unblock"),
    ("put", "/api/v1/cards/{card_id}/secure-phone"),
    ("post", "/api/v1/acs/authentications"),
    ("get", "/api/v1/acs/authentications/{acsTransID}"),
    ("get", "/api/v1/acs/challenges/{acsTransID}"),
    ("get", "/api/v1/acs/challenges/{acsTransID}/events"),
    ("get", "/api/v1/acs/challenges/{acsTransID}/qr.svg"),
    ("post", "/api/v1/acs/challenges/{acsTransID}/code"),
    ("post", "/api/v1/acs/challenges/{acsTransID}/sms"),
    ("post", "/api/v1/acs/challenges/{acsTransID}/otp"),
    ("post", "/api/v1/acs/challenges/{acsTransID}/cancel"),
    ("get", "/api/v1/first-access/banks"),
    ("post", "/api/v1/first-access"),
    ("get", "/api/v1/first-access/{first_access_id}"),
    ("post", "/api/v1/first-access/{first_access_id}/resend"),
    ("post", "/api/v1/first-access/{first_access_id}/sms-code"),
    ("post", "/api/v1/first-access/{first_access_id}/resume"),
    ("post", "/api/v1/first-access/{first_access_id}/credentials"),
    ("post", "/api/v1/first-access/{first_access_id}/phone"),
    ("post", "/api/v1/first-access/{first_access_id}/phone-code"),
    ("post", "/api/v1/first-access/{first_access_id}/email"),
    ("post", "/api/v1/first-access/{first_access_id}/email-code"),
    (
        "post",
        "/api/v1/admin/acquired-banks/{code}/customers/{legacy_code}/unblock",
    ),
    ("post", "/api/v1/operations/{op_id}/sms"),
    ("post", "/api/v1/login"),
    ("get", "/api/v1/login/{login_id}"),
    ("post", "/api/v1/login/{login_id}/code"),
    ("post", "/api/v1/login/{login_id}/sms"),
    ("get", "/api/v1/login/{login_id}/events"),
    ("post", "/api/v1/logout"),
    ("post", "/api/v1/password"),
    ("post", "/api/v1/password/sms"),
    ("put", "/api/v1/alias"),
    ("get", "/api/v1/accounts"),
    ("get", "/api/v1/accounts/{iban}/movements"),
    ("post", "/api/v1/transfers"),
    ("get", "/api/v1/pagopa/creditors/{fiscal_code}"),
    ("post", "/api/v1/pagopa/payments"),
    ("get", "/api/v1/operations/{op_id}"),
    ("get", "/api/v1/operations/{op_id}/events"),
    ("get", "/api/v1/operations/{op_id}/qr.svg"),
    ("get", "/api/v1/operations/{op_id}/qr.png"),
    ("post", "/api/v1/operations/{op_id}/authorize"),
    ("get", "/api/v1/devices"),
    ("patch", "/api/v1/devices/{device_id}"),
    ("delete", "/api/v1/devices/{device_id}"),
    ("post", "/api/v1/activations"),
    ("post", "/api/v1/activations/{activation_id}"),
    ("post", "/api/v1/activations/{activation_id}/confirm"),
    ("post", "/api/v1/devices/{device_id}/activations"),
    ("post", "/api/v1/devices/activations"),
    ("post", "/api/v1/devices/{device_id}/check-code"),
    ("get", "/api/v1/devices/{device_id}/events"),
    ("get", "/api/v1/devices/{device_id}/operations/{op_id}"),
    ("post", "/api/v1/devices/{device_id}/operations/{op_id}/approve"),
    ("post", "/api/v1/devices/{device_id}/operations/{op_id}/reject"),
    ("get", "/api/v1/bank-key"),
    ("post", "/api/v1/recovery/user-code"),
    ("post", "/api/v1/recovery/unblock"),
    ("post", "/api/v1/recovery/unblock/{recovery_id}"),
    ("post", "/api/v1/recovery/password"),
    ("post", "/api/v1/recovery/password/{recovery_id}"),
    ("get", "/dev/outbox"),
    ("post", "/dev/clock"),
    ("get", "/api/openapi.json"),
    ("get", "/api/v1/health"),
];

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "branch",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "acs",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Sigillo sca-server", description = "PSD2 strong customer authentication with dynamic linking (SCA1). \
        Web-banking calls use the session cookie set by login and, when they change state, the `x-csrf-token` header. \
        Device calls carry `authorization: SCA1-Device id=<device_id>,ts=<unix seconds>,sig=<b64u>`, the device key's \
        ECDSA over `\"SCA1-REQ\" || lp(METHOD) || lp(path) || lp(ts) || lp(SHA(body))`. Errors are application/problem+json."),
    paths(
        admin::create_customer, admin::unblock_customer, admin::audit, admin::acquired_banks, admin::put_acquired_bank, cards::issue_card, cards::list_cards,
        cards::branch_unblock_key6, cards::card_movements, cards::set_key6, cards::show_key6, cards::reveal_key6, cards::unblock_key6,
        cards::set_secure_phone, acs::authenticate, acs::authentication, acs::challenge, acs::challenge_events,
        acs::challenge_qr, acs::challenge_code, acs::challenge_sms, acs::challenge_otp, acs::challenge_cancel,
        admin::unblock_legacy, first_access::banks, first_access::start, first_access::get, first_access::resend,
        first_access::sms_code, first_access::resume, first_access::credentials, first_access::phone, first_access::phone_code,
        first_access::email, first_access::email_code, banking::operation_sms, login::login, login::login_state, login::login_code, login::login_sms, login::login_events, login::logout,
        login::change_password, login::password_sms, login::set_alias,
        banking::accounts, banking::movements, banking::create_transfer, pagopa::get_creditor, pagopa::pay_notice, banking::operation, banking::operation_events,
        banking::qr_svg, banking::qr_png, banking::authorize, banking::list_devices, banking::rename_device, banking::remove_device,
        devices::start_activation, devices::activation_keys, devices::activation_confirm, devices::start_device_activation, devices::start_device_activation_web, devices::check_code,
        devices::device_events, devices::device_operation, devices::approve, devices::reject, devices::bank_key,
        recovery::recover_user_code, recovery::unblock_start, recovery::unblock_finish, recovery::password_start, recovery::password_finish,
        dev::outbox, dev::move_clock, openapi_json, health,
    ),
    components(schemas(Problem)),
    modifiers(&Security),
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3.1 JSON")))]
pub async fn openapi_json() -> Json<serde_json::Value> {
    Json(contract::document())
}

/// Liveness and durability.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
    /// `true` when the database commits durably (WAL, synchronous=FULL) through the writer.
    pub durable: bool,
}

/// Health: answers once the writer has run a job (so storage accepts writes) and says whether
/// commits are durable.
#[utoipa::path(get, path = "/api/v1/health", tag = "meta",
    responses((status = 200, body = Health), (status = 500, body = Problem)))]
pub async fn health(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> crate::error::ApiResult<Json<Health>> {
    let durable = state
        .store()
        .write(|w| Box::pin(async move { w.durable().await }))
        .await?;
    Ok(Json(Health { status: "ok", durable }))
}

/// Routes that answer within the request timeout.
pub fn routes(sandbox: bool) -> Router<AppState> {
    let mut router = Router::new()
        .route("/api/v1/admin/customers", post(admin::create_customer))
        .route(
            "/api/v1/admin/customers/{user_code}/unblock",
            post(admin::unblock_customer),
        )
        .route("/api/v1/admin/audit", get(admin::audit))
        .route("/api/v1/admin/acquired-banks", get(admin::acquired_banks))
        .route(
            "/api/v1/admin/acquired-banks/{code}",
            axum::routing::put(admin::put_acquired_bank),
        )
        .route("/api/v1/admin/customers/{user_code}/cards", post(cards::issue_card))
        .route(
            "/api/v1/admin/customers/{user_code}/cards/{card_id}/key6/unblock",
            post(cards::branch_unblock_key6),
        )
        .route("/api/v1/cards", get(cards::list_cards))
        .route("/api/v1/cards/{card_id}/movements", get(cards::card_movements))
        .route("/api/v1/cards/{card_id}/key6", axum::routing::put(cards::set_key6))
        .route("/api/v1/cards/{card_id}/key6/show", post(cards::show_key6))
        .route("/api/v1/cards/{card_id}/key6/reveal", post(cards::reveal_key6))
        .route("/api/v1/cards/{card_id}/key6/unblock", post(cards::unblock_key6))
        .route(
            "/api/v1/cards/{card_id}/secure-phone",
            axum::routing::put(cards::set_secure_phone),
        )
        .route("/api/v1/acs/authentications", post(acs::authenticate))
        .route("/api/v1/acs/authentications/{acsTransID}", get(acs::authentication))
        .route("/api/v1/acs/challenges/{acsTransID}", get(acs::challenge))
        .route("/api/v1/acs/challenges/{acsTransID}/qr.svg", get(acs::challenge_qr))
        .route("/api/v1/acs/challenges/{acsTransID}/code", post(acs::challenge_code))
        .route("/api/v1/acs/challenges/{acsTransID}/sms", post(acs::challenge_sms))
        .route("/api/v1/acs/challenges/{acsTransID}/otp", post(acs::challenge_otp))
        .route(
            "/api/v1/acs/challenges/{acsTransID}/cancel",
            post(acs::challenge_cancel),
        )
        .route("/api/v1/first-access/banks", get(first_access::banks))
        .route("/api/v1/first-access", post(first_access::start))
        .route("/api/v1/first-access/{first_access_id}", get(first_access::get))
        .route(
            "/api/v1/first-access/{first_access_id}/resend",
            post(first_access::resend),
        )
        .route(
            "/api/v1/first-access/{first_access_id}/sms-code",
            post(first_access::sms_code),
        )
        .route(
            "/api/v1/first-access/{first_access_id}/resume",
            post(first_access::resume),
        )
        .route(
            "/api/v1/first-access/{first_access_id}/credentials",
            post(first_access::credentials),
        )
        .route(
            "/api/v1/first-access/{first_access_id}/phone",
            post(first_access::phone),
        )
        .route(
            "/api/v1/first-access/{first_access_id}/phone-code",
            post(first_access::phone_code),
        )
        .route(
            "/api/v1/first-access/{first_access_id}/email",
            post(first_access::email),
        )
        .route(
            "/api/v1/first-access/{first_access_id}/email-code",
            post(first_access::email_code),
        )
        .route(
            "/api/v1/admin/acquired-banks/{code}/customers/{legacy_code}/unblock",
            post(admin::unblock_legacy),
        )
        .route("/api/v1/operations/{op_id}/sms", post(banking::operation_sms))
        .route("/api/v1/login", post(login::login))
        .route("/api/v1/login/{login_id}", get(login::login_state))
        .route("/api/v1/login/{login_id}/code", post(login::login_code))
        .route("/api/v1/login/{login_id}/sms", post(login::login_sms))
        .route("/api/v1/logout", post(login::logout))
        .route("/api/v1/password", post(login::change_password))
        .route("/api/v1/password/sms", post(login::password_sms))
        .route("/api/v1/alias", axum::routing::put(login::set_alias))
        .route("/api/v1/accounts", get(banking::accounts))
        .route("/api/v1/accounts/{iban}/movements", get(banking::movements))
        .route("/api/v1/transfers", post(banking::create_transfer))
        .route("/api/v1/pagopa/creditors/{fiscal_code}", get(pagopa::get_creditor))
        .route("/api/v1/pagopa/payments", post(pagopa::pay_notice))
        .route("/api/v1/operations/{op_id}", get(banking::operation))
        .route("/api/v1/operations/{op_id}/qr.svg", get(banking::qr_svg))
        .route("/api/v1/operations/{op_id}/qr.png", get(banking::qr_png))
        .route("/api/v1/operations/{op_id}/authorize", post(banking::authorize))
        .route("/api/v1/devices", get(banking::list_devices))
        .route(
            "/api/v1/devices/{device_id}",
            patch(banking::rename_device).delete(banking::remove_device),
        )
        .route("/api/v1/activations", post(devices::start_activation))
        .route("/api/v1/activations/{activation_id}", post(devices::activation_keys))
        .route(
            "/api/v1/activations/{activation_id}/confirm",
            post(devices::activation_confirm),
        )
        .route(
            "/api/v1/devices/{device_id}/activations",
            post(devices::start_device_activation),
        )
        .route("/api/v1/devices/{device_id}/check-code", post(devices::check_code))
        .route(
            "/api/v1/devices/activations",
            post(devices::start_device_activation_web),
        )
        .route(
            "/api/v1/devices/{device_id}/operations/{op_id}",
            get(devices::device_operation),
        )
        .route(
            "/api/v1/devices/{device_id}/operations/{op_id}/approve",
            post(devices::approve),
        )
        .route(
            "/api/v1/devices/{device_id}/operations/{op_id}/reject",
            post(devices::reject),
        )
        .route("/api/v1/bank-key", get(devices::bank_key))
        .route("/api/v1/recovery/user-code", post(recovery::recover_user_code))
        .route("/api/v1/recovery/unblock", post(recovery::unblock_start))
        .route("/api/v1/recovery/unblock/{recovery_id}", post(recovery::unblock_finish))
        .route("/api/v1/recovery/password", post(recovery::password_start))
        .route(
            "/api/v1/recovery/password/{recovery_id}",
            post(recovery::password_finish),
        )
        .route("/api/openapi.json", get(openapi_json))
        .route("/api/v1/health", get(health));
    if sandbox {
        router = router
            .route("/dev/outbox", get(dev::outbox))
            .route("/dev/clock", post(dev::move_clock))
            .route("/dev/shop", get(pages::dev_shop));
    }
    router
}

/// Event streams: long-lived, so outside the request timeout.
pub fn stream_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/login/{login_id}/events", get(login::login_events))
        .route("/api/v1/operations/{op_id}/events", get(banking::operation_events))
        .route("/api/v1/acs/challenges/{acsTransID}/events", get(acs::challenge_events))
        .route("/api/v1/devices/{device_id}/events", get(devices::device_events))
}
