//! # authenticator — the customer's side of Sigillo
//!
//! Profiles in a vault (OS keyring, or memory only in kiosk mode), activation against the bank's
//! server, the PIN, offline codes (LOGIN, TRANSACTION, OPERATION from a QR code, OPERATION_ID from
//! a typed identifier), push approvals, and QR decoding of images. The desktop app and the
//! `sigillo-auth` CLI are thin shells over [`Authenticator`].
//!
//! It never shows an operation it has not verified: payloads become [`SignedPayload`] only through
//! the bank key stored in the profile, and only then can a code or an approval be made from them.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bill;
pub mod error;
pub mod screen;
pub mod vault;

use std::sync::Arc;

use ring::rand::SystemRandom;
use sca_protocol::{
    ActivationId, Code, CodeInput, OpId, Pin, SignedPayload, SigningKey, Step, approve_message, reject_message,
};
use tokio::sync::mpsc;

pub use client::{Client, DeviceActivation, OutboxMessage, PushEvent, six_digit_code};
pub use error::{Error, Result};
/// The bank server's client (activation, signed requests, push), shared with the load generator
/// and the tests.
pub use sca_client as client;
/// Frame sources (webcam, image folders, clipboard, synthetic) and the scanning loop.
pub use sca_scan as scan;
pub use screen::{FoundOperation, RefusedCode, ScreenCodes, operation_summary};
pub use vault::{KeyringStore, MemoryStore, Profile, SecretStore, Vault};

/// The prefix of the QR code an active device shows to activate another one.
pub const ACTIVATION_QR_PREFIX: &str = "SCA1-ACTIVATE:";

/// A time-based code and how long it stays valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeCode {
    /// The 6 digits.
    pub code: Code,
    /// Seconds until the step ends (the server also accepts the next step).
    pub seconds_left: u64,
}

/// Which time-based code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeCodeKind {
    /// "OTP login".
    Login,
    /// "OTP dispositiva".
    Transaction,
}

/// A first activation waiting for the SMS OTP.
#[derive(Debug)]
pub struct PendingActivation {
    client: Client,
    activation: ActivationId,
    user: String,
}

/// What a typed operation identifier turned out to be.
#[derive(Debug)]
pub enum OpIdLookup {
    /// Online: the bank's signed payload, verified; show every field.
    Verified(Box<SignedPayload>),
    /// Offline: the details cannot be shown; the customer must compare them with Area Clienti.
    Offline(String),
}

/// A push event with the profile it came for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileEvent {
    /// The profile's id.
    pub profile: String,
    /// What happened.
    pub event: PushEvent,
}

/// The authenticator: a vault, a clock, and the certificate authorities it trusts besides the
/// system's.
pub struct Authenticator {
    vault: Vault,
    clock: client::UnixClock,
    ca_pem: Option<Arc<Vec<u8>>>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("vault", &self.vault)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Over `vault`, with the system clock.
    pub fn new(vault: Vault) -> Self {
        Self {
            vault,
            clock: Arc::new(client::system_now),
            ca_pem: None,
        }
    }

    /// With another clock (tests, or a device whose clock is known to be off).
    pub fn with_clock(vault: Vault, clock: client::UnixClock) -> Self {
        Self {
            vault,
            clock,
            ca_pem: None,
        }
    }

    /// Also trusts the certificate authorities of `pem` (a bank's own CA, a test CA).
    pub fn trust_ca_pem(mut self, pem: Vec<u8>) -> Result<Self> {
        client::parse_ca_pem(&pem)?;
        self.ca_pem = Some(Arc::new(pem));
        Ok(self)
    }

    /// The vault.
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// Unix seconds now.
    pub fn now(&self) -> u64 {
        (self.clock)()
    }

    fn client(&self, server_url: &str) -> Result<Client> {
        Client::with_roots(
            server_url,
            self.clock.clone(),
            self.ca_pem.as_deref().map(Vec::as_slice),
        )
        .map_err(Error::from)
    }

    fn device<'a>(profile: &'a Profile, key: &'a SigningKey) -> client::DeviceIdentity<'a> {
        client::DeviceIdentity {
            device_id: &profile.device_id,
            key,
        }
    }

    /// First device, step 1: user code (or alias) and password; the bank sends an SMS OTP.
    pub async fn start_activation(&self, server_url: &str, user: &str, password: &str) -> Result<PendingActivation> {
        if user.trim().is_empty() {
            return Err(Error::input("user", "type your user code or alias"));
        }
        let client = self.client(server_url)?;
        let activation = client.start_activation(user.trim(), password).await?;
        Ok(PendingActivation {
            client,
            activation,
            user: user.trim().to_owned(),
        })
    }

