//! The first access of customers of acquired banks (issue 15, docs/api.md §12): the boxes of the
//! login page, then the steps that move a customer from the old bank's credentials to new ones —
//! the legacy code and password, an SMS code to the mobile the old bank certified, a new user
//! code and password, the mobile certified again, the e-mail validated.
//!
//! Every step is decided in one write that re-reads the first access: a code is checked, counted
//! and spent there, so answers that arrive at once cannot pass a step twice or take more wrong
//! answers than allowed; the customer is made once, the accounts move once.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use sca_protocol::{UserCode, constant_time_eq, sha256};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::extract::{Body, ClientIp};
use crate::crypto::random;
use crate::customers::{check_alias, check_email, check_new_password, check_phone};
use crate::error::{ApiResult, AppError, ErrorKind, Problem};
use crate::sca;
use crate::state::AppState;
use crate::storage::writer::{CustomerConflict, NewCustomer};
use crate::storage::{Counted, Customer, FirstAccessRow, LegacyCustomerRow, LegacyHolder, StoreError, WriteCtx};

/// A first access lives this long after its last step.
const FIRST_ACCESS_TTL: u64 = 20 * 60;

/// Wrong answers one code takes before a new one must be asked for (they count against the
/// legacy credential as well: 5 in a row block it).
const CODE_TRIES: i64 = 3;

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
#[utoipa::path(get, path = "/api/v1/first-access/banks", tag = "first-access",
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

/// The first step: the old bank's credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartFirstAccess {
    /// The acquired bank's code (`ubi`).
    pub bank: String,
    /// The customer code at the old bank.
    pub legacy_code: String,
    /// The password at the old bank.
    pub password: String,
}

/// An acquired bank, named.
#[derive(Debug, Serialize, ToSchema)]
pub struct BankName {
    /// `ubi`.
    pub code: String,
    /// `UBI Banca`.
    pub name: String,
}

/// Where a first access is (docs/api.md §12).
#[derive(Debug, Serialize, ToSchema)]
pub struct FirstAccessState {
    /// Its id, for the next steps.
    pub first_access_id: String,
    /// The acquired bank.
    pub bank: BankName,
    /// What comes next: `sms` | `resume` | `credentials` | `phone` | `phone_code` | `email` |
    /// `email_code` | `done`.
    pub step: String,
    /// The customer's name.
    pub name: String,
    /// `app` | `card`: how the customer authenticated at the old bank.
    pub auth: String,
    /// The certified mobile (masked until the SMS code is proven).
    pub phone: String,
    /// The e-mail address (masked until the SMS code is proven).
    pub email: String,
    /// Unix seconds.
    pub expires: u64,
    /// The new user code, once the credentials are chosen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_code: Option<String>,
    /// The alias, if one was chosen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// At `resume`: where the earlier first access stopped (`phone` | `email`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reached: Option<String>,
    /// Where the current step's code went (masked at `sms`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_to: Option<String>,
    /// Only in the answer of `/credentials`: the security code (20 characters) for self-service
    /// recovery, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_code: Option<String>,
    /// At `done`: `push` or `sms`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sca_policy: Option<String>,
}

/// `+39******4567`: the last four digits, as the old bank's letters showed them.
fn mask_phone(phone: &str) -> String {
    crate::customers::masked_phone(phone, 4)
}

fn code_hash(id: &str, step: &str, code: &str) -> [u8; 32] {
    sha256(format!("{id}\0{step}\0{code}").as_bytes())
}

/// The state a client sees.
fn view(fa: &FirstAccessRow, legacy: &LegacyCustomerRow, customer: Option<&Customer>) -> FirstAccessState {
    // Every step after `sms` comes after the SMS code to the old bank's mobile.
    let proven = fa.step != "sms";
    let (phone, email) = match customer {
        Some(c) if proven => (c.phone.clone(), c.email.clone()),
        _ if proven => (legacy.phone.clone(), legacy.email.clone()),
        _ => (mask_phone(&legacy.phone), crate::customers::masked_email(&legacy.email)),
    };
    let code_to = fa
        .code_to
        .as_ref()
        .map(|to| if proven { to.clone() } else { mask_phone(to) });
    let made = customer.filter(|_| proven && fa.step != "resume");
    FirstAccessState {
        first_access_id: fa.id.clone(),
        bank: BankName {
            code: legacy.bank_code.clone(),
            name: legacy.bank_name.clone(),
        },
        step: fa.step.clone(),
        name: legacy.name.clone(),
        auth: legacy.auth_method.clone(),
        phone,
        email,
        expires: fa.expires_at as u64,
        user_code: made.map(|c| c.user_code.clone()),
        alias: made.and_then(|c| c.alias.clone()),
        reached: (fa.step == "resume").then(|| legacy.reached.clone()).flatten(),
        code_to,
        security_code: None,
        sca_policy: (fa.step == "done")
            .then(|| customer.map(|c| c.sca_policy.clone()))
            .flatten(),
    }
}

