//! The signed operation payload (docs/spec/sca1.md §6), shown as a QR code and sent by push.
//!
//! [`SignedPayload`] can only be obtained by signing it ([`SignedPayload::sign`]) or by checking
//! a text against the bank's public key and the time ([`SignedPayload::verify`]): holding one
//! means every check passed. Checks run in a fixed order, and the first failure is reported:
//! structure (`form`), `op_id`, `kind`, `data` (its `iban` reported apart), `nonce`, `expires`
//! (`form`), required fields (`missing_field`), `key_id` form, signature form, then `key_id`
//! against the trusted key, the signature, and last the expiry.

use std::fmt;

use ring::rand::SecureRandom;

use crate::data::{FieldKey, OperationData};
use crate::encoding::{b64u_decode_array, b64u_encode, sha256};
use crate::error::{DataError, FieldError, KeyError, KindError, PayloadError};
use crate::id::OpId;
use crate::keys::{KeyId, PublicKey, Signature, SigningKey};

/// The kind of an operation.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Kind {
    /// A credit transfer ("bonifico"): needs amount, payee name, payee IBAN.
    Transfer,
    /// A login.
    Login,
    /// A card payment (3-D Secure): needs amount, card, merchant.
    CardPayment,
    /// Activating another device.
    Device,
    /// Anything else the bank asks to confirm.
    Generic,
    /// A pagoPA notice paid (Italy's payments to public bodies): needs amount, creditor name,
    /// creditor fiscal code, notice code.
    PagoPa,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 6] = [
        Self::Transfer,
        Self::Login,
        Self::CardPayment,
        Self::Device,
        Self::Generic,
        Self::PagoPa,
    ];

    /// The protocol name, `TRANSFER` …
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transfer => "TRANSFER",
            Self::Login => "LOGIN",
            Self::CardPayment => "CARD_PAYMENT",
            Self::Device => "DEVICE",
            Self::Generic => "GENERIC",
            Self::PagoPa => "PAGOPA",
        }
    }

    /// From the protocol name (exact, upper case).
    pub fn parse(text: &str) -> Result<Self, KindError> {
        Self::ALL.into_iter().find(|k| k.as_str() == text).ok_or(KindError)
    }

    /// The fields this kind cannot do without.
    pub fn required_fields(self) -> &'static [FieldKey] {
        match self {
            Self::Transfer => &[FieldKey::Amount, FieldKey::PayeeName, FieldKey::PayeeIban],
            Self::CardPayment => &[FieldKey::Amount, FieldKey::Card, FieldKey::Merchant],
            Self::PagoPa => &[
                FieldKey::Amount,
                FieldKey::PayeeName,
                FieldKey::CreditorFiscalCode,
                FieldKey::NoticeCode,
            ],
            Self::Login | Self::Device | Self::Generic => &[],
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// 16 random bytes that make each operation's code unique.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nonce([u8; 16]);

impl Nonce {
    /// A new random nonce.
    pub fn random(rng: &dyn SecureRandom) -> Result<Self, KeyError> {
        let mut bytes = [0u8; 16];
        rng.fill(&mut bytes).map_err(|_| KeyError::Random)?;
        Ok(Self(bytes))
    }

    /// From 16 raw bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// From b64u of exactly 16 bytes.
    pub fn from_b64u(text: &str) -> Result<Self, KeyError> {
        b64u_decode_array::<16>(text).map(Self)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The b64u text.
    pub fn to_b64u(&self) -> String {
        b64u_encode(&self.0)
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nonce({})", self.to_b64u())
    }
}

/// What the bank signs: everything in the payload but the key id and the signature.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Operation {
    /// The operation identifier.
    pub op_id: OpId,
    /// The kind.
    pub kind: Kind,
    /// The canonical data.
    pub data: OperationData,
    /// The nonce.
    pub nonce: Nonce,
    /// Unix seconds at which the operation expires (it is expired from that second on).
    pub expires: u64,
}

impl Operation {
    /// Checks that the data holds every field the kind needs.
    pub fn check_required(&self) -> Result<(), PayloadError> {
        match self.kind.required_fields().iter().find(|k| !self.data.has(**k)) {
            Some(missing) => Err(PayloadError::MissingField(missing.letter())),
            None => Ok(()),
        }
    }

    /// SHA-256 of the canonical data line, as it enters OPERATION codes and approvals.
    pub fn data_sha(&self) -> [u8; 32] {
        sha256(self.data.canonical().as_bytes())
    }

    /// The signed part of the text: the first seven lines, each ended by `\n`.
    fn signed_text(&self, key_id: &KeyId) -> String {
        format!(
            "SCA1\n{}\n{}\n{}\n{}\n{}\n{}\n",
            self.op_id,
            self.kind,
            self.data.canonical(),
            self.nonce.to_b64u(),
            self.expires,
            key_id
        )
    }
}

/// A payload whose form is right but whose signature and expiry are not checked yet.
#[derive(Clone, Debug)]
pub struct UncheckedPayload {
    operation: Operation,
    key_id: KeyId,
    signature: Signature,
    signed_len: usize,
    text: String,
}

impl UncheckedPayload {
    /// Parses the text form. Accepts the text with or without a final `\n` after the signature
    /// (which the signature does not cover); every other byte is as §6 says.
    pub fn parse(text: &str) -> Result<Self, PayloadError> {
        if text.contains('\r') {
            return Err(PayloadError::Form("carriage return in the text"));
        }
        let body = text.strip_suffix('\n').unwrap_or(text);
        let lines: Vec<&str> = body.split('\n').collect();
        let [magic, op_id, kind, data, nonce, expires, key_id, signature] = lines[..] else {
            return Err(PayloadError::Form("a payload has exactly 8 lines"));
        };
        if magic != "SCA1" {
            return Err(PayloadError::Form("the first line must be SCA1"));
        }
        let op_id = OpId::parse(op_id).map_err(PayloadError::OpId)?;
        let kind = Kind::parse(kind).map_err(|_| PayloadError::Kind)?;
        let data = OperationData::parse_canonical(data).map_err(|e| match e {
            DataError::Value {
                error: FieldError::Iban(iban),
                ..
            } => PayloadError::Iban(iban),
            other => PayloadError::Data(other),
        })?;
        let nonce = Nonce::from_b64u(nonce).map_err(|_| PayloadError::Nonce)?;
        let expires =
            parse_unix_seconds(expires).ok_or(PayloadError::Form("expires is not unix seconds in decimal"))?;
        let operation = Operation {
            op_id,
            kind,
            data,
            nonce,
            expires,
        };
        operation.check_required()?;
        let key_id = KeyId::parse(key_id).ok_or(PayloadError::KeyId)?;
        let signature = Signature::from_b64u(signature).map_err(|_| PayloadError::Signature)?;
        let signed_len = body.len() - signature.to_b64u().len();
        Ok(Self {
            operation,
            key_id,
            signature,
            signed_len,
            text: text.to_owned(),
        })
    }

    /// Parses raw bytes (a file, a QR code's bytes): not UTF-8 is a `form` error.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Self, PayloadError> {
        Self::parse(std::str::from_utf8(bytes).map_err(|_| PayloadError::Form("not UTF-8"))?)
    }

    /// The operation, unverified: show it to no customer.
    pub fn operation(&self) -> &Operation {
        &self.operation
    }

    /// The key id the payload names.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// Checks the key id against `bank_pub`, the signature, and the expiry at `now`.
    pub fn verify(self, bank_pub: &PublicKey, now: u64) -> Result<SignedPayload, PayloadError> {
        if self.key_id != bank_pub.key_id() {
            return Err(PayloadError::KeyId);
        }
        if !bank_pub.verify(&self.text.as_bytes()[..self.signed_len], &self.signature) {
            return Err(PayloadError::Signature);
        }
        if now >= self.operation.expires {
            return Err(PayloadError::Expired {
                expires: self.operation.expires,
                now,
            });
        }
        Ok(SignedPayload {
            operation: self.operation,
            text: self.text,
        })
    }
}

