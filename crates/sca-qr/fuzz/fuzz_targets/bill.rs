//! Any text as the QR code of a bill: reading never panics, and what is read has a canonical
//! text, no longer than the input, that reads back to the same bill (for a pagoPA notice, the
//! input itself, its only accepted spelling).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sca_qr::bill::{self, Bill};

fuzz_target!(|text: &str| {
    if let Ok(bill) = bill::parse(text) {
        let canonical = bill.to_text();
        assert!(canonical.len() <= text.len());
        assert_eq!(bill::parse(&canonical).as_ref(), Ok(&bill));
        if let Bill::PagoPa(_) = bill {
            assert_eq!(canonical, text);
        }
    }
});
