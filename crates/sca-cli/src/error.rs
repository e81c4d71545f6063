//! What can go wrong in `sca`, and its exit status: 1 for a check that said no (a refused
//! payload, a failed vector, no QR code found), 2 for a mistake in what was asked.

use std::path::PathBuf;

use thiserror::Error;

/// One error of the `sca` tool; the message names the argument or file at fault.
#[derive(Debug, Error)]
#[non_exhaustive]
pub(crate) enum CliError {
    /// A file or stream could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path (`-` for standard input or output).
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// An argument's value is not acceptable; the text names it.
    #[error("{0}")]
    Argument(String),
    /// The thing checked was refused: a payload, an identifier, a vector file.
    #[error("{0}")]
    Refused(String),
}

impl CliError {
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Refused(_) => 1,
            Self::Io { .. } | Self::Argument(_) => 2,
        }
    }

    pub(crate) fn arg(name: &str, detail: impl std::fmt::Display) -> Self {
        Self::Argument(format!("{name}: {detail}"))
    }
}

pub(crate) type Result<T> = std::result::Result<T, CliError>;
