//! Bills read from real-world-shaped QR texts, each kind of refusal with the field it names, and
//! properties: generated valid bills read back from their canonical text, and no text panics.
//!
//! Samples: the Belgian Red Cross and Wikimedia transfers are the examples of the EPC QR code's
//! public descriptions (Wikipedia, segno's documentation); `RF18539007547034` is ISO 11649's
//! own example; `02438750586` is the fiscal code of Roma Capitale, a real creditor body.

use proptest::prelude::*;

use super::*;

const PAGOPA: &str = "PAGOPA|002|301000000012345678|02438750586|12550";
const EPC_V1: &str = "BCD\n001\n1\nSCT\nBPOTBEB1\nRed Cross of Belgium\nBE72000000001616\nEUR1\nCHAR\n\nUrgency fund\nSample EPC QR code";
const EPC_V2: &str =
    "BCD\n002\n2\nSCT\n\nWikimedia Foerdergesellschaft\nDE33100205000001194700\nEUR20\n\n\nSpende fuer Wikipedia";
const EPC_RF: &str =
    "BCD\n002\n1\nSCT\n\nSocietà Cooperativa Edilizia\nIT60X0542811101000000123456\nEUR1250.5\n\nRF18539007547034";

fn field(text: &str) -> Option<&'static str> {
    match parse(text) {
        Ok(bill) => panic!("accepted: {bill:?}"),
        Err(e) => e.field(),
    }
}

fn reason(text: &str) -> FieldReason {
    match parse(text) {
        Ok(bill) => panic!("accepted: {bill:?}"),
        Err(e) => e.reason().cloned().expect("a field refusal"),
    }
}

fn epc(text: &str) -> EpcTransfer {
    match parse(text) {
        Ok(Bill::Epc(transfer)) => transfer,
        other => panic!("not an EPC transfer: {other:?}"),
    }
}

/// EPC_V1 with line `n` (from 1) replaced.
fn epc_v1_with(n: usize, value: &str) -> String {
    let mut lines: Vec<&str> = EPC_V1.split('\n').collect();
    lines[n - 1] = value;
    lines.join("\n")
}

// ---- pagoPA ---------------------------------------------------------------------------------

#[test]
fn pagopa_notice_is_read() {
    let Ok(Bill::PagoPa(notice)) = parse(PAGOPA) else {
        panic!("not read: {:?}", parse(PAGOPA));
    };
    assert_eq!(notice.notice_code(), "301000000012345678");
    assert_eq!(notice.aux_digit(), 3);
    assert_eq!(notice.creditor_fiscal_code(), "02438750586");
    assert_eq!(notice.amount_cents(), 12550);
    assert_eq!(notice.to_text(), PAGOPA);
    assert_eq!(Bill::PagoPa(notice).amount_cents(), Some(12550));
}

#[test]
fn pagopa_example_of_the_specification_is_read() {
    // The all-zero example of pagoPA's documentation: 00000000000 passes the check digit.
    let notice = PagoPaNotice::parse("PAGOPA|002|000000000000000000|00000000000|9999").expect("read");
    assert_eq!(notice.amount_cents(), 9999);
    assert_eq!(notice.aux_digit(), 0);
}

