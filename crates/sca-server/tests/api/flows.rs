//! End-to-end flows, as an independent client (docs/spec/sca1.md + docs/api.md only) would run them.

use reqwest::StatusCode;
use sca_protocol::{CodeInput, SignedPayload, Step};
use serde_json::json;

use crate::support::*;

/// Activate a device, log in, make transfers and authorize them by QR (OPERATION code), by op id
/// (OPERATION_ID code) and by push (device approve); get blocked and unblocked.
#[tokio::test]
async fn independent_client_full_flow() {
    let server = TestServer::start().await;
    let c = server.admin_create("Mario Rossi", "+393331110001").await;
    let payee = server.admin_create("Anna Bianchi", "+393331110002").await;
    let device = Device::activate(&server, &c).await;
    // The activation alerted the customer.
    assert!(
        server
            .outbox(&c.email)
            .await
            .iter()
            .any(|m| m["body"].as_str().unwrap().contains("activated"))
    );

    // Login: password, then a LOGIN code.
    let web = server.web_login(&c, &device).await;
    assert_eq!(web.balance().await, "10000.00");

    // The payee's account, to see money arrive.
    let payee_device = Device::activate(&server, &payee).await;
    let payee_web = server.web_login(&payee, &payee_device).await;
    let payee_iban = payee_web.iban().await;

    // 1. By QR: decode the PNG the page shows, check the payload, type back the OPERATION code.
    let t1 = web.transfer(&payee_iban, "125.50").await;
    let op1 = t1["op_id"].as_str().unwrap();
    let png = web
        .request(reqwest::Method::GET, &format!("/api/v1/operations/{op1}/qr.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");
    let scanned = sca_qr::decode_image_bytes(&png.bytes().await.unwrap()).unwrap().text;
    assert_eq!(scanned, t1["payload"].as_str().unwrap());
    let svg = web
        .request(reqwest::Method::GET, &format!("/api/v1/operations/{op1}/qr.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    let now = server.clock.now_secs();
    let shown = SignedPayload::verify(&scanned, &device.bank_pub, now).unwrap();
    assert_eq!(shown.operation().data.amount.unwrap().to_string(), "125.50EUR");
    let code = device.operation_code(&scanned, now);
    let (status, body) = web
        .post(&format!("/api/v1/operations/{op1}/authorize"), json!({"code": code}))
        .await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("approved")));
    assert_eq!(web.balance().await, "9874.50");
    assert_eq!(payee_web.balance().await, "10125.50");
    let (_, op) = web.get(&format!("/api/v1/operations/{op1}")).await;
    assert_eq!(op["status"], "approved");
    assert_eq!(op["kind"], "TRANSFER");

    // 2. By op id: the authenticator fetches the payload online, then makes an OPERATION_ID code.
    let t2 = web.transfer(&payee_iban, "10.00").await;
    let op2 = t2["op_id"].as_str().unwrap();
    let (status, fetched) = device
        .send(
            "GET",
            &format!("/api/v1/devices/{}/operations/{op2}", device.id),
            None,
            server.clock.now_secs(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched["payload"], t2["payload"]);
    let (status, _) = web
        .post(
            &format!("/api/v1/operations/{op2}/authorize"),
            json!({"code": device.op_id_code(op2)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(web.balance().await, "9864.50");

    // 3. By push: the device is connected; the transfer appears; the device approves.
    let mut events = device.events(server.clock.now_secs()).await;
    let t3 = web.transfer(&payee_iban, "1.00").await;
    let op3 = t3["op_id"].as_str().unwrap().to_owned();
    let pushed = loop {
        let (event, data) = tokio::time::timeout(std::time::Duration::from_secs(5), events.recv())
            .await
            .unwrap()
            .unwrap();
        if event == "operation" && data["op_id"] == op3.as_str() {
            break data;
        }
    };
    let payload = pushed["payload"].as_str().unwrap();
    let (status, body) = device.approve(&op3, payload, server.clock.now_secs(), None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("approved")),
        "{body}"
    );
    assert_eq!(web.balance().await, "9863.50");

    // 4. Blocked: five wrong codes give attempts_left 4…0, then 423, even for a right code.
    let t4 = web.transfer(&payee_iban, "2.00").await;
    let op4 = t4["op_id"].as_str().unwrap();
    let right = device.operation_code(t4["payload"].as_str().unwrap(), server.clock.now_secs());
    let wrong = if right == "000000" { "000001" } else { "000000" };
    for left in (0..5).rev() {
        let (status, body) = web
            .post(&format!("/api/v1/operations/{op4}/authorize"), json!({"code": wrong}))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "wrong_code");
        assert_eq!(body["attempts_left"], left);
    }
    let (status, body) = web
        .post(&format!("/api/v1/operations/{op4}/authorize"), json!({"code": right}))
        .await;
    assert_eq!(status, StatusCode::LOCKED, "{body}");
    assert_eq!(body["code"], "blocked");
    let alerts = server.outbox(&c.phone).await;
    assert!(alerts[0]["body"].as_str().unwrap().contains("blocked"));
    assert!(
        server.outbox(&c.email).await[0]["body"]
            .as_str()
            .unwrap()
            .contains("blocked")
    );

    // Unblock with the security code + an SMS OTP.
    let r = server
        .post_json(
            "/api/v1/recovery/unblock",
            &json!({"user": c.user_code, "security_code": c.security_code}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let recovery: serde_json::Value = r.json().await.unwrap();
    let otp = server.last_otp(&c.phone).await;
    let r = server
        .http
        .post(server.url(&format!(
            "/api/v1/recovery/unblock/{}",
            recovery["recovery_id"].as_str().unwrap()
        )))
        .json(&json!({"sms_otp": otp}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (status, _) = web
        .post(&format!("/api/v1/operations/{op4}/authorize"), json!({"code": right}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(web.balance().await, "9861.50");
}

#[tokio::test]
async fn login_by_push_with_number_matching_and_by_sms() {
    let server = TestServer::start().await;
    let c = server.admin_create("Luca Verdi", "+393331110003").await;
    let device = Device::activate(&server, &c).await;
    let mut events = device.events(server.clock.now_secs()).await;

    // Push: the login operation reaches the device without the number (the customer types the
    // one the page shows); a wrong number fails the login.
    let mut web = Web::new(&server);
    let (status, login) = web.login(&c.user_code, &c.password).await;
    assert_eq!(status, StatusCode::OK);
    let number = login["number"].as_i64().unwrap();
    assert!((10..=99).contains(&number));
    let (event, pushed) = events.recv().await.unwrap();
    assert_eq!(event, "operation");
    assert!(
        pushed.get("number").is_none(),
        "the device is never told the number: {pushed}"
    );
    assert_eq!(pushed["op_id"], login["operation"]["op_id"]);
    let op_id = pushed["op_id"].as_str().unwrap();
    // A number no login page can show is a malformed answer, not a pick: refused naming the
    // field, and not counted (the wrong pick below still finds 4 attempts left).
    let (status, problem) = device
        .approve(
            op_id,
            pushed["payload"].as_str().unwrap(),
            server.clock.now_secs(),
            Some(300),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(
        (problem["code"].as_str(), problem["field"].as_str()),
        (Some("invalid_input"), Some("number"))
    );
    let wrong_pick = if number == 99 { 98 } else { number + 1 };
    let (status, problem) = device
        .approve(
            op_id,
            pushed["payload"].as_str().unwrap(),
            server.clock.now_secs(),
            Some(wrong_pick),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(problem["attempts_left"], 4);
    let login_id = login["login_id"].as_str().unwrap();
    let (_, st) = web.get(&format!("/api/v1/login/{login_id}")).await;
    assert_eq!(st["status"], "failed");

    // Again, with the right number.
    let (_, login) = web.login(&c.user_code, &c.password).await;
    let login_id = login["login_id"].as_str().unwrap().to_owned();
    let number = login["number"].as_i64().unwrap();
    let pushed = loop {
        let (event, data) = events.recv().await.unwrap();
        if event == "operation" && data["op_id"] == login["operation"]["op_id"] {
            break data;
        }
    };
    let op_id = pushed["op_id"].as_str().unwrap();
    // The page listens for the outcome.
    let stream = web
        .request(reqwest::Method::GET, &format!("/api/v1/login/{login_id}/events"))
        .send()
        .await
        .unwrap();
    let mut page = sse_events(stream);
    assert_eq!(page.recv().await.unwrap().1["status"], "pending");
    let (status, _) = device
        .approve(
            op_id,
            pushed["payload"].as_str().unwrap(),
            server.clock.now_secs(),
            Some(number),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page.recv().await.unwrap().1["status"], "authenticated");
    let (status, _) = web.get("/api/v1/accounts").await;
    assert_eq!(status, StatusCode::OK);

    // SMS OTP login.
    let mut web2 = Web::new(&server);
    let (_, login) = web2.login(&c.user_code, &c.password).await;
    let login_id = login["login_id"].as_str().unwrap();
    let (status, _) = web2.get("/api/v1/accounts").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no SCA yet");
    let (status, _) = web2.post(&format!("/api/v1/login/{login_id}/sms"), json!(null)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let otp = server.last_otp(&c.phone).await;
    let (status, body) = web2
        .post(&format!("/api/v1/login/{login_id}/code"), json!({"sms_otp": otp}))
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("authenticated"))
    );
    let (status, _) = web2.get("/api/v1/accounts").await;
    assert_eq!(status, StatusCode::OK);
    // The same OTP does not open another login.
    let mut web3 = Web::new(&server);
    let (_, login) = web3.login(&c.user_code, &c.password).await;
    let (status, _) = web3
        .post(
            &format!("/api/v1/login/{}/code", login["login_id"].as_str().unwrap()),
            json!({"sms_otp": otp}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "no SMS code was sent for this login");

    // Login with the OPERATION_ID code of the login operation, by alias.
    let (status, _) = web2
        .request(reqwest::Method::PUT, "/api/v1/alias")
        .json(&json!({"alias": "Luca.V"}))
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(status, StatusCode::NO_CONTENT);
    let mut web4 = Web::new(&server);
    let (status, login) = web4.login("LUCA.v", &c.password).await;
    assert_eq!(status, StatusCode::OK);
    let op_id = login["operation"]["op_id"].as_str().unwrap();
    let (status, _) = web4
        .post(
            &format!("/api/v1/login/{}/code", login["login_id"].as_str().unwrap()),
            json!({"code": device.op_id_code(op_id)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn reject_second_device_by_qr_and_device_management() {
    let server = TestServer::start().await;
    let c = server.admin_create("Sara Neri", "+393331110004").await;
    let first = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &first).await;

    // "Non sono io": reject from the device; the customer is alerted.
    let t = web.transfer("IT60X0542811101000000123456", "50.00").await;
    let op_id = t["op_id"].as_str().unwrap();
    let body = first.reject_body(t["payload"].as_str().unwrap(), server.clock.now_secs());
    let (status, body) = first
        .send(
            "POST",
            &format!("/api/v1/devices/{}/operations/{op_id}/reject", first.id),
            Some(body),
            server.clock.now_secs(),
        )
        .await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("rejected")));
    assert!(
        server.outbox(&c.phone).await[0]["body"]
            .as_str()
            .unwrap()
            .contains("rejected")
    );
    let (status, _) = web
        .post(
            &format!("/api/v1/operations/{op_id}/authorize"),
            json!({"code": first.op_id_code(op_id)}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(web.balance().await, "10000.00");

    // A second device from the first: a DEVICE operation approved on the first, then the QR.
    let (status, started) = first
        .send(
            "POST",
            &format!("/api/v1/devices/{}/activations", first.id),
            Some(json!({})),
            server.clock.now_secs(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let qr_text = started["qr_text"].as_str().unwrap();
    let activation_id = qr_text.strip_prefix("SCA1-ACTIVATE:").unwrap();
    // Before the approval, the QR alone does not activate anything.
    let r = server.post_json(&format!("/api/v1/activations/{activation_id}"), &json!({"device_pub": first.key.public_key().to_b64u(), "ecdh_pub": first.key.public_key().to_b64u(), "name": "x"})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let dev_op = started["op_id"].as_str().unwrap();
    let shown = SignedPayload::verify(
        started["payload"].as_str().unwrap(),
        &first.bank_pub,
        server.clock.now_secs(),
    )
    .unwrap();
    assert_eq!(shown.operation().kind.as_str(), "DEVICE");
    let (status, _) = first
        .approve(
            dev_op,
            started["payload"].as_str().unwrap(),
            server.clock.now_secs(),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let second = finish_activation(&server, activation_id, None, "Kiosk").await;

    // Both devices listed; the second one's codes work.
    let (_, list) = web.get("/api/v1/devices").await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let t = web.transfer("IT60X0542811101000000123456", "3.00").await;
    let op_id = t["op_id"].as_str().unwrap();
    let (status, _) = web
        .post(
            &format!("/api/v1/operations/{op_id}/authorize"),
            json!({"code": second.op_id_code(op_id)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // Rename, then remove the second: its codes and signatures no longer count.
    let r = web
        .request(reqwest::Method::PATCH, &format!("/api/v1/devices/{}", second.id))
        .json(&json!({"name": "Sportello"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (_, list) = web.get("/api/v1/devices").await;
    assert!(list.as_array().unwrap().iter().any(|d| d["name"] == "Sportello"));
    let mut second_events = second.events(server.clock.now_secs()).await;
    let r = web
        .request(reqwest::Method::DELETE, &format!("/api/v1/devices/{}", second.id))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // Its open push stream ends.
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while second_events.recv().await.is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the removed device's stream stayed open");
    let t = web.transfer("IT60X0542811101000000123456", "4.00").await;
    let op_id = t["op_id"].as_str().unwrap();
    let (status, _) = web
        .post(
            &format!("/api/v1/operations/{op_id}/authorize"),
            json!({"code": second.op_id_code(op_id)}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = second
        .send(
            "GET",
            &format!("/api/v1/devices/{}/operations/{op_id}", second.id),
            None,
            server.clock.now_secs(),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn recovery_of_user_code_and_password() {
    let server = TestServer::start().await;
    let c = server.admin_create("Paolo Gialli", "+393331110005").await;
    let r = server
        .post_json("/api/v1/recovery/user-code", &json!({"phone": c.phone}))
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert!(
        server.outbox(&c.phone).await[0]["body"]
            .as_str()
            .unwrap()
            .contains(&c.user_code)
    );
    // An unknown phone gets the same answer.
    let r = server
        .post_json("/api/v1/recovery/user-code", &json!({"phone": "+393339999999"}))
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);

    // Password reset with security code + SMS OTP.
    let r = server
        .post_json(
            "/api/v1/recovery/password",
            &json!({"user": c.user_code, "security_code": c.security_code.to_lowercase()}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let v: serde_json::Value = r.json().await.unwrap();
    let id = v["recovery_id"].as_str().unwrap();
    let otp = server.last_otp(&c.phone).await;
    let wrong = if otp == "000000" { "000001" } else { "000000" };
    let r = server
        .post_json(
            &format!("/api/v1/recovery/password/{id}"),
            &json!({"sms_otp": wrong, "new_password": "97531864"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = server
        .post_json(
            &format!("/api/v1/recovery/password/{id}"),
            &json!({"sms_otp": otp, "new_password": "97531864"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let mut web = Web::new(&server);
    assert_eq!(web.login(&c.user_code, &c.password).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(web.login(&c.user_code, "97531864").await.0, StatusCode::OK);
    // A recovery is used once.
    let r = server
        .post_json(
            &format!("/api/v1/recovery/password/{id}"),
            &json!({"sms_otp": otp, "new_password": "12121212"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn transaction_codes_when_policy_allows_and_login_step_replay() {
    let server = TestServer::start_with(|c| c.transaction_code_max_minor = 3_000).await;
    let c = server.admin_create("Elena Blu", "+393331110006").await;
    let device = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &device).await;
    let step = Step::at(server.clock.now_secs()).0;
    let small = web.transfer("IT60X0542811101000000123456", "20.00").await;
    let code = device.code(CodeInput::Transaction(Step(step)));
    let op = small["op_id"].as_str().unwrap();
    let (status, _) = web
        .post(&format!("/api/v1/operations/{op}/authorize"), json!({"code": code}))
        .await;
    assert_eq!(status, StatusCode::OK);
    // The same TRANSACTION step again: refused (only a step above the last accepted one).
    let small2 = web.transfer("IT60X0542811101000000123456", "21.00").await;
    let op = small2["op_id"].as_str().unwrap();
    let (status, _) = web
        .post(&format!("/api/v1/operations/{op}/authorize"), json!({"code": code}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Above the limit, a TRANSACTION code never fits.
    let big = web.transfer("IT60X0542811101000000123456", "31.00").await;
    let op = big["op_id"].as_str().unwrap();
    let next = device.code(CodeInput::Transaction(Step(step + 1)));
    let (status, _) = web
        .post(&format!("/api/v1/operations/{op}/authorize"), json!({"code": next}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A LOGIN code already used (web_login used step+1) does not open a second session.
    let mut web2 = Web::new(&server);
    let (_, login) = web2.login(&c.user_code, &c.password).await;
    let used = device.code(CodeInput::Login(Step(step + 1)));
    let (status, body) = web2
        .post(
            &format!("/api/v1/login/{}/code", login["login_id"].as_str().unwrap()),
            json!({"code": used}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // A code from two steps ago is outside the window.
    let old = device.code(CodeInput::Login(Step(step - 2)));
    let (status, _) = web2
        .post(
            &format!("/api/v1/login/{}/code", login["login_id"].as_str().unwrap()),
            json!({"code": old}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
