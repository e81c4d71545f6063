//! The 6-digit codes (docs/spec/sca1.md §5): `MSG`, the two chained HMACs, dynamic truncation.

use std::fmt;

use ring::hmac;

use crate::encoding::{constant_time_eq, lp_message};
use crate::error::{CodeError, LengthError};
use crate::id::OpId;
use crate::keys::{KnowledgeKey, PossessionKey};
use crate::payload::Nonce;

/// What a code is for; the byte that starts its `MSG` after `"SCA1"`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(u8)]
pub enum Purpose {
    /// "OTP login", offline: fields `step`.
    Login = 1,
    /// QR scan and push approval (dynamic linking): fields `op_id`, `nonce`, SHA(`data`).
    Operation = 2,
    /// The 8-digit identifier typed by hand: field `op_id`.
    OperationId = 3,
    /// "OTP dispositiva": fields `step`.
    Transaction = 4,
}

impl Purpose {
    /// From the purpose byte.
    pub fn from_u8(byte: u8) -> Option<Self> {
        match byte {
            1 => Some(Self::Login),
            2 => Some(Self::Operation),
            3 => Some(Self::OperationId),
            4 => Some(Self::Transaction),
            _ => None,
        }
    }
}

/// A 30-second time step: `floor(unix_seconds / 30)`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Step(pub u64);

impl Step {
    /// Seconds in one step.
    pub const SECONDS: u64 = 30;

    /// The step that holds `unix_seconds`.
    pub fn at(unix_seconds: u64) -> Self {
        Self(unix_seconds / Self::SECONDS)
    }

    /// Seconds from `unix_seconds` until the next step begins (1 to 30).
    pub fn seconds_left(unix_seconds: u64) -> u64 {
        Self::SECONDS - unix_seconds % Self::SECONDS
    }
}

/// A 6-digit code.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Code([u8; 6]);

impl Code {
    /// Exactly 6 ASCII digits.
    pub fn parse(text: &str) -> Result<Self, CodeError> {
        if text.chars().count() != 6 {
            return Err(CodeError::Length);
        }
        let bytes: [u8; 6] = text.as_bytes().try_into().map_err(|_| CodeError::NotDigit)?;
        if !bytes.iter().all(u8::is_ascii_digit) {
            return Err(CodeError::NotDigit);
        }
        Ok(Self(bytes))
    }

    /// The 6 ASCII digits.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The 6 ASCII digits as bytes.
    pub fn as_bytes(&self) -> &[u8; 6] {
        &self.0
    }

    /// Compares with another code in constant time (a server checks every device this way).
    pub fn ct_eq(&self, other: &Code) -> bool {
        constant_time_eq(&self.0, &other.0)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Code({})", self.as_str())
    }
}

/// `MSG(purpose, f1, f2, …) = "SCA1" || u8(purpose) || lp(f1) || lp(f2) || …`.
pub fn code_message(purpose: Purpose, fields: &[&[u8]]) -> Result<Vec<u8>, LengthError> {
    lp_message(&[b'S', b'C', b'A', b'1', purpose as u8], fields)
}

/// The code of an already built `MSG`: `T1 = HMAC(K_poss, MSG)`, `T2 = HMAC(K_know, T1)`, then
/// dynamic truncation modulo 10^6.
pub fn code_for_message(k_poss: &PossessionKey, k_know: &KnowledgeKey, msg: &[u8]) -> Code {
    let t1 = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, k_poss.expose_secret()), msg);
    let t2 = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, k_know.expose_secret()), t1.as_ref());
    let t2 = t2.as_ref();
    let o = usize::from(t2[31] & 0x0f);
    let v =
        u32::from(t2[o] & 0x7f) << 24 | u32::from(t2[o + 1]) << 16 | u32::from(t2[o + 2]) << 8 | u32::from(t2[o + 3]);
    let mut n = v % 1_000_000;
    let mut digits = [b'0'; 6];
    for d in digits.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    Code(digits)
}

/// A code from raw fields (for test vectors and developers' tools).
pub fn compute_code(
    k_poss: &PossessionKey,
    k_know: &KnowledgeKey,
    purpose: Purpose,
    fields: &[&[u8]],
) -> Result<Code, LengthError> {
    Ok(code_for_message(k_poss, k_know, &code_message(purpose, fields)?))
}

