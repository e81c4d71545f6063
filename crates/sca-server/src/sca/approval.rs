//! Operations: creating and signing them, and approving one exactly once in the write that
//! checks the block, the status, the expiry and the freshness of the answer.

use sca_protocol::{Kind, Nonce, OpId, Operation, OperationData, SignedPayload, UncheckedPayload};

use super::*;
use crate::error::{ApiResult, AppError, ErrorKind};
use crate::state::{AppState, HubEvent};
use crate::storage::writer::{Approval, ApprovalAnswer, Booking, NewOperation};
use crate::storage::{Counted, Credential, Customer, Holder, OperationRow, OperationStatus};

/// The operation a stored payload describes (the server signed it; no signature check needed).
pub(crate) fn stored_operation(row: &OperationRow) -> ApiResult<Operation> {
    UncheckedPayload::parse(&row.payload)
        .map(|p| p.operation().clone())
        .map_err(|e| AppError::internal(format!("stored payload of operation {}: {e}", row.id)))
}

/// Whether `op` can still be answered at `now`: 410 once expired, 409 once decided. (The write
/// that approves checks again; this spares the evaluation of an answer that cannot count.)
pub(crate) fn answerable(op: &OperationRow, now: u64) -> ApiResult<()> {
    match op.status_at(now) {
        OperationStatus::Pending => Ok(()),
        OperationStatus::Expired => Err(AppError::expired()),
        _ => Err(AppError::not_pending()),
    }
}

/// How an answer was given.
#[derive(Debug, Clone)]
pub(crate) enum Via {
    /// A right code typed into a page.
    Code(CodeMatch),
    /// A push approval from a device (its code and signature already checked).
    Device(String),
    /// An SMS OTP (its value already checked).
    Sms(String),
}

impl Via {
    fn credential(&self) -> Credential {
        match self {
            Self::Sms(_) => Credential::SmsOtp,
            Self::Code(_) | Self::Device(_) => Credential::Code,
        }
    }

    /// The device that answered, if a device did.
    fn device(&self) -> Option<&str> {
        match self {
            Self::Code(m) => Some(&m.device_id),
            Self::Device(d) => Some(d),
            Self::Sms(_) => None,
        }
    }

    fn by(&self) -> String {
        match self {
            Self::Code(m) => format!("code:{}", m.device_id),
            Self::Device(d) => format!("device:{d}"),
            Self::Sms(_) => "sms".to_owned(),
        }
    }
}

#[derive(Debug)]
enum Outcome {
    Approved,
    NotPending,
    Expired,
    Blocked,
    Wrong(Counted),
    InsufficientFunds,
    /// A credit card purchase its card's monthly limit does not cover: failed.
    OverLimit,
    /// A PAGOPA whose notice another operation paid: failed.
    NoticePaid,
}