/// How long a finished first access still answers (its page shows the new user code).
const DONE_SHOWN_FOR: u64 = 10 * 60;

/// Most codes one first access sends (the first SMS included), wherever they go.
const MAX_SENDS: i64 = 8;

/// Reads a first access and what it needs, answering 404 for an unknown or ended one (a finished
/// one after [`DONE_SHOWN_FOR`]) and 410 for an expired one.
async fn load(state: &AppState, id: &str) -> ApiResult<(FirstAccessRow, LegacyCustomerRow, Option<Customer>)> {
    let gone = || AppError::not_found("first access");
    let fa = state.store().first_access(id).await?.ok_or_else(gone)?;
    let legacy = state
        .store()
        .legacy_customer_by_id(fa.legacy_customer_id)
        .await?
        .ok_or_else(gone)?;
    let now = state.now();
    match (fa.ended_at, fa.step.as_str()) {
        (Some(ended), "done") if now < ended as u64 + DONE_SHOWN_FOR => {}
        (Some(_), _) => return Err(gone()),
        (None, _) if now >= fa.expires_at as u64 => return Err(AppError::expired()),
        (None, _) => {}
    }
    let customer = match legacy.customer_id {
        Some(cid) => state.store().customer(cid).await?,
        None => None,
    };
    Ok((fa, legacy, customer))
}

/// Inside a write: the first access `id` and its legacy customer, when the first access is still
/// open at one of `steps` and its customer has not moved nor been blocked — what every step
/// checks again where it writes.
async fn open_at(
    w: &mut WriteCtx,
    id: &str,
    steps: &[&str],
    now: u64,
) -> Result<Option<(FirstAccessRow, LegacyCustomerRow)>, StoreError> {
    let Some(fa) = w.first_access(id).await? else {
        return Ok(None);
    };
    if fa.ended_at.is_some() || now >= fa.expires_at as u64 || !steps.contains(&fa.step.as_str()) {
        return Ok(None);
    }
    let Some(legacy) = w.legacy_customer(fa.legacy_customer_id).await? else {
        return Ok(None);
    };
    if legacy.status != "pending" || legacy.blocked_at.is_some() {
        return Ok(None);
    }
    Ok(Some((fa, legacy)))
}

fn already_migrated() -> AppError {
    AppError::new(
        ErrorKind::AlreadyMigrated,
        "you have moved to the new internet banking already: log in with your new user code (forgot it? recover it by SMS)",
    )
}

fn moved_on() -> AppError {
    AppError::new(ErrorKind::Conflict, "this first access moved on, or ended")
}

fn require_step(fa: &FirstAccessRow, steps: &[&str]) -> ApiResult<()> {
    if steps.contains(&fa.step.as_str()) {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorKind::Conflict,
            format!("this first access is at step {}, not {}", fa.step, steps.join(" or ")),
        ))
    }
}

/// What a step that sends a code sends, and to whom.
enum Outgoing {
    Sms { to: String, text: String },
    Email { to: String, text: String },
}

impl Outgoing {
    fn to(&self) -> &str {
        match self {
            Self::Sms { to, .. } | Self::Email { to, .. } => to,
        }
    }
}

/// Writes what a code step sends, within the limits: one code per resend interval and
/// [`MAX_SENDS`] per first access, wherever they go; an SMS also within the limits per phone and
/// per customer (once made). `Some(seconds)` when refused.
async fn send_code(
    state: &AppState,
    w: &mut WriteCtx,
    now: u64,
    fa: Option<&FirstAccessRow>,
    customer_id: Option<i64>,
    send: &Outgoing,
) -> Result<Option<u64>, StoreError> {
    let interval = state.config().otp_resend_interval;
    if let Some(fa) = fa {
        if let Some(sent) = fa.code_sent_at
            && now < sent as u64 + interval
        {
            return Ok(Some(sent as u64 + interval - now));
        }
        if fa.sends >= MAX_SENDS {
            // Until the first access expires: then a new one (the old password again).
            return Ok(Some((fa.expires_at as u64).saturating_sub(now).max(1)));
        }
    }
    match send {
        Outgoing::Sms { to, text } => {
            let (min_interval, per_hour) = (state.config().sms_min_interval, state.config().sms_per_hour);
            if let Some(wait) = w.sms_allowed(now, to, customer_id, min_interval, per_hour).await? {
                return Ok(Some(wait));
            }
            w.outbox(now, to, "sms", text).await?;
        }
        Outgoing::Email { to, text } => w.outbox(now, to, "email", text).await?,
    }
    Ok(None)
}

