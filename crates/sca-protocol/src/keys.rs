//! Keys (docs/spec/sca1.md §1): ECDSA P-256 signing and public keys, fixed-size signatures, key ids,
//! ephemeral ECDH, and the 32-byte secrets of an activated device.
//!
//! Secrets are zeroized on drop and their `Debug` never prints them.

use std::fmt;

use ring::agreement;
use ring::rand::SecureRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair as _};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::encoding::{b64u_decode, b64u_decode_array, b64u_encode, hex_array, sha256};
use crate::error::KeyError;

/// A P-256 public key: the 65-byte uncompressed SEC1 point.
///
/// Parsing checks the form (length and the `0x04` prefix); a point that is not on the curve is
/// refused when it is used (a signature never verifies, ECDH fails).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; 65]);

impl PublicKey {
    /// From the 65 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let point: [u8; 65] = bytes.try_into().map_err(|_| KeyError::PublicKey)?;
        if point[0] != 0x04 {
            return Err(KeyError::PublicKey);
        }
        Ok(Self(point))
    }

    /// From its b64u text form.
    pub fn from_b64u(text: &str) -> Result<Self, KeyError> {
        Self::from_bytes(&b64u_decode(text)?)
    }

    /// The 65 raw bytes.
    pub fn as_bytes(&self) -> &[u8; 65] {
        &self.0
    }

    /// The b64u text form.
    pub fn to_b64u(&self) -> String {
        b64u_encode(&self.0)
    }

    /// `key_id(pub)`: the first 16 lower-case hex characters of SHA(point).
    pub fn key_id(&self) -> KeyId {
        let digest = sha256(&self.0);
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        KeyId(id)
    }

    /// Verifies an ECDSA P-256 SHA-256 signature over `message`.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> bool {
        signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &self.0)
            .verify(message, &signature.0)
            .is_ok()
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_b64u())
    }
}

/// The id of a public key: 8 bytes, written as 16 lower-case hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId([u8; 8]);

impl KeyId {
    /// Parses exactly 16 lower-case hex characters.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != 16 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        hex_array(text).ok().map(Self)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// An ECDSA P-256 signature in fixed 64-byte `r || s` form.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature([u8; 64]);

impl Signature {
    /// From the 64 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        bytes.try_into().map(Self).map_err(|_| KeyError::SignatureForm)
    }

    /// From its b64u form (exactly 86 characters).
    pub fn from_b64u(text: &str) -> Result<Self, KeyError> {
        b64u_decode_array::<64>(text)
            .map(Self)
            .map_err(|_| KeyError::SignatureForm)
    }

    /// The 64 raw bytes.
    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }

    /// The b64u text form.
    pub fn to_b64u(&self) -> String {
        b64u_encode(&self.0)
    }

    /// The low-S form `(r, min(s, n - s))`. ECDSA signatures are malleable: whoever holds
    /// `(r, s)` can write `(r, n - s)`, which verifies too, so a signature is never a key as sent
    /// (a replay cache keyed on the bytes would take the twin for a new request). Both forms of
    /// a signature have the same low-S form; two signatures of one message made with different
    /// nonces do not.
    pub fn low_s(&self) -> [u8; 64] {
        let mut out = self.0;
        let s: [u8; 32] = out[32..].try_into().unwrap_or([0; 32]);
        let mut twin = [0u8; 32];
        let mut borrow = 0u16;
        for i in (0..32).rev() {
            let d = u16::from(P256_ORDER[i])
                .wrapping_sub(u16::from(s[i]))
                .wrapping_sub(borrow);
            borrow = u16::from(d > 0xff);
            twin[i] = (d & 0xff) as u8;
        }
        if twin < s {
            out[32..].copy_from_slice(&twin);
        }
        out
    }
}

/// The order n of the P-256 group, big-endian.
const P256_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa,
    0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", self.to_b64u())
    }
}

/// An ECDSA P-256 private key: the bank key or a device key.
pub struct SigningKey {
    pair: EcdsaKeyPair,
    pkcs8: Zeroizing<Vec<u8>>,
    public: PublicKey,
}