/// Approves a pending operation once: checks (inside the writer, so atomically) that the
/// credential is not blocked, the operation still pending and unexpired, a LOGIN/TRANSACTION step
/// is fresh, an SMS OTP unused; then books a transfer, flips the status and audits, all in one
/// commit. Returns after the commit.
pub(crate) async fn approve(state: &AppState, customer: &Customer, op: &OperationRow, via: Via) -> ApiResult<()> {
    let now = state.now();
    let max = state.config().max_attempts;
    let cid = customer.id;
    let holder = Holder::new(customer, current_session_key());
    let (op_row, kind, op_id) = (op.id, op.kind.clone(), op.op_id.clone());
    // OPERATION / OPERATION_ID codes and push approvals need nothing but the one conditional
    // UPDATE (its triggers book the money and reset the count): the hot path, without a
    // savepoint. Time-step codes and SMS OTPs also spend the step or the OTP first.
    let fast = matches!(&via, Via::Device(_) | Via::Code(CodeMatch { step: None, .. }));
    let answer = ApprovalAnswer {
        id: op_row,
        at: now,
        by: via.by(),
        customer_id: cid,
        credential: via.credential(),
        max,
        device: via.device().map(str::to_owned),
    };
    let args = ApproveArgs {
        fast,
        via,
        answer: answer.clone(),
        holder,
        kind,
        op_id,
    };
    let outcome = if fast {
        state
            .store()
            .write_approval(answer, move |w| Box::pin(approve_in_writer(w, args)))
            .await?
    } else {
        state
            .store()
            .write(move |w| Box::pin(approve_in_writer(w, args)))
            .await?
    };
    if !matches!(outcome, Outcome::Wrong(_) | Outcome::Blocked) {
        state.forget_operation(cid, &op.op_id);
    } else {
        // The keys that matched may be of a device removed by another instance: read them again.
        state.forget_device_keys_here(cid);
    }
    match outcome {
        Outcome::Approved => {
            state.0.hub.publish(
                cid,
                HubEvent::Status {
                    op_id: op.op_id.clone(),
                    status: OperationStatus::Approved,
                },
            );
            // (A session is authenticated by its login operation's approval, read as it is:
            // `sessions.rs`.)
            Ok(())
        }
        Outcome::NotPending => Err(AppError::not_pending()),
        Outcome::Expired => {
            state.0.hub.publish(
                cid,
                HubEvent::Status {
                    op_id: op.op_id.clone(),
                    status: OperationStatus::Expired,
                },
            );
            Err(AppError::expired())
        }
        Outcome::Blocked => Err(AppError::blocked()),
        Outcome::Wrong(counted) => {
            state.messages_queued();
            Err(counted_error(state, Some(cid), counted, ErrorKind::WrongCode))
        }
        // Failed in the write: the account short of the amount, the card's monthly limit, or the
        // notice paid meanwhile.
        Outcome::InsufficientFunds | Outcome::OverLimit | Outcome::NoticePaid => {
            state.0.hub.publish(
                cid,
                HubEvent::Status {
                    op_id: op.op_id.clone(),
                    status: OperationStatus::Failed,
                },
            );
            Err(if matches!(outcome, Outcome::NoticePaid) {
                AppError::new(
                    ErrorKind::NoticePaid,
                    "the pagoPA notice has been paid already; the operation failed",
                )
            } else if matches!(outcome, Outcome::OverLimit) {
                AppError::over_limit()
            } else {
                AppError::new(
                    ErrorKind::InsufficientFunds,
                    "the account does not hold the amount; the operation failed",
                )
            })
        }
    }
}

struct ApproveArgs {
    fast: bool,
    via: Via,
    answer: ApprovalAnswer,
    holder: Holder,
    kind: String,
    op_id: String,
}

async fn approve_in_writer(
    w: &mut crate::storage::WriteCtx,
    a: ApproveArgs,
) -> Result<Outcome, crate::storage::StoreError> {
    let ApproveArgs {
        fast,
        via: via2,
        answer,
        holder,
        kind,
        op_id,
    } = a;
    let (cid, user_code) = (holder.id, holder.user_code.as_str());
    let (op_row, now, max, credential, by) = (answer.id, answer.at, answer.max, answer.credential, &answer.by);
    if !fast {
        if w.is_blocked(cid, credential, max).await? {
            return Ok(Outcome::Blocked);
        }
        match w.operation(op_row).await? {
            Some(current) if current.status.is_pending() && now < current.expires_at as u64 => {}
            _ => return classify(w, op_row, now, user_code, &op_id, cid, credential, max).await,
        }
        if let Via::Code(CodeMatch {
            device_id,
            step: Some((transaction, step)),
        }) = &via2
            && !w.accept_step(device_id, *transaction, *step).await?
        {
            let counted = w
                .count_failure(now, &holder, credential, max, "replayed time-step code")
                .await?;
            return Ok(Outcome::Wrong(counted));
        }
        if let Via::Sms(otp_id) = &via2
            && !w.use_otp(otp_id, now, i64::MAX).await?
        {
            return Ok(Outcome::Expired);
        }
    }
    match w.approve_operation(&answer).await? {
        Approval::Approved => {
            w.audit(now, "operation_approved", user_code, &format!("{op_id} {kind} by {by}"))
                .await?;
            Ok(Outcome::Approved)
        }
        Approval::InsufficientFunds => {
            w.fail_short(op_row, now, by, user_code, &op_id, Approval::InsufficientFunds)
                .await?;
            Ok(Outcome::InsufficientFunds)
        }
        Approval::OverLimit => {
            w.fail_short(
                op_row,
                now,
                Approval::OverLimit.failed_by(),
                user_code,
                &op_id,
                Approval::OverLimit,
            )
            .await?;
            Ok(Outcome::OverLimit)
        }
        Approval::NotApproved => {
            // An answer of a device removed meanwhile (this instance may have missed the hint and
            // still hold its keys) counts as a wrong one, as it would had its keys been dropped.
            if let Some(device) = &answer.device
                && !w.device_active(cid, device).await?
            {
                if w.is_blocked(cid, credential, max).await? {
                    return Ok(Outcome::Blocked);
                }
                let counted = w
                    .count_failure(
                        now,
                        &holder,
                        credential,
                        max,
                        &format!("{op_id}: answer of a removed device"),
                    )
                    .await?;
                return Ok(Outcome::Wrong(counted));
            }
            classify(w, op_row, now, user_code, &op_id, cid, credential, max).await
        }
    }
}

