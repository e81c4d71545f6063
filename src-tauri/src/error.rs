//! The one error every command returns to the authenticator window: `{code, message, field?,
//! attemptsLeft?}`. `code` is stable (the page picks its words by it); `message` is meant for the
//! customer; nothing secret (PIN, keys, codes) is ever in either. The cause goes to the log.

use serde::Serialize;

/// A command's failure, as the window receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "camelCase")]
#[error("{code}: {message}")]
pub struct CommandError {
    /// Stable, snake_case: the authenticator's codes (`invalid_input`, `wrong_code`, `offline`, …)
    /// and the app's own (`no_pending`, `no_scan`, `not_demo`, `not_kiosk`).
    pub code: String,
    /// For the customer.
    pub message: String,
    /// The input the error is about, when there is one (`pin`, `op_id`, `sms_otp`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Attempts left before the credential is blocked, when the bank counted one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
}

impl CommandError {
    /// An error of the app's own.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
            field: None,
            attempts_left: None,
        }
    }

    /// A malformed input, naming its field.
    pub fn input(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.to_owned()),
            ..Self::new("invalid_input", message)
        }
    }
}

impl From<authenticator::Error> for CommandError {
    fn from(e: authenticator::Error) -> Self {
        use authenticator::Error as E;
        let code = e.code();
        let (field, attempts_left) = match &e {
            E::Input { field, .. } => (Some((*field).to_owned()), None),
            E::Pin(_) => (Some("pin".to_owned()), None),
            E::Bill(b) => (b.field().map(str::to_owned), None),
            E::Server { attempts_left, .. } => (None, *attempts_left),
            _ => (None, None),
        };
        // Storage and keyring failures are ours, not the customer's: log the cause.
        if matches!(e, E::Storage { .. } | E::Keyring(_) | E::BadAnswer(_)) {
            tracing::warn!(code = %code, error = %e, "authenticator failure");
        }
        Self {
            code,
            message: e.to_string(),
            field,
            attempts_left,
        }
    }
}

impl From<sca_protocol::PinError> for CommandError {
    fn from(e: sca_protocol::PinError) -> Self {
        authenticator::Error::from(e).into()
    }
}

impl From<authenticator::client::Error> for CommandError {
    fn from(e: authenticator::client::Error) -> Self {
        authenticator::Error::from(e).into()
    }
}

/// What every command returns.
pub type CommandResult<T> = Result<T, CommandError>;

#[cfg(test)]
mod tests {
    use super::*;

    /// The window's `toIpcError` (ui/src/lib/ipc.ts) reads exactly these keys.
    #[test]
    fn the_json_the_window_reads_is_pinned() {
        let e = CommandError {
            attempts_left: Some(3),
            ..CommandError::new("wrong_code", "wrong code")
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"code":"wrong_code","message":"wrong code","attemptsLeft":3}"#
        );
        assert_eq!(
            serde_json::to_value(CommandError::input("op_id", "check digit")).unwrap(),
            serde_json::json!({"code": "invalid_input", "message": "check digit", "field": "op_id"})
        );
    }

    #[test]
    fn authenticator_errors_keep_their_code_field_and_attempts() {
        let e: CommandError = authenticator::Error::input("sms_otp", "the SMS code is 6 digits").into();
        assert_eq!(
            (e.code.as_str(), e.field.as_deref()),
            ("invalid_input", Some("sms_otp"))
        );
        let e: CommandError = authenticator::Error::Server {
            status: 401,
            code: "wrong_code".into(),
            detail: "wrong code".into(),
            attempts_left: Some(2),
        }
        .into();
        assert_eq!((e.code.as_str(), e.attempts_left), ("wrong_code", Some(2)));
        let e: CommandError = sca_protocol::Pin::parse("11111").unwrap_err().into();
        assert_eq!(e.field.as_deref(), Some("pin"));
    }
}
