//! Passwords and security codes: count-then-verify around argon2id (PSD2 RTS art. 4(3)(b)), the
//! same for user names that are no customer's.

use std::sync::Arc;

use super::*;
use crate::api::extract::ClientIp;
use crate::error::{ApiResult, AppError, ErrorKind};
use crate::state::AppState;
use crate::storage::{Credential, Customer, Holder, LegacyHolder, Settle, Subject};

/// How many times a failed write that settles an attempt is retried before the answer fails:
/// a passing `SQLITE_BUSY` or a full writer queue, never a wrong answer.
const SETTLE_RETRIES: u64 = 3;

/// Checks a password or a security code by count-then-verify (PSD2 RTS art. 4(3)(b): at most
/// `max_attempts` wrong answers, however many arrive at once): one write takes an attempt —
/// refused (423) when the credential is blocked or every attempt left is already being
/// evaluated —, then the argon2id hash is evaluated, then a second write settles the attempt: a
/// right answer resets the count when `reset_on_right`, a wrong one is counted and on the last
/// one blocks. A user name that is no customer's takes the very same steps against a dummy hash
/// and counters of its own, so statuses, `attempts_left` and work tell nobody which it is.
///
/// First of all, the client's token bucket: one address cannot take the hashing queue from the
/// others (429 with `Retry-After`).
///
/// The three steps run in a task of their own: a client that hangs up mid-hash cannot leave its
/// attempt taken and never settled.
pub(crate) async fn check_secret(
    state: &AppState,
    client: ClientIp,
    user: &str,
    secret: &str,
    credential: Credential,
    reset_on_right: bool,
    detail: &'static str,
) -> ApiResult<Customer> {
    // In front of everything else, so a client beyond its rate neither hashes nor takes an
    // attempt of anyone's.
    state.take_login_token(client.0).await?;
    let (state, user, secret) = (
        state.clone(),
        user.to_owned(),
        zeroize::Zeroizing::new(secret.to_owned()),
    );
    let cookie = current_session();
    tokio::spawn(SESSION_COOKIE.scope(cookie, async move {
        check_secret_now(&state, &user, secret, credential, reset_on_right, detail).await
    }))
    .await
    .map_err(AppError::internal)?
}

/// The owned parts of a [`Subject`], to move into a write job.
pub(crate) enum Whose {
    Customer(Holder),
    Unknown(String),
    Legacy(LegacyHolder),
}

impl Whose {
    fn subject(&self) -> Subject<'_> {
        match self {
            Self::Customer(holder) => Subject::Customer(holder),
            Self::Unknown(user) => Subject::Unknown(user),
            Self::Legacy(holder) => Subject::Legacy(holder),
        }
    }

    fn customer_id(&self) -> Option<i64> {
        match self {
            Self::Customer(holder) => Some(holder.id),
            _ => None,
        }
    }
}

async fn check_secret_now(
    state: &AppState,
    user: &str,
    secret: zeroize::Zeroizing<String>,
    credential: Credential,
    reset_on_right: bool,
    detail: &'static str,
) -> ApiResult<Customer> {
    let customer = state.store().customer_by_user(user).await?;
    let whose = match &customer {
        Some(c) => Whose::Customer(Holder::new(c, current_session_key())),
        None => Whose::Unknown(user.to_ascii_lowercase()),
    };
    let phc = customer.as_ref().map(|c| match credential {
        Credential::SecurityCode => c.security_code_hash.clone(),
        _ => c.password_hash.clone(),
    });
    let verify = move |h: &crate::crypto::PasswordHashing| match phc {
        Some(phc) => h.verify(&secret, &phc),
        None => {
            h.verify_dummy(&secret);
            false
        }
    };
    counted_verify(state, whose, credential, verify, reset_on_right, detail).await?;
    let customer = customer.ok_or_else(|| AppError::internal("a right answer without a customer"))?;
    // Told only to whoever knows the secret: the user code of a first access that has not
    // ended opens nothing yet.
    if customer.first_access_pending {
        return Err(AppError::new(
            ErrorKind::FirstAccessUnfinished,
            "finish the first access from the login page's box of your former bank first",
        ));
    }
    Ok(customer)
}

