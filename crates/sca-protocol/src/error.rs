//! Every error the protocol crate can return, in one place.
//!
//! Each enum is `#[non_exhaustive]` and each variant has a stable snake_case [`code`](PayloadError::code)
//! where a client may need one. No variant ever carries a secret: a refused PIN says *why* it was
//! refused, never *what* it was.

use thiserror::Error;

/// An 8-digit identifier (user code or operation identifier, docs/spec/sca1.md §2) was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum IdError {
    /// Not exactly 8 characters.
    #[error("must be exactly 8 digits, not {0} characters")]
    Length(usize),
    /// A character other than an ASCII digit, at this 1-based position.
    #[error("character {0} is not a digit")]
    NotDigit(usize),
    /// The last digit is not the Damm check digit of the first seven.
    #[error("the check digit is wrong")]
    CheckDigit,
    /// User codes never start with `0`.
    #[error("a user code never starts with 0")]
    LeadingZero,
}

impl IdError {
    /// Stable identifier of the reason.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Length(_) => "length",
            Self::NotDigit(_) => "not_digit",
            Self::CheckDigit => "check_digit",
            Self::LeadingZero => "leading_zero",
        }
    }
}

/// A PIN was refused (docs/spec/sca1.md §4). Never carries the PIN itself.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PinError {
    /// Not exactly 5 characters.
    #[error("the PIN must be exactly 5 digits")]
    Length,
    /// A character that is not an ASCII digit.
    #[error("the PIN must contain digits only")]
    NotDigit,
    /// All five digits are the same (`11111`).
    #[error("the PIN must not repeat one digit")]
    AllEqual,
    /// A straight run up or down without wrapping (`01234`, `43210`).
    #[error("the PIN must not be a sequence of consecutive digits")]
    Straight,
}

impl PinError {
    /// Stable identifier of the reason.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Length => "pin_length",
            Self::NotDigit => "pin_not_digit",
            Self::AllEqual => "pin_all_equal",
            Self::Straight => "pin_straight",
        }
    }
}

/// PBKDF2 iteration count outside what the protocol allows.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum IterationsError {
    /// Fewer than 100 000 iterations (docs/spec/sca1.md §4).
    #[error("at least {min} PBKDF2 iterations are required, not {got}")]
    TooFew {
        /// The minimum.
        min: u32,
        /// What was given.
        got: u64,
    },
    /// More than the ceiling that keeps unwrapping under a few seconds.
    #[error("at most {max} PBKDF2 iterations are accepted, not {got}")]
    TooMany {
        /// The maximum.
        max: u32,
        /// What was given.
        got: u64,
    },
}

/// A 6-digit code was refused before any check.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CodeError {
    /// Not exactly 6 characters.
    #[error("a code is exactly 6 digits")]
    Length,
    /// A character that is not an ASCII digit.
    #[error("a code contains digits only")]
    NotDigit,
}

/// An amount (`A`, docs/spec/sca1.md §6) was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AmountError {
    /// Not digits, `.`, exactly two digits, then three upper-case letters.
    #[error("an amount is written like 1250.00EUR: digits, '.', two digits, a 3-letter currency")]
    Form,
    /// A leading zero in the integer part (`012.00EUR`).
    #[error("an amount has no leading zero")]
    LeadingZero,
    /// More integer digits than the protocol crate accepts (15).
    #[error("the amount is too large")]
    TooLarge,
    /// The currency is not three upper-case ASCII letters.
    #[error("the currency must be three upper-case letters (ISO 4217)")]
    Currency,
}

/// An IBAN (`I`, docs/spec/sca1.md §6) was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum IbanError {
    /// Fewer than 15 or more than 34 characters.
    #[error("an IBAN has 15 to 34 characters, not {0}")]
    Length(usize),
    /// Not 2 upper-case letters, 2 digits, then upper-case letters or digits.
    #[error("an IBAN is 2 letters, 2 digits, then letters or digits")]
    Form,
    /// The mod-97 check fails: a typing mistake.
    #[error("the IBAN check digits are wrong")]
    Checksum,
}

/// A text value (payee, description, merchant) was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TextError {
    /// No character at all.
    #[error("must not be empty")]
    Empty,
    /// More characters than allowed.
    #[error("at most {max} characters, not {len}")]
    TooLong {
        /// The limit, in Unicode characters.
        max: usize,
        /// The length given, in Unicode characters.
        len: usize,
    },
    /// A control character other than the line break.
    #[error("character {0} is a control character")]
    Control(usize),
}

/// An execution date (`X`) was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DateError {
    /// Not `YYYY-MM-DD`.
    #[error("a date is written YYYY-MM-DD")]
    Form,
    /// Well formed but not a calendar date (`2025-02-30`).
    #[error("not a real calendar date")]
    NotADate,
}

