//! What a QR code read by the authenticator window means, wherever it was read (the camera, an
//! image, pasted text, the screen): an operation of the profile's bank, verified against its key,
//! or a bill (a pagoPA notice or an EPC transfer), whose payment page of the bank the banking
//! window opens prefilled — by its address, the only thing this process ever gives that window.

use authenticator::Profile;
use authenticator::bill::{BillPage, looks_like_bill};
use serde::Serialize;
use tauri::{AppHandle, Manager};

use crate::error::{CommandError, CommandResult};
use crate::state::Shared;
use crate::views::OperationView;

/// A code read and understood.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ReadView {
    /// An operation of the profile's bank, every field verified.
    Operation {
        /// The operation.
        operation: OperationView,
    },
    /// A bill, and the bank's page that pays it.
    Bill {
        /// The bill.
        bill: BillPage,
        /// The QR code's text, to open the bill's page later (when the customer picks it among
        /// several codes on the screen).
        text: String,
    },
}

/// Reads `text` for `profile`: a payload that verifies, else a bill that parses (an operation
/// comes first: a payload is never taken for a bill). A text that is neither is refused with
/// the payload's reason; a bill that is wrong, with the field at fault.
pub fn classify(shared: &Shared, profile: &Profile, text: &str) -> CommandResult<ReadView> {
    match shared.auth().verify_payload(profile, text) {
        Ok(payload) => Ok(ReadView::Operation {
            operation: OperationView::from(&payload),
        }),
        Err(e) if looks_like_bill(text) => {
            tracing::debug!(error = %e, "not an operation: read as a bill");
            let page = BillPage::read(&shared.server_url, text).map_err(authenticator::Error::from)?;
            Ok(ReadView::Bill {
                bill: page,
                text: text.to_owned(),
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Opens a bill's page in the banking window and brings that window forward.
pub fn open_bill(app: &AppHandle, page: &BillPage) -> CommandResult<()> {
    let window = app
        .get_webview_window(crate::BANKING)
        .ok_or_else(|| CommandError::new("no_banking_window", "the Area Clienti window is closed"))?;
    let url: tauri::Url = page
        .url
        .parse()
        .map_err(|e| CommandError::new("bad_bill", format!("the bill's page has no valid address: {e}")))?;
    window
        .navigate(url)
        .map_err(|e| CommandError::new("no_banking_window", format!("cannot open the page: {e}")))?;
    let _ = window.unminimize();
    let _ = window.show();
    let _ = window.set_focus();
    tracing::info!(kind = page.kind, "bill page opened in the banking window");
    Ok(())
}

/// [`classify`], and a bill's page opened at once.
pub fn read_and_open(app: &AppHandle, shared: &Shared, profile: &Profile, text: &str) -> CommandResult<ReadView> {
    let read = classify(shared, profile, text)?;
    if let ReadView::Bill { bill, .. } = &read {
        open_bill(app, bill)?;
    }
    Ok(read)
}