/// The fields of each purpose, built from typed values: lengths are bounded, so no error.
#[derive(Clone, Copy, Debug)]
pub enum CodeInput<'a> {
    /// LOGIN at a time step.
    Login(Step),
    /// OPERATION: dynamic linking to `op_id`, `nonce` and the SHA of the canonical `data`.
    Operation {
        /// The operation identifier.
        op_id: &'a OpId,
        /// The payload's nonce.
        nonce: &'a Nonce,
        /// SHA-256 of the canonical data line.
        data_sha: &'a [u8; 32],
    },
    /// OPERATION_ID: an identifier typed by hand.
    OperationId(&'a OpId),
    /// TRANSACTION at a time step.
    Transaction(Step),
}

impl CodeInput<'_> {
    /// The purpose byte.
    pub fn purpose(&self) -> Purpose {
        match self {
            Self::Login(_) => Purpose::Login,
            Self::Operation { .. } => Purpose::Operation,
            Self::OperationId(_) => Purpose::OperationId,
            Self::Transaction(_) => Purpose::Transaction,
        }
    }

    /// `MSG` for this input.
    pub fn message(&self) -> Vec<u8> {
        let fields: Vec<&[u8]>;
        let step_bytes;
        match self {
            Self::Login(step) | Self::Transaction(step) => {
                step_bytes = step.0.to_be_bytes();
                fields = vec![&step_bytes];
            }
            Self::Operation { op_id, nonce, data_sha } => {
                fields = vec![op_id.as_bytes(), nonce.as_bytes(), &data_sha[..]];
            }
            Self::OperationId(op_id) => fields = vec![op_id.as_bytes()],
        }
        let mut msg = Vec::with_capacity(5 + 64);
        msg.extend_from_slice(b"SCA1");
        msg.push(self.purpose() as u8);
        for field in fields {
            msg.extend_from_slice(&(field.len() as u16).to_be_bytes());
            msg.extend_from_slice(field);
        }
        msg
    }

    /// The code for this input.
    pub fn code(&self, k_poss: &PossessionKey, k_know: &KnowledgeKey) -> Code {
        code_for_message(k_poss, k_know, &self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> (PossessionKey, KnowledgeKey) {
        (PossessionKey::from_bytes([1; 32]), KnowledgeKey::from_bytes([2; 32]))
    }

    #[test]
    fn typed_and_raw_messages_agree() {
        let (kp, kk) = keys();
        let step = Step::at(1_700_000_000);
        assert_eq!(step, Step(56_666_666));
        let typed = CodeInput::Login(step);
        let raw = code_message(Purpose::Login, &[&step.0.to_be_bytes()]).unwrap();
        assert_eq!(typed.message(), raw);
        assert_eq!(&raw[..7], b"SCA1\x01\x00\x08");
        assert_eq!(
            typed.code(&kp, &kk),
            compute_code(&kp, &kk, Purpose::Login, &[&step.0.to_be_bytes()]).unwrap()
        );
        let op = OpId::parse("57240000").unwrap();
        assert_eq!(
            CodeInput::OperationId(&op).message(),
            code_message(Purpose::OperationId, &[b"57240000"]).unwrap()
        );
    }

    #[test]
    fn purposes_and_keys_separate_codes() {
        let (kp, kk) = keys();
        let f = 42u64.to_be_bytes();
        let login = compute_code(&kp, &kk, Purpose::Login, &[&f]).unwrap();
        let tx = compute_code(&kp, &kk, Purpose::Transaction, &[&f]).unwrap();
        assert_ne!(login, tx);
        let other = compute_code(&kp, &KnowledgeKey::from_bytes([3; 32]), Purpose::Login, &[&f]).unwrap();
        assert_ne!(login, other);
    }

    #[test]
    fn code_parse_and_compare() {
        assert_eq!(Code::parse("012345").unwrap().as_str(), "012345");
        assert_eq!(Code::parse("01234"), Err(CodeError::Length));
        assert_eq!(Code::parse("01234a"), Err(CodeError::NotDigit));
        assert_eq!(Code::parse("01234é"), Err(CodeError::NotDigit));
        assert!(Code::parse("123456").unwrap().ct_eq(&Code::parse("123456").unwrap()));
        assert!(!Code::parse("123456").unwrap().ct_eq(&Code::parse("123457").unwrap()));
    }

    #[test]
    fn seconds_left_counts_down_to_the_next_step() {
        assert_eq!(Step::seconds_left(60), 30);
        assert_eq!(Step::seconds_left(89), 1);
        assert_eq!(Purpose::from_u8(4), Some(Purpose::Transaction));
        assert_eq!(Purpose::from_u8(5), None);
    }
}
