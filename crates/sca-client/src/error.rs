//! The client's one error type: what the bank said, or why it could not be asked. Secrets (codes,
//! keys) never appear in it.

use thiserror::Error;

/// Why a call to the bank failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A value passed in is not of its form; names the field (`server`, `ca_file`, `path`).
    #[error("{field}: {detail}")]
    Input {
        /// The field.
        field: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The server answered with a problem (docs/api.md: wrong code, blocked, expired…).
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
    /// The server could not be reached.
    #[error("the bank's server cannot be reached ({0})")]
    Offline(String),
    /// The server answered something the protocol does not allow (bad signature, bad form).
    #[error("the server's answer is not valid: {0}")]
    BadAnswer(String),
    /// No randomness for a new key, or a key that cannot sign.
    #[error("cannot make or use a device key: {0}")]
    Key(String),
}

impl Error {
    /// Stable identifier for programs; the same as the authenticator's error for the same cause.
    pub fn code(&self) -> String {
        match self {
            Self::Input { .. } => "invalid_input".into(),
            Self::Server { code, .. } => code.clone(),
            Self::Offline(_) => "offline".into(),
            Self::BadAnswer(_) => "bad_server_answer".into(),
            Self::Key(_) => "keyring_unavailable".into(),
        }
    }

    /// An [`Error::Input`] for `field`.
    pub fn input(field: &'static str, detail: impl std::fmt::Display) -> Self {
        Self::Input {
            field,
            detail: detail.to_string(),
        }
    }
}

/// The client's result.
pub type Result<T> = std::result::Result<T, Error>;
