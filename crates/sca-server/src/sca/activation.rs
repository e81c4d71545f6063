//! Activation (docs/spec/sca1.md §3): the key exchange that binds a device to a customer, and the
//! confirmation that makes it active. The handlers in `api::devices` parse the requests and call
//! these; the keys are derived, sealed and opened only here.

use sca_protocol::{
    ActivationId, ConfirmKey, EphemeralEcdh, KnowledgeKey, PossessionKey, PublicKey, Signature, activation_message,
    derive_keys, verify_confirm_tag,
};

use super::*;
use crate::crypto::random;
use crate::error::{ApiResult, AppError, ErrorKind};
use crate::state::AppState;
use crate::storage::{ActivationRow, ActivationSource, ActivationStatus, Credential, OperationStatus};

/// What the key exchange gives the device.
pub(crate) struct KeysExchanged {
    /// The new device's id.
    pub device_id: String,
    /// The server's ephemeral ECDH public key.
    pub server_ecdh_pub: PublicKey,
    /// The bank key's signature over the exchange.
    pub signature: Signature,
}

async fn load_activation(state: &AppState, id: &ActivationId, expected: ActivationStatus) -> ApiResult<ActivationRow> {
    let row = state
        .store()
        .activation(id.as_str())
        .await?
        .ok_or_else(|| AppError::not_found("activation"))?;
    if row.status != expected {
        return Err(AppError::not_pending());
    }
    if state.now() >= row.expires_at as u64 {
        return Err(AppError::expired());
    }
    Ok(row)
}

/// Key exchange (steps 2–3): checks that the device key is a P-256 point and that the activation
/// may proceed (its SMS code for a first device, spent in the write that stores the keys; the
/// approved DEVICE operation for another one), makes `Es`, derives and seals the keys, and signs
/// `Es_pub` with the bank key.
pub(crate) async fn exchange_keys(
    state: &AppState,
    aid: &ActivationId,
    device_pub: &PublicKey,
    ed_pub: &PublicKey,
    name: String,
    sms_otp: Option<&str>,
) -> ApiResult<KeysExchanged> {
    // `PublicKey` checks only the form; a point off the curve would be stored and then never
    // verify a signature. An ECDH agreement with a throwaway key checks it is on P-256.
    if EphemeralEcdh::generate(&state.0.rng)?.agree(device_pub).is_err() {
        return Err(AppError::bad_request("device_pub", "not a valid P-256 point"));
    }
    let row = load_activation(state, aid, ActivationStatus::AwaitingKeys).await?;
    let customer = state
        .store()
        .customer(row.customer_id)
        .await?
        .ok_or_else(|| AppError::not_found("activation"))?;
    let otp_id = match row.source {
        ActivationSource::Device => {
            let approved = match row.operation_row {
                Some(op) => state
                    .store()
                    .operation_by_row(op)
                    .await?
                    .is_some_and(|o| o.status == OperationStatus::Approved),
                None => false,
            };
            if !approved {
                return Err(AppError::new(
                    ErrorKind::Forbidden,
                    "approve the DEVICE operation on the active authenticator first",
                ));
            }
            None
        }
        _ => {
            let otp =
                sms_otp.ok_or_else(|| AppError::bad_request("sms_otp", "missing: the SMS code sent at activation"))?;
            Some(check_otp(state, &customer, OtpPurpose::Activation, aid.as_str(), otp).await?)
        }
    };
    let es = EphemeralEcdh::generate(&state.0.rng)?;
    let es_pub = es.public_key();
    let z = es
        .agree(ed_pub)
        .map_err(|_| AppError::bad_request("ecdh_pub", "not a valid P-256 point"))?;
    let keys = derive_keys(aid, &z);
    let signature = state
        .0
        .bank_key
        .sign(&state.0.rng, &activation_message(aid, ed_pub, &es_pub))?;
    let device_id = random::b64u(&state.0.rng, 12).map_err(AppError::internal)?;
    let mut secret = zeroize::Zeroizing::new(Vec::with_capacity(96));
    secret.extend_from_slice(keys.possession.expose_secret());
    secret.extend_from_slice(keys.knowledge.expose_secret());
    secret.extend_from_slice(keys.confirm.expose_secret());
    let sealed = state
        .0
        .secrets
        .seal(aid.as_str(), &secret)
        .map_err(AppError::internal)?;
    let now = state.now();
    let (id, did, user_code, pubkey, cid, max) = (
        aid.to_string(),
        device_id.clone(),
        customer.user_code.clone(),
        device_pub.as_bytes().to_vec(),
        customer.id,
        state.config().max_attempts,
    );
    state
        .store()
        .write(move |w| {
            Box::pin(async move {
                if let Some(otp) = &otp_id {
                    let spent = spend_otp(w, otp, now, OtpPurpose::Activation, cid, max).await?;
                    if spent != Spent::Now {
                        return Ok(spent);
                    }
                }
                if !w.activation_keys(&id, &did, &name, &pubkey, &sealed).await? {
                    return Ok(Spent::Gone);
                }
                if otp_id.is_some() {
                    w.reset_failures(cid, Credential::SmsOtp).await?;
                }
                w.audit(now, "device_keys_exchanged", &user_code, &did).await?;
                Ok(Spent::Now)
            })
        })
        .await?
        .ok()?;
    Ok(KeysExchanged {
        device_id,
        server_ecdh_pub: es_pub,
        signature,
    })
}

