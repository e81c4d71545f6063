//! User codes and operation identifiers: 8 digits, the last a Damm check digit (docs/spec/sca1.md §2).

use std::fmt;

use ring::rand::SecureRandom;

use crate::error::{IdError, KeyError};

/// The 10×10 weakly totally anti-symmetric quasigroup of H. M. Damm (2004), as commonly published.
const DAMM: [[u8; 10]; 10] = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

/// The Damm check digit of a string of ASCII digits, or `None` if a character is not a digit.
///
/// ```
/// assert_eq!(sca_protocol::damm_check_digit("572"), Some(4));
/// ```
pub fn damm_check_digit(digits: &str) -> Option<u8> {
    digits.bytes().try_fold(0u8, |interim, b| {
        b.is_ascii_digit()
            .then(|| DAMM[usize::from(interim)][usize::from(b - b'0')])
    })
}

/// Checks the form shared by user codes and operation identifiers, in this order: length (in
/// characters), then digits, then the check digit.
fn parse_id(text: &str) -> Result<[u8; 8], IdError> {
    let len = text.chars().count();
    if len != 8 {
        return Err(IdError::Length(len));
    }
    if let Some(position) = text.chars().position(|c| !c.is_ascii_digit()) {
        return Err(IdError::NotDigit(position + 1));
    }
    if damm_check_digit(text) != Some(0) {
        return Err(IdError::CheckDigit);
    }
    let mut out = [0u8; 8];
    out.copy_from_slice(text.as_bytes());
    Ok(out)
}

/// Seven random digits (the first not `0` when `no_leading_zero`) and their check digit.
fn random_id(rng: &dyn SecureRandom, no_leading_zero: bool) -> Result<[u8; 8], KeyError> {
    let mut out = [0u8; 8];
    let mut i = 0;
    while i < 7 {
        let mut byte = [0u8; 1];
        rng.fill(&mut byte).map_err(|_| KeyError::Random)?;
        // Rejection sampling: 250 = 25 × 10 keeps every digit equally likely.
        if byte[0] >= 250 || (i == 0 && no_leading_zero && byte[0] % 10 == 0) {
            continue;
        }
        out[i] = b'0' + byte[0] % 10;
        i += 1;
    }
    let seven = std::str::from_utf8(&out[..7]).map_err(|_| KeyError::Random)?;
    out[7] = b'0' + damm_check_digit(seven).ok_or(KeyError::Random)?;
    Ok(out)
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $no_leading_zero:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name([u8; 8]);

        impl $name {
            /// Parses 8 digits with a valid check digit.
            pub fn parse(text: &str) -> Result<Self, IdError> {
                let digits = parse_id(text)?;
                if $no_leading_zero && digits[0] == b'0' {
                    return Err(IdError::LeadingZero);
                }
                Ok(Self(digits))
            }

            /// A new random identifier from `rng`.
            pub fn random(rng: &dyn SecureRandom) -> Result<Self, KeyError> {
                random_id(rng, $no_leading_zero).map(Self)
            }

            /// The 8 ASCII digits.
            pub fn as_str(&self) -> &str {
                // Only ever built from ASCII digits.
                std::str::from_utf8(&self.0).unwrap_or_default()
            }

            /// The 8 ASCII digits as bytes.
            pub fn as_bytes(&self) -> &[u8; 8] {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }
    };
}

id_type!(
    /// A customer's user code ("codice utente"): never starts with `0`.
    UserCode,
    true
);
id_type!(
    /// An operation identifier: unique per customer for life; may start with `0`.
    OpId,
    false
);

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    #[test]
    fn damm_matches_the_published_example() {
        assert_eq!(damm_check_digit("572"), Some(4));
        assert_eq!(damm_check_digit("5724"), Some(0));
        assert_eq!(damm_check_digit(""), Some(0));
        assert_eq!(damm_check_digit("5a"), None);
    }

    #[test]
    fn parse_names_each_reason() {
        assert!(OpId::parse("57240000").is_ok());
        assert_eq!(OpId::parse("5724000"), Err(IdError::Length(7)));
        assert_eq!(OpId::parse("572400000"), Err(IdError::Length(9)));
        assert_eq!(OpId::parse("5724a000"), Err(IdError::NotDigit(5)));
        assert_eq!(OpId::parse("57240001"), Err(IdError::CheckDigit));
        assert_eq!(OpId::parse("5724 00"), Err(IdError::Length(7)));
        assert_eq!(OpId::parse("5724è000"), Err(IdError::NotDigit(5)));
        assert_eq!(OpId::parse(""), Err(IdError::Length(0)));
    }

    #[test]
    fn user_codes_never_start_with_zero() {
        // 0000000 has check digit 0.
        assert!(OpId::parse("00000000").is_ok());
        assert_eq!(UserCode::parse("00000000"), Err(IdError::LeadingZero));
    }

    #[test]
    fn every_single_digit_error_is_caught() {
        let id = "57240000";
        for pos in 0..8 {
            for d in b'0'..=b'9' {
                let mut bytes = id.as_bytes().to_vec();
                if bytes[pos] == d {
                    continue;
                }
                bytes[pos] = d;
                let text = String::from_utf8(bytes).unwrap();
                assert_eq!(OpId::parse(&text), Err(IdError::CheckDigit), "{text}");
            }
        }
    }

    #[test]
    fn random_ids_are_valid() {
        let rng = SystemRandom::new();
        for _ in 0..200 {
            let user = UserCode::random(&rng).unwrap();
            assert_eq!(UserCode::parse(user.as_str()), Ok(user));
            let op = OpId::random(&rng).unwrap();
            assert_eq!(OpId::parse(&op.to_string()), Ok(op));
        }
    }
}