#[test]
fn pagopa_refusals_name_the_field() {
    let cases: &[(&str, &str)] = &[
        ("PAGOPA|001|301000000012345678|02438750586|12550", "version"),
        ("PAGOPA|02|301000000012345678|02438750586|12550", "version"),
        ("PAGOPA||301000000012345678|02438750586|12550", "version"),
        ("PAGOPA", "version"),
        ("PAGOPAX|002|301000000012345678|02438750586|12550", "identifier"),
        ("PAGOPA|002|30100000001234567A|02438750586|12550", "notice code"),
        ("PAGOPA|002|30100000001234567|02438750586|12550", "notice code"),
        ("PAGOPA|002|3010000000123456789|02438750586|12550", "notice code"),
        ("PAGOPA|002|3010 0000 0012 3456 78|02438750586|12550", "notice code"),
        ("PAGOPA|002|401000000012345678|02438750586|12550", "notice code"),
        ("PAGOPA|002||02438750586|12550", "notice code"),
        ("PAGOPA|002|301000000012345678", "creditor fiscal code"),
        (
            "PAGOPA|002|301000000012345678|02438750587|12550",
            "creditor fiscal code",
        ),
        ("PAGOPA|002|301000000012345678|0243875058|12550", "creditor fiscal code"),
        (
            "PAGOPA|002|301000000012345678|IT02438750586|12550",
            "creditor fiscal code",
        ),
        ("PAGOPA|002|301000000012345678|02438750586", "amount"),
        ("PAGOPA|002|301000000012345678|02438750586|", "amount"),
        ("PAGOPA|002|301000000012345678|02438750586|0", "amount"),
        ("PAGOPA|002|301000000012345678|02438750586|+12550", "amount"),
        ("PAGOPA|002|301000000012345678|02438750586|-12550", "amount"),
        ("PAGOPA|002|301000000012345678|02438750586|012550", "amount"),
        ("PAGOPA|002|301000000012345678|02438750586|125.50", "amount"),
        ("PAGOPA|002|301000000012345678|02438750586|12550 ", "amount"),
        ("PAGOPA|002|301000000012345678|02438750586|12550\n", "amount"),
        ("PAGOPA|002|301000000012345678|02438750586|12345678901", "amount"),
        ("PAGOPA|002|301000000012345678|02438750586|12550|", "fields"),
        ("PAGOPA|002|301000000012345678|02438750586|12550|1", "fields"),
    ];
    for (text, expected) in cases {
        assert_eq!(field(text), Some(*expected), "{text:?}");
    }
}

#[test]
fn pagopa_refusals_say_why() {
    assert_eq!(
        reason("PAGOPA|002|301000000012345678|02438750587|12550"),
        FieldReason::CheckDigits
    );
    assert!(matches!(
        reason("PAGOPA|002|301000000012345678|02438750586|0"),
        FieldReason::OutOfRange { .. }
    ));
    assert_eq!(
        reason("PAGOPA|002|301000000012345678|02438750586|12550|"),
        FieldReason::TrailingSeparator
    );
    assert_eq!(reason("PAGOPA|002|301000000012345678"), FieldReason::Missing);
    let message = parse("PAGOPA|002|301000000012345678|02438750587|12550")
        .unwrap_err()
        .to_string();
    assert_eq!(message, "creditor fiscal code: the check digits are wrong");
}

#[test]
fn pagopa_largest_amount_is_read() {
    let text = "PAGOPA|002|001000000000000000|00514490010|9999999999";
    assert_eq!(
        PagoPaNotice::parse(text).map(|n| n.amount_cents()),
        Ok(PagoPaNotice::MAX_AMOUNT_CENTS)
    );
}

// ---- EPC ------------------------------------------------------------------------------------

#[test]
fn epc_v001_with_bic_is_read() {
    let t = epc(EPC_V1);
    assert_eq!(t.version(), EpcVersion::V001);
    assert_eq!(t.character_set(), CharacterSet::Utf8);
    assert_eq!(t.bic(), Some("BPOTBEB1"));
    assert_eq!(t.name(), "Red Cross of Belgium");
    assert_eq!(t.iban().as_str(), "BE72000000001616");
    assert_eq!(t.amount_cents(), Some(100));
    assert_eq!(t.purpose(), Some("CHAR"));
    assert_eq!(t.remittance(), Some(&Remittance::Text("Urgency fund".into())));
    assert_eq!(t.information(), Some("Sample EPC QR code"));
    assert_eq!(t.to_text(), EPC_V1);
}

#[test]
fn epc_v002_without_bic_is_read() {
    let t = epc(EPC_V2);
    assert_eq!(t.version(), EpcVersion::V002);
    assert_eq!(t.character_set(), CharacterSet::Iso8859_1);
    assert_eq!(t.bic(), None);
    assert_eq!(t.amount_cents(), Some(2000));
    assert_eq!(t.purpose(), None);
    assert_eq!(t.remittance(), Some(&Remittance::Text("Spende fuer Wikipedia".into())));
    assert_eq!(t.information(), None);
    assert_eq!(t.to_text(), EPC_V2);
}

#[test]
fn epc_with_rf_reference_is_read() {
    let t = epc(EPC_RF);
    assert_eq!(t.name(), "Società Cooperativa Edilizia");
    assert_eq!(t.amount_cents(), Some(125_050));
    assert_eq!(t.remittance(), Some(&Remittance::Reference("RF18539007547034".into())));
    assert_eq!(t.to_text(), EPC_RF);
}

