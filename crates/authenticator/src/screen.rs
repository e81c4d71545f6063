//! QR codes read from the screen (or from any source that gives several at once): which of them
//! are operations of this device's profiles.
//!
//! Nothing is trusted for having come from the screen: each text is verified against the bank
//! key of each profile exactly as a scanned code is ([`Authenticator::verify_payload`]), and only
//! what verifies becomes a [`FoundOperation`]. The CLI (`sigillo-auth scan --screen`) and the
//! desktop app share [`Authenticator::classify_codes`] and [`ScreenCodes`].

use sca_protocol::{PayloadError, SignedPayload};

use crate::error::{Error, Result};
use crate::{Authenticator, Profile, scan};

/// An operation read from a QR code, verified for one of the profiles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundOperation {
    /// The profile whose bank key verified it (go on with this profile: its PIN, its device).
    pub profile: Profile,
    /// The verified operation.
    pub payload: SignedPayload,
}

/// A QR code that is an operation of none of the profiles, and why.
#[derive(Debug)]
pub struct RefusedCode {
    /// The code's text, as read.
    pub text: String,
    /// Why it was refused: the most telling of the profiles' refusals (an expiry or a malformed
    /// payload rather than "signed by an unknown key", which every other bank's code gives).
    pub reason: Error,
}

/// What the QR codes read from the screen are, in the order they were read.
#[derive(Debug, Default)]
pub struct ScreenCodes {
    /// The codes that are operations of a profile (one entry per profile a code verifies for).
    pub operations: Vec<FoundOperation>,
    /// The other codes.
    pub refused: Vec<RefusedCode>,
}

impl ScreenCodes {
    /// How many distinct QR codes were read in all.
    pub fn total(&self) -> usize {
        let texts: std::collections::HashSet<&str> = self.operations.iter().map(|o| o.payload.text()).collect();
        texts.len() + self.refused.len()
    }

    /// The operations, or the error to show when there is none: [`Error::NoCodeOnScreen`] when
    /// no QR code was read at all, [`Error::NoOperationOnScreen`] when codes were read but none
    /// is an operation of the profiles.
    pub fn into_operations(self) -> Result<Vec<FoundOperation>> {
        if !self.operations.is_empty() {
            return Ok(self.operations);
        }
        let codes = self.refused.len();
        match self.refused.into_iter().next() {
            None => Err(Error::NoCodeOnScreen),
            Some(first) => Err(Error::NoOperationOnScreen {
                codes,
                reason: first.reason.to_string(),
            }),
        }
    }
}

/// How telling a refusal is when several profiles refused one text (higher is more telling).
fn weight(e: &Error) -> u8 {
    match e {
        Error::Payload(PayloadError::KeyId) => 0,
        Error::Payload(PayloadError::Signature) => 1,
        Error::Payload(PayloadError::Form(_)) => 2,
        _ => 3,
    }
}

impl Authenticator {
    /// Sorts QR code texts into operations of the profiles and the rest. Each text is verified
    /// against `only` when given, else against every profile, the main one first; a text given
    /// twice counts once.
    ///
    /// A text that verifies for several profiles (two users of one bank share its key, and the
    /// payload does not say whose operation it is) gives one [`FoundOperation`] per profile: only
    /// the right profile's code is accepted by the bank, so the customer must choose.
    pub fn classify_codes(&self, texts: &[String], only: Option<&Profile>) -> ScreenCodes {
        let mut profiles = match only {
            Some(p) => vec![p.clone()],
            None => self.vault.profiles(),
        };
        profiles.sort_by_key(|p| !p.main);
        let mut out = ScreenCodes::default();
        let mut seen = std::collections::HashSet::new();
        for text in texts {
            if !seen.insert(text.as_str()) {
                continue;
            }
            let mut best: Option<Error> = None;
            let mut found = false;
            for profile in &profiles {
                match self.verify_payload(profile, text) {
                    Ok(payload) => {
                        found = true;
                        out.operations.push(FoundOperation {
                            profile: profile.clone(),
                            payload,
                        });
                    }
                    Err(e) => {
                        if best.as_ref().is_none_or(|b| weight(&e) > weight(b)) {
                            best = Some(e);
                        }
                    }
                }
            }
            if !found {
                out.refused.push(RefusedCode {
                    text: text.clone(),
                    reason: best.unwrap_or_else(|| Error::NoProfile("no profile on this device".into())),
                });
            }
        }
        out
    }

    /// Reads the screen of this session ([`scan::read_screen`]) and sorts its QR codes with
    /// [`classify_codes`](Self::classify_codes). Blocks while capturing and decoding (tens of
    /// milliseconds; with the Wayland portal, until the user answers its dialog).
    pub fn scan_screen(&self, only: Option<&Profile>) -> Result<ScreenCodes> {
        self.scan_screen_in(&scan::ScreenEnv::from_env(), only)
    }

    /// [`scan_screen`](Self::scan_screen) on the displays of `env`.
    pub fn scan_screen_in(&self, env: &scan::ScreenEnv, only: Option<&Profile>) -> Result<ScreenCodes> {
        let texts = scan::read_screen_in(env)?;
        Ok(self.classify_codes(&texts, only))
    }
}

/// One line for a list of operations to choose from: amount, payee (or merchant), the bank's
/// server and the profile's user, e.g. `1250.00EUR — Mario Rossi — https://bank.example (user
/// 12345678)`.
pub fn operation_summary(found: &FoundOperation) -> String {
    let op = found.payload.operation();
    let amount = op.data.amount.map_or_else(|| "no amount".to_owned(), |a| a.to_string());
    let to = op
        .data
        .payee_name
        .clone()
        .or_else(|| op.data.merchant.clone())
        .unwrap_or_else(|| format!("{:?}", op.kind).to_lowercase());
    format!(
        "{amount} — {to} — {} (user {}) — operation {}",
        found.profile.server_url, found.profile.user, op.op_id
    )
}