impl SigningKey {
    /// A new key pair from `rng`.
    pub fn generate(rng: &dyn SecureRandom) -> Result<Self, KeyError> {
        let doc = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, rng)
            .map_err(|_| KeyError::Random)?;
        Self::from_pkcs8(doc.as_ref(), rng)
    }

    /// From a PKCS#8 v1 or v2 document (as made by [`generate`](Self::generate) or OpenSSL).
    pub fn from_pkcs8(der: &[u8], rng: &dyn SecureRandom) -> Result<Self, KeyError> {
        let pair = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der, rng)
            .map_err(|_| KeyError::PrivateKey)?;
        let public = PublicKey::from_bytes(pair.public_key().as_ref())?;
        Ok(Self {
            pair,
            pkcs8: Zeroizing::new(der.to_vec()),
            public,
        })
    }

    /// The PKCS#8 document, to store. Secret.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// Signs `message` (ECDSA P-256 SHA-256, randomized nonce from `rng`).
    pub fn sign(&self, rng: &dyn SecureRandom, message: &[u8]) -> Result<Signature, KeyError> {
        let sig = self.pair.sign(rng, message).map_err(|_| KeyError::Random)?;
        Signature::from_bytes(sig.as_ref())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey(key_id={}, ..)", self.public.key_id())
    }
}

/// An ephemeral ECDH P-256 key (`Ed` on the device, `Es` on the server), used once.
pub struct EphemeralEcdh {
    private: agreement::EphemeralPrivateKey,
    public: PublicKey,
}

impl EphemeralEcdh {
    /// A new ephemeral key from `rng`.
    pub fn generate(rng: &dyn SecureRandom) -> Result<Self, KeyError> {
        let private =
            agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, rng).map_err(|_| KeyError::Random)?;
        let public = private.compute_public_key().map_err(|_| KeyError::Random)?;
        Ok(Self {
            public: PublicKey::from_bytes(public.as_ref())?,
            private,
        })
    }

    /// The public half, to send.
    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// `Z = ECDH(self, peer)`: the x-coordinate of the shared point. Consumes the key.
    pub fn agree(self, peer: &PublicKey) -> Result<SharedSecret, KeyError> {
        let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, peer.as_bytes());
        agreement::agree_ephemeral(self.private, &peer, |z| {
            let mut out = [0u8; 32];
            out.copy_from_slice(z);
            SharedSecret(out)
        })
        .map_err(|_| KeyError::Agreement)
    }
}

impl fmt::Debug for EphemeralEcdh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EphemeralEcdh({:?})", self.public)
    }
}