#[test]
fn epc_with_crlf_reads_as_with_lf() {
    let crlf = EPC_V1.replace('\n', "\r\n");
    assert_eq!(epc(&crlf), epc(EPC_V1));
    assert_eq!(epc(&crlf).to_text(), EPC_V1);
}

#[test]
fn epc_with_only_the_mandatory_lines_is_read() {
    let t = epc("BCD\n002\n1\nSCT\n\nMario Rossi\nIT60X0542811101000000123456");
    assert_eq!(t.amount_cents(), None);
    assert_eq!(t.remittance(), None);
    let with_bic = epc("BCD\n001\n1\nSCT\nBPOTBEB1XXX\nMario Rossi\nIT60X0542811101000000123456");
    assert_eq!(with_bic.bic(), Some("BPOTBEB1XXX"));
}

#[test]
fn epc_amounts_are_read_in_cents_and_written_shortest() {
    for (amount, cents, canonical) in [
        ("EUR1", 100, "EUR1"),
        ("EUR1.5", 150, "EUR1.5"),
        ("EUR1.50", 150, "EUR1.5"),
        ("EUR1.05", 105, "EUR1.05"),
        ("EUR0.01", 1, "EUR0.01"),
        ("EUR12.00", 1200, "EUR12"),
        ("EUR999999999.99", EpcTransfer::MAX_AMOUNT_CENTS, "EUR999999999.99"),
    ] {
        let t = epc(&epc_v1_with(8, amount));
        assert_eq!(t.amount_cents(), Some(cents), "{amount}");
        assert_eq!(t.to_text(), epc_v1_with(8, canonical), "{amount}");
    }
}

#[test]
fn epc_character_sets_hold_only_what_they_can() {
    // ISO 8859-1 holds "è" but not "€" nor "ő".
    let latin1 = |name: &str| format!("BCD\n002\n2\nSCT\n\n{name}\nDE33100205000001194700");
    assert_eq!(epc(&latin1("Caffè Roma")).name(), "Caffè Roma");
    assert_eq!(field(&latin1("Caffè € Roma")), Some("name"));
    assert_eq!(
        reason(&latin1("Kovács Ödön Ő")),
        FieldReason::CharacterSet("ISO 8859-1")
    );
    // Under ISO 8859-2 … 8859-15 only ASCII is read.
    for set in 3..=8 {
        let text = format!("BCD\n002\n{set}\nSCT\n\nMuster GmbH\nDE33100205000001194700\nEUR1\n\n\nRechnung 42");
        assert_eq!(epc(&text).character_set().number(), set);
        let accented = text.replace("Rechnung", "Számla");
        assert_eq!(field(&accented), Some("remittance"), "set {set}");
    }
}

