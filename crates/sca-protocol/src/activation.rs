//! Activation: binding a device to a customer (docs/spec/sca1.md §3).
//!
//! Byte choices where §3 leaves room (see docs/protocol.md): `activation_id` enters `lp()` and
//! the HKDF salt as the UTF-8 bytes of its b64u text; public keys enter `lp()` as the raw 65-byte
//! points; the confirmation tag travels as lower-case hex.

use std::fmt;

use ring::rand::SecureRandom;
use ring::{hkdf, hmac};

use crate::encoding::{b64u_decode_array, b64u_encode, lp_message_bounded};
use crate::error::KeyError;
use crate::keys::{ConfirmKey, KnowledgeKey, PossessionKey, PublicKey, SharedSecret};

/// The longest name a device may be given, in characters (the customer sees it in the list of
/// devices and in the alert that announces a new one). Banks refuse longer names; the
/// authenticator checks before it asks.
pub const DEVICE_NAME_MAX: usize = 40;

/// `activation_id`: b64u of 16 random bytes (22 characters).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ActivationId(String);

impl ActivationId {
    /// A new random id.
    pub fn random(rng: &dyn SecureRandom) -> Result<Self, KeyError> {
        let mut bytes = [0u8; 16];
        rng.fill(&mut bytes).map_err(|_| KeyError::Random)?;
        Ok(Self(b64u_encode(&bytes)))
    }

    /// Parses b64u of exactly 16 bytes.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        b64u_decode_array::<16>(text)?;
        Ok(Self(text.to_owned()))
    }

    /// The b64u text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ActivationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ActivationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActivationId({})", self.0)
    }
}

/// What the bank key signs in step 2: `"SCA1-ACT" || lp(activation_id) || lp(Ed_pub) || lp(Es_pub)`.
pub fn activation_message(id: &ActivationId, device_ecdh: &PublicKey, server_ecdh: &PublicKey) -> Vec<u8> {
    lp_message_bounded(
        b"SCA1-ACT",
        &[id.as_str().as_bytes(), device_ecdh.as_bytes(), server_ecdh.as_bytes()],
    )
}

/// The three keys both sides derive from `Z` (step 3).
#[derive(Debug)]
pub struct ActivationKeys {
    /// `K_poss`.
    pub possession: PossessionKey,
    /// `K_know`.
    pub knowledge: KnowledgeKey,
    /// `K_conf`.
    pub confirm: ConfirmKey,
}

struct Len32;

impl hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

fn expand(prk: &hkdf::Prk, info: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // Expanding 32 bytes from SHA-256 is always within HKDF's 255 × 32 limit.
    if let Ok(okm) = prk.expand(&[info], Len32) {
        let _ = okm.fill(&mut out);
    }
    out
}

/// `PRK = HKDF-Extract(UTF-8(activation_id), Z)`, then `K_poss`, `K_know`, `K_conf`.
pub fn derive_keys(id: &ActivationId, z: &SharedSecret) -> ActivationKeys {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, id.as_str().as_bytes()).extract(z.expose_secret());
    ActivationKeys {
        possession: PossessionKey::from_bytes(expand(&prk, b"sca1 possession")),
        knowledge: KnowledgeKey::from_bytes(expand(&prk, b"sca1 knowledge")),
        confirm: ConfirmKey::from_bytes(expand(&prk, b"sca1 confirm")),
    }
}

fn confirm_message(id: &ActivationId, device_pub: &PublicKey) -> Vec<u8> {
    lp_message_bounded(b"device", &[id.as_str().as_bytes(), device_pub.as_bytes()])
}

/// The device's tag (step 4): `HMAC(K_conf, "device" || lp(activation_id) || lp(device_pub))`.
pub fn confirm_tag(k_conf: &ConfirmKey, id: &ActivationId, device_pub: &PublicKey) -> [u8; 32] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, k_conf.expose_secret());
    let tag = hmac::sign(&key, &confirm_message(id, device_pub));
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// The server's check of the tag, in constant time.
pub fn verify_confirm_tag(k_conf: &ConfirmKey, id: &ActivationId, device_pub: &PublicKey, tag: &[u8]) -> bool {
    let key = hmac::Key::new(hmac::HMAC_SHA256, k_conf.expose_secret());
    hmac::verify(&key, &confirm_message(id, device_pub), tag).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{EphemeralEcdh, SigningKey};
    use ring::rand::SystemRandom;

    #[test]
    fn both_sides_derive_the_same_keys_and_the_tag_checks() {
        let rng = SystemRandom::new();
        let id = ActivationId::random(&rng).unwrap();
        assert_eq!(id.as_str().len(), 22);
        let device_key = SigningKey::generate(&rng).unwrap();
        let ed = EphemeralEcdh::generate(&rng).unwrap();
        let es = EphemeralEcdh::generate(&rng).unwrap();
        let (ed_pub, es_pub) = (ed.public_key(), es.public_key());
        let device = derive_keys(&id, &ed.agree(&es_pub).unwrap());
        let server = derive_keys(&id, &es.agree(&ed_pub).unwrap());
        assert_eq!(device.possession.expose_secret(), server.possession.expose_secret());
        assert_eq!(device.knowledge.expose_secret(), server.knowledge.expose_secret());
        assert_ne!(device.possession.expose_secret(), device.knowledge.expose_secret());
        let tag = confirm_tag(&device.confirm, &id, &device_key.public_key());
        assert!(verify_confirm_tag(&server.confirm, &id, &device_key.public_key(), &tag));
        let mut bad = tag;
        bad[31] ^= 1;
        assert!(!verify_confirm_tag(
            &server.confirm,
            &id,
            &device_key.public_key(),
            &bad
        ));
        let other = ActivationId::random(&rng).unwrap();
        assert!(!verify_confirm_tag(
            &server.confirm,
            &other,
            &device_key.public_key(),
            &tag
        ));
    }

    #[test]
    fn activation_id_is_16_bytes_b64u() {
        assert!(ActivationId::parse("AAAAAAAAAAAAAAAAAAAAAA").is_ok());
        assert!(ActivationId::parse("AAAAAAAAAAAAAAAAAAAAA").is_err());
        assert!(ActivationId::parse("AAAAAAAAAAAAAAAAAAAAAA==").is_err());
    }
}
