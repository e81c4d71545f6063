//! The authenticator's one error type. Each variant has a stable `code` for the desktop app and the
//! CLI, and a message meant for the customer. Secrets (PINs, keys, codes) never appear in either.

use thiserror::Error;

/// What went wrong, in terms the customer or the developer can act on.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The OS keyring could not be reached or refused the operation.
    #[error("the system keyring is not available: {0}")]
    Keyring(String),
    /// The profile index in the data folder could not be read or written.
    #[error("cannot {action} {path}: {detail}")]
    Storage {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: String,
        /// The cause.
        detail: String,
    },
    /// No profile with this id (or no profile at all).
    #[error("no such profile: {0}")]
    NoProfile(String),
    /// The profile's secrets are missing from the keyring (removed outside Sigillo).
    #[error("the keys of profile {0} are missing from the keyring; activate this device again")]
    SecretsMissing(String),
    /// A value typed or passed in is not of its form; names the field.
    #[error("{field}: {detail}")]
    Input {
        /// The field.
        field: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// A weak or malformed PIN.
    #[error("PIN: {0}")]
    Pin(#[from] sca_protocol::PinError),
    /// A payload was refused; says which check failed.
    #[error("operation refused ({code}): {error}", code = .0.code(), error = .0)]
    Payload(#[from] sca_protocol::PayloadError),
    /// No QR code in the image, or the image could not be read.
    #[error("{0}")]
    Qr(#[from] sca_qr::DecodeError),
    /// The camera or another frame source failed ("no camera found" is one of these).
    #[error("{0}")]
    Scan(#[from] sca_scan::ScanError),
    /// A bill's QR code (pagoPA or EPC) that is not right; names the field.
    #[error("this bill's QR code cannot be paid: {0}")]
    Bill(#[from] sca_qr::bill::BillError),
    /// No QR code came into view before the time ran out or the source ended.
    #[error("no QR code found: hold the code steady in the frame, in good light")]
    NoCode,
    /// The screen was read but shows no QR code.
    #[error("no QR code on the screen: show the bank's page with its QR code, not covered by another window")]
    NoCodeOnScreen,
    /// The screen shows QR codes, but none is an operation of this device's profiles (another
    /// bank's, an expired one, a link, …).
    #[error("QR codes on the screen, but none is an operation of your profiles ({codes} read; the first: {reason})")]
    NoOperationOnScreen {
        /// How many distinct QR codes were read.
        codes: usize,
        /// Why the first of them was refused.
        reason: String,
    },
    /// The server answered with a problem (wrong code, blocked, expired…).
    #[error("{detail}")]
    Server {
        /// HTTP status.
        status: u16,
        /// The server's stable code (`wrong_code`, `blocked`, `expired`, …).
        code: String,
        /// The server's message.
        detail: String,
        /// Attempts left before the credential is blocked, when an attempt was counted.
        attempts_left: Option<u32>,
    },
    /// The server could not be reached: the authenticator is offline for this profile.
    #[error("the bank's server cannot be reached ({0}); offline codes still work")]
    Offline(String),
    /// The server answered something the protocol does not allow (bad signature, bad form).
    #[error("the server's answer is not valid: {0}")]
    BadAnswer(String),
}

impl Error {
    /// Stable identifier for programs (the desktop app, scripts).
    pub fn code(&self) -> String {
        match self {
            Self::Keyring(_) => "keyring_unavailable".into(),
            Self::Storage { .. } => "storage".into(),
            Self::NoProfile(_) => "no_profile".into(),
            Self::SecretsMissing(_) => "secrets_missing".into(),
            Self::Input { .. } => "invalid_input".into(),
            Self::Pin(e) => e.code().into(),
            Self::Payload(e) => format!("payload_{}", e.code()),
            Self::Qr(sca_qr::DecodeError::NotFound) => "no_qr_code".into(),
            Self::Qr(_) => "bad_image".into(),
            Self::Scan(sca_scan::ScanError::NoSuchCamera { .. }) => "no_camera".into(),
            Self::Scan(sca_scan::ScanError::NoScreen { .. }) => "no_screen".into(),
            Self::Scan(sca_scan::ScanError::ScreenCancelled) => "screen_cancelled".into(),
            Self::Scan(sca_scan::ScanError::ScreenCapture(_)) => "screen_capture".into(),
            Self::Scan(_) => "camera".into(),
            Self::NoCode | Self::NoCodeOnScreen => "no_qr_code".into(),
            Self::NoOperationOnScreen { .. } => "no_operation".into(),
            Self::Bill(_) => "bad_bill".into(),
            Self::Server { code, .. } => code.clone(),
            Self::Offline(_) => "offline".into(),
            Self::BadAnswer(_) => "bad_server_answer".into(),
        }
    }

    /// An [`Error::Input`] for `field`.
    pub fn input(field: &'static str, detail: impl std::fmt::Display) -> Self {
        Self::Input {
            field,
            detail: detail.to_string(),
        }
    }

    /// An [`Error::Storage`] for `path`.
    pub fn storage(action: &'static str, path: &std::path::Path, detail: impl std::fmt::Display) -> Self {
        Self::Storage {
            action,
            path: path.display().to_string(),
            detail: detail.to_string(),
        }
    }
}

impl From<sca_client::Error> for Error {
    fn from(e: sca_client::Error) -> Self {
        use sca_client::Error as C;
        match e {
            C::Input { field, detail } => Self::Input { field, detail },
            C::Server {
                status,
                code,
                detail,
                attempts_left,
            } => Self::Server {
                status,
                code,
                detail,
                attempts_left,
            },
            C::Offline(why) => Self::Offline(why),
            C::BadAnswer(why) => Self::BadAnswer(why),
            C::Key(why) => Self::Keyring(why),
            other => Self::BadAnswer(other.to_string()),
        }
    }
}

/// The authenticator's result.
pub type Result<T> = std::result::Result<T, Error>;