fn wait_error(wait: u64) -> AppError {
    AppError::retry_after(
        format!("a code was sent moments ago: try again in {wait} seconds"),
        wait,
    )
}

fn new_code(state: &AppState) -> ApiResult<Zeroizing<String>> {
    random::digits(&state.0.rng, 6).map_err(AppError::internal)
}

/// The first access's first step: the old bank's customer code and password, checked by
/// count-then-verify (a legacy code that never existed takes the same steps and gets the same
/// answers); then an SMS code goes to the mobile the old bank certified.
#[utoipa::path(post, path = "/api/v1/first-access", tag = "first-access", request_body = StartFirstAccess,
    responses((status = 202, body = FirstAccessState, description = "an SMS code went to the certified mobile"),
        (status = 400, body = Problem), (status = 401, body = Problem, description = "invalid_credentials + attempts_left"),
        (status = 404, body = Problem, description = "no such acquired bank"),
        (status = 409, body = Problem, description = "not_open / already_migrated"),
        (status = 423, body = Problem), (status = 429, body = Problem)))]
pub async fn start(
    State(state): State<AppState>,
    client: ClientIp,
    Body(body): Body<StartFirstAccess>,
) -> ApiResult<(StatusCode, Json<FirstAccessState>)> {
    crate::legacy::check_bank_code(&body.bank).map_err(|why| AppError::bad_request("bank", why))?;
    let legacy_code = body.legacy_code.trim();
    crate::legacy::check_legacy_code(legacy_code).map_err(|why| AppError::bad_request("legacy_code", why))?;
    if body.password.is_empty() || body.password.chars().count() > 128 {
        return Err(AppError::bad_request("password", "1 to 128 characters"));
    }
    let bank = state
        .store()
        .acquired_bank(&body.bank)
        .await?
        .ok_or_else(|| AppError::not_found("acquired bank"))?;
    let now = state.now();
    if (now as i64) < bank.opens_at {
        return Err(AppError::new(
            ErrorKind::NotOpen,
            format!(
                "the first access of {} customers opens on {}",
                bank.name,
                crate::legacy::civil_date(bank.opens_at)
            ),
        ));
    }
    if bank.closes_at.is_some_and(|c| now as i64 >= c) {
        return Err(AppError::new(
            ErrorKind::NotOpen,
            format!(
                "the first access of {} customers is closed: call your branch",
                bank.name
            ),
        ));
    }
    let legacy = state.store().legacy_customer(&bank.code, legacy_code).await?;
    let holder = match &legacy {
        Some(l) => l.holder(),
        None => LegacyHolder {
            key: LegacyHolder::key_of(&bank.code, legacy_code),
            known: None,
        },
    };
    // A code that never existed is checked against a hash of its bank (and found wrong
    // whatever it says), so that it costs what the bank's own scheme and parameters cost.
    let hash = match &legacy {
        Some(l) => Ok(l.password_hash.clone()),
        None => Err(state.store().legacy_sample_hash(&bank.code).await?),
    };
    sca::check_legacy_password(&state, client, holder, hash, &body.password)
        .await
        .map_err(|e| {
            if e.kind() == ErrorKind::Blocked {
                AppError::new(
                    ErrorKind::Blocked,
                    "the first access with these credentials is blocked after too many wrong answers: call your branch",
                )
            } else {
                e
            }
        })?;
    let legacy = legacy.ok_or_else(|| AppError::internal("a right legacy password without a legacy customer"))?;
    if legacy.status == "migrated" {
        return Err(already_migrated());
    }
    let id = random::b64u(&state.0.rng, 16).map_err(AppError::internal)?;
    let code = new_code(&state)?;
    let hash = code_hash(&id, "sms", &code);
    let minutes = state.config().otp_ttl / 60;
    let send = Outgoing::Sms {
        to: legacy.phone.clone(),
        text: crate::texts::first_access_sms(&code, &legacy.bank_name, false, minutes),
    };
    let (legacy_id, key, ttl, st) = (legacy.id, legacy.holder().key, state.config().otp_ttl, state.clone());
    let (id2, customer_id) = (id.clone(), legacy.customer_id);
    state
        .store()
        .write(move |w| {
            Box::pin(async move {
                // Read again where it is written: the customer may have moved, or been blocked,
                // since the password was checked.
                match w.legacy_customer(legacy_id).await? {
                    Some(l) if l.status != "pending" => return Ok(Err(already_migrated())),
                    Some(l) if l.blocked_at.is_none() => {}
                    _ => return Ok(Err(AppError::blocked())),
                }
                if let Some(wait) = send_code(&st, w, now, None, customer_id, &send).await? {
                    return Ok(Err(AppError::retry_after(
                        format!("too many SMS to this phone: try again in {wait} seconds"),
                        wait,
                    )));
                }
                w.start_first_access(
                    now,
                    &id2,
                    legacy_id,
                    now + FIRST_ACCESS_TTL,
                    &hash,
                    send.to(),
                    now + ttl,
                )
                .await?;
                w.audit(now, "first_access_started", &key, "").await?;
                Ok(Ok(()))
            })
        })
        .await??;
    state.messages_queued();
    let (fa, legacy, customer) = load(&state, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(view(&fa, &legacy, customer.as_ref()))))
}