/// Why an operation could not be approved: blocked, not pending, or expired (then marked so).
#[allow(clippy::too_many_arguments)]
async fn classify(
    w: &mut crate::storage::WriteCtx,
    op_row: i64,
    now: u64,
    user_code: &str,
    op_id: &str,
    cid: i64,
    credential: Credential,
    max: u32,
) -> Result<Outcome, crate::storage::StoreError> {
    if w.is_blocked(cid, credential, max).await? {
        return Ok(Outcome::Blocked);
    }
    let current = w.operation(op_row).await?;
    let notice_paid = match &current {
        Some(c) if c.status.is_pending() && c.kind == Kind::PagoPa.as_str() => w.pagopa_paid_for(op_row).await?,
        _ => false,
    };
    match current {
        Some(current) if current.status.is_pending() && now >= current.expires_at as u64 => {
            if w.decide_operation(op_row, OperationStatus::Expired, now, "clock")
                .await?
            {
                w.audit(now, "operation_expired", user_code, op_id).await?;
            }
            Ok(Outcome::Expired)
        }
        Some(_) if notice_paid => {
            if w.decide_operation(op_row, OperationStatus::Failed, now, "notice_paid")
                .await?
            {
                w.audit(
                    now,
                    "operation_failed",
                    user_code,
                    &format!("{op_id}: pagoPA notice paid already"),
                )
                .await?;
            }
            Ok(Outcome::NoticePaid)
        }
        _ => Ok(Outcome::NotPending),
    }
}

/// A created operation.
#[derive(Debug, Clone)]
pub(crate) struct Created {
    pub row: i64,
    pub op_id: String,
    pub payload: String,
    pub expires: u64,
}

/// Signs and stores a new pending operation with an op id the customer never had, then pushes
/// it to the customer's devices.
pub(crate) async fn create_operation(
    state: &AppState,
    customer: &Customer,
    kind: Kind,
    data: OperationData,
    login: Option<(String, u8)>,
    booking: Option<(Booking, String)>,
) -> ApiResult<Created> {
    create_operation_with(state, customer, kind, data, login, booking, Beside::Nothing)
        .await
        .map(|(created, _)| created)
}

/// What is written in the same commit as a new operation, so that nothing can approve it
/// without it.
#[derive(Debug, Clone)]
pub(crate) enum Beside {
    /// Nothing.
    Nothing,
    /// What the approval does to a card (`card_requests`).
    CardRequest {
        card_row: i64,
        action: crate::storage::CardAction,
        key6: Option<Vec<u8>>,
        phone: Option<String>,
        /// Sent when it is done: by SMS to the card's phone until then, and by e-mail.
        alert: Option<String>,
    },
    /// The pagoPA notice a PAGOPA operation pays (`pagopa_payments`): the approval marks it paid.
    PagoPa {
        creditor_fiscal_code: String,
        notice_code: String,
    },
    /// A 3-D Secure authentication; with `exempt` (count, sum), the purchase is first offered
    /// to the card's low-value exemption run and, if it fits, approved at once.
    Acs {
        acs: crate::storage::NewAcs,
        exempt: Option<(u32, i64)>,
    },
}

/// How a new operation left its write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Made {
    /// Pending, pushed to the customer's devices.
    Pending,
    /// Approved at once by the low-value exemption (booked).
    Exempt,
    /// Refused at once: the account, or the credit card's monthly limit, cannot cover it.
    ShortOfFunds,
}