    /// First device, step 2: the SMS OTP, the new PIN, a name for this device. A wrong SMS code
    /// leaves `pending` usable: the customer types it again (the bank counts the attempts).
    pub async fn finish_activation(
        &self,
        pending: &PendingActivation,
        sms_otp: &str,
        pin: &Pin,
        device_name: &str,
    ) -> Result<Profile> {
        let otp = sms_otp.trim();
        if otp.len() != 6 || !otp.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::input("sms_otp", "the SMS code is 6 digits"));
        }
        let device_name = check_device_name(device_name)?;
        let activated = pending
            .client
            .activate(&pending.activation, Some(otp), &device_name, None)
            .await?;
        self.vault.add(
            &pending.user,
            &device_name,
            pending.client.base(),
            &activated.device_id,
            &activated.bank_pub,
            activated.secrets,
            pin,
            self.now(),
        )
    }

    /// A second device, from the QR code (`SCA1-ACTIVATE:<id>`) an active device shows once its
    /// DEVICE operation is approved. `user` labels the profile.
    pub async fn activate_from_qr(
        &self,
        server_url: &str,
        qr_text: &str,
        user: &str,
        pin: &Pin,
        device_name: &str,
    ) -> Result<Profile> {
        let activation = parse_activation_qr(qr_text)?;
        let device_name = check_device_name(device_name)?;
        let client = self.client(server_url)?;
        let pinned = self
            .vault
            .profiles()
            .into_iter()
            .find(|p| p.server_url == client.base())
            .map(|p| p.bank_key());
        let pinned = pinned.transpose()?;
        let activated = client
            .activate(&activation, None, &device_name, pinned.as_ref())
            .await?;
        self.vault.add(
            user,
            &device_name,
            client.base(),
            &activated.device_id,
            &activated.bank_pub,
            activated.secrets,
            pin,
            self.now(),
        )
    }

    /// From an active profile: start activating another device (approve the returned DEVICE
    /// operation with [`approve`](Self::approve), then show `qr_text` to the new device).
    pub async fn start_second_device(&self, profile: &Profile) -> Result<DeviceActivation> {
        let key = self.vault.device_key(profile)?;
        self.client(&profile.server_url)?
            .start_device_activation(&Self::device(profile, &key))
            .await
            .map_err(Error::from)
    }

    /// A LOGIN or TRANSACTION code, offline.
    pub fn time_code(&self, profile: &Profile, pin: &Pin, kind: TimeCodeKind) -> Result<TimeCode> {
        let keys = self.vault.unlock(profile, pin)?;
        let now = self.now();
        let step = Step::at(now);
        let input = match kind {
            TimeCodeKind::Login => CodeInput::Login(step),
            TimeCodeKind::Transaction => CodeInput::Transaction(step),
        };
        Ok(TimeCode {
            code: input.code(&keys.possession, &keys.knowledge),
            seconds_left: Step::seconds_left(now),
        })
    }

    /// Verifies a payload (from a QR code, a paste, or a push) against the profile's bank key.
    pub fn verify_payload(&self, profile: &Profile, text: &str) -> Result<SignedPayload> {
        Ok(SignedPayload::verify(text, &profile.bank_key()?, self.now())?)
    }

    /// Decodes a QR code from an image file's bytes and verifies the payload it holds.
    pub fn scan_image(&self, profile: &Profile, image: &[u8]) -> Result<SignedPayload> {
        let decoded = sca_qr::decode_image_bytes(image)?;
        self.verify_payload(profile, &decoded.text)
    }

    /// Scans frames from `source` (a webcam, say) until a QR code is read or `timeout` passes, and
    /// verifies the payload it holds. Blocks the calling thread: a window runs
    /// [`scan::Scanner`] itself and shows its events instead.
    pub fn scan_frames(
        &self,
        profile: &Profile,
        source: Box<dyn scan::FrameSource>,
        timeout: std::time::Duration,
    ) -> Result<SignedPayload> {
        let (scanner, events) = scan::Scanner::start_boxed(source, scan::ScanConfig::default())?;
        let deadline = std::time::Instant::now() + timeout;
        let mut last_refusal = None;
        let outcome = loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match events.recv_timeout(left) {
                // A QR code that is not a valid payload for this profile: keep looking, but say
                // why if nothing better turns up.
                Ok(scan::ScanEvent::Code(read)) => match self.verify_payload(profile, &read.text) {
                    Ok(payload) => break Ok(payload),
                    Err(e) => last_refusal = Some(e),
                },
                Ok(scan::ScanEvent::SourceError(_)) => {}
                Ok(scan::ScanEvent::Finished(_)) | Err(_) => break Err(last_refusal.unwrap_or(Error::NoCode)),
            }
        };
        scanner.stop();
        outcome
    }

    /// The OPERATION code for a verified payload (dynamic linking), offline.
    pub fn operation_code(&self, profile: &Profile, payload: &SignedPayload, pin: &Pin) -> Result<Code> {
        let keys = self.vault.unlock(profile, pin)?;
        let op = payload.operation();
        let sha = op.data_sha();
        Ok(CodeInput::Operation {
            op_id: &op.op_id,
            nonce: &op.nonce,
            data_sha: &sha,
        }
        .code(&keys.possession, &keys.knowledge))
    }

    /// The OPERATION_ID code for a typed identifier, offline.
    pub fn operation_id_code(&self, profile: &Profile, op_id: &OpId, pin: &Pin) -> Result<Code> {
        let keys = self.vault.unlock(profile, pin)?;
        Ok(CodeInput::OperationId(op_id).code(&keys.possession, &keys.knowledge))
    }

    /// Online, a typed identifier fetches its signed payload so every field can be shown;
    /// offline, says so plainly.
    pub async fn lookup_op_id(&self, profile: &Profile, op_id: &OpId) -> Result<OpIdLookup> {
        let key = self.vault.device_key(profile)?;
        let client = self.client(&profile.server_url)?;
        match client
            .operation_payload(&Self::device(profile, &key), op_id.as_str())
            .await
            .map_err(Error::from)
        {
            Ok(text) => {
                let payload = self.verify_payload(profile, &text)?;
                if payload.operation().op_id != *op_id {
                    return Err(Error::BadAnswer("the server sent another operation".into()));
                }
                Ok(OpIdLookup::Verified(Box::new(payload)))
            }
            Err(Error::Offline(reason)) => Ok(OpIdLookup::Offline(reason)),
            Err(e) => Err(e),
        }
    }

    /// Approves a verified operation online: the OPERATION code and the device's signature.
    /// For a login ([`needs_number`]), `number` is the number the customer typed (the device is
    /// never told it).
    pub async fn approve(
        &self,
        profile: &Profile,
        payload: &SignedPayload,
        pin: &Pin,
        number: Option<u8>,
    ) -> Result<String> {
        if needs_number(payload) && number.is_none() {
            return Err(Error::input("number", "type the two-digit number the login page shows"));
        }
        let code = self.operation_code(profile, payload, pin)?;
        let op = payload.operation();
        let key = self.vault.device_key(profile)?;
        let message = approve_message(&op.op_id, &op.nonce, &op.data_sha(), &code);
        let signature = key
            .sign(&SystemRandom::new(), &message)
            .map_err(|e| Error::Keyring(e.to_string()))?;
        self.client(&profile.server_url)?
            .approve(
                &Self::device(profile, &key),
                op.op_id.as_str(),
                &code,
                &signature,
                number,
            )
            .await
            .map_err(Error::from)
    }

    /// Rejects a verified operation online ("non sono io"): no PIN needed.
    pub async fn reject(&self, profile: &Profile, payload: &SignedPayload) -> Result<String> {
        let op = payload.operation();
        let key = self.vault.device_key(profile)?;
        let signature = key
            .sign(&SystemRandom::new(), &reject_message(&op.op_id, &op.nonce))
            .map_err(|e| Error::Keyring(e.to_string()))?;
        self.client(&profile.server_url)?
            .reject(&Self::device(profile, &key), op.op_id.as_str(), &signature)
            .await
            .map_err(Error::from)
    }

    /// Changes the PIN: the server must first accept a TRANSACTION code made with the old PIN
    /// (a wrong old PIN counts as a wrong answer there); only then is `K_know` re-wrapped.
    pub async fn change_pin(&self, profile: &Profile, old: &Pin, new: &Pin) -> Result<()> {
        if old.expose_secret() == new.expose_secret() {
            return Err(Error::input("new_pin", "the new PIN must differ from the old one"));
        }
        let code = self.time_code(profile, old, TimeCodeKind::Transaction)?.code;
        let key = self.vault.device_key(profile)?;
        self.client(&profile.server_url)?
            .check_code(&Self::device(profile, &key), &code)
            .await?;
        self.vault.rewrap(profile, old, new)
    }

    /// Removes a profile: the device on the server first, then its keys here. With `local_only`
    /// (the server is gone, or the device was removed in Area Clienti) only the keys here.
    pub async fn remove(&self, profile: &Profile, local_only: bool) -> Result<()> {
        if !local_only {
            let key = self.vault.device_key(profile)?;
            match self
                .client(&profile.server_url)?
                .remove_device(&Self::device(profile, &key))
                .await
                .map_err(Error::from)
            {
                Ok(()) => {}
                // Already removed on the server (e.g. from Area Clienti): nothing left there.
                Err(Error::Server { status: 401 | 404, .. }) => {}
                Err(e) => return Err(e),
            }
        }
        self.vault.remove(&profile.id)
    }

    /// Listens for pushes to every profile at once; each reconnects on its own with backoff.
    /// Must be called inside a tokio runtime. Drop the receiver to stop.
    pub fn listen_all(&self) -> Result<mpsc::Receiver<ProfileEvent>> {
        let (tx, rx) = mpsc::channel(64);
        for profile in self.vault.profiles() {
            let key = self.vault.device_key(&profile)?;
            let client = self.client(&profile.server_url)?;
            let (ptx, mut prx) = mpsc::channel(16);
            let tx = tx.clone();
            let id = profile.id.clone();
            tokio::spawn(async move { client.listen(profile.device_id.clone(), key, ptx).await });
            tokio::spawn(async move {
                while let Some(event) = prx.recv().await {
                    if tx
                        .send(ProfileEvent {
                            profile: id.clone(),
                            event,
                        })
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
        Ok(rx)
    }
}

/// Parses `SCA1-ACTIVATE:<activation_id>`.
pub fn parse_activation_qr(text: &str) -> Result<ActivationId> {
    let id = text
        .trim()
        .strip_prefix(ACTIVATION_QR_PREFIX)
        .ok_or_else(|| Error::input("qr", "not a Sigillo activation QR code"))?;
    ActivationId::parse(id).map_err(|e| Error::input("qr", e))
}

/// A name for this device as the customer typed it: trimmed, 1 to
/// [`DEVICE_NAME_MAX`](sca_protocol::DEVICE_NAME_MAX) characters, no control characters. The one
/// rule every shell (the CLI, the desktop app) applies before asking the bank.
pub fn check_device_name(text: &str) -> Result<String> {
    let name = text.trim();
    if name.is_empty() || name.chars().count() > sca_protocol::DEVICE_NAME_MAX || name.chars().any(char::is_control) {
        return Err(Error::input(
            "device_name",
            format!("a name of 1 to {} characters", sca_protocol::DEVICE_NAME_MAX),
        ));
    }
    Ok(name.to_owned())
}

/// Parses a typed operation identifier, naming what is wrong (length, a non-digit, the check digit).
pub fn parse_op_id(text: &str) -> Result<OpId> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    OpId::parse(&compact).map_err(|e| Error::input("op_id", e))
}

/// Whether approving `payload` needs the number the login page shows: a login's does (number
/// matching). The device is never told the number; the customer reads it on the page and types
/// it, so approving by reflex, or by malware, fails (and counts as a wrong answer).
pub fn needs_number(payload: &SignedPayload) -> bool {
    payload.operation().kind == sca_protocol::Kind::Login
}

/// The number the customer typed: two digits, 10 to 99, spaces ignored.
pub fn parse_typed_number(text: &str) -> Result<u8> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    match digits.parse::<u8>() {
        Ok(n) if digits.len() == 2 && (10..=99).contains(&n) => Ok(n),
        _ => Err(Error::input("number", "type the two-digit number the page shows")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_name_follows_the_banks_limit() {
        assert_eq!(
            check_device_name("  Portatile di Mario ").unwrap(),
            "Portatile di Mario"
        );
        let longest = "é".repeat(sca_protocol::DEVICE_NAME_MAX);
        assert_eq!(check_device_name(&longest).unwrap(), longest);
        for bad in ["", "   ", "a\u{7}b"] {
            assert!(check_device_name(bad).is_err(), "{bad:?}");
        }
        let err = check_device_name(&format!("{longest}x")).unwrap_err();
        assert!(err.to_string().contains("device_name"), "{err}");
    }

    #[test]
    fn a_typed_number_is_two_digits() {
        assert_eq!(parse_typed_number("42").unwrap(), 42);
        assert_eq!(parse_typed_number(" 1 7 ").unwrap(), 17);
        for bad in ["", "7", "07", "100", "4a", "-1", "４２"] {
            let e = parse_typed_number(bad).unwrap_err();
            assert!(e.to_string().contains("number"), "{bad}: {e}");
        }
    }

    #[test]
    fn typed_ids_and_activation_qr_codes_are_parsed_with_named_errors() {
        assert_eq!(parse_op_id("5724 0000").unwrap().as_str(), "57240000");
        assert!(parse_op_id("57240001").unwrap_err().to_string().contains("check digit"));
        assert!(parse_activation_qr("SCA1-ACTIVATE:AAAAAAAAAAAAAAAAAAAAAA").is_ok());
        assert_eq!(parse_activation_qr("hello").unwrap_err().code(), "invalid_input");
    }
}