/// Where a first access is.
#[utoipa::path(get, path = "/api/v1/first-access/{first_access_id}", tag = "first-access",
    params(("first_access_id" = String, Path)),
    responses((status = 200, body = FirstAccessState), (status = 404, body = Problem), (status = 410, body = Problem)))]
pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<FirstAccessState>> {
    answer_state(&state, &id).await
}

/// What the current step's code is, and how to make a fresh one.
fn code_for_step(state: &AppState, fa: &FirstAccessRow, legacy: &LegacyCustomerRow, code: &str) -> ApiResult<Outgoing> {
    let minutes = state.config().otp_ttl / 60;
    let to = fa
        .code_to
        .clone()
        .ok_or_else(|| AppError::new(ErrorKind::Conflict, "no code was sent at this step"))?;
    Ok(match fa.step.as_str() {
        "sms" => Outgoing::Sms {
            to,
            text: crate::texts::first_access_sms(code, &legacy.bank_name, false, minutes),
        },
        "phone_code" => Outgoing::Sms {
            to,
            text: crate::texts::first_access_sms(code, &legacy.bank_name, true, minutes),
        },
        "email_code" => Outgoing::Email {
            to,
            text: crate::texts::first_access_email_code(code, minutes),
        },
        _ => return Err(AppError::new(ErrorKind::Conflict, "no code is sent at this step")),
    })
}

/// Sends a fresh code and moves the first access `id` from one of `from` to `step`, where the
/// code is to be answered: `make` writes the message for the code. The step, the limits and the
/// send are one write.
async fn send_step_code(
    state: &AppState,
    id: &str,
    from: Vec<String>,
    step: String,
    make: impl FnOnce(&str) -> ApiResult<Outgoing>,
) -> ApiResult<()> {
    let code = new_code(state)?;
    let send = make(&code)?;
    let hash = code_hash(id, &step, &code);
    let (now, ttl, st, id) = (state.now(), state.config().otp_ttl, state.clone(), id.to_owned());
    state
        .store()
        .write(move |w| {
            Box::pin(async move {
                let from: Vec<&str> = from.iter().map(String::as_str).collect();
                let Some((fa, legacy)) = open_at(w, &id, &from, now).await? else {
                    return Ok(Err(moved_on()));
                };
                if let Some(wait) = send_code(&st, w, now, Some(&fa), legacy.customer_id, &send).await? {
                    return Ok(Err(wait_error(wait)));
                }
                w.set_first_access_code(now, &fa.id, &step, &hash, send.to(), now + ttl)
                    .await?;
                Ok(Ok(()))
            })
        })
        .await??;
    state.messages_queued();
    Ok(())
}

/// Sends the current step's code again (a fresh one).
#[utoipa::path(post, path = "/api/v1/first-access/{first_access_id}/resend", tag = "first-access",
    params(("first_access_id" = String, Path)),
    responses((status = 202), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 410, body = Problem), (status = 429, body = Problem)))]
pub async fn resend(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let (fa, legacy, _) = load(&state, &id).await?;
    // The step may move meanwhile: the code goes only with the step it was made for.
    let step = fa.step.clone();
    send_step_code(&state, &id, vec![step.clone()], step, |code| {
        code_for_step(&state, &fa, &legacy, code)
    })
    .await?;
    Ok(StatusCode::ACCEPTED)
}

/// A code typed by the customer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmsCode {
    /// 6 digits.
    pub sms_otp: String,
}

