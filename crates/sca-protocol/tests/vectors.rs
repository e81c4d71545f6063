//! The published vectors, `tests/vectors/sca1.json`, checked against this implementation.
//!
//! As in ring's `hmac_tests`, every case is also checked with one input changed, which must
//! fail: a vector that would pass whatever it said proves nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use sca_protocol::vectors::{self, VectorFile};
use sca_protocol::{PayloadError, SystemRandom};
use serde_json::Value;

const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/sca1.json");

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn published() -> VectorFile {
    VectorFile::from_json(&std::fs::read_to_string(FILE).unwrap()).unwrap()
}

#[test]
fn every_published_case_passes() {
    let report = vectors::check(&published(), now());
    assert!(report.failures.is_empty(), "{:#?}", report.failures);
    assert!(report.ok());
}

#[test]
fn every_section_has_at_least_five_cases() {
    let file = published();
    for (name, count) in VectorFile::SECTIONS.iter().zip(file.counts()) {
        assert!(count >= 5, "section {name} has {count} cases");
    }
}

#[test]
fn the_file_covers_every_code_purpose_and_every_refusal_reason() {
    let file = published();
    let purposes: BTreeSet<u8> = file.codes.iter().map(|c| c.purpose).collect();
    assert_eq!(purposes, BTreeSet::from([1, 2, 3, 4]));
    let reasons: BTreeSet<&str> = file
        .payloads
        .iter()
        .filter(|p| !p.valid)
        .filter_map(|p| p.note.split(':').next())
        .collect();
    assert_eq!(reasons, PayloadError::CODES.into_iter().collect());
    assert!(file.payloads.iter().any(|p| p.valid));
    assert!(file.approvals.iter().any(|a| a.valid) && file.approvals.iter().any(|a| !a.valid));
    assert!(file.pins.iter().any(|a| a.valid) && file.pins.iter().any(|a| !a.valid));
    assert!(file.ids.iter().any(|a| a.valid) && file.ids.iter().any(|a| !a.valid));
}

/// Another character of the same alphabet, so the mutation tests the value, not the parser.
fn other_char(c: char) -> char {
    match c {
        '0'..='8' | 'a'..='e' | 'A'..='Y' => char::from(c as u8 + 1),
        '9' => '0',
        'f' => 'a',
        'Z' => 'A',
        '-' => '_',
        _ => 'x',
    }
}

/// Each way to change one value of a case: one character of a string leaf (never the `note` or
/// `now`, which are not checked data), the `valid` flag, or a number.
fn mutations(section: &str, case: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let Value::Object(map) = case else { return out };
    let valid = map.get("valid").and_then(Value::as_bool);
    for (key, value) in map {
        if key == "note" || key == "now" {
            continue;
        }
        // A refusal changed is most often still a refusal: only its flag says something.
        if valid == Some(false) && key != "valid" {
            continue;
        }
        // A good PIN with one digit changed is usually another good PIN ("89012" → "89112").
        if section == "pins" && key == "pin" {
            continue;
        }
        let mut leaves = Vec::new();
        collect_leaves(value, &mut Vec::new(), &mut leaves);
        for path in leaves {
            let mut changed = case.clone();
            let leaf = path.iter().fold(changed.get_mut(key).unwrap(), |v, p| match v {
                Value::Array(a) => &mut a[p.parse::<usize>().unwrap()],
                Value::Object(o) => o.get_mut(p).unwrap(),
                _ => unreachable!(),
            });
            match leaf {
                Value::Bool(b) => *b = !*b,
                Value::Number(n) => *leaf = Value::from(n.as_u64().unwrap() + 1),
                Value::String(s) if s.is_empty() => *s = "x".into(),
                Value::String(s) => {
                    let chars: Vec<char> = s.chars().collect();
                    let mid = chars.len() / 2;
                    *s = chars
                        .iter()
                        .enumerate()
                        .map(|(i, c)| if i == mid { other_char(*c) } else { *c })
                        .collect();
                }
                _ => continue,
            }
            out.push((format!("{key}/{}", path.join("/")), changed));
        }
    }
    out
}

fn collect_leaves(value: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match value {
        Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| {
            path.push(i.to_string());
            collect_leaves(v, path, out);
            path.pop();
        }),
        Value::Object(o) => o.iter().for_each(|(k, v)| {
            path.push(k.clone());
            collect_leaves(v, path, out);
            path.pop();
        }),
        _ => out.push(path.clone()),
    }
}

#[test]
fn every_case_with_one_value_changed_fails() {
    let file = serde_json::to_value(published()).unwrap();
    let now = now();
    let mut tried = 0;
    for section in VectorFile::SECTIONS {
        for (index, case) in file[section].as_array().unwrap().iter().enumerate() {
            let muts = mutations(section, case);
            assert!(!muts.is_empty(), "{section}[{index}] has nothing to change");
            for (what, changed) in muts {
                let mut one = serde_json::json!({});
                for s in VectorFile::SECTIONS {
                    one[s] = Value::Array(vec![]);
                }
                one[section] = Value::Array(vec![changed]);
                let one: VectorFile = serde_json::from_value(one).unwrap();
                let report = vectors::check(&one, now);
                assert_eq!(report.passed, 0, "{section}[{index}] still passes with {what} changed");
                tried += 1;
            }
        }
    }
    assert!(tried >= 200, "only {tried} mutations");
}

#[test]
fn a_freshly_generated_file_checks_and_round_trips_through_json() {
    let rng = SystemRandom::new();
    let t = now();
    let fresh = vectors::generate(&rng, t).unwrap();
    let again = VectorFile::from_json(&fresh.to_json()).unwrap();
    assert_eq!(again, fresh);
    let report = vectors::check(&again, t);
    assert!(report.failures.is_empty(), "{:#?}", report.failures);
    assert_ne!(fresh, published(), "fresh keys every time");
}

#[test]
fn a_file_missing_a_section_is_refused() {
    let mut value = serde_json::to_value(published()).unwrap();
    value.as_object_mut().unwrap().remove("approvals");
    assert!(VectorFile::from_json(&value.to_string()).is_err());
}
