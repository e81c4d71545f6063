//! Device codes: matching a code against every device of the customer in constant time, and
//! TRANSACTION codes ("OTP dispositiva") found right now and spent in the write that acts on them.

use sca_protocol::{Code, CodeInput, Operation, Step};

use super::*;
use crate::crypto::random;
use crate::error::{ApiResult, AppError};
use crate::state::{AppState, DeviceKeys};
use crate::storage::{Credential, Customer};

/// Which kinds of code an answer may be.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Allowed {
    /// OPERATION codes for the operation (dynamic linking).
    pub operation: bool,
    /// OPERATION_ID codes for the operation.
    pub operation_id: bool,
    /// LOGIN codes (step window).
    pub login: bool,
    /// TRANSACTION codes (step window).
    pub transaction: bool,
}

/// The codes that may authorize `op` (the bank's policy, `Config`): the OPERATION code always;
/// the OPERATION_ID code (no dynamic linking of the amount) up to `operation_id_code_max_minor`;
/// a TRANSACTION code only for a payment at or below `transaction_code_max_minor`, never for a
/// login or a new device.
pub(crate) fn allowed_for(config: &crate::config::Config, op: &OperationRow) -> Allowed {
    let amount = op.amount_minor.unwrap_or(0).max(0) as u64;
    let kind = sca_protocol::Kind::parse(&op.kind).ok();
    Allowed {
        operation: true,
        operation_id: op.amount_minor.is_none() || amount <= config.operation_id_code_max_minor,
        login: false,
        transaction: !matches!(kind, Some(sca_protocol::Kind::Login | sca_protocol::Kind::Device))
            && config.transaction_code_max_minor > 0
            && amount <= config.transaction_code_max_minor,
    }
}

/// Which device made a right code, and the step it used (LOGIN/TRANSACTION).
#[derive(Debug, Clone)]
pub(crate) struct CodeMatch {
    pub device_id: String,
    /// `(is_transaction, step)`.
    pub step: Option<(bool, u64)>,
}

/// Checks `code` against every allowed code of every device, each comparison in constant time
/// and with no early exit, so timing tells nothing of which device or purpose was near.
pub(crate) fn match_code(
    keys: &[DeviceKeys],
    code: &Code,
    op: Option<&Operation>,
    allowed: Allowed,
    now: u64,
    only_device: Option<&str>,
) -> Option<CodeMatch> {
    let now_step = Step::at(now).0;
    let steps = [now_step.saturating_sub(1), now_step, now_step + 1];
    let data_sha = op.map(|o| o.data_sha());
    let mut found: Option<CodeMatch> = None;
    for device in keys {
        if only_device.is_some_and(|d| d != device.device_id) {
            continue;
        }
        let mut check = |input: CodeInput<'_>, step: Option<(bool, u64)>| {
            let fits = input.code(&device.k_poss, &device.k_know).ct_eq(code);
            if fits && found.is_none() {
                found = Some(CodeMatch {
                    device_id: device.device_id.clone(),
                    step,
                });
            }
        };
        if let (Some(op), Some(sha)) = (op, data_sha.as_ref()) {
            if allowed.operation {
                check(
                    CodeInput::Operation {
                        op_id: &op.op_id,
                        nonce: &op.nonce,
                        data_sha: sha,
                    },
                    None,
                );
            }
            if allowed.operation_id {
                check(CodeInput::OperationId(&op.op_id), None);
            }
        }
        for &s in &steps {
            if allowed.login {
                check(CodeInput::Login(Step(s)), Some((false, s)));
            }
            if allowed.transaction {
                check(CodeInput::Transaction(Step(s)), Some((true, s)));
            }
        }
    }
    found
}

/// Checks a TRANSACTION code ("OTP dispositiva": a change that needs no dynamic linking) against
/// the customer's devices, or one device: a right code spends its step and resets the count; a
/// wrong or replayed one is a wrong answer. `what` names the change in the audit log.
pub(crate) async fn check_transaction_code(
    state: &AppState,
    customer: &Customer,
    code: &Code,
    only_device: Option<&str>,
    what: &'static str,
) -> ApiResult<()> {
    let right = match_transaction_code(state, customer, code, only_device, what).await?;
    let (cid, user_code, max) = (customer.id, customer.user_code.clone(), state.config().max_attempts);
    let spent = state
        .store()
        .write(move |w| Box::pin(async move { right.spend(w, cid, &user_code, max).await }))
        .await?;
    right_code_spent(state, customer, spent).await
}

