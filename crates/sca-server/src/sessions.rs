//! Web-banking sessions and the login rate per client address: the rules. Both live in the
//! database (`storage::sessions`), so any instance serves any request and a restart logs nobody
//! out (issue 13).
//!
//! - A session is named by the SHA-256 of its cookie value ([`key`]); the value is never stored.
//! - It ends `session_idle` seconds after its last request and `session_lifetime` seconds after
//!   login, whichever comes first. Its last request is written at most every [`TOUCH_EVERY`]
//!   seconds, or a twentieth of the idle time if that is shorter ([`touch_every`]): one write
//!   per active session per interval, not per request. So a session may end up to that much
//!   *before* its idle time, never after it (RTS art. 4(3)(d) sets a maximum).
//! - It has completed strong authentication when its login operation is approved, and it is
//!   held to the password change while its customer's row says the bank issued the password:
//!   both are read, not copied, so no write can leave a session out of step with them.
//! - What ends a customer's sessions (a block, a new password, a reset, the branch's unblock)
//!   does so in the write that makes the change.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use sca_protocol::sha256;

use crate::crypto::random;
use crate::error::{ApiResult, AppError, ErrorKind};
use crate::state::AppState;
use crate::storage::{Customer, OperationStatus, SessionKey};

/// Seconds between two writes of a session's last request, at most.
pub const TOUCH_EVERY: u64 = 15;

/// Seconds between two writes of a session's last request for an idle time of `idle` seconds:
/// [`TOUCH_EVERY`], or a twentieth of the idle time (at least a second) if that is shorter, so
/// that a short idle time (a kiosk's, a test's) is still kept alive by each request.
pub fn touch_every(idle: u64) -> u64 {
    (idle / 20).clamp(1, TOUCH_EVERY)
}

/// Seconds between two sweeps of ended sessions and refilled login buckets (by this instance).
const SWEEP_EVERY: u64 = 60;

/// A session's key: the SHA-256 of its cookie value.
pub fn key(token: &str) -> SessionKey {
    sha256(token.as_bytes())
}

/// A web-banking session, as a request finds it.
#[derive(Debug, Clone)]
pub struct Session {
    /// Its key.
    pub key: SessionKey,
    /// The customer's row, as it is now.
    pub customer: Arc<Customer>,
    /// The login that made the session.
    pub login_id: String,
    /// The CSRF token.
    pub csrf: String,
    /// Strong authentication complete: its login operation is approved.
    pub authenticated: bool,
}

/// A session just made: the cookie value and the CSRF token.
#[derive(Debug)]
pub struct NewSession {
    /// The cookie value.
    pub token: String,
    /// The CSRF token.
    pub csrf: String,
}

impl AppState {
    /// Makes a session for `customer`'s login `login_id` (not authenticated until that login's
    /// operation is approved).
    pub(crate) async fn start_session(&self, customer_id: i64, login_id: &str) -> ApiResult<NewSession> {
        let token = random::b64u(&self.0.rng, 32).map_err(AppError::internal)?;
        let csrf = random::b64u(&self.0.rng, 32).map_err(AppError::internal)?;
        let now = self.now();
        let (k, login_id, csrf_row) = (key(&token), login_id.to_owned(), csrf.clone());
        let cfg = self.config();
        // Now and then, ended sessions and full buckets are dropped in the same write.
        let last = self.0.last_sweep.load(Ordering::Relaxed);
        let sweep = now >= last + SWEEP_EVERY
            && self
                .0
                .last_sweep
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok();
        let idle_before = now.saturating_sub(cfg.session_idle);
        let made_before = now.saturating_sub(cfg.session_lifetime);
        let bucket = (cfg.login_burst, cfg.login_per_second.max(1));
        self.store()
            .write(move |w| {
                Box::pin(async move {
                    if sweep {
                        w.sweep_sessions(idle_before, made_before, now, bucket).await?;
                    }
                    w.insert_session(&k, customer_id, &login_id, &csrf_row, now).await
                })
            })
            .await?;
        Ok(NewSession { token, csrf })
    }

    /// The session of cookie value `token`, touched now: 401 `unauthenticated` when there is
    /// none, 401 `session_expired` when it just ended (it is removed: the next request finds
    /// none).
    pub(crate) async fn session(&self, token: &str) -> ApiResult<Session> {
        let k = key(token);
        let row = self
            .store()
            .session(&k)
            .await?
            .ok_or_else(|| AppError::new(ErrorKind::Unauthenticated, "log in first"))?;
        let (now, cfg) = (self.now(), self.config());
        let (last_seen, created_at) = (row.last_seen as u64, row.created_at as u64);
        if now >= last_seen + cfg.session_idle || now >= created_at + cfg.session_lifetime {
            self.store()
                .write(move |w| Box::pin(async move { w.end_session(&k).await }))
                .await?;
            return Err(AppError::new(
                ErrorKind::SessionExpired,
                "the session has ended; log in again",
            ));
        }
        if now >= last_seen + touch_every(cfg.session_idle) {
            self.store()
                .write(move |w| Box::pin(async move { w.touch_session(&k, now).await }))
                .await?;
        }
        Ok(Session {
            key: k,
            authenticated: row.login_status == Some(OperationStatus::Approved),
            customer: Arc::new(row.customer),
            login_id: row.login_id,
            csrf: row.csrf,
        })
    }

    /// Takes a token from `client`'s bucket before a password or security code is checked
    /// (`login_burst` tokens, `login_per_second` back each second; one bucket per IPv6 /64, what
    /// one subscriber gets, and per IPv4 address, shared by every instance): `Err` is 429 with
    /// the seconds to wait. No client address (a server embedded without one) is not limited.
    pub(crate) async fn take_login_token(&self, client: Option<std::net::IpAddr>) -> ApiResult<()> {
        let cfg = self.config();
        let (Some(ip), burst) = (client, cfg.login_burst) else {
            return Ok(());
        };
        if burst == 0 {
            return Ok(());
        }
        let rate = cfg.login_per_second.max(1);
        let ip = match ip {
            std::net::IpAddr::V6(v6) => {
                let mut o = v6.octets();
                o[8..].fill(0);
                std::net::IpAddr::V6(o.into())
            }
            v4 => v4,
        };
        let now = self.now();
        let client = ip.to_string();
        let taken = self
            .store()
            .write(move |w| Box::pin(async move { w.take_login_token(&client, now, burst, rate).await }))
            .await?;
        if !taken {
            return Err(AppError::retry_after(
                "too many logins from this address: try again in a moment",
                1,
            ));
        }
        Ok(())
    }
}
