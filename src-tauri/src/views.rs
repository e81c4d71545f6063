//! What the window is shown, serialized camelCase exactly as `ui/src/lib/ipc.ts` declares it.
//! Operation views are made only from payloads the authenticator has verified.

use authenticator::Profile;
use sca_protocol::SignedPayload;
use serde::Serialize;

/// A profile ("utenza") on this computer: nothing secret.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    pub id: String,
    pub user: String,
    pub name: String,
    pub server_url: String,
    pub device_id: String,
    pub main: bool,
    pub created_at: u64,
}

impl From<&Profile> for ProfileView {
    fn from(p: &Profile) -> Self {
        Self {
            id: p.id.clone(),
            user: p.user.clone(),
            name: p.device_name.clone(),
            server_url: p.server_url.clone(),
            device_id: p.device_id.clone(),
            main: p.main,
            created_at: p.created_at,
        }
    }
}

/// One field of the signed data.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldView {
    pub key: String,
    pub value: String,
}

/// A verified operation, every field of it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OperationView {
    pub op_id: String,
    pub kind: String,
    pub fields: Vec<FieldView>,
    pub expires: u64,
    pub payload: String,
}

impl From<&SignedPayload> for OperationView {
    fn from(p: &SignedPayload) -> Self {
        let op = p.operation();
        Self {
            op_id: op.op_id.as_str().to_owned(),
            kind: op.kind.as_str().to_owned(),
            fields: op
                .data
                .fields()
                .into_iter()
                .map(|(k, v)| FieldView {
                    key: k.letter().to_string(),
                    value: v,
                })
                .collect(),
            expires: op.expires,
            payload: p.text().to_owned(),
        }
    }
}

/// An operation pushed by the bank, waiting for the customer.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PendingView {
    pub profile_id: String,
    pub profile_name: String,
    pub operation: OperationView,
    /// A login: the customer types the number Area Clienti shows (the bank never sends it).
    pub needs_number: bool,
    pub received_at: u64,
}

/// A push stream's state.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionView {
    pub profile_id: String,
    pub online: bool,
    pub reason: Option<String>,
}

/// An operation that left the pending list.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedView {
    pub profile_id: String,
    pub op_id: String,
    pub status: String,
}

/// Where a notification click leads.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OpenApproval {
    pub profile_id: String,
    pub op_id: String,
}

/// The window's event names (`EVENTS` in ipc.ts).
pub mod events {
    pub const PENDING: &str = "push:pending";
    pub const RESOLVED: &str = "push:resolved";
    pub const CONNECTION: &str = "push:connection";
    pub const SCAN_PREVIEW: &str = "scan:preview";
    pub const SCAN_OPERATION: &str = "scan:operation";
    pub const SCAN_BILL: &str = "scan:bill";
    pub const SCAN_ACTIVATION: &str = "scan:activation";
    pub const SCAN_REFUSED: &str = "scan:refused";
    pub const SCAN_FINISHED: &str = "scan:finished";
    pub const OPEN_APPROVAL: &str = "nav:open-approval";
    pub const KIOSK_RESET: &str = "kiosk:reset";
}
