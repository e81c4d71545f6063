//! Any text as canonical operation data: parsing never panics, and accepted text is canonical.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sca_protocol::OperationData;

fuzz_target!(|text: &str| {
    if let Ok(data) = OperationData::parse_canonical(text) {
        assert_eq!(data.canonical(), text);
    }
});