/// One field value of the canonical operation data was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FieldError {
    /// Amount (`A`).
    #[error(transparent)]
    Amount(#[from] AmountError),
    /// Payee name, description or merchant (`B`, `D`, `M`).
    #[error(transparent)]
    Text(#[from] TextError),
    /// Card (`C`): not `****` followed by 4 digits.
    #[error("a card is written **** and its last 4 digits")]
    Card,
    /// Payee IBAN (`I`).
    #[error(transparent)]
    Iban(#[from] IbanError),
    /// Execution date (`X`).
    #[error(transparent)]
    Date(#[from] DateError),
    /// Creditor fiscal code (`F`) or notice code (`N`): not exactly this many ASCII digits.
    #[error("must be exactly {0} digits")]
    Digits(usize),
}

/// The canonical operation data (docs/spec/sca1.md §6) was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DataError {
    /// Item number `0` (1-based) is not of the form `K:value`.
    #[error("item {0} of the operation data is not of the form K:value")]
    Item(usize),
    /// A key that docs/spec/sca1.md §6 does not define.
    #[error("unknown field key {0:?}")]
    UnknownKey(char),
    /// A key out of order or repeated.
    #[error("field {0} is out of order or repeated")]
    Order(char),
    /// A `\` not followed by `\`, `*` or `n`.
    #[error("field {0} has a bad escape sequence")]
    Escape(char),
    /// A value that is not of its field's form.
    #[error("field {key}: {error}")]
    Value {
        /// The field key (`A`, `B`, …).
        key: char,
        /// What is wrong with it.
        error: FieldError,
    },
}

/// The operation kind is none of `TRANSFER LOGIN CARD_PAYMENT DEVICE GENERIC PAGOPA`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown operation kind")]
#[non_exhaustive]
pub struct KindError;

/// A key or signature could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not valid base64url without padding, or not canonical.
    #[error("not base64url without padding")]
    Base64,
    /// A public key that is not a 65-byte uncompressed P-256 point.
    #[error("a public key is a 65-byte uncompressed P-256 point")]
    PublicKey,
    /// A private key that is not a P-256 PKCS#8 document.
    #[error("not a P-256 private key in PKCS#8 form")]
    PrivateKey,
    /// A signature that is not 64 bytes `r || s`.
    #[error("a signature is 64 bytes r||s")]
    SignatureForm,
    /// The system random source failed.
    #[error("the random source failed")]
    Random,
    /// ECDH failed: the peer's point is not on the curve.
    #[error("key agreement failed: invalid peer public key")]
    Agreement,
    /// A hex value of the wrong form or length.
    #[error("expected {0} bytes of hex")]
    Hex(usize),
}

/// A length-prefixed field was longer than the 2-byte length prefix allows.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("a field is {0} bytes; lp() allows at most 65535")]
pub struct LengthError(pub usize);

/// A signed operation payload (docs/spec/sca1.md §6) was refused. One variant per reason, so the
/// authenticator can say which check failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// Not the 8 lines of §6 in order, not UTF-8, a bad `expires`, or a stray `\r`.
    #[error("not a SCA1 payload: {0}")]
    Form(&'static str),
    /// The operation identifier is not valid.
    #[error("operation identifier: {0}")]
    OpId(IdError),
    /// The kind is not one of §6.
    #[error("unknown operation kind")]
    Kind,
    /// The operation data is not canonical, or a value is not of its form.
    #[error("operation data: {0}")]
    Data(DataError),
    /// A field that the kind needs is absent.
    #[error("field {0} is required for this kind of operation")]
    MissingField(char),
    /// The payee IBAN is not valid.
    #[error("payee IBAN: {0}")]
    Iban(IbanError),
    /// The nonce is not b64u of 16 bytes.
    #[error("the nonce is not 16 bytes of base64url")]
    Nonce,
    /// The key id is malformed, or is not the id of the bank key we trust.
    #[error("signed by an unknown key")]
    KeyId,
    /// The signature is malformed or does not verify.
    #[error("the bank's signature does not verify")]
    Signature,
    /// The payload expired at `expires`; it is now `now`.
    #[error("expired at {expires} (now {now})")]
    Expired {
        /// The payload's expiry, unix seconds.
        expires: u64,
        /// The time of the check, unix seconds.
        now: u64,
    },
}

impl PayloadError {
    /// Stable identifier of the reason, as used in test vectors' notes, the CLI and the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Form(_) => "form",
            Self::OpId(_) => "op_id",
            Self::Kind => "kind",
            Self::Data(_) => "data",
            Self::MissingField(_) => "missing_field",
            Self::Iban(_) => "iban",
            Self::Nonce => "nonce",
            Self::KeyId => "key_id",
            Self::Signature => "signature",
            Self::Expired { .. } => "expired",
        }
    }

    /// All reason codes, in the order they are checked.
    pub const CODES: [&'static str; 10] = [
        "form",
        "op_id",
        "kind",
        "data",
        "missing_field",
        "iban",
        "nonce",
        "key_id",
        "signature",
        "expired",
    ];
}
