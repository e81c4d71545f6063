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

/// One code read from the screen that the customer can go on with.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ScreenItem {
    /// For an operation: the profile whose bank key verified it (the PIN is that profile's).
    pub profile_id: Option<String>,
    /// The operation or the bill.
    pub read: ReadView,
}

/// What the screen showed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ScreenView {
    /// How many distinct QR codes were read on it.
    pub codes: usize,
    /// Those the customer can go on with: operations of the profiles, in the order read, then
    /// bills. Never empty (no code, or none usable, is an error that says which).
    pub items: Vec<ScreenItem>,
}

/// Captures the screen and reads every QR code on it: the operations of any of the profiles
/// (each verified against its bank key, exactly as a scanned code), and bills. A bill alone on
/// the screen has its page opened at once; of several codes, the customer picks one.
pub fn read_screen(app: &AppHandle, shared: &Shared) -> CommandResult<ScreenView> {
    let texts = authenticator::scan::read_screen().map_err(authenticator::Error::from)?;
    let found = shared.auth().classify_codes(&texts, None);
    let codes = found.total();
    let mut items: Vec<ScreenItem> = found
        .operations
        .iter()
        .map(|op| ScreenItem {
            profile_id: Some(op.profile.id.clone()),
            read: ReadView::Operation {
                operation: OperationView::from(&op.payload),
            },
        })
        .collect();
    let mut refusal: Option<authenticator::Error> = None;
    for code in found.refused {
        if looks_like_bill(&code.text) {
            match BillPage::read(&shared.server_url, &code.text) {
                Ok(bill) => items.push(ScreenItem {
                    profile_id: None,
                    read: ReadView::Bill { bill, text: code.text },
                }),
                Err(e) => {
                    refusal.get_or_insert(e.into());
                }
            }
        } else {
            refusal.get_or_insert(code.reason);
        }
    }
    if items.is_empty() {
        let e = match refusal {
            None => authenticator::Error::NoCodeOnScreen,
            // One code, refused: its own reason (expired, another bank's, a wrong bill).
            Some(e) if codes == 1 => e,
            Some(e) => authenticator::Error::NoOperationOnScreen {
                codes,
                reason: e.to_string(),
            },
        };
        return Err(e.into());
    }
    if let [
        ScreenItem {
            read: ReadView::Bill { bill, .. },
            ..
        },
    ] = items.as_slice()
    {
        open_bill(app, bill)?;
    }
    Ok(ScreenView { codes, items })
}
