//! Properties that must hold for every input, not only the ones we thought of.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use sca_protocol::*;
use std::sync::LazyLock;

static BANK: LazyLock<SigningKey> = LazyLock::new(|| SigningKey::generate(&SystemRandom::new()).unwrap());

/// Text as §6 allows it: any non-control character, line breaks, and the characters the
/// escaping is about.
fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => any::<char>().prop_filter("no control", |c| !c.is_control()),
            1 => prop::sample::select(vec!['*', '\\', '\n', ':', 'n']),
        ],
        1..=max,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn data() -> impl Strategy<Value = OperationData> {
    (
        prop::option::of((0u64..10_000_000_000, "[A-Z]{3}")),
        prop::option::of(text(70)),
        prop::option::of(0u16..10_000),
        prop::option::of(text(140)),
        prop::option::of(prop::sample::select(vec![
            "IT60X0542811101000000123456",
            "DE89370400440532013000",
        ])),
        prop::option::of(text(70)),
        prop::option::of((1u16..=9999, 1u8..=12, 1u8..=28)),
        prop::option::of("[0-9]{11}"),
        prop::option::of("[0-9]{18}"),
    )
        .prop_map(|(a, b, c, d, i, m, x, f, n)| OperationData {
            amount: a.map(|(minor, cur)| Amount::new(minor, &cur).unwrap()),
            payee_name: b,
            card: c.map(|n| MaskedCard::parse(&format!("****{n:04}")).unwrap()),
            description: d,
            payee_iban: i.map(|s| Iban::parse(s).unwrap()),
            merchant: m,
            execution_date: x.map(|(y, mo, d)| Date::parse(&format!("{y:04}-{mo:02}-{d:02}")).unwrap()),
            creditor_fiscal_code: f.map(|f| Digits::parse(&f).unwrap()),
            notice_code: n.map(|n| Digits::parse(&n).unwrap()),
        })
}

fn operation() -> impl Strategy<Value = Operation> {
    (
        data(),
        any::<[u8; 16]>(),
        0u32..10_000_000,
        prop::sample::select(Kind::ALL.to_vec()),
        1u64..u64::MAX,
    )
        .prop_map(|(data, nonce, n, kind, expires)| {
            let seven = format!("{n:07}");
            let op_id = OpId::parse(&format!("{seven}{}", damm_check_digit(&seven).unwrap())).unwrap();
            Operation {
                op_id,
                kind,
                data,
                nonce: Nonce::from_bytes(nonce),
                expires,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn canonical_data_round_trips(data in data()) {
        let text = data.canonical();
        prop_assert!(!text.contains('\n'));
        prop_assert_eq!(OperationData::parse_canonical(&text).unwrap(), data);
    }

    #[test]
    fn escaping_round_trips(value in ".*") {
        prop_assert_eq!(unescape(&escape(&value)).unwrap(), value);
    }

    #[test]
    fn signed_payloads_round_trip(op in operation()) {
        prop_assume!(op.check_required().is_ok());
        let signed = SignedPayload::sign(op.clone(), &BANK, &SystemRandom::new()).unwrap();
        let back = SignedPayload::verify(signed.text(), &BANK.public_key(), op.expires - 1).unwrap();
        prop_assert_eq!(back.operation(), &op);
    }

    #[test]
    fn any_single_byte_change_of_a_signed_payload_is_refused(
        op in operation(), position in any::<prop::sample::Index>(), byte in any::<u8>()
    ) {
        prop_assume!(op.check_required().is_ok());
        let signed = SignedPayload::sign(op.clone(), &BANK, &SystemRandom::new()).unwrap();
        let mut bytes = signed.text().as_bytes().to_vec();
        let i = position.index(bytes.len());
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        let result = UncheckedPayload::parse_bytes(&bytes)
            .and_then(|p| p.verify(&BANK.public_key(), op.expires - 1));
        prop_assert!(result.is_err(), "byte {} changed to {:#04x} was accepted", i, byte);
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(text in "(SCA1\n)?[0-9A-Za-z:*\\\\\n_-]{0,200}") {
        let _ = UncheckedPayload::parse(&text);
        let _ = OperationData::parse_canonical(&text);
    }
}