/// A code from the e-mail.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailCode {
    /// 6 digits.
    pub code: String,
}

/// What a code answer did.
enum CodeOutcome {
    Right,
    Wrong(Counted, i64),
    Spent,
    Expired,
    Moved,
}

/// Checks the code of step `step`, counts it and, when right, runs `then` — in one write.
async fn answer_code<F>(
    state: &AppState,
    id: &str,
    step: &'static str,
    field: &'static str,
    given: &str,
    then: F,
) -> ApiResult<()>
where
    F: for<'a> FnOnce(
            &'a mut WriteCtx,
            FirstAccessRow,
            LegacyCustomerRow,
        ) -> futures_util::future::BoxFuture<'a, Result<(), StoreError>>
        + Send
        + 'static,
{
    if given.len() != 6 || !given.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::bad_request(field, "a code is exactly 6 digits"));
    }
    let (fa, _, _) = load(state, id).await?;
    require_step(&fa, &[step])?;
    let (now, max) = (state.now(), state.config().max_attempts);
    let given = given.to_owned();
    let outcome = state
        .store()
        .write(move |w| {
            Box::pin(async move {
                let Some((fa, legacy)) = open_at(w, &fa.id, &[step], now).await? else {
                    return Ok(CodeOutcome::Moved);
                };
                if fa.code_failures >= CODE_TRIES {
                    return Ok(CodeOutcome::Spent);
                }
                let (Some(hash), Some(expires)) = (&fa.code_hash, fa.code_expires_at) else {
                    return Ok(CodeOutcome::Spent);
                };
                if now >= expires as u64 || now >= fa.expires_at as u64 {
                    return Ok(CodeOutcome::Expired);
                }
                let holder = legacy.holder();
                if constant_time_eq(&code_hash(&fa.id, step, &given), hash) {
                    w.legacy_code_right(&holder).await?;
                    then(w, fa, legacy).await?;
                    return Ok(CodeOutcome::Right);
                }
                let failures = w.first_access_code_failed(&fa.id).await?;
                let counted = w.legacy_code_wrong(now, &holder, max).await?;
                Ok(CodeOutcome::Wrong(counted, failures))
            })
        })
        .await?;
    state.messages_queued();
    match outcome {
        CodeOutcome::Right => Ok(()),
        CodeOutcome::Wrong(Counted::Blocked, _) => Err(AppError::new(
            ErrorKind::Blocked,
            "the first access is blocked after too many wrong codes: call your branch",
        )),
        CodeOutcome::Wrong(Counted::Wrong { attempts_left }, failures) => {
            let this_code = u32::try_from((CODE_TRIES - failures).max(0)).unwrap_or(0);
            Err(AppError::counted(ErrorKind::WrongOtp, attempts_left.min(this_code)).with_field(field))
        }
        CodeOutcome::Spent => Err(AppError::new(
            ErrorKind::Blocked,
            "this code took its wrong answers: ask for a new one",
        )
        .with_field(field)),
        CodeOutcome::Expired => Err(AppError::expired()),
        CodeOutcome::Moved => Err(moved_on()),
    }
}

async fn answer_state(state: &AppState, id: &str) -> ApiResult<Json<FirstAccessState>> {
    let (fa, legacy, customer) = load(state, id).await?;
    Ok(Json(view(&fa, &legacy, customer.as_ref())))
}

/// The SMS code sent to the mobile the old bank certified: the customer holds it.
#[utoipa::path(post, path = "/api/v1/first-access/{first_access_id}/sms-code", tag = "first-access", request_body = SmsCode,
    params(("first_access_id" = String, Path)),
    responses((status = 200, body = FirstAccessState, description = "at `credentials`, or `resume`"),
        (status = 400, body = Problem), (status = 401, body = Problem, description = "wrong_otp + attempts_left"),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 410, body = Problem), (status = 423, body = Problem)))]
pub async fn sms_code(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body<SmsCode>,
) -> ApiResult<Json<FirstAccessState>> {
    let now = state.now();
    answer_code(&state, &id, "sms", "sms_otp", &body.sms_otp, move |w, fa, legacy| {
        Box::pin(async move {
            // An earlier first access of this customer chose credentials: go on from there, or
            // start again (docs/api.md §12).
            let next = if legacy.customer_id.is_some() {
                "resume"
            } else {
                "credentials"
            };
            w.set_first_access_step(&fa.id, next, now + FIRST_ACCESS_TTL).await?;
            w.audit(now, "first_access_sms_proven", &legacy.holder().key, "").await
        })
    })
    .await?;
    answer_state(&state, &id).await
}

