//! Customers of acquired banks (issue 15): the bank's file imported all or nothing, once, every
//! bad row named; the old passwords checked as the old banks hashed them; the branch's view.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;
use sca_server::legacy::{self, Format, ImportError};

const HEADER: &str = "legacy_code,password_hash,name,phone,email,accounts,auth";

pub fn argon2_of(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher as _, SaltString};
    let salt = SaltString::encode_b64(b"acquired-bank-salt").unwrap();
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

pub fn pbkdf2_of(password: &str) -> String {
    use pbkdf2::password_hash::{PasswordHasher as _, SaltString};
    let salt = SaltString::encode_b64(b"acquired-bank-salt").unwrap();
    pbkdf2::Pbkdf2
        .hash_password_customized(
            password.as_bytes(),
            Some(pbkdf2::Algorithm::Pbkdf2Sha256.ident()),
            None,
            pbkdf2::Params {
                rounds: 1_000,
                output_length: 32,
            },
            &salt,
        )
        .unwrap()
        .to_string()
}

fn file(rows: &[String]) -> String {
    let mut s = HEADER.to_owned();
    for r in rows {
        s.push('\n');
        s.push_str(r);
    }
    s.push('\n');
    s
}

async fn bank(server: &TestServer, code: &str) {
    let r = server
        .http
        .put(server.url(&format!("/api/v1/admin/acquired-banks/{code}")))
        .bearer_auth(ADMIN)
        .json(&json!({"name": "UBI Banca", "opens": "2026-02-22"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_file_with_bad_rows_is_refused_whole_and_each_bad_row_named() {
    let server = TestServer::start().await;
    bank(&server, "ubi").await;
    let good = |code: &str, iban: &str| {
        format!(
            "{code},\"{}\",Anna Rossi,+393331112222,anna@example.it,{iban}=1250.00,app",
            argon2_of("12345678")
        )
    };
    let text = file(&[
        good("U-1", "IT60X0542811101000000123456"),
        "U-2,secret,Bruno Bianchi,+393331112223,bruno@example.it,IT33X0542811101000000123457=10.00,app".into(),
        format!(
            "U-3,\"{}\",Carla,0039333,carla@example,IT06X0542811101000000123458=1,sms",
            argon2_of("x")
        ),
        good("U-1", "IT60X0542811101000000123456"),
    ]);
    let Err(ImportError::Rows(rows)) = legacy::import_text(&server.state, "ubi", &text, Format::Csv).await else {
        panic!("imported");
    };
    let got: Vec<String> = rows.iter().map(|r| format!("{}:{}", r.line, r.field)).collect();
    assert_eq!(
        got,
        [
            "3:password_hash",
            "4:phone",
            "4:email",
            "4:auth",
            "4:accounts",
            "5:legacy_code",
            "5:accounts",
        ],
        "{rows:?}"
    );
    assert!(!format!("{rows:?}").contains("secret"), "a reason repeats a value");
    assert_eq!(rows[1].reason, "must be in E.164 form, like +393331234567");
    assert_eq!(
        server.state.store().legacy_count("ubi").await.unwrap(),
        0,
        "nothing imported"
    );

    // An account that is already a customer's here: refused too, nothing imported.
    let c = server.admin_create("Già Cliente", "+393331119999").await;
    let device = Device::activate(&server, &c).await;
    let taken = server.web_login(&c, &device).await.iban().await;
    let text = file(&[good("U-1", "IT60X0542811101000000123456"), good("U-9", &taken)]);
    let Err(ImportError::Rows(rows)) = legacy::import_text(&server.state, "ubi", &text, Format::Csv).await else {
        panic!("imported");
    };
    assert_eq!(
        (rows.len(), rows[0].line, rows[0].field.as_str()),
        (1, 3, "accounts"),
        "{rows:?}"
    );
    assert_eq!(server.state.store().legacy_count("ubi").await.unwrap(), 0);
    // An unknown bank.
    assert!(matches!(
        legacy::import_text(&server.state, "nope", &file(&[]), Format::Csv).await,
        Err(ImportError::UnknownBank(_))
    ));
}

#[tokio::test]
async fn the_same_file_imported_twice_adds_nobody_twice_and_the_branch_sees_the_bank() {
    let server = TestServer::start().await;
    bank(&server, "ubi").await;
    let rows: Vec<String> = (0..3)
        .map(|i| {
            format!(
                "U-{i},\"{}\",Cliente {i},+39333111000{i},c{i}@example.it,{}=100.00,{}",
                pbkdf2_of("87654321"),
                [
                    "IT76X0542811101000000123459",
                    "IT49X0542811101000000123460",
                    "IT22X0542811101000000123461"
                ][i as usize],
                if i == 0 { "card" } else { "app" }
            )
        })
        .collect();
    let text = file(&rows);
    let first = legacy::import_text(&server.state, "ubi", &text, Format::Csv)
        .await
        .unwrap();
    assert_eq!((first.added, first.unchanged), (3, 0));
    let again = legacy::import_text(&server.state, "ubi", &text, Format::Csv)
        .await
        .unwrap();
    assert_eq!((again.added, again.unchanged), (0, 3));
    assert_eq!(server.state.store().legacy_count("ubi").await.unwrap(), 3);
    let list: Value = server
        .http
        .get(server.url("/api/v1/admin/acquired-banks"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        list,
        json!([{"code": "ubi", "name": "UBI Banca", "opens_at": 1_771_718_400, "pending": 3, "migrated": 0, "blocked": 0}])
    );
    // The branch's input is checked too.
    let r = server
        .http
        .put(server.url("/api/v1/admin/acquired-banks/UBI!"))
        .bearer_auth(ADMIN)
        .json(&json!({"name": "X", "opens": "2026-13-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn old_passwords_are_checked_as_each_scheme_hashed_them() {
    let bcrypt = bcrypt::hash("13572468", 4).unwrap();
    for (scheme, hash) in [
        ("argon2", argon2_of("13572468")),
        ("pbkdf2", pbkdf2_of("13572468")),
        ("bcrypt", bcrypt),
    ] {
        assert!(legacy::verify_legacy_password(&hash, "13572468"), "{scheme}");
        assert!(!legacy::verify_legacy_password(&hash, "13572469"), "{scheme}");
        // And the file accepts it.
        let text = file(&[format!(
            "X-1,\"{hash}\",Eva Neri,+393331110009,eva@example.it,IT60X0542811101000000123456=1.00,app"
        )]);
        assert!(legacy::parse(&text, Format::Csv).is_ok(), "{scheme}: {hash}");
    }
    // A scheme the bank does not read is never right, and a file carrying it is refused.
    let md5 = "$1$saltsalt$2vnaRpHa6Jxjz5n83ok8Z0";
    assert!(!legacy::verify_legacy_password(md5, "x"));
    let text = file(&[format!(
        "X-1,{md5},Eva Neri,+393331110009,eva@example.it,IT60X0542811101000000123456=1.00,app"
    )]);
    assert_eq!(legacy::parse(&text, Format::Csv).unwrap_err()[0].field, "password_hash");
}

#[tokio::test]
async fn the_import_command_reads_a_json_file_and_says_what_it_did_or_which_rows_are_bad() {
    let dir = tempfile::tempdir().unwrap();
    let good = json!([{
        "legacy_code": "CR-77", "password_hash": argon2_of("24681357"), "name": "Gino Verdi",
        "phone": "+393331110077", "email": "gino@example.it", "auth": "card",
        "accounts": [{"iban": "IT60X0542811101000000123456", "balance": "2500.00", "name": "Conto Gino"}]
    }]);
    let path = dir.path().join("creval.json");
    std::fs::write(&path, good.to_string()).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sca-server"))
            .arg("import-legacy")
            .args(args)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .env_remove("DATABASE_URL")
            .output()
            .unwrap()
    };
    let p = path.to_str().unwrap();
    let out = run(&["--bank", "creval", p]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no acquired bank creval"));
    let out = run(&[
        "--bank",
        "creval",
        "--bank-name",
        "Credito Valtellinese",
        "--opens",
        "2026-11-28",
        p,
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 customers imported, 0 already there"));
    let out = run(&["--bank", "creval", p]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 customers imported, 1 already there"));
    let mut bad = good.clone();
    bad[0]["legacy_code"] = json!("CR-78");
    bad[0]["phone"] = json!("333");
    std::fs::write(&path, bad.to_string()).unwrap();
    let out = run(&["--bank", "creval", p]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 1: phone:") && err.contains("nothing was imported"),
        "{err}"
    );
}

/// The login page's boxes: an acquired bank is `upcoming` until its opening day, then `open`,
/// and gone once it closes (the server's clock decides).
#[tokio::test]
async fn the_login_page_sees_each_acquired_bank_upcoming_then_open_and_not_once_closed() {
    let server = TestServer::start().await;
    let today = server.clock.now_secs() as i64 / 86_400 * 86_400;
    let day = |d: i64| {
        let secs = today + d * 86_400;
        // YYYY-MM-DD of `secs`, by the same civil calendar the server uses.
        let out = std::process::Command::new("date")
            .args(["-u", "-d", &format!("@{secs}"), "+%F"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let put = |code: &'static str, body: Value| {
        let r = server
            .http
            .put(server.url(&format!("/api/v1/admin/acquired-banks/{code}")))
            .bearer_auth(ADMIN)
            .json(&body)
            .send();
        async move { r.await.unwrap().status() }
    };
    assert_eq!(
        put("ubi", json!({"name": "UBI Banca", "opens": day(2)})).await,
        StatusCode::OK
    );
    assert_eq!(
        put(
            "creval",
            json!({"name": "Credito Valtellinese", "opens": day(-10), "closes": day(1)})
        )
        .await,
        StatusCode::OK
    );
    let banks = || async {
        let v: Value = server
            .get_anon("/api/v1/first-access/banks")
            .await
            .json()
            .await
            .unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|b| format!("{}:{}", b["code"].as_str().unwrap(), b["state"].as_str().unwrap()))
            .collect::<Vec<_>>()
    };
    assert_eq!(banks().await, ["ubi:upcoming", "creval:open"]);
    server.clock.advance(2 * 86_400);
    assert_eq!(banks().await, ["ubi:open"], "creval closed, ubi opened");
}
