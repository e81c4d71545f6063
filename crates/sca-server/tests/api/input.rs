//! Bad input never gets a 500: malformed JSON, wrong types, missing fields, oversized bodies,
//! unknown routes → 4xx problem documents naming the field. Also the OpenAPI document and the
//! audit chain (branch API and the `audit-verify` command).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

async fn raw(
    server: &TestServer,
    web: Option<&Web>,
    method: reqwest::Method,
    path: &str,
    body: &'static [u8],
    ct: &str,
) -> (StatusCode, Value, String) {
    let mut req = match web {
        Some(w) => w.request(method, path),
        None => server.http.request(method, server.url(path)),
    };
    if !ct.is_empty() {
        req = req.header("content-type", ct);
    }
    let r = req.body(body).send().await.unwrap();
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, r.json().await.unwrap_or(Value::Null), ct)
}

#[tokio::test]
async fn malformed_input_is_a_4xx_naming_the_field() {
    let server = TestServer::start().await;
    let c = server.admin_create("Olga Orsi", "+393335550001").await;
    let device = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &device).await;
    let cases: Vec<(&str, &'static [u8], u16, &str)> = vec![
        ("/api/v1/login", b"{not json", 400, "body"),
        ("/api/v1/login", b"", 400, "body"),
        ("/api/v1/login", b"[]", 400, "body"),
        (
            "/api/v1/login",
            b"{\"user\": 12345678, \"password\": \"x\"}",
            400,
            "user",
        ),
        ("/api/v1/login", b"{\"user\": \"12345678\"}", 400, "password"),
        (
            "/api/v1/login",
            b"{\"user\": \"1\", \"password\": \"x\", \"extra\": 1}",
            400,
            "extra",
        ),
        (
            "/api/v1/login",
            b"{\"user\": \"1\", \"password\": \"x\"} trailing",
            400,
            "body",
        ),
        (
            "/api/v1/activations",
            b"{\"user\": null, \"password\": \"x\"}",
            400,
            "user",
        ),
        (
            "/api/v1/activations/AAAAAAAAAAAAAAAAAAAAAA",
            b"{\"device_pub\": \"x\", \"ecdh_pub\": \"y\", \"name\": \"n\"}",
            400,
            "device_pub",
        ),
        (
            "/api/v1/activations/short/confirm",
            b"{\"confirm\": \"00\"}",
            400,
            "activation_id",
        ),
        ("/api/v1/recovery/user-code", b"{\"phone\": \"abc\"}", 400, "phone"),
        (
            "/api/v1/recovery/unblock",
            b"{\"user\": \"x\", \"security_code\": \"short\"}",
            400,
            "security_code",
        ),
    ];
    for (path, body, status, field) in cases {
        let (got, problem, ct) = raw(&server, None, reqwest::Method::POST, path, body, "application/json").await;
        assert_eq!(
            got.as_u16(),
            status,
            "{path} {}: {problem}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(ct, "application/problem+json");
        assert_eq!(problem["field"], field, "{path}: {problem}");
        assert_eq!(problem["status"], status);
    }
    // In a session: wrong types and bad values in banking calls.
    let authed: Vec<(&str, &'static [u8], u16, &str)> = vec![
        (
            "/api/v1/transfers",
            b"{\"payee_name\": \"x\", \"payee_iban\": \"x\", \"amount\": 12.5, \"currency\": \"EUR\"}",
            400,
            "amount",
        ),
        ("/api/v1/transfers", b"{\"payee_name\": \"x\"}", 400, "payee_iban"),
        (
            "/api/v1/operations/12345678/authorize",
            b"{\"code\": \"123456\"}",
            400,
            "op_id",
        ),
        (
            "/api/v1/operations/57240000/authorize",
            b"{\"code\": 123456}",
            400,
            "code",
        ),
        (
            "/api/v1/operations/57240000/authorize",
            b"{\"code\": \"12345\"}",
            400,
            "code",
        ),
        (
            "/api/v1/operations/57240000/authorize",
            b"{\"code\": \"123456\"}",
            404,
            "",
        ),
    ];
    for (path, body, status, field) in authed {
        let (got, problem, _) = raw(
            &server,
            Some(&web),
            reqwest::Method::POST,
            path,
            body,
            "application/json",
        )
        .await;
        assert_eq!(got.as_u16(), status, "{path}: {problem}");
        if !field.is_empty() {
            assert_eq!(problem["field"], field, "{path}: {problem}");
        }
    }
    // Oversized body: 413, named.
    let big = json!({"user": "x".repeat(20_000), "password": "1"}).to_string();
    let r = server
        .http
        .post(server.url("/api/v1/login"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["field"], "body");
    // Not JSON at all.
    let (got, problem, _) = raw(
        &server,
        None,
        reqwest::Method::POST,
        "/api/v1/login",
        b"user=1",
        "application/x-www-form-urlencoded",
    )
    .await;
    assert_eq!(got, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{problem}");
    // Unknown routes and methods: problem documents too.
    let (got, problem, ct) = raw(&server, None, reqwest::Method::GET, "/api/v1/nothing", b"", "").await;
    assert_eq!((got, ct.as_str()), (StatusCode::NOT_FOUND, "application/problem+json"));
    assert_eq!(problem["code"], "not_found");
    let (got, _, ct) = raw(&server, None, reqwest::Method::DELETE, "/api/v1/login", b"", "").await;
    assert_eq!(
        (got, ct.as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, "application/problem+json")
    );
    // Branch: bad query values.
    let r = server
        .http
        .get(server.url("/api/v1/admin/audit?after=-1"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = server
        .http
        .post(server.url("/api/v1/admin/customers"))
        .bearer_auth(ADMIN)
        .json(&json!({"name": "A", "phone": "+391", "email": "a@b.it"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["field"], "phone");
}

#[tokio::test]
async fn openapi_describes_every_route() {
    let server = TestServer::start().await;
    let doc: Value = server.get_anon("/api/openapi.json").await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for (method, path) in sca_server::api::ROUTES {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is not in the OpenAPI document"
        );
    }
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(documented, sca_server::api::ROUTES.len());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    let health: Value = server.get_anon("/api/v1/health").await.json().await.unwrap();
    assert_eq!(health, json!({"status": "ok", "durable": true}));
}

#[tokio::test]
async fn audit_chain_is_readable_and_verifiable_and_tampering_is_found() {
    let server = TestServer::start().await;
    let c = server.admin_create("Pia Pini", "+393335550002").await;
    let device = Device::activate(&server, &c).await;
    let _web = server.web_login(&c, &device).await;
    let r = server
        .http
        .get(server.url("/api/v1/admin/audit?after=0"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let entries: Vec<Value> = r.json().await.unwrap();
    assert!(entries.len() >= 5);
    let kinds: Vec<&str> = entries.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for k in [
        "customer_created",
        "device_activated",
        "login_password_ok",
        "operation_approved",
    ] {
        assert!(kinds.contains(&k), "{k} not in {kinds:?}");
    }
    for pair in entries.windows(2) {
        assert_eq!(pair[1]["prev_hash"], pair[0]["hash"]);
        assert_eq!(pair[1]["seq"].as_i64().unwrap(), pair[0]["seq"].as_i64().unwrap() + 1);
    }
    let r = server
        .http
        .get(server.url("/api/v1/admin/audit?after=3"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    let after: Vec<Value> = r.json().await.unwrap();
    assert_eq!(after[0]["seq"], 4);
    // The command verifies the chain of the data directory.
    let out = audit_verify_command(&server).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("OK"));
    // Change one detail behind the server's back: the command finds the row.
    let mut conn = test_db(server.state.config()).await;
    on_db!(&mut conn, |c| sqlx::query(
        "UPDATE audit SET detail = 'nothing happened' WHERE seq = 3"
    )
    .execute(c)
    .await
    .map(|r| r.rows_affected()))
    .unwrap();
    let out = audit_verify_command(&server).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("row 3"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every route, every method it has, with bodies of every wrong shape, signed in or not: never a
/// 5xx.
#[tokio::test]
async fn no_route_answers_5xx_to_garbage() {
    let server = TestServer::start().await;
    let c = server.admin_create("Quinto Quaglia", "+393335550003").await;
    let device = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &device).await;
    let bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"{".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"{}".to_vec(),
        b"\"x\"".to_vec(),
        b"{\"code\": [], \"user\": {}, \"password\": 1, \"amount\": true, \"name\": null}".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x80],
        format!("{{\"name\": \"{}\"}}", "\u{202e}".repeat(2000)).into_bytes(),
    ];
    for (method, path) in sca_server::api::ROUTES {
        if path.ends_with("/events") {
            continue;
        }
        let path = path
            .replace("{user_code}", &c.user_code)
            .replace("{login_id}", "bm90LWEtbG9naW4")
            .replace("{op_id}", "57240000")
            .replace("{device_id}", &device.id)
            .replace("{activation_id}", "AAAAAAAAAAAAAAAAAAAAAA")
            .replace("{iban}", "IT60X0542811101000000123456")
            .replace("{recovery_id}", "nope");
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        for body in &bodies {
            for signed_in in [false, true] {
                // Ending the session or removing the device would leave the rest untested.
                if signed_in && (path == "/api/v1/logout" || method == reqwest::Method::DELETE) {
                    continue;
                }
                let mut req = if signed_in {
                    web.request(method.clone(), &path)
                } else {
                    server.http.request(method.clone(), server.url(&path))
                };
                if signed_in && path.starts_with("/api/v1/devices/") {
                    req = req.header(
                        "authorization",
                        device.authorization(method.as_str(), &path, server.clock.now_secs(), body),
                    );
                } else if signed_in && path.starts_with("/api/v1/admin/") {
                    req = req.bearer_auth(ADMIN);
                }
                let r = req
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                assert!(
                    !status.is_server_error(),
                    "{method} {path} with {:?} → {status}: {text}",
                    String::from_utf8_lossy(body)
                );
            }
        }
    }
}

/// A request that outlives the server's limit answers 408 with a problem document that says 408
/// too (`timeout`), not a 429 in disguise.
#[tokio::test]
async fn a_request_over_the_time_limit_is_a_408_problem() {
    let server = TestServer::start_with(|c| {
        c.request_timeout = std::time::Duration::from_millis(1);
        // A login hashes the password: far longer than a millisecond with these settings.
        c.argon2_memory_kib = 64 * 1024;
        c.argon2_iterations = 3;
    })
    .await;
    let r = server
        .post_json("/api/v1/login", &json!({"user": "12345674", "password": "12345678"}))
        .await;
    assert_eq!(r.status(), StatusCode::REQUEST_TIMEOUT);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/problem+json")
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["status"].as_u64(), body["code"].as_str()),
        (Some(408), Some("timeout")),
        "{body}"
    );
}

/// An alias is unique ignoring case, at the branch and in Area Clienti; the conflict is named
/// (409, `alias`), a drawn user code that collides is drawn again, and a customer may set the
/// alias they already have.
#[tokio::test]
async fn a_taken_alias_is_a_409_naming_it_and_ones_own_alias_is_not_taken() {
    let server = TestServer::start().await;
    let create = |alias: &'static str, phone: &'static str| {
        server
            .http
            .post(server.url("/api/v1/admin/customers"))
            .bearer_auth(ADMIN)
            .json(&json!({"name": "Alias Unico", "phone": phone, "email": "alias@example.invalid", "alias": alias}))
            .send()
    };
    assert_eq!(
        create("mario.b", "+393331234501").await.unwrap().status(),
        StatusCode::CREATED
    );
    let r = create("MARIO.B", "+393331234502").await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["field"], "alias", "{body}");

    let c = server.admin_create("Altro Alias", "+393331234503").await;
    let (web, _) = server.sms_login(&c).await;
    let set = |alias: &'static str| {
        web.request(reqwest::Method::PUT, "/api/v1/alias")
            .json(&json!({ "alias": alias }))
            .send()
    };
    assert_eq!(set("Mario.B").await.unwrap().status(), StatusCode::CONFLICT);
    assert_eq!(set("giulia.b").await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(
        set("GIULIA.B").await.unwrap().status(),
        StatusCode::NO_CONTENT,
        "one's own alias"
    );
}