/// A TRANSACTION code found right, not yet spent: its device, step and what it confirms.
#[derive(Debug, Clone)]
pub(crate) struct RightCode {
    device_id: String,
    step: u64,
    now: u64,
    what: &'static str,
}

/// Finds which device's TRANSACTION code `code` is; a wrong one is counted. The step is spent
/// later, by [`RightCode::spend`] in the write that acts on it.
pub(crate) async fn match_transaction_code(
    state: &AppState,
    customer: &Customer,
    code: &Code,
    only_device: Option<&str>,
    what: &'static str,
) -> ApiResult<RightCode> {
    if state.store().failures(customer.id).await?.code >= state.config().max_attempts {
        return Err(AppError::blocked());
    }
    let keys = state.device_keys(customer.id).await?;
    let now = state.now();
    let allowed = Allowed {
        transaction: true,
        ..Allowed::default()
    };
    let found = match_code(&keys, code, None, allowed, now, only_device);
    let Some((device_id, Some((_, step)))) = found.map(|m| (m.device_id, m.step)) else {
        return Err(wrong_answer(state, customer, Credential::Code, what, None).await);
    };
    Ok(RightCode {
        device_id,
        step,
        now,
        what,
    })
}

impl RightCode {
    /// Spends the code's step inside a write job: refused when the codes got blocked since the
    /// code was matched (wrong answers that arrived at the same time are counted in the same
    /// batch order), `Gone` when the step was already spent (a replay). A right code resets the
    /// count of wrong ones.
    pub(crate) async fn spend(
        &self,
        w: &mut crate::storage::WriteCtx,
        customer_id: i64,
        user_code: &str,
        max: u32,
    ) -> Result<Spent, crate::storage::StoreError> {
        if w.is_blocked(customer_id, Credential::Code, max).await? {
            return Ok(Spent::Blocked);
        }
        if !w.accept_step(&self.device_id, true, self.step).await? {
            return Ok(Spent::Gone);
        }
        w.reset_failures(customer_id, Credential::Code).await?;
        w.audit(
            self.now,
            "transaction_code_accepted",
            user_code,
            &format!("{}, device {}", self.what, self.device_id),
        )
        .await?;
        Ok(Spent::Now)
    }
}

/// The answer to a TRANSACTION code once [`RightCode::spend`] ran: a replayed step is a wrong
/// answer.
pub(crate) async fn right_code_spent(state: &AppState, customer: &Customer, spent: Spent) -> ApiResult<()> {
    match spent {
        Spent::Gone => Err(wrong_answer(state, customer, Credential::Code, "replayed step", None).await),
        other => other.ok(),
    }
}

/// A two-digit number for number matching (10–99).
pub(crate) fn matching_number(state: &AppState) -> ApiResult<u8> {
    let below = random::below(&state.0.rng, 90).map_err(AppError::internal)?;
    Ok(u8::try_from(below).map_err(AppError::internal)? + 10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sca_protocol::{KnowledgeKey, PossessionKey};

    fn device(id: &str, seed: u8) -> DeviceKeys {
        DeviceKeys {
            device_id: id.into(),
            k_poss: PossessionKey::from_bytes([seed; 32]),
            k_know: KnowledgeKey::from_bytes([seed + 1; 32]),
        }
    }

    #[test]
    fn codes_match_the_right_device_purpose_and_step_window() {
        let keys = vec![device("a", 1), device("b", 3)];
        let now = 1_700_000_000;
        let step = Step::at(now).0;
        let login = |d: &DeviceKeys, s: u64| CodeInput::Login(Step(s)).code(&d.k_poss, &d.k_know);
        let allowed = Allowed {
            login: true,
            ..Allowed::default()
        };
        for s in [step - 1, step, step + 1] {
            let m = match_code(&keys, &login(&keys[1], s), None, allowed, now, None).unwrap();
            assert_eq!((m.device_id.as_str(), m.step), ("b", Some((false, s))));
        }
        for s in [step - 2, step + 2] {
            let code = login(&keys[1], s);
            // A code of a step outside the window fits nothing (unless by a 1e-6 chance).
            if let Some(m) = match_code(&keys, &code, None, allowed, now, None) {
                assert_ne!(m.step, Some((false, s)));
            }
        }
        // A LOGIN code is not a TRANSACTION code, and the device filter holds.
        let code = login(&keys[0], step);
        let tx_only = Allowed {
            transaction: true,
            ..Allowed::default()
        };
        assert!(match_code(&keys, &code, None, tx_only, now, None).is_none());
        assert!(match_code(&keys, &code, None, allowed, now, Some("b")).is_none());
        assert!(match_code(&keys, &code, None, allowed, now, Some("a")).is_some());
    }
}
