//! `sigillo-auth` as a developer uses it, as a real process, against a real server, with the real
//! OS keyring (run inside `scripts/with-keyring.sh`, as `make test` does).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers, not only #[test] fns

#[path = "flows/support.rs"]
mod support;

use std::path::Path;
use std::process::Stdio;

use support::*;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn cmd(data: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sigillo-auth"));
    c.arg("--data-dir").arg(data).arg("--pin-stdin").args(args);
    c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

async fn run(data: &Path, args: &[&str], stdin: &str) -> Out {
    let mut child = cmd(data, args).spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let out = child.wait_with_output().await.unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Activates with the CLI: the password first, then (once the bank sent it) the SMS code.
async fn activate(bank: &Bank, customer: &Customer, data: &Path) {
    let mut child = cmd(
        data,
        &["activate", "--server", &bank.base, "--user", &customer.user_code],
    )
    .spawn()
    .unwrap();
    let mut input = child.stdin.take().unwrap();
    input
        .write_all(format!("{}\n", customer.password).as_bytes())
        .await
        .unwrap();
    let mut otp = None;
    for _ in 0..100 {
        let sms = bank.messages_to(&customer.phone).await;
        if let Some(m) = sms.iter().find(|m| m.body.contains("activate")) {
            otp = six_digits(&m.body);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let otp = otp.expect("the activation SMS");
    input
        .write_all(format!("{otp}\n{PIN}\n{PIN}\n").as_bytes())
        .await
        .unwrap();
    drop(input);
    let out = child.wait_with_output().await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("activated: profile "));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_developer_activates_logs_in_and_authorizes_a_transfer_by_qr_image_and_by_op_id() {
    let bank = Bank::start().await;
    let customer = bank.customer("Vera Cli").await;
    let data = tempfile::tempdir().unwrap();
    activate(&bank, &customer, data.path()).await;

    let profiles = run(data.path(), &["profiles"], "").await;
    assert!(profiles.stdout.starts_with("* "), "{}", profiles.stdout);

    // Log in with an OTP from the CLI.
    let otp = run(data.path(), &["otp", "login"], &format!("{PIN}\n")).await;
    assert_eq!(otp.code, 0, "{}", otp.stderr);
    let web = Web::login(&bank, &customer).await;
    assert_eq!(web.send_code(otp.stdout.trim()).await.0, 200);

    // A transfer, by QR image: the CLI shows every field, asks the PIN, prints the code.
    let (op_id, payload) = web.transfer("321.00").await;
    let png = data.path().join("qr.png");
    std::fs::write(&png, sca_qr::render_png(&payload, 5).unwrap()).unwrap();
    let decoded = run(data.path(), &["decode", png.to_str().unwrap()], "").await;
    assert_eq!(decoded.stdout, payload, "decode prints the text exactly");
    let scan = run(data.path(), &["scan", png.to_str().unwrap()], &format!("{PIN}\n")).await;
    assert_eq!(scan.code, 0, "{}", scan.stderr);
    for shown in ["321.00EUR", "Mario Rossi", "IT60X0542811101000000123456", &op_id] {
        assert!(scan.stdout.contains(shown), "{shown} not shown in {}", scan.stdout);
    }
    let code = scan.stdout.lines().last().unwrap().trim().to_owned();
    let (status, v) = web
        .post(
            &format!("/api/v1/operations/{op_id}/authorize"),
            serde_json::json!({"code": code}),
        )
        .await;
    assert_eq!(status, 200, "{v}");

    // Another, by op id typed by hand: online it is looked up and shown first.
    let (op_id, _) = web.transfer("45.00").await;
    let sign = run(data.path(), &["sign", "--op-id", &op_id], &format!("{PIN}\n")).await;
    assert_eq!(sign.code, 0, "{}", sign.stderr);
    assert!(sign.stdout.contains("45.00EUR"), "{}", sign.stdout);
    let code = sign.stdout.lines().last().unwrap().trim().to_owned();
    let (status, v) = web
        .post(
            &format!("/api/v1/operations/{op_id}/authorize"),
            serde_json::json!({"code": code}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(web.balance().await, "9634.00");

    // And one approved online from the pending list.
    let (op_id, _) = web.transfer("1.00").await;
    let pending = run(data.path(), &["pending"], "").await;
    assert!(pending.stdout.contains(&op_id), "{}{}", pending.stdout, pending.stderr);
    let approve = run(data.path(), &["approve", &op_id], &format!("{PIN}\n")).await;
    assert_eq!(approve.stdout.lines().last(), Some("approved"), "{}", approve.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn clear_errors_for_a_tampered_payload_a_bad_check_digit_and_a_wrong_server() {
    let bank = Bank::start().await;
    let customer = bank.customer("Walter Cli").await;
    let data = tempfile::tempdir().unwrap();
    activate(&bank, &customer, data.path()).await;
    let web = logged_in_cli(&bank, &customer, data.path()).await;
    let (_, payload) = web.transfer("10.00").await;

    let tampered = run(
        data.path(),
        &["scan", "-"],
        &payload.replacen("10.00EUR", "90.00EUR", 1),
    )
    .await;
    assert_eq!(tampered.code, 1);
    assert!(tampered.stderr.contains("payload_signature"), "{}", tampered.stderr);

    let bad_digit = run(data.path(), &["sign", "--op-id", "57240001"], "").await;
    assert_eq!(bad_digit.code, 2);
    assert!(bad_digit.stderr.contains("check digit"), "{}", bad_digit.stderr);

    let weak = run(data.path(), &["otp", "login"], "12345\n").await;
    assert_eq!(weak.code, 2);
    assert!(weak.stderr.contains("consecutive"), "{}", weak.stderr);

    let other = tempfile::tempdir().unwrap();
    let wrong_server = run(
        other.path(),
        &["activate", "--server", "http://127.0.0.1:9", "--user", "x"],
        "pw\n",
    )
    .await;
    assert_eq!(wrong_server.code, 1);
    assert!(wrong_server.stderr.contains("[offline]"), "{}", wrong_server.stderr);

    let no_profile = run(other.path(), &["otp", "login"], "13579\n").await;
    assert!(no_profile.stderr.contains("no_profile"), "{}", no_profile.stderr);

    // This machine has no camera: a normal state, said plainly.
    let cameras = run(data.path(), &["cameras"], "").await;
    assert_eq!(cameras.code, 0, "{}", cameras.stderr);
    assert!(cameras.stdout.contains("no camera found"), "{}", cameras.stdout);
    let camera = run(data.path(), &["scan", "--camera", "0"], "").await;
    assert_eq!(camera.code, 1);
    assert!(camera.stderr.contains("[no_camera]"), "{}", camera.stderr);

    let no_qr = run(data.path(), &["decode", "Cargo.toml"], "").await;
    assert_eq!(no_qr.code, 1);
    assert!(!no_qr.stderr.contains("panicked"));
}

async fn logged_in_cli<'a>(bank: &'a Bank, customer: &Customer, data: &Path) -> Web<'a> {
    let otp = run(data, &["otp", "login"], &format!("{PIN}\n")).await;
    let web = Web::login(bank, customer).await;
    assert_eq!(web.send_code(otp.stdout.trim()).await.0, 200);
    web
}

/// Reading an image and listing cameras need no profile, so they run where no keyring does (a
/// developer's container, a CI step); a command that needs the profiles still says it needs one.
#[tokio::test]
async fn decode_and_cameras_run_without_a_keyring() {
    let data = tempfile::tempdir().unwrap();
    let png = data.path().join("qr.png");
    std::fs::write(&png, sca_qr::render_png("SCA1 no keyring here", 8).unwrap()).unwrap();
    let without_keyring = |args: &[&str]| {
        let mut c = cmd(data.path(), args);
        c.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/sigillo-test-bus");
        c
    };
    let out = without_keyring(&["profiles"]).output().await.unwrap();
    assert!(!out.status.success(), "the profiles need the keyring");
    let out = without_keyring(&["decode", png.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "SCA1 no keyring here");
    let out = without_keyring(&["cameras"]).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.to_lowercase().contains("keyring"), "{stderr}");
}

#[tokio::test]
async fn bill_prints_the_bill_and_the_page_that_pays_it() {
    let data = tempfile::tempdir().unwrap();
    let pagopa = data.path().join("avviso.png");
    std::fs::write(
        &pagopa,
        sca_qr::render_png("PAGOPA|002|302000100000009424|80078750587|12030", 8).unwrap(),
    )
    .unwrap();
    let out = run(
        data.path(),
        &["bill", pagopa.to_str().unwrap(), "--bank", "https://bank.example/"],
        "",
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("pagoPA notice"), "{}", out.stdout);
    assert!(out.stdout.contains("120.30 EUR"), "{}", out.stdout);
    assert!(
        out.stdout.contains(
            "opens: https://bank.example/#/pagopa?notice=302000100000009424&creditor=80078750587&amount=120.30"
        ),
        "{}",
        out.stdout
    );
    // An EPC transfer (version 001, with a BIC), its text on standard input.
    let epc =
        "BCD\n001\n1\nSCT\nBPPIITRRXXX\nLuce e Gas S.p.A.\nIT60X0542811101000000123456\nEUR89.9\n\nRF18539007547034\n";
    let out = run(data.path(), &["bill", "-", "--bank", "https://bank.example"], epc).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("EPC credit transfer"), "{}", out.stdout);
    assert!(
        out.stdout.contains(
            "opens: https://bank.example/#/transfer?payee=Luce%20e%20Gas%20S.p.A.&iban=IT60X0542811101000000123456&amount=89.90&description=RF18539007547034"
        ),
        "{}",
        out.stdout
    );
    // A wrong bill names its field and exits non-zero; so does a code that is no bill.
    let out = run(
        data.path(),
        &["bill", "-", "--bank", "https://bank.example"],
        "PAGOPA|002|302000100000009424|80078750588|12030",
    )
    .await;
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("creditor fiscal code"), "{}", out.stderr);
    let out = run(data.path(), &["bill", "-", "--bank", "https://bank.example"], "SCA1\n").await;
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("not a bill"), "{}", out.stderr);
}

/// `scan --screen` against a real X server (an `Xvfb` of this test) showing the bank's page: no
/// code, a code that is not an operation, one operation, two to choose from, and no screen at all.
#[tokio::test(flavor = "multi_thread")]
async fn scan_screen_reads_the_bank_page_shown_on_this_computer() {
    let Some(mut screen) = sca_scan::TestDisplay::start(1920, 1080).unwrap() else {
        eprintln!("SKIPPED: the Xvfb binary is missing (apt-get install xvfb); `scan --screen` was not tested");
        return;
    };
    let bank = Bank::start().await;
    let customer = bank.customer("Zoe Screen").await;
    let data = tempfile::tempdir().unwrap();
    activate(&bank, &customer, data.path()).await;
    let web = logged_in_cli(&bank, &customer, data.path()).await;
    let display = screen.name().to_owned();
    let on_screen = |args: &[&str], stdin: &str| {
        let mut c = cmd(data.path(), args);
        c.env("DISPLAY", &display).env_remove("WAYLAND_DISPLAY");
        let stdin = stdin.to_owned();
        async move {
            let mut child = c.spawn().unwrap();
            let mut input = child.stdin.take().unwrap();
            input.write_all(stdin.as_bytes()).await.unwrap();
            drop(input);
            let out = child.wait_with_output().await.unwrap();
            Out {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }
        }
    };
    let page = |codes: &[(&str, u32, u32)]| {
        let codes: Vec<sca_scan::PageCode<'_>> = codes
            .iter()
            .map(|&(text, x, y)| sca_scan::PageCode {
                text,
                x,
                y,
                module_px: 4,
            })
            .collect();
        sca_scan::browser_page(1280, 900, &codes, 11).unwrap()
    };

    // A page without a code.
    screen.show(&page(&[]), 320, 90).unwrap();
    let none = on_screen(&["scan", "--screen"], "").await;
    assert_eq!(none.code, 1, "{}", none.stderr);
    assert!(none.stderr.contains("no QR code on the screen"), "{}", none.stderr);
    assert!(none.stderr.contains("[no_qr_code]"), "{}", none.stderr);

    // A code, but not an operation of this profile.
    screen.clear().unwrap();
    screen
        .show(&page(&[("https://example.com/pay?id=42", 300, 200)]), 320, 90)
        .unwrap();
    let other = on_screen(&["scan", "--screen"], "").await;
    assert_eq!(other.code, 1, "{}", other.stderr);
    assert!(
        other
            .stderr
            .contains("QR codes on the screen, but none is an operation of your profiles"),
        "{}",
        other.stderr
    );
    assert!(other.stderr.contains("[no_operation]"), "{}", other.stderr);

    // One operation beside that other code: shown, PIN, a code the bank accepts.
    let (op_id, payload) = web.transfer("77.00").await;
    screen.clear().unwrap();
    screen
        .show(
            &page(&[("https://example.com/pay?id=42", 60, 160), (&payload, 700, 300)]),
            320,
            90,
        )
        .unwrap();
    let one = on_screen(&["scan", "--screen"], &format!("{PIN}\n")).await;
    assert_eq!(one.code, 0, "{}", one.stderr);
    for shown in ["77.00EUR", "Mario Rossi", &op_id] {
        assert!(one.stdout.contains(shown), "{shown} not shown in {}", one.stdout);
    }
    let code = one.stdout.lines().last().unwrap().trim().to_owned();
    let (status, v) = web
        .post(
            &format!("/api/v1/operations/{op_id}/authorize"),
            serde_json::json!({"code": code}),
        )
        .await;
    assert_eq!(status, 200, "{v}");

    // Two operations: listed with amount, payee and bank; the customer types which.
    let (first_id, first) = web.transfer("12.00").await;
    let (second_id, second) = web.transfer("34.00").await;
    screen.clear().unwrap();
    screen
        .show(&page(&[(&first, 80, 160), (&second, 700, 480)]), 320, 90)
        .unwrap();
    let two = on_screen(&["scan", "--screen"], &format!("2\n{PIN}\n")).await;
    assert_eq!(two.code, 0, "{}", two.stderr);
    assert!(two.stdout.contains("2 operations on the screen"), "{}", two.stdout);
    for listed in ["1) 12.00EUR — Mario Rossi", "2) 34.00EUR — Mario Rossi", &bank.base] {
        assert!(two.stdout.contains(listed), "{listed} not listed in {}", two.stdout);
    }
    assert!(two.stdout.contains(&format!("Operation {second_id}")), "{}", two.stdout);
    let code = two.stdout.lines().last().unwrap().trim().to_owned();
    let (status, v) = web
        .post(
            &format!("/api/v1/operations/{second_id}/authorize"),
            serde_json::json!({"code": code}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    // `--pick` chooses without asking; out of range is refused before the PIN.
    let picked = on_screen(&["scan", "--screen", "--pick", "1"], &format!("{PIN}\n")).await;
    assert_eq!(picked.code, 0, "{}", picked.stderr);
    assert!(
        picked.stdout.contains(&format!("Operation {first_id}")),
        "{}",
        picked.stdout
    );
    let bad = on_screen(&["scan", "--screen", "--pick", "3"], "").await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("pick"), "{}", bad.stderr);

    // No screen at all.
    let mut c = cmd(data.path(), &["scan", "--screen"]);
    c.env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY");
    let out = c.output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no screen to read: neither an X11 display nor a Wayland screenshot portal is available"),
        "{stderr}"
    );
    assert!(stderr.contains("[no_screen]"), "{stderr}");
}
