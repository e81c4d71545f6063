//! The 5-digit PIN and the wrap of `K_know` that keeps no verifier (docs/spec/sca1.md §4).
//!
//! Nothing here can tell a right PIN from a wrong one: unwrapping with any PIN yields *some*
//! 32 bytes, and only the server, checking a code made with them, learns whether they were right.

use std::fmt;
use std::num::NonZeroU32;

use ring::pbkdf2;
use ring::rand::SecureRandom;
use zeroize::Zeroizing;

use crate::error::{IterationsError, KeyError, PinError};
use crate::keys::{KnowledgeKey, WrappedKnowledgeKey};

/// A PIN that passed the weak-PIN rules. Zeroized on drop; `Debug` prints no digit.
#[derive(Clone)]
pub struct Pin(Zeroizing<[u8; 5]>);

impl Pin {
    /// Exactly 5 ASCII digits that pass [`secret_digits`].
    pub fn parse(text: &str) -> Result<Self, PinError> {
        secret_digits::<5>(text).map(Self)
    }

    /// The ASCII digits, to derive `P`. Secret.
    pub fn expose_secret(&self) -> &[u8; 5] {
        &self.0
    }
}

/// The weak-code rules of every secret of digits a customer chooses (the PIN here, a card's
/// Key6 and the password at the bank): not all equal, not a straight run up or down (no
/// wrap-around). `digits` are ASCII digits, at least one.
pub fn weak_digits(digits: &[u8]) -> Option<PinError> {
    if digits.iter().all(|&b| b == digits[0]) {
        return Some(PinError::AllEqual);
    }
    let up = digits.windows(2).all(|w| w[1] == w[0] + 1);
    let down = digits.windows(2).all(|w| w[0] == w[1] + 1);
    (up || down).then_some(PinError::Straight)
}

/// The digits of a secret of exactly `N` ASCII digits (a PIN, a Key6), refusing the weak ones
/// ([`weak_digits`]). The digits come back zeroized on drop. [`PinError::Length`] names the
/// PIN's length; other users say their own.
pub fn secret_digits<const N: usize>(text: &str) -> Result<Zeroizing<[u8; N]>, PinError> {
    let bytes = text.as_bytes();
    if text.chars().count() != N {
        return Err(PinError::Length);
    }
    if !bytes.iter().all(u8::is_ascii_digit) {
        return Err(PinError::NotDigit);
    }
    if let Some(weak) = weak_digits(bytes) {
        return Err(weak);
    }
    let mut digits = Zeroizing::new([0u8; N]);
    digits.copy_from_slice(bytes);
    Ok(digits)
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(*****)")
    }
}

/// `salt_pin`: 16 random bytes, stored beside the profile.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PinSalt(pub [u8; 16]);

impl PinSalt {
    /// A new random salt.
    pub fn random(rng: &dyn SecureRandom) -> Result<Self, KeyError> {
        let mut salt = [0u8; 16];
        rng.fill(&mut salt).map_err(|_| KeyError::Random)?;
        Ok(Self(salt))
    }
}

/// The PBKDF2 iteration count: at least 100 000 (§4), at most 10 000 000 so that a hostile
/// profile cannot stall the device for minutes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Iterations(NonZeroU32);

impl Iterations {
    /// The protocol's floor.
    pub const MIN: u32 = 100_000;
    /// Our ceiling.
    pub const MAX: u32 = 10_000_000;
    /// What new profiles use: the floor plus a margin (≈ 0.05 s on a laptop core).
    pub const DEFAULT: Self = Self(match NonZeroU32::new(200_000) {
        Some(n) => n,
        None => NonZeroU32::MIN,
    });

    /// Checks the range.
    pub fn new(n: u64) -> Result<Self, IterationsError> {
        if n < u64::from(Self::MIN) {
            return Err(IterationsError::TooFew { min: Self::MIN, got: n });
        }
        if n > u64::from(Self::MAX) {
            return Err(IterationsError::TooMany { max: Self::MAX, got: n });
        }
        u32::try_from(n)
            .ok()
            .and_then(NonZeroU32::new)
            .map(Self)
            .ok_or(IterationsError::TooMany { max: Self::MAX, got: n })
    }

    /// The count.
    pub fn get(self) -> u32 {
        self.0.get()
    }
}

/// `P = PBKDF2(ASCII(PIN), salt_pin, iterations, 32)`.
fn pin_key(pin: &Pin, salt: &PinSalt, iterations: Iterations) -> Zeroizing<[u8; 32]> {
    let mut p = Zeroizing::new([0u8; 32]);
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iterations.0,
        &salt.0,
        pin.expose_secret(),
        &mut *p,
    );
    p
}

fn xor(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (o, (x, y)) in out.iter_mut().zip(a.iter().zip(b)) {
        *o = x ^ y;
    }
    out
}

/// `W = K_know XOR P`.
pub fn wrap_knowledge_key(
    k_know: &KnowledgeKey,
    pin: &Pin,
    salt: &PinSalt,
    iterations: Iterations,
) -> WrappedKnowledgeKey {
    let p = pin_key(pin, salt, iterations);
    WrappedKnowledgeKey::from_bytes(xor(k_know.expose_secret(), &p))
}

/// `K_know' = W XOR P'`. Any PIN gives a key; a wrong PIN gives a wrong one, silently.
pub fn unwrap_knowledge_key(
    w: &WrappedKnowledgeKey,
    pin: &Pin,
    salt: &PinSalt,
    iterations: Iterations,
) -> KnowledgeKey {
    let p = pin_key(pin, salt, iterations);
    KnowledgeKey::from_bytes(xor(w.expose_secret(), &p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_pins_are_refused_with_their_reason() {
        for (pin, err) in [
            ("1234", PinError::Length),
            ("123456", PinError::Length),
            ("1234a", PinError::NotDigit),
            ("12 45", PinError::NotDigit),
            ("１２３４５", PinError::NotDigit),
            ("11111", PinError::AllEqual),
            ("00000", PinError::AllEqual),
            ("01234", PinError::Straight),
            ("56789", PinError::Straight),
            ("43210", PinError::Straight),
            ("98765", PinError::Straight),
        ] {
            assert_eq!(Pin::parse(pin).unwrap_err(), err, "{pin}");
        }
        for ok in ["89012", "90123", "13579", "11112", "12346", "21098", "24680"] {
            assert!(Pin::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn pin_never_appears_in_debug() {
        assert_eq!(format!("{:?}", Pin::parse("13579").unwrap()), "Pin(*****)");
    }

    #[test]
    fn iterations_have_a_floor_and_a_ceiling() {
        assert!(Iterations::new(99_999).is_err());
        assert_eq!(Iterations::new(100_000).unwrap().get(), 100_000);
        assert!(Iterations::new(10_000_001).is_err());
        assert!(Iterations::new(u64::MAX).is_err());
    }

    #[test]
    fn wrap_round_trips_and_a_wrong_pin_gives_a_different_key_silently() {
        let k = KnowledgeKey::from_bytes([7u8; 32]);
        let salt = PinSalt([1u8; 16]);
        let it = Iterations::new(100_000).unwrap();
        let pin = Pin::parse("13579").unwrap();
        let w = wrap_knowledge_key(&k, &pin, &salt, it);
        assert_eq!(
            unwrap_knowledge_key(&w, &pin, &salt, it).expose_secret(),
            k.expose_secret()
        );
        let wrong = unwrap_knowledge_key(&w, &Pin::parse("13578").unwrap(), &salt, it);
        assert_ne!(wrong.expose_secret(), k.expose_secret());
    }
}