/// [`create_operation`] with what goes beside it.
pub(crate) async fn create_operation_with(
    state: &AppState,
    customer: &Customer,
    kind: Kind,
    data: OperationData,
    login: Option<(String, u8)>,
    booking: Option<(Booking, String)>,
    beside: Beside,
) -> ApiResult<(Created, Made)> {
    let now = state.now();
    let expires = now + state.config().operation_ttl;
    for _ in 0..8 {
        let op_id = OpId::random(&state.0.rng)?;
        let operation = Operation {
            op_id,
            kind,
            data: data.clone(),
            nonce: Nonce::random(&state.0.rng)?,
            expires,
        };
        let signed = SignedPayload::sign(operation, &state.0.bank_key, &state.0.rng)
            .map_err(|e| AppError::internal(format!("signing: {e}")))?;
        let new = NewOperation {
            customer_id: customer.id,
            op_id: op_id.to_string(),
            kind: kind.as_str().to_owned(),
            payload: signed.text().to_owned(),
            expires_at: expires as i64,
            login_id: login.as_ref().map(|l| l.0.clone()),
            number: login.as_ref().map(|l| i64::from(l.1)),
            booking: booking.clone(),
        };
        let user_code = customer.user_code.clone();
        let new2 = new.clone();
        let beside2 = beside.clone();
        let written = state
            .store()
            .write(move |w| {
                Box::pin(async move {
                    let Some(row) = w.insert_operation(now, &new2).await? else {
                        return Ok(None);
                    };
                    w.audit(
                        now,
                        "operation_created",
                        &user_code,
                        &format!("{} {}", new2.op_id, new2.kind),
                    )
                    .await?;
                    let made = write_beside(w, now, row, new2.customer_id, &user_code, &new2.op_id, beside2).await?;
                    Ok(Some((row, made)))
                })
            })
            .await?;
        if let Some((row, made)) = written {
            if made != Made::Pending {
                return Ok((
                    Created {
                        row,
                        op_id: new.op_id,
                        payload: new.payload,
                        expires,
                    },
                    made,
                ));
            }
            let (account_id, amount_minor, currency, payee_iban, payee_name, description) = match &new.booking {
                Some((b, cur)) => (
                    Some(b.account_id),
                    Some(b.amount_minor),
                    Some(cur.clone()),
                    Some(b.payee_iban.clone()),
                    Some(b.payee_name.clone()),
                    Some(b.description.clone()),
                ),
                None => (None, None, None, None, None, None),
            };
            state.remember_operation(OperationRow {
                id: row,
                customer_id: customer.id,
                op_id: new.op_id.clone(),
                kind: new.kind.clone(),
                payload: new.payload.clone(),
                status: OperationStatus::Pending,
                expires_at: new.expires_at,
                login_id: new.login_id.clone(),
                number: new.number,
                account_id,
                amount_minor,
                currency,
                payee_iban,
                payee_name,
                description,
                created_at: now as i64,
            });
            state.0.hub.publish(
                customer.id,
                HubEvent::Operation {
                    op_id: new.op_id.clone(),
                    payload: new.payload.clone(),
                },
            );
            return Ok((
                Created {
                    row,
                    op_id: new.op_id,
                    payload: new.payload,
                    expires,
                },
                Made::Pending,
            ));
        }
    }
    Err(AppError::internal("no free op id after 8 draws"))
}

/// Writes what goes beside a new operation, in its commit.
async fn write_beside(
    w: &mut crate::storage::WriteCtx,
    now: u64,
    row: i64,
    customer_id: i64,
    user_code: &str,
    op_id: &str,
    beside: Beside,
) -> Result<Made, crate::storage::StoreError> {
    match beside {
        Beside::Nothing => Ok(Made::Pending),
        Beside::PagoPa {
            creditor_fiscal_code,
            notice_code,
        } => {
            w.insert_pagopa_payment(row, &creditor_fiscal_code, &notice_code)
                .await?;
            Ok(Made::Pending)
        }
        Beside::CardRequest {
            card_row,
            action,
            key6,
            phone,
            alert,
        } => {
            w.insert_card_request(
                row,
                card_row,
                action,
                key6.as_deref(),
                phone.as_deref(),
                alert.as_deref(),
            )
            .await?;
            Ok(Made::Pending)
        }
        Beside::Acs { mut acs, exempt } => {
            acs.operation_id = Some(row);
            let mut made = Made::Pending;
            // The purchase's card is on record before an approval: the statement checks the
            // card's monthly limit through it.
            w.insert_acs(now, &acs).await?;
            if let (Some((count, sum)), Some(card)) = (exempt, acs.card_id)
                && w.take_exemption(card, acs.amount_minor, count, sum).await?
            {
                made = match w.approve_by_card(row, now, "exemption", customer_id).await? {
                    Approval::Approved => {
                        w.audit(
                            now,
                            "operation_approved",
                            user_code,
                            &format!("{op_id} CARD_PAYMENT by exemption"),
                        )
                        .await?;
                        Made::Exempt
                    }
                    refused => {
                        w.fail_short(row, now, refused.failed_by(), user_code, op_id, refused)
                            .await?;
                        Made::ShortOfFunds
                    }
                };
            }
            Ok(made)
        }
    }
}
