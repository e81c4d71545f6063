//! Byte encodings of docs/spec/sca1.md §1: b64u, `lp()`, hex of fixed-size values, SHA-256.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{KeyError, LengthError};

/// base64url without padding (RFC 4648 §5).
pub fn b64u_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding. Refuses padding, the standard alphabet, and non-canonical
/// trailing bits, so each byte string has exactly one accepted text form.
pub fn b64u_decode(text: &str) -> Result<Vec<u8>, KeyError> {
    URL_SAFE_NO_PAD.decode(text).map_err(|_| KeyError::Base64)
}

/// Decodes b64u that must hold exactly `N` bytes.
pub(crate) fn b64u_decode_array<const N: usize>(text: &str) -> Result<[u8; N], KeyError> {
    b64u_decode(text)?.try_into().map_err(|_| KeyError::Base64)
}

/// Decodes hex (either case) that must hold exactly `N` bytes.
pub(crate) fn hex_array<const N: usize>(text: &str) -> Result<[u8; N], KeyError> {
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).map_err(|_| KeyError::Hex(N))?;
    Ok(out)
}

/// SHA-256.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// Appends `lp(x)`: the 2-byte big-endian length of `x`, then `x`.
pub(crate) fn push_lp(buf: &mut Vec<u8>, x: &[u8]) -> Result<(), LengthError> {
    let len = u16::try_from(x.len()).map_err(|_| LengthError(x.len()))?;
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(x);
    Ok(())
}

/// Builds `prefix || lp(f1) || lp(f2) || …`.
pub fn lp_message(prefix: &[u8], fields: &[&[u8]]) -> Result<Vec<u8>, LengthError> {
    let mut buf = Vec::with_capacity(prefix.len() + fields.iter().map(|f| f.len() + 2).sum::<usize>());
    buf.extend_from_slice(prefix);
    for field in fields {
        push_lp(&mut buf, field)?;
    }
    Ok(buf)
}

/// [`lp_message`] for fields whose types bound their length far below 65 535 bytes.
pub(crate) fn lp_message_bounded(prefix: &[u8], fields: &[&[u8]]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(prefix.len() + fields.iter().map(|f| f.len() + 2).sum::<usize>());
    buf.extend_from_slice(prefix);
    for field in fields {
        debug_assert!(field.len() <= usize::from(u16::MAX));
        buf.extend_from_slice(&(field.len() as u16).to_be_bytes());
        buf.extend_from_slice(field);
    }
    buf
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lp_is_two_byte_big_endian_length() {
        let msg = lp_message(b"P", &[b"ab", b""]).unwrap();
        assert_eq!(msg, b"P\x00\x02ab\x00\x00");
        assert_eq!(lp_message_bounded(b"P", &[b"ab", b""]), msg);
        assert_eq!(lp_message(b"", &[&vec![0u8; 65_536]]), Err(LengthError(65_536)));
        assert!(lp_message(b"", &[&vec![0u8; 65_535]]).is_ok());
    }

    #[test]
    fn b64u_is_strict() {
        assert_eq!(b64u_encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(b64u_decode("-_8").unwrap(), vec![0xfb, 0xff]);
        assert!(b64u_decode("-_8=").is_err(), "padding refused");
        assert!(b64u_decode("+/8").is_err(), "standard alphabet refused");
        assert!(b64u_decode("-_9").is_err(), "non-canonical trailing bits refused");
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"123456", b"123456"));
        assert!(!constant_time_eq(b"123456", b"123457"));
        assert!(!constant_time_eq(b"12345", b"123456"));
    }
}
