//! The SCA rules of docs/spec/sca1.md §8 on top of storage: checking codes against a customer's
//! devices, the single-use change of an operation's status, counting wrong answers, creating
//! signed operations, SMS OTPs. Handlers call these; every computation of the protocol itself is
//! `sca_protocol`'s.
//!
//! One module per rule: [`codes`] (device codes), [`secrets`] (passwords and security codes),
//! [`approval`] (creating and approving operations), [`otp`] (SMS codes); this file holds what
//! they share: counting a wrong answer and the error it answers with.

mod activation;
mod approval;
mod codes;
mod otp;
mod secrets;

pub(crate) use activation::*;
pub(crate) use approval::*;
pub(crate) use codes::*;
pub(crate) use otp::*;
pub(crate) use secrets::*;

use crate::error::{ApiResult, AppError, ErrorKind};
use crate::state::{AppState, HubEvent};
use crate::storage::{Counted, Credential, Customer, Holder, OperationRow, OperationStatus};

/// The error for a counted answer. (The write that blocks the credential also ended the
/// customer's other web sessions: `storage::credentials`.) A block of the device codes closes
/// the customer's device streams: no push may wait on a device whose codes cannot approve it.
fn counted_error(state: &AppState, customer_id: Option<i64>, counted: Counted, kind: ErrorKind) -> AppError {
    match counted {
        Counted::Wrong { attempts_left } => {
            if attempts_left == 0
                && kind == ErrorKind::WrongCode
                && let Some(cid) = customer_id
            {
                state.0.hub.publish(cid, HubEvent::CodesBlocked);
            }
            AppError::counted(kind, attempts_left)
        }
        Counted::Blocked => AppError::blocked(),
    }
}

/// How an operation failed by a wrong answer is recorded (`operations.decided_by`).
pub(crate) const FAILED_BY_WRONG_ANSWER: &str = "wrong_answer";

tokio::task_local! {
    /// The session cookie of the request being served, if any (set by the app's middleware).
    pub(crate) static SESSION_COOKIE: Option<String>;
}

/// Runs `work` to its end even if the client hangs up or the request times out: a write that
/// commits must be followed by what goes with it in memory (ending the customer's other sessions,
/// closing device streams), and a handler's future stops at its next await once dropped. The task
/// carries the request's session cookie.
pub(crate) async fn to_the_end<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> Result<T, AppError> {
    let cookie = current_session();
    tokio::spawn(SESSION_COOKIE.scope(cookie, work))
        .await
        .map_err(AppError::internal)
}

/// The session cookie of the request this task serves.
pub(crate) fn current_session() -> Option<String> {
    SESSION_COOKIE.try_with(Clone::clone).ok().flatten()
}

/// The key of the session of the request this task serves: the one a block leaves open.
pub(crate) fn current_session_key() -> Option<crate::storage::SessionKey> {
    current_session().map(|token| crate::sessions::key(&token))
}

/// Counts a wrong answer for `credential` and returns the error to answer with: 401 with
/// `attempts_left`, or 423 once blocked. Optionally moves a pending operation to `failed` in the
/// same commit (a wrong number-matching pick).
pub(crate) async fn wrong_answer(
    state: &AppState,
    customer: &Customer,
    credential: Credential,
    detail: &str,
    fail_operation: Option<&OperationRow>,
) -> AppError {
    // The count, and what a block brings with it, happen whatever the client does meanwhile.
    let (state, customer, detail, fail_operation) = (
        state.clone(),
        customer.clone(),
        detail.to_owned(),
        fail_operation.cloned(),
    );
    to_the_end(async move {
        let now = state.now();
        let max = state.config().max_attempts;
        let holder = Holder::new(&customer, current_session_key());
        let fail = fail_operation.as_ref().map(|o| (o.id, o.op_id.clone()));
        let result = state
            .store()
            .write(move |w| {
                Box::pin(async move {
                    let counted = w.count_failure(now, &holder, credential, max, &detail).await?;
                    if let Some((row, op_id)) = fail
                        && w.decide_operation(row, OperationStatus::Failed, now, FAILED_BY_WRONG_ANSWER)
                            .await?
                    {
                        w.audit(
                            now,
                            "operation_failed",
                            &holder.user_code,
                            &format!("{op_id}: {detail}"),
                        )
                        .await?;
                    }
                    Ok(counted)
                })
            })
            .await;
        if let Some(op) = fail_operation {
            state.0.hub.publish(
                customer.id,
                HubEvent::Status {
                    op_id: op.op_id,
                    status: OperationStatus::Failed,
                },
            );
        }
        let kind = match credential {
            Credential::Password | Credential::SecurityCode => ErrorKind::InvalidCredentials,
            Credential::Code => ErrorKind::WrongCode,
            Credential::SmsOtp => ErrorKind::WrongOtp,
        };
        match result {
            Ok(counted) => {
                state.messages_queued();
                counted_error(&state, Some(customer.id), counted, kind)
            }
            Err(e) => AppError::from(e),
        }
    })
    .await
    .unwrap_or_else(|e| e)
}

/// The outcome of spending an SMS code or a TRANSACTION code's step in the write that acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spent {
    /// Spent now, by this write.
    Now,
    /// The customer's SMS codes got blocked since it was checked.
    Blocked,
    /// This recovery code took its wrong answers since it was checked.
    Exhausted,
    /// Already used or expired.
    Gone,
}

impl Spent {
    /// `Ok` for [`Spent::Now`], the error to answer with otherwise.
    pub(crate) fn ok(self) -> ApiResult<()> {
        match self {
            Self::Now => Ok(()),
            Self::Blocked => Err(AppError::blocked()),
            Self::Exhausted => Err(otp_spent_error()),
            Self::Gone => Err(AppError::not_pending()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use super::*;

    /// What follows a committed write must happen even when the handler that waits for it is
    /// dropped (the client hung up, the request timed out): `to_the_end` keeps the work running.
    #[tokio::test]
    async fn work_run_to_the_end_survives_the_caller_being_dropped() {
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        let handler = tokio::spawn(async move {
            to_the_end(async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                flag.store(true, Ordering::SeqCst);
            })
            .await
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        handler.abort();
        assert!(handler.await.unwrap_err().is_cancelled());
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(done.load(Ordering::SeqCst), "the work stopped with its caller");
    }

    /// The work runs with the request's session cookie, as `counted_error` needs to keep it.
    #[tokio::test]
    async fn the_work_sees_the_requests_session_cookie() {
        let seen = SESSION_COOKIE
            .scope(Some("cookie-1".into()), to_the_end(async { current_session() }))
            .await
            .unwrap();
        assert_eq!(seen.as_deref(), Some("cookie-1"));
    }
}