#[test]
fn epc_refusals_name_the_field() {
    let long_name = "N".repeat(71);
    let long_text = "T".repeat(141);
    let long_info = "I".repeat(71);
    let padding = "x".repeat(140);
    let too_big = format!(
        "BCD\n002\n1\nSCT\n\n{}\nDE33100205000001194700\nEUR1\n\n\n{padding}\n{}",
        "è".repeat(70),
        "I".repeat(70)
    );
    assert!(too_big.len() > EpcTransfer::MAX_BYTES);
    let cases: Vec<(String, &str)> = vec![
        (epc_v1_with(1, "BCDX"), "service tag"),
        (epc_v1_with(1, "BCD "), "service tag"),
        (epc_v1_with(2, "003"), "version"),
        (epc_v1_with(2, ""), "version"),
        (epc_v1_with(3, "9"), "character set"),
        (epc_v1_with(3, "01"), "character set"),
        (epc_v1_with(3, "0"), "character set"),
        (epc_v1_with(4, "SCTX"), "identification"),
        (epc_v1_with(4, "INST"), "identification"),
        (epc_v1_with(5, ""), "bic"),
        (epc_v1_with(5, "BPOTBEB"), "bic"),
        (epc_v1_with(5, "bpotbeb1"), "bic"),
        (epc_v1_with(5, "BPOT1EB1"), "bic"),
        (epc_v1_with(5, "BPOTBEB1XX"), "bic"),
        (epc_v1_with(6, ""), "name"),
        (epc_v1_with(6, &long_name), "name"),
        (epc_v1_with(6, "Red\tCross"), "name"),
        (epc_v1_with(7, ""), "iban"),
        (epc_v1_with(7, "BE72000000001617"), "iban"),
        (epc_v1_with(7, "BE72 0000 0000 1616"), "iban"),
        (epc_v1_with(7, "be72000000001616"), "iban"),
        (epc_v1_with(8, "EUR0"), "amount"),
        (epc_v1_with(8, "EUR0.00"), "amount"),
        (epc_v1_with(8, "EUR1.234"), "amount"),
        (epc_v1_with(8, "EUR1000000000"), "amount"),
        (epc_v1_with(8, "EUR1000000000.00"), "amount"),
        (epc_v1_with(8, "1.00"), "amount"),
        (epc_v1_with(8, "USD1.00"), "amount"),
        (epc_v1_with(8, "EUR1,00"), "amount"),
        (epc_v1_with(8, "EUR1."), "amount"),
        (epc_v1_with(8, "EUR.5"), "amount"),
        (epc_v1_with(8, "EUR01"), "amount"),
        (epc_v1_with(8, "EUR-1"), "amount"),
        (epc_v1_with(8, "EUR 1"), "amount"),
        (epc_v1_with(9, "CHA"), "purpose"),
        (epc_v1_with(9, "char"), "purpose"),
        (epc_v1_with(9, "CHARI"), "purpose"),
        (epc_v1_with(10, "RF18539007547034"), "remittance"),
        (epc_v1_with(11, &long_text), "remittance"),
        (epc_v1_with(12, &long_info), "information"),
        (format!("{EPC_V1}\nextra"), "lines"),
        (format!("{EPC_V1}\n"), "lines"),
        (format!("{EPC_V1}\r\n"), "lines"),
        // The first line break decides: CR LF then LF, or LF then CR LF, leave a control
        // character in the field where the two meet.
        (EPC_V1.replacen('\n', "\r\n", 1), "version"),
        (EPC_V1.replace("BPOTBEB1\n", "BPOTBEB1\r\n"), "bic"),
        (format!("{}\n", EPC_V1.replace('\n', "\r\n")), "information"),
        (too_big, "payload"),
        (
            "BCD\n002\n1\nSCT\n\nMario Rossi\nIT60X0542811101000000123456\nEUR1\n\nRF18539007547035".into(),
            "reference",
        ),
        (
            "BCD\n002\n1\nSCT\n\nMario Rossi\nIT60X0542811101000000123456\nEUR1\n\nRF18 5390 0754 7034".into(),
            "reference",
        ),
        (
            format!(
                "BCD\n002\n1\nSCT\n\nMario Rossi\nIT60X0542811101000000123456\nEUR1\n\n{}",
                "R".repeat(36)
            ),
            "reference",
        ),
        ("BCD\n002\n1\nSCT\n\nMario Rossi".into(), "iban"),
        ("BCD\n002\n1\nSCT".into(), "name"),
        ("BCD\n002\n1".into(), "identification"),
        ("BCD".into(), "version"),
    ];
    for (text, expected) in &cases {
        assert_eq!(field(text), Some(*expected), "{text:?}");
    }
}

#[test]
fn epc_refusals_say_why() {
    assert_eq!(reason(&epc_v1_with(7, "BE72000000001617")), FieldReason::CheckDigits);
    let message = parse(&epc_v1_with(7, "BE72000000001617")).unwrap_err().to_string();
    assert_eq!(message, "iban: the check digits are wrong");
    assert!(matches!(
        reason(&epc_v1_with(8, "EUR0")),
        FieldReason::OutOfRange { .. }
    ));
    assert!(matches!(
        reason(&epc_v1_with(8, "EUR1000000000")),
        FieldReason::OutOfRange { .. }
    ));
    assert!(matches!(reason(&epc_v1_with(8, "EUR1.234")), FieldReason::Form(_)));
    assert_eq!(
        reason(&epc_v1_with(6, &"N".repeat(71))),
        FieldReason::TooLong { max: 70, len: 71 }
    );
    assert_eq!(
        reason(&epc_v1_with(10, "RF18539007547034")),
        FieldReason::BothReferences
    );
    assert_eq!(reason(&format!("{EPC_V1}\n")), FieldReason::TrailingSeparator);
    assert_eq!(
        reason(&format!("{EPC_V1}\nextra")),
        FieldReason::TooMany { max: 12, found: 13 }
    );
    assert_eq!(
        reason(&epc_v1_with(6, "Red\tCross")),
        FieldReason::Control { position: 4 }
    );
    assert_eq!(reason(&epc_v1_with(5, "")), FieldReason::Missing);
    // Called directly, each parser names its own first field rather than giving up.
    assert_eq!(EpcTransfer::parse("BCE\n001").unwrap_err().field(), Some("service tag"));
    assert_eq!(
        PagoPaNotice::parse("PAGOBA|002").unwrap_err().field(),
        Some("identifier")
    );
}