/// Go on, or start again.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resume {
    /// `false`: go on from where the earlier first access stopped; `true`: choose the
    /// credentials again (the same user code).
    pub restart: bool,
}

/// After the SMS code, for a customer whose earlier first access stopped half-way.
#[utoipa::path(post, path = "/api/v1/first-access/{first_access_id}/resume", tag = "first-access", request_body = Resume,
    params(("first_access_id" = String, Path)),
    responses((status = 200, body = FirstAccessState), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 410, body = Problem)))]
pub async fn resume(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body<Resume>,
) -> ApiResult<Json<FirstAccessState>> {
    let (fa, _, _) = load(&state, &id).await?;
    require_step(&fa, &["resume"])?;
    // Going on keeps the user code, the password and the alias; the mobile and the e-mail are
    // confirmed again, from the ones the old bank had (only the old mobile was proven now).
    let next = if body.restart { "credentials" } else { "phone" };
    let now = state.now();
    state
        .store()
        .write(move |w| {
            Box::pin(async move {
                let Some((fa, legacy)) = open_at(w, &fa.id, &["resume"], now).await? else {
                    return Ok(Err(moved_on()));
                };
                if let Some(cid) = legacy.customer_id {
                    w.set_contact(cid, Some(&legacy.phone), Some(&legacy.email)).await?;
                }
                w.set_legacy_reached(legacy.id, "phone").await?;
                w.set_first_access_step(&fa.id, next, now + FIRST_ACCESS_TTL).await?;
                w.audit(now, "first_access_resumed", &legacy.holder().key, next).await?;
                Ok(Ok(()))
            })
        })
        .await??;
    answer_state(&state, &id).await
}

/// The new credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// 8 to 32 digits, not trivial, not the old bank's password.
    pub password: String,
    /// An alias to log in with instead of the user code.
    #[serde(default)]
    pub alias: Option<String>,
}

/// The new credentials: a user code is issued (once per customer; a restart keeps it), the
/// password and alias chosen, a security code drawn and shown once. The customer is made here,
/// not yet able to log in.
#[utoipa::path(post, path = "/api/v1/first-access/{first_access_id}/credentials", tag = "first-access", request_body = Credentials,
    params(("first_access_id" = String, Path)),
    responses((status = 200, body = FirstAccessState, description = "at `phone`, with `user_code` and `security_code`"),
        (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "alias taken, or not at this step"), (status = 410, body = Problem)))]
pub async fn credentials(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body<Credentials>,
) -> ApiResult<Json<FirstAccessState>> {
    check_new_password("password", &body.password)?;
    let alias = body
        .alias
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(check_alias)
        .transpose()?;
    let (fa, legacy, _) = load(&state, &id).await?;
    require_step(&fa, &["credentials"])?;
    {
        let (old, new) = (legacy.password_hash.clone(), Zeroizing::new(body.password.clone()));
        if state
            .hashing(move |_| crate::legacy::verify_legacy_password(&old, &new))
            .await?
        {
            return Err(AppError::bad_request(
                "password",
                "must differ from the password of your old bank",
            ));
        }
    }
    let security_code = random::security_code(&state.0.rng).map_err(AppError::internal)?;
    let (p, s) = (Zeroizing::new(body.password.clone()), security_code.clone());
    let (password_hash, security_code_hash) = state
        .hashing(move |h| Ok::<_, crate::crypto::CryptoError>((h.hash(&p)?, h.hash(&s)?)))
        .await?
        .map_err(AppError::internal)?;
    let policy = if legacy.auth_method == "card" { "sms" } else { "push" };
    for _ in 0..8 {
        let user_code = UserCode::random(&state.0.rng)?.to_string();
        let new = NewCustomer {
            user_code,
            alias: alias.clone(),
            name: legacy.name.clone(),
            phone: legacy.phone.clone(),
            email: legacy.email.clone(),
            password_hash: password_hash.clone(),
            security_code_hash: security_code_hash.clone(),
            password_change_required: false,
            sca_policy: policy,
            first_access_pending: true,
        };
        let (now, fa_id) = (state.now(), fa.id.clone());
        let result = state
            .store()
            .write(move |w| {
                Box::pin(async move {
                    let Some((_, legacy)) = open_at(w, &fa_id, &["credentials"], now).await? else {
                        return Ok(Err(None));
                    };
                    let key = legacy.holder().key;
                    let customer_id = match legacy.customer_id {
                        // A restart: the same customer and user code, new secrets and alias.
                        Some(cid) => {
                            if !w.set_alias(cid, new.alias.as_deref()).await? {
                                return Ok(Err(Some(CustomerConflict::Alias)));
                            }
                            w.reset_first_access_credentials(cid, &new.password_hash, &new.security_code_hash)
                                .await?;
                            // The mobile and e-mail are confirmed again, from the old bank's.
                            w.set_contact(cid, Some(&legacy.phone), Some(&legacy.email)).await?;
                            w.set_legacy_reached(legacy.id, "phone").await?;
                            cid
                        }
                        None => {
                            let cid = match w.insert_customer(now, &new).await? {
                                Ok(cid) => cid,
                                Err(conflict) => return Ok(Err(Some(conflict))),
                            };
                            if !w.link_legacy_customer(legacy.id, cid).await? {
                                return Err(StoreError::Corrupt("legacy customer linked twice".into()));
                            }
                            w.audit(now, "customer_created", &new.user_code, &format!("first access {key}"))
                                .await?;
                            cid
                        }
                    };
                    w.set_first_access_step(&fa_id, "phone", now + FIRST_ACCESS_TTL).await?;
                    w.audit(now, "first_access_credentials", &key, "").await?;
                    Ok(Ok(customer_id))
                })
            })
            .await?;
        match result {
            Ok(_) => {
                let (fa, legacy, customer) = load(&state, &id).await?;
                let mut view = view(&fa, &legacy, customer.as_ref());
                view.security_code = Some(security_code.to_string());
                return Ok(Json(view));
            }
            Err(Some(CustomerConflict::UserCode)) => continue,
            Err(Some(CustomerConflict::Alias)) => {
                return Err(AppError::new(ErrorKind::Conflict, "alias: already taken").with_field("alias"));
            }
            Err(None) => return Err(moved_on()),
        }
    }
    Err(AppError::internal("no free user code after 8 draws"))
}