/// The three steps of count-then-verify ([`check_secret`]) for whoever `whose` is: take an
/// attempt (423 when none is left), run `verify` on the hashing pool, settle the attempt. `Ok`
/// when the answer was right; 401 with the attempts left when it was wrong.
pub(crate) async fn counted_verify(
    state: &AppState,
    whose: Whose,
    credential: Credential,
    verify: impl FnOnce(&crate::crypto::PasswordHashing) -> bool + Send + 'static,
    reset_on_right: bool,
    detail: &'static str,
) -> ApiResult<()> {
    let max = state.config().max_attempts;
    let whose = Arc::new(whose);
    let now = state.now();
    let w2 = whose.clone();
    let taken = state
        .store()
        .write(move |w| Box::pin(async move { w.take_attempt(now, &w2.subject(), credential, max).await }))
        .await?;
    if !taken {
        return Err(AppError::blocked());
    }
    let verdict = state.hashing(verify).await;
    let settle = match &verdict {
        Ok(true) => Settle::Right { reset: reset_on_right },
        Ok(false) => Settle::Wrong,
        Err(_) => Settle::NotEvaluated,
    };
    // The settle must not be lost: a batch that failed was rolled back whole, so the write is
    // tried again (an attempt left taken holds its place until it is a minute old, then counts as wrong).
    let mut tries = 0;
    let counted = loop {
        let (whose, now) = (whose.clone(), state.now());
        let settled = state
            .store()
            .write(move |w| {
                Box::pin(async move {
                    w.settle_attempt(now, &whose.subject(), credential, settle, max, detail)
                        .await
                })
            })
            .await;
        match settled {
            Ok(counted) => break counted,
            Err(e) if tries < SETTLE_RETRIES => {
                tries += 1;
                tracing::warn!(error = %e, tries, "settling an attempt failed; trying again");
                tokio::time::sleep(std::time::Duration::from_millis(50 * tries)).await;
            }
            Err(e) => return Err(e.into()),
        }
    };
    if verdict? {
        return Ok(());
    }
    state.messages_queued();
    Err(counted_error(
        state,
        whose.customer_id(),
        counted,
        ErrorKind::InvalidCredentials,
    ))
}

/// Checks the password of a customer of an acquired bank by count-then-verify, as
/// [`check_secret`] does: `Ok(hash)` the legacy customer's password hash (PHC or bcrypt);
/// `Err(stand_in)` for a legacy code that never existed, which takes the same steps against a
/// hash of the same bank (or the server's dummy) and is wrong whatever it says.
pub(crate) async fn check_legacy_password(
    state: &AppState,
    client: ClientIp,
    holder: LegacyHolder,
    hash: Result<String, Option<String>>,
    password: &str,
) -> ApiResult<()> {
    state.take_login_token(client.0).await?;
    let (state, password) = (state.clone(), zeroize::Zeroizing::new(password.to_owned()));
    let verify = move |h: &crate::crypto::PasswordHashing| match hash {
        Ok(hash) => crate::legacy::verify_legacy_password(&hash, &password),
        Err(Some(stand_in)) => {
            let _ = crate::legacy::verify_legacy_password(&stand_in, &password);
            false
        }
        Err(None) => {
            h.verify_dummy(&password);
            false
        }
    };
    tokio::spawn(async move {
        counted_verify(
            &state,
            Whose::Legacy(holder),
            Credential::Password,
            verify,
            true,
            "first access",
        )
        .await
    })
    .await
    .map_err(AppError::internal)?
}

/// A user code or alias as typed: at most 64 characters (as the contract's `maxLength` counts
/// them, spaces included), not blank.
fn user_field(user: &str) -> ApiResult<&str> {
    let typed = user.chars().count();
    let user = user.trim();
    if user.is_empty() || typed > 64 {
        return Err(AppError::bad_request(
            "user",
            "a user code or alias is 1 to 64 characters",
        ));
    }
    Ok(user)
}

/// Checks user and password by count-then-verify ([`check_secret`]); a right password
/// resets the count. Returns the customer.
pub(crate) async fn check_password(
    state: &AppState,
    client: ClientIp,
    user: &str,
    password: &str,
) -> ApiResult<Customer> {
    let user = user_field(user)?;
    if password.chars().count() > 64 {
        return Err(AppError::bad_request("password", "at most 64 characters"));
    }
    check_secret(state, client, user, password, Credential::Password, true, "login").await
}

/// The argon2id hash of a new password, made on the hashing pool (a password change, a reset).
pub(crate) async fn hash_new_password(state: &AppState, password: &str) -> ApiResult<String> {
    let password = password.to_owned();
    state
        .hashing(move |h| h.hash(&password))
        .await?
        .map_err(AppError::internal)
}