#[test]
fn epc_payload_limit_counts_bytes_of_the_declared_set() {
    // Every field within its own limit, the information filling up to 331 bytes exactly.
    let head = format!(
        "BCD\n001\n1\nSCT\nBPOTBEB1XXX\n{}\nIT60X0542811101000000123456\nEUR1\nCHAR\n\n{}\n",
        "N".repeat(70),
        "R".repeat(140)
    );
    let fill = EpcTransfer::MAX_BYTES - head.len();
    let text = format!("{head}{}", "x".repeat(fill));
    assert_eq!(text.len(), 331);
    assert!(EpcTransfer::parse(&text).is_ok());
    let longer = format!("{text}x");
    assert_eq!(EpcTransfer::parse(&longer).unwrap_err().field(), Some("payload"));
    // "è" is 2 bytes in UTF-8 but 1 in ISO 8859-1.
    let accented = format!("{head}{}", "è".repeat(fill));
    assert_eq!(EpcTransfer::parse(&accented).unwrap_err().field(), Some("payload"));
    let latin1 = accented.replacen("\n1\n", "\n2\n", 1);
    assert!(EpcTransfer::parse(&latin1).is_ok());
}

#[test]
fn other_texts_are_not_bills() {
    for text in [
        "",
        "SIGILLO/1\nop=bonifico",
        " BCD\n001",
        "pagopa|002|",
        "\u{feff}BCD\n002",
        "https://example.invalid",
    ] {
        assert_eq!(parse(text), Err(BillError::UnknownFormat), "{text:?}");
    }
}

#[test]
fn partita_iva_check_matches_known_codes() {
    for code in [
        "02438750586",
        "00514490010",
        "80016350821",
        "01199250158",
        "00000000000",
    ] {
        assert!(partita_iva_check(code.as_bytes()), "{code}");
    }
    // Every single-digit change of a valid code is caught.
    let valid = b"02438750586";
    for i in 0..11 {
        for d in b'0'..=b'9' {
            if d != valid[i] {
                let mut changed = *valid;
                changed[i] = d;
                assert!(!partita_iva_check(&changed), "{}", String::from_utf8_lossy(&changed));
            }
        }
    }
}

// ---- properties -----------------------------------------------------------------------------

/// 11 digits completed with their check digit.
fn fiscal_code(first10: &str) -> String {
    (b'0'..=b'9')
        .map(|d| format!("{first10}{}", char::from(d)))
        .find(|code| partita_iva_check(code.as_bytes()))
        .expect("one check digit fits")
}

/// An IBAN with correct check digits from a country and a BBAN.
fn iban(country: &str, bban: &str) -> String {
    let digits: String = format!("{bban}{country}00")
        .chars()
        .map(|c| c.to_digit(36).expect("alphanumeric").to_string())
        .collect();
    let rest = digits
        .bytes()
        .fold(0u32, |acc, d| (acc * 10 + u32::from(d - b'0')) % 97);
    format!("{country}{:02}{bban}", 98 - rest)
}

/// An ISO 11649 reference with correct check digits.
fn rf(body: &str) -> String {
    let digits: String = format!("{body}RF00")
        .chars()
        .map(|c| c.to_digit(36).expect("alphanumeric").to_string())
        .collect();
    let rest = digits
        .bytes()
        .fold(0u32, |acc, d| (acc * 10 + u32::from(d - b'0')) % 97);
    format!("RF{:02}{body}", 98 - rest)
}