/// Confirmation (step 4): a right tag makes the device active and alerts the customer; a wrong
/// one voids the activation.
pub(crate) async fn confirm_activation(state: &AppState, aid: &ActivationId, tag: &[u8; 32]) -> ApiResult<()> {
    let row = load_activation(state, aid, ActivationStatus::AwaitingConfirm).await?;
    let customer = state
        .store()
        .customer(row.customer_id)
        .await?
        .ok_or_else(|| AppError::not_found("activation"))?;
    let (Some(device_id), Some(name), Some(device_pub), Some(sealed)) = (
        row.device_id.clone(),
        row.device_name.clone(),
        row.device_pub.clone(),
        row.secrets.clone(),
    ) else {
        return Err(AppError::internal("activation awaiting confirmation without keys"));
    };
    let plain = state
        .0
        .secrets
        .open(aid.as_str(), &sealed)
        .map_err(AppError::internal)?;
    if plain.len() != 96 {
        return Err(AppError::internal("activation secrets length"));
    }
    let key = |range: std::ops::Range<usize>| {
        let mut k = [0u8; 32];
        k.copy_from_slice(&plain[range]);
        k
    };
    let (kp, kk, kc) = (
        PossessionKey::from_bytes(key(0..32)),
        KnowledgeKey::from_bytes(key(32..64)),
        ConfirmKey::from_bytes(key(64..96)),
    );
    let public = PublicKey::from_bytes(&device_pub).map_err(|_| AppError::internal("stored device key"))?;
    let now = state.now();
    let (id, user_code) = (aid.to_string(), customer.user_code.clone());
    if !verify_confirm_tag(&kc, aid, &public, tag) {
        state
            .store()
            .write(move |w| {
                Box::pin(async move {
                    if w.finish_activation(&id, ActivationStatus::AwaitingConfirm, ActivationStatus::Failed)
                        .await?
                    {
                        w.audit(now, "device_activation_failed", &user_code, "confirmation tag")
                            .await?;
                    }
                    Ok(())
                })
            })
            .await?;
        return Err(AppError::new(
            ErrorKind::InvalidSignature,
            "confirm: the tag does not verify; the activation is void, start again",
        ));
    }
    let mut secret = zeroize::Zeroizing::new(Vec::with_capacity(64));
    secret.extend_from_slice(kp.expose_secret());
    secret.extend_from_slice(kk.expose_secret());
    let device_sealed = state.0.secrets.seal(&device_id, &secret).map_err(AppError::internal)?;
    let (cid, phone, email, did) = (
        customer.id,
        customer.phone.clone(),
        customer.email.clone(),
        device_id.clone(),
    );
    let ok = state
        .store()
        .write(move |w| {
            Box::pin(async move {
                if !w
                    .finish_activation(&id, ActivationStatus::AwaitingConfirm, ActivationStatus::Active)
                    .await?
                {
                    return Ok(false);
                }
                w.insert_device(now, &did, cid, &name, &device_pub, &device_sealed)
                    .await?;
                // An authenticator is what an `sms` customer lacked: push from now on, SMS
                // stays the fallback (docs/api.md §12).
                if w.set_sca_policy(cid, "push").await? {
                    w.audit(
                        now,
                        "sca_policy_changed",
                        &user_code,
                        "push: an authenticator was activated",
                    )
                    .await?;
                }
                let text = crate::texts::device_activated(&name);
                w.outbox(now, &phone, "sms", &text).await?;
                w.outbox(now, &email, "email", &text).await?;
                w.audit(now, "device_activated", &user_code, &did).await?;
                Ok(true)
            })
        })
        .await?;
    state.forget_device_keys(customer.id);
    if !ok {
        return Err(AppError::not_pending());
    }
    state.messages_queued();
    Ok(())
}
