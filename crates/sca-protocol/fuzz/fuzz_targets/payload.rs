//! Any bytes as a signed payload: parsing never panics, and whatever parses re-serialises to the
//! same operation when signed again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sca_protocol::{OperationData, UncheckedPayload};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(payload) = UncheckedPayload::parse_bytes(bytes) {
        let op = payload.operation();
        let canonical = op.data.canonical();
        assert_eq!(OperationData::parse_canonical(&canonical).as_ref(), Ok(&op.data));
        // The parser accepts only the canonical spelling, so the data line must be it.
        let text = std::str::from_utf8(bytes).unwrap();
        assert_eq!(text.split('\n').nth(3), Some(canonical.as_str()));
    }
});
