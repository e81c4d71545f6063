//! # sca-protocol — the pure core of SCA1
//!
//! Everything of `docs/spec/sca1.md` §1–§7 and §9 that can be computed without I/O: identifiers with their
//! Damm check digit, the PIN and its verifier-free wrap of `K_know`, activation key derivation,
//! the four code purposes, canonical operation data, the signed payload, and what devices sign.
//!
//! This crate owns no clock, no randomness and no storage: time is passed in as unix seconds,
//! randomness as a [`ring::rand::SecureRandom`]. Every input is parsed into a type that cannot
//! hold an invalid value (`OpId`, `Pin`, `Amount`, `Iban`, `SignedPayload`, …). Secrets are
//! zeroized on drop and never shown by `Debug`. Every primitive comes from `ring`.
//!
//! The choices this crate makes where the protocol text leaves room are listed in
//! `docs/protocol.md` and pinned by `tests/vectors/sca1.json`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod activation;
mod approval;
mod code;
mod data;
mod encoding;
mod error;
mod id;
mod keys;
mod payload;
mod pin;
#[cfg(feature = "testkit")]
pub mod vectors;

pub use activation::{
    ActivationId, ActivationKeys, DEVICE_NAME_MAX, activation_message, confirm_tag, derive_keys, verify_confirm_tag,
};
pub use approval::{AuthorizationError, DeviceAuthorization, approve_message, reject_message, request_message};
pub use code::{Code, CodeInput, Purpose, Step, code_for_message, code_message, compute_code};
pub use data::{Amount, Date, Digits, FieldKey, Iban, MaskedCard, OperationData, escape, unescape};
pub use encoding::{b64u_decode, b64u_encode, constant_time_eq, lp_message, sha256};
pub use error::{
    AmountError, CodeError, DataError, DateError, FieldError, IbanError, IdError, IterationsError, KeyError, KindError,
    LengthError, PayloadError, PinError, TextError,
};
pub use id::{OpId, UserCode, damm_check_digit};
pub use keys::{
    ConfirmKey, EphemeralEcdh, KeyId, KnowledgeKey, PossessionKey, PublicKey, SharedSecret, Signature, SigningKey,
    WrappedKnowledgeKey,
};
pub use payload::{Kind, Nonce, Operation, SignedPayload, UncheckedPayload};
pub use pin::{Iterations, Pin, PinSalt, secret_digits, unwrap_knowledge_key, weak_digits, wrap_knowledge_key};

pub use ring::rand::{SecureRandom, SystemRandom};