macro_rules! secret32 {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Zeroize, ZeroizeOnDrop)]
        pub struct $name([u8; 32]);

        impl $name {
            /// From 32 bytes (e.g. read back from storage).
            pub fn from_bytes(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }

            /// From 64 hex characters.
            pub fn from_hex(text: &str) -> Result<Self, KeyError> {
                hex_array::<32>(text).map(Self)
            }

            /// The secret bytes. Handle with care: never log them.
            pub fn expose_secret(&self) -> &[u8; 32] {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

secret32!(
    /// `Z`, the ECDH shared secret of an activation.
    SharedSecret
);
secret32!(
    /// `K_poss`: the possession key, kept by the device and (encrypted) by the server.
    PossessionKey
);
secret32!(
    /// `K_know`: the knowledge key; the device keeps it only wrapped by the PIN.
    KnowledgeKey
);
secret32!(
    /// `K_conf`: confirms the activation, then is dropped.
    ConfirmKey
);
secret32!(
    /// `W = K_know XOR P`: the PIN-wrapped knowledge key, as the device stores it.
    WrappedKnowledgeKey
);

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    #[test]
    fn sign_and_verify_round_trip_and_tamper() {
        let rng = SystemRandom::new();
        let key = SigningKey::generate(&rng).unwrap();
        let again = SigningKey::from_pkcs8(key.pkcs8(), &rng).unwrap();
        assert_eq!(key.public_key(), again.public_key());
        let sig = key.sign(&rng, b"hello").unwrap();
        assert!(key.public_key().verify(b"hello", &sig));
        assert!(!key.public_key().verify(b"hellp", &sig));
        let other = SigningKey::generate(&rng).unwrap();
        assert!(!other.public_key().verify(b"hello", &sig));
    }

    #[test]
    fn a_signature_and_its_twin_have_one_low_s_form() {
        let rng = SystemRandom::new();
        let key = SigningKey::generate(&rng).unwrap();
        let mut seen_high = false;
        for i in 0..64u8 {
            let msg = [i; 8];
            let sig = key.sign(&rng, &msg).unwrap();
            let low = Signature::from_bytes(&sig.low_s()).unwrap();
            // The twin of the low form: n - s, with s below n/2, is above it.
            let s = &low.as_bytes()[32..];
            let mut twin = *low.as_bytes();
            let mut borrow = 0i32;
            for j in (0..32).rev() {
                let d = i32::from(P256_ORDER[j]) - i32::from(s[j]) - borrow;
                borrow = i32::from(d < 0);
                twin[32 + j] = (d + 256 * borrow) as u8;
            }
            let twin = Signature::from_bytes(&twin).unwrap();
            assert!(key.public_key().verify(&msg, &low), "the low form verifies");
            assert!(key.public_key().verify(&msg, &twin), "the twin verifies too");
            assert_eq!(twin.low_s(), sig.low_s());
            assert_eq!(low.low_s(), sig.low_s());
            assert!(twin.as_bytes()[32..] > low.as_bytes()[32..]);
            seen_high |= sig.as_bytes() != low.as_bytes();
            // Another signature of the same message (another nonce) has another form.
            assert_ne!(key.sign(&rng, &msg).unwrap().low_s(), sig.low_s());
        }
        assert!(seen_high, "ring signs with a high s about half the time");
    }

    #[test]
    fn key_id_is_16_lower_hex_of_sha() {
        let rng = SystemRandom::new();
        let key = SigningKey::generate(&rng).unwrap().public_key();
        let id = key.key_id().to_string();
        assert_eq!(id, hex::encode(&sha256(key.as_bytes())[..8]));
        assert_eq!(KeyId::parse(&id), Some(key.key_id()));
        assert_eq!(KeyId::parse(&id.to_uppercase()), None);
        assert_eq!(KeyId::parse(&id[..15]), None);
    }

    #[test]
    fn ecdh_both_sides_agree() {
        let rng = SystemRandom::new();
        let device = EphemeralEcdh::generate(&rng).unwrap();
        let server = EphemeralEcdh::generate(&rng).unwrap();
        let (dp, sp) = (device.public_key(), server.public_key());
        let z1 = device.agree(&sp).unwrap();
        let z2 = server.agree(&dp).unwrap();
        assert_eq!(z1.expose_secret(), z2.expose_secret());
    }

    #[test]
    fn bad_public_keys_are_refused() {
        assert_eq!(PublicKey::from_bytes(&[4u8; 64]), Err(KeyError::PublicKey));
        assert_eq!(PublicKey::from_bytes(&[2u8; 65]), Err(KeyError::PublicKey));
        let rng = SystemRandom::new();
        let off_curve = PublicKey::from_bytes(&[4u8; 65]).unwrap();
        assert_eq!(
            EphemeralEcdh::generate(&rng).unwrap().agree(&off_curve).unwrap_err(),
            KeyError::Agreement
        );
        assert!(SigningKey::from_pkcs8(b"not a key", &rng).is_err());
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let k = PossessionKey::from_bytes([0xab; 32]);
        assert_eq!(format!("{k:?}"), "PossessionKey(<redacted>)");
        let rng = SystemRandom::new();
        let key = SigningKey::generate(&rng).unwrap();
        assert!(!format!("{key:?}").contains(&hex::encode(key.pkcs8())));
    }
}