/// The mobile to certify.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneChoice {
    /// A new number (E.164); absent or the certified one: it is confirmed.
    #[serde(default)]
    pub phone: Option<String>,
}

/// Certifies the mobile: the one the old bank certified (just proven by its SMS code) is
/// confirmed; a new number gets an SMS code that proves it.
#[utoipa::path(post, path = "/api/v1/first-access/{first_access_id}/phone", tag = "first-access", request_body = PhoneChoice,
    params(("first_access_id" = String, Path)),
    responses((status = 200, body = FirstAccessState, description = "at `email`, or `phone_code`"),
        (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 410, body = Problem), (status = 429, body = Problem)))]
pub async fn phone(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body<PhoneChoice>,
) -> ApiResult<Json<FirstAccessState>> {
    let new_phone = body.phone.as_deref().map(check_phone).transpose()?;
    let (fa, legacy, customer) = load(&state, &id).await?;
    require_step(&fa, &["phone", "phone_code"])?;
    if customer.is_none() {
        return Err(AppError::new(ErrorKind::Conflict, "choose the credentials first"));
    }
    let now = state.now();
    // The mobile proven by this first access is the old bank's: confirming keeps that one.
    let steps = ["phone", "phone_code"];
    match new_phone.filter(|p| *p != legacy.phone) {
        None => {
            state
                .store()
                .write(move |w| {
                    Box::pin(async move {
                        let Some((fa, legacy)) = open_at(w, &fa.id, &steps, now).await? else {
                            return Ok(Err(moved_on()));
                        };
                        let Some(cid) = legacy.customer_id else {
                            return Ok(Err(moved_on()));
                        };
                        w.set_contact(cid, Some(&legacy.phone), None).await?;
                        w.set_legacy_reached(legacy.id, "email").await?;
                        w.set_first_access_step(&fa.id, "email", now + FIRST_ACCESS_TTL).await?;
                        w.audit(now, "first_access_phone_confirmed", &legacy.holder().key, "")
                            .await?;
                        Ok(Ok(()))
                    })
                })
                .await??;
        }
        Some(to) => {
            let minutes = state.config().otp_ttl / 60;
            let steps = steps.iter().map(|s| (*s).to_owned()).collect();
            send_step_code(&state, &id, steps, "phone_code".into(), |code| {
                Ok(Outgoing::Sms {
                    text: crate::texts::first_access_sms(code, &legacy.bank_name, true, minutes),
                    to,
                })
            })
            .await?;
        }
    }
    answer_state(&state, &id).await
}

/// The SMS code sent to the new number: it is the certified mobile from now on.
#[utoipa::path(post, path = "/api/v1/first-access/{first_access_id}/phone-code", tag = "first-access", request_body = SmsCode,
    params(("first_access_id" = String, Path)),
    responses((status = 200, body = FirstAccessState, description = "at `email`"),
        (status = 400, body = Problem), (status = 401, body = Problem, description = "wrong_otp + attempts_left"),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 410, body = Problem), (status = 423, body = Problem)))]
