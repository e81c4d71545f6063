//! Cards (issue 14): the branch registers a customer's cards; the customer lists them. The card
//! number goes in once and never comes out: not in an answer, not in the audit log.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

/// A sandbox customer's test card, as documented: `prefix`, the user code, `kind_digit`, and
/// the Luhn check digit.
fn sandbox_pan(prefix: &str, user_code: &str, kind_digit: char) -> String {
    let body = format!("{prefix}{user_code}{kind_digit}");
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            // With the check digit appended, these positions are the doubled ones.
            if i % 2 == 0 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

const VISA: &str = "4111 1111 1111 1111";
const MASTERCARD: &str = "5555555555554444";

#[tokio::test]
async fn the_branch_registers_cards_and_the_customer_sees_them_masked() {
    let server = TestServer::start().await;
    let c = server.admin_create("Carla Carte", "+393334440001").await;
    let device = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &device).await;
    let iban = web.iban().await;

    let (status, debit) = server
        .admin_card(
            &c.user_code,
            json!({"pan": VISA, "expiry": "12/30", "kind": "debit", "account": iban}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{debit}");
    assert_eq!(
        (
            &debit["masked"],
            &debit["brand"],
            &debit["kind"],
            &debit["expiry"],
            &debit["account"]
        ),
        (
            &json!("**** 1111"),
            &json!("visa"),
            &json!("debit"),
            &json!("12/30"),
            &json!(iban)
        )
    );
    assert_eq!(debit["secure_phone"], "+39*******001", "the certified phone, masked");
    assert!(debit.get("credit_limit").is_none());
    let (status, credit) = server
        .admin_card(
            &c.user_code,
            json!({"pan": MASTERCARD, "expiry": "03/29", "kind": "credit", "account": iban,
                   "credit_limit": "1500.00", "secure_phone": "+39 333 444 0999"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{credit}");
    assert_eq!(
        (&credit["brand"], &credit["credit_limit"]),
        (&json!("mastercard"), &json!("1500.00"))
    );
    assert_eq!(credit["secure_phone"], "+39*******999");

    // The same number again, for anyone: refused.
    let other = server.admin_create("Altro Cliente", "+393334440002").await;
    let (status, body) = server
        .admin_card(
            &c.user_code,
            json!({"pan": MASTERCARD, "expiry": "03/29", "kind": "debit", "account": iban}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict")),
        "{body}"
    );

    // The customer's list: the two sandbox cards, then both, masked; no digit run of a PAN anywhere.
    let (status, list) = web.get("/api/v1/cards").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let ids: Vec<&Value> = list.as_array().unwrap().iter().map(|c| &c["card_id"]).collect();
    assert_eq!(ids[2..], [&debit["card_id"], &credit["card_id"]]);
    // Another customer sees none of them.
    let other_device = Device::activate(&server, &other).await;
    let other_web = server.web_login(&other, &other_device).await;
    let (_, theirs) = other_web.get("/api/v1/cards").await;
    assert_eq!(theirs.as_array().unwrap().len(), 2, "{theirs}");
    assert!(theirs.as_array().unwrap().iter().all(|t| !ids.contains(&&t["card_id"])));

    // Nowhere: the answers above, the list, the audit log.
    let audit = server.audit_text().await;
    assert!(audit.contains("card_issued"), "{audit}");
    let sandbox = [
        sandbox_pan("499999", &c.user_code, '1'),
        sandbox_pan("559999", &c.user_code, '2'),
    ];
    for text in [debit.to_string(), credit.to_string(), list.to_string(), audit] {
        for pan in [VISA.replace(' ', ""), MASTERCARD.to_owned()].iter().chain(&sandbox) {
            assert!(
                !text.contains(pan.as_str()) && !text.contains(&pan[..12]),
                "a PAN in {text}"
            );
        }
    }
    // Without a session, no list.
    assert_eq!(Web::new(&server).get("/api/v1/cards").await.0, StatusCode::UNAUTHORIZED);
}

/// A sandbox customer comes with a Visa debit and a Mastercard credit card whose numbers follow
/// from the user code (docs/api.md §10), so a developer can pay with them; the server still
/// shows only their last digits.
#[tokio::test]
async fn a_sandbox_customer_has_a_debit_and_a_credit_card_derived_from_the_user_code() {
    let server = TestServer::start().await;
    let c = server.admin_create("Sara Sandbox", "+393334440005").await;
    let device = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &device).await;
    let (visa, mastercard) = (
        sandbox_pan("499999", &c.user_code, '1'),
        sandbox_pan("559999", &c.user_code, '2'),
    );
    let (status, list) = web.get("/api/v1/cards").await;
    assert_eq!(status, StatusCode::OK);
    let iban = web.iban().await;
    let seen: Vec<(String, String, String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["account"], json!(iban));
            let f = |k: &str| c[k].as_str().unwrap_or("-").to_owned();
            (f("kind"), f("brand"), f("masked"), f("credit_limit"))
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "debit".into(),
                "visa".into(),
                format!("**** {}", &visa[12..]),
                "-".into()
            ),
            (
                "credit".into(),
                "mastercard".into(),
                format!("**** {}", &mastercard[12..]),
                "1500.00".into()
            ),
        ]
    );
    // They are the numbers the server knows: registering one again is refused as taken.
    for pan in [visa, mastercard] {
        let (status, body) = server
            .admin_card(
                &c.user_code,
                json!({"pan": pan, "expiry": "12/30", "kind": "debit", "account": iban}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
    }
}

#[tokio::test]
async fn a_bad_card_is_refused_naming_the_field() {
    let server = TestServer::start().await;
    let c = server.admin_create("Dino Errori", "+393334440003").await;
    let device = Device::activate(&server, &c).await;
    let iban = server.web_login(&c, &device).await.iban().await;
    let other = server.admin_create("Ugo Altrui", "+393334440004").await;
    let other_device = Device::activate(&server, &other).await;
    let other_iban = server.web_login(&other, &other_device).await.iban().await;
    let good = json!({"pan": VISA, "expiry": "12/30", "kind": "debit", "account": iban});
    let with = |key: &str, value: Value| {
        let mut b = good.clone();
        b[key] = value;
        b
    };
    for (body, field) in [
        (with("pan", json!("4111111111111112")), "pan"),
        (with("pan", json!("378282246310005")), "pan"),
        (with("pan", json!("41111")), "pan"),
        (with("expiry", json!("01/20")), "expiry"),
        (with("expiry", json!("2030-12")), "expiry"),
        (with("kind", json!("gold")), "kind"),
        (with("account", json!(other_iban)), "account"),
        (with("account", json!("IT00X0000000000000000000000")), "account"),
        (with("kind", json!("credit")), "credit_limit"),
        (with("credit_limit", json!("100.00")), "credit_limit"),
        (with("secure_phone", json!("333 1234")), "secure_phone"),
    ] {
        let (status, problem) = server.admin_card(&c.user_code, body.clone()).await;
        assert_eq!(
            (status, problem["code"].as_str(), problem["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_input"), Some(field)),
            "{body} -> {problem}"
        );
        assert!(!problem.to_string().contains("4111111111111112"), "{problem}");
    }
    // A number where a string belongs: refused without repeating it.
    let (status, problem) = server
        .admin_card(&c.user_code, with("pan", json!(4_111_111_111_111_111u64)))
        .await;
    assert_eq!(
        (status, problem["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("pan")),
        "{problem}"
    );
    assert!(!problem.to_string().contains("41111111"), "{problem}");
    let mut credit = with("kind", json!("credit"));
    credit["credit_limit"] = json!("0.00");
    assert_eq!(server.admin_card(&c.user_code, credit).await.1["field"], "credit_limit");
    let nobody = (10_000_000u32..)
        .map(|n| n.to_string())
        .find(|u| sca_protocol::UserCode::parse(u).is_ok() && *u != c.user_code && *u != other.user_code)
        .unwrap();
    assert_eq!(server.admin_card(&nobody, good.clone()).await.0, StatusCode::NOT_FOUND);
    assert_eq!(server.admin_card("1234", good.clone()).await.1["field"], "user_code");
    let r = server
        .http
        .post(server.url(&format!("/api/v1/admin/customers/{}/cards", c.user_code)))
        .bearer_auth("nope")
        .json(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Nothing was registered by the refused ones.
    assert_eq!(server.admin_card(&c.user_code, good).await.0, StatusCode::CREATED);
}