fn text_of(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[A-Za-z0-9àèéìòùÀÈ/?:().,'+ -]{{1,{max}}}")).expect("regex")
}

fn remittance() -> impl Strategy<Value = Option<Remittance>> {
    prop_oneof![
        Just(None),
        "[A-Z0-9]{1,21}".prop_map(|body| Some(Remittance::Reference(rf(&body)))),
        "[0-9+/]{1,35}".prop_map(|r| Some(Remittance::Reference(r))),
        text_of(140).prop_map(|t| Some(Remittance::Text(t))),
    ]
}

prop_compose! {
    fn epc_transfer()(
        version in prop_oneof![Just(EpcVersion::V001), Just(EpcVersion::V002)],
        bic in proptest::option::of("[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?"),
        fallback_bic in "[A-Z]{6}[A-Z0-9]{2}",
        name in text_of(70),
        country in "[A-Z]{2}",
        bban in "[A-Z0-9]{11,30}",
        amount_cents in proptest::option::of(1..=EpcTransfer::MAX_AMOUNT_CENTS),
        purpose in proptest::option::of("[A-Z0-9]{4}"),
        remittance in remittance(),
        information in proptest::option::of(text_of(70)),
    ) -> EpcTransfer {
        let bic = match version {
            EpcVersion::V001 => Some(bic.unwrap_or(fallback_bic)),
            EpcVersion::V002 => bic,
        };
        EpcTransfer {
            version,
            character_set: CharacterSet::Utf8,
            bic,
            name,
            iban: Iban::parse(&iban(&country, &bban)).expect("generated IBAN"),
            amount_cents,
            purpose,
            remittance,
            information,
        }
    }
}

prop_compose! {
    fn pagopa_notice()(
        aux in 0u8..=3,
        rest in "[0-9]{17}",
        first10 in "[0-9]{10}",
        amount_cents in 1..=PagoPaNotice::MAX_AMOUNT_CENTS,
    ) -> PagoPaNotice {
        PagoPaNotice {
            notice_code: format!("{aux}{rest}"),
            creditor_fiscal_code: fiscal_code(&first10),
            amount_cents,
        }
    }
}

proptest! {
    #[test]
    fn pagopa_notices_read_back_from_their_text(notice in pagopa_notice()) {
        let text = notice.to_text();
        prop_assert_eq!(parse(&text), Ok(Bill::PagoPa(notice)));
    }

    #[test]
    fn epc_transfers_read_back_from_their_text(transfer in epc_transfer()) {
        let text = transfer.to_text();
        // The generator ignores the 331-byte limit; only texts within it must read back.
        if text.len() <= EpcTransfer::MAX_BYTES {
            prop_assert_eq!(parse(&text), Ok(Bill::Epc(transfer.clone())));
            let crlf = text.replace('\n', "\r\n");
            if crlf.len() <= EpcTransfer::MAX_BYTES {
                prop_assert_eq!(parse(&crlf), Ok(Bill::Epc(transfer)));
            }
        } else {
            prop_assert_eq!(parse(&text).unwrap_err().field(), Some("payload"));
        }
    }

    #[test]
    fn any_text_is_read_or_refused_without_panic(text in any::<String>()) {
        if let Ok(bill) = parse(&text) {
            prop_assert_eq!(parse(&bill.to_text()), Ok(bill));
        }
    }

    #[test]
    fn bill_shaped_texts_are_read_or_refused_without_panic(
        head in prop_oneof![Just("PAGOPA|002|"), Just("BCD\n001\n1\nSCT\n"), Just("BCD\n002\n2\nSCT\n")],
        tail in "[A-Z0-9|.\\r\\nèR€ ]{0,120}",
    ) {
        let text = format!("{head}{tail}");
        if let Ok(bill) = parse(&text) {
            let canonical = bill.to_text();
            prop_assert!(canonical.len() <= text.len());
            prop_assert_eq!(parse(&canonical), Ok(bill));
        }
    }

    #[test]
    fn changing_one_character_of_a_valid_bill_never_panics(
        which in 0usize..4,
        at in any::<prop::sample::Index>(),
        by in any::<char>(),
    ) {
        let base = [PAGOPA, EPC_V1, EPC_V2, EPC_RF][which];
        let mut chars: Vec<char> = base.chars().collect();
        let i = at.index(chars.len());
        chars[i] = by;
        let text: String = chars.into_iter().collect();
        if let Ok(bill) = parse(&text) {
            prop_assert_eq!(parse(&bill.to_text()), Ok(bill));
        }
    }
}