pub async fn phone_code(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body<SmsCode>,
) -> ApiResult<Json<FirstAccessState>> {
    let now = state.now();
    answer_code(
        &state,
        &id,
        "phone_code",
        "sms_otp",
        &body.sms_otp,
        move |w, fa, legacy| {
            Box::pin(async move {
                let (Some(cid), Some(phone)) = (legacy.customer_id, fa.code_to.clone()) else {
                    return Err(StoreError::Corrupt("a phone code without a customer".into()));
                };
                w.set_contact(cid, Some(&phone), None).await?;
                w.set_legacy_reached(legacy.id, "email").await?;
                w.set_first_access_step(&fa.id, "email", now + FIRST_ACCESS_TTL).await?;
                w.audit(
                    now,
                    "first_access_phone_certified",
                    &legacy.holder().key,
                    &mask_phone(&phone),
                )
                .await
            })
        },
    )
    .await?;
    answer_state(&state, &id).await
}

/// The e-mail address to validate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailChoice {
    /// Another address; absent: the one the old bank had.
    #[serde(default)]
    pub email: Option<String>,
}

/// Sends a code by e-mail, to validate the address.
#[utoipa::path(post, path = "/api/v1/first-access/{first_access_id}/email", tag = "first-access", request_body = EmailChoice,
    params(("first_access_id" = String, Path)),
    responses((status = 200, body = FirstAccessState, description = "at `email_code`"),
        (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 410, body = Problem), (status = 429, body = Problem)))]
pub async fn email(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body<EmailChoice>,
) -> ApiResult<Json<FirstAccessState>> {
    let chosen = body.email.as_deref().map(check_email).transpose()?;
    let (fa, legacy, customer) = load(&state, &id).await?;
    require_step(&fa, &["email", "email_code"])?;
    if customer.is_none() {
        return Err(AppError::new(ErrorKind::Conflict, "choose the credentials first"));
    }
    let to = chosen.unwrap_or(legacy.email);
    let minutes = state.config().otp_ttl / 60;
    let from = vec!["email".to_owned(), "email_code".to_owned()];
    send_step_code(&state, &id, from, "email_code".into(), |code| {
        Ok(Outgoing::Email {
            text: crate::texts::first_access_email_code(code, minutes),
            to,
        })
    })
    .await?;
    answer_state(&state, &id).await
}

/// The code from the e-mail: the address is validated and the first access ends — the customer
/// has moved, the accounts carried over are theirs, and a confirmation e-mail goes out.
#[utoipa::path(post, path = "/api/v1/first-access/{first_access_id}/email-code", tag = "first-access", request_body = EmailCode,
    params(("first_access_id" = String, Path)),
    responses((status = 200, body = FirstAccessState, description = "at `done`"),
        (status = 400, body = Problem), (status = 401, body = Problem, description = "wrong_otp + attempts_left"),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 410, body = Problem), (status = 423, body = Problem)))]
pub async fn email_code(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body<EmailCode>,
) -> ApiResult<Json<FirstAccessState>> {
    let now = state.now();
    answer_code(&state, &id, "email_code", "code", &body.code, move |w, fa, legacy| {
        Box::pin(async move {
            let (Some(cid), Some(email)) = (legacy.customer_id, fa.code_to.clone()) else {
                return Err(StoreError::Corrupt("an e-mail code without a customer".into()));
            };
            w.set_contact(cid, None, Some(&email)).await?;
            if !w.migrate_legacy(now, legacy.id, cid).await? {
                return Err(StoreError::Corrupt("a legacy customer moved twice".into()));
            }
            let user_code: String = w.user_code_of(cid).await?;
            let sms = legacy.auth_method == "card";
            let text = crate::texts::first_access_done(&legacy.bank_name, &user_code, sms);
            w.outbox(now, &email, "email", &text).await?;
            w.set_first_access_step(&fa.id, "done", now).await?;
            w.end_first_access(now, &fa.id).await?;
            w.audit(now, "first_access_done", &user_code, &legacy.holder().key)
                .await
        })
    })
    .await?;
    answer_state(&state, &id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_phone("+393331234567"), "+39******4567");
        assert_eq!(
            crate::customers::masked_email("giulia.verdi@example.com"),
            "g***@example.com"
        );
        assert_eq!(crate::customers::masked_email("nobody"), "***");
    }
}