/// Decimal, no sign, no leading zero, fits `u64`.
fn parse_unix_seconds(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) || (text.len() > 1 && text.starts_with('0')) {
        return None;
    }
    text.parse().ok()
}

/// A payload that passed every check of §6 (or that this side signed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedPayload {
    operation: Operation,
    text: String,
}

impl SignedPayload {
    /// Signs `operation` with the bank key. Refuses an operation missing a field its kind needs.
    pub fn sign(operation: Operation, bank: &SigningKey, rng: &dyn SecureRandom) -> Result<Self, PayloadError> {
        operation.check_required()?;
        let signed = operation.signed_text(&bank.public_key().key_id());
        let signature = bank.sign(rng, signed.as_bytes()).map_err(|_| PayloadError::Signature)?;
        let text = format!("{signed}{}\n", signature.to_b64u());
        Ok(Self { operation, text })
    }

    /// Parses and checks `text` against the bank key at time `now` (unix seconds).
    pub fn verify(text: &str, bank_pub: &PublicKey, now: u64) -> Result<Self, PayloadError> {
        UncheckedPayload::parse(text)?.verify(bank_pub, now)
    }

    /// The operation it describes.
    pub fn operation(&self) -> &Operation {
        &self.operation
    }

    /// The exact text (what the QR code holds).
    pub fn text(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::IdError;
    use ring::rand::SystemRandom;

    fn transfer() -> Operation {
        Operation {
            op_id: OpId::parse("57240000").unwrap(),
            kind: Kind::Transfer,
            data: OperationData::from_fields([
                ('A', "1250.00EUR"),
                ('B', "Mario Rossi"),
                ('I', "IT60X0542811101000000123456"),
                ('D', "Affitto * novembre\nsecondo rigo"),
            ])
            .unwrap(),
            nonce: Nonce::from_bytes([9; 16]),
            expires: 2_000_000_000,
        }
    }

    #[test]
    fn sign_then_verify_round_trips() {
        let rng = SystemRandom::new();
        let bank = SigningKey::generate(&rng).unwrap();
        let signed = SignedPayload::sign(transfer(), &bank, &rng).unwrap();
        assert!(signed.text().ends_with('\n'));
        assert_eq!(signed.text().lines().count(), 8);
        let back = SignedPayload::verify(signed.text(), &bank.public_key(), 1_999_999_999).unwrap();
        assert_eq!(back.operation(), &transfer());
        let without_final_newline = signed.text().strip_suffix('\n').unwrap();
        assert!(SignedPayload::verify(without_final_newline, &bank.public_key(), 0).is_ok());
    }

    #[test]
    fn each_check_names_its_reason() {
        let rng = SystemRandom::new();
        let bank = SigningKey::generate(&rng).unwrap();
        let other = SigningKey::generate(&rng).unwrap();
        let text = SignedPayload::sign(transfer(), &bank, &rng).unwrap().text().to_owned();
        let pubkey = bank.public_key();
        let lines: Vec<&str> = text.lines().collect();
        let with_line = |i: usize, v: &str| {
            let mut l = lines.clone();
            l[i] = v;
            l.join("\n") + "\n"
        };
        let check = |t: &str| SignedPayload::verify(t, &pubkey, 1_000).unwrap_err().code();
        assert_eq!(check(&with_line(0, "SCA2")), "form");
        assert_eq!(check(&text.replace('\n', "\r\n")), "form");
        assert_eq!(check(&lines[..7].join("\n")), "form");
        assert_eq!(
            SignedPayload::verify(&with_line(1, "57240001"), &pubkey, 1_000).unwrap_err(),
            PayloadError::OpId(IdError::CheckDigit)
        );
        assert_eq!(check(&with_line(2, "transfer")), "kind");
        assert_eq!(
            check(&with_line(3, "A:1250.00EUR*B:x*I:IT61X0542811101000000123456")),
            "iban"
        );
        assert_eq!(
            check(&with_line(3, "A:1250.00EUR*I:IT60X0542811101000000123456")),
            "missing_field"
        );
        assert_eq!(check(&with_line(3, "B:x*A:1250.00EUR")), "data");
        assert_eq!(check(&with_line(4, "AAAA")), "nonce");
        assert_eq!(check(&with_line(5, "02000000000")), "form");
        assert_eq!(check(&with_line(6, "0000000000000000")), "key_id");
        assert_eq!(check(&with_line(6, "ABCDEF0000000000")), "key_id");
        assert_eq!(check(&with_line(7, "AAAA")), "signature");
        assert_eq!(check(&with_line(5, "2000000001")), "signature");
        assert_eq!(
            SignedPayload::verify(&text, &other.public_key(), 1_000)
                .unwrap_err()
                .code(),
            "key_id"
        );
        assert_eq!(
            SignedPayload::verify(&text, &pubkey, 2_000_000_000).unwrap_err(),
            PayloadError::Expired {
                expires: 2_000_000_000,
                now: 2_000_000_000
            }
        );
    }

    #[test]
    fn signing_refuses_a_missing_field() {
        let rng = SystemRandom::new();
        let bank = SigningKey::generate(&rng).unwrap();
        let mut op = transfer();
        op.data.payee_name = None;
        assert_eq!(
            SignedPayload::sign(op, &bank, &rng).unwrap_err(),
            PayloadError::MissingField('B')
        );
    }
}
