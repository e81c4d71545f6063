//! Nothing tells a customer from a non-customer (issue 11 §3): the same requests for a known and
//! an unknown user code get the same statuses, `code`s and `attempts_left`, and cost the same
//! number of argon2id evaluations — on login, activation and both recoveries.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

/// (status, code, attempts_left) of each answer, and the hashes they cost.
async fn answers(server: &TestServer, path: &str, bodies: &[Value]) -> (Vec<(StatusCode, Value, Value)>, u64) {
    let before = server.state.hashes_run();
    let mut seen = Vec::new();
    for body in bodies {
        let r = server.post_json(path, body).await;
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        seen.push((status, v["code"].clone(), v["attempts_left"].clone()));
    }
    (seen, server.state.hashes_run() - before)
}

#[tokio::test]
async fn known_and_unknown_users_get_the_same_answers_and_work() {
    let server = TestServer::start().await;
    let c = server.admin_create("Nota Cliente", "+393336660001").await;
    for (i, (path, field, wrong)) in [
        ("/api/v1/login", "password", "11111111"),
        ("/api/v1/activations", "password", "11111111"),
        ("/api/v1/recovery/unblock", "security_code", "ZZZZZZZZZZZZZZZZZZZZ"),
        ("/api/v1/recovery/password", "security_code", "ZZZZZZZZZZZZZZZZZZZZ"),
    ]
    .into_iter()
    .enumerate()
    {
        // An 8-digit user code no customer has, a fresh one per path (the counts of a name
        // that is no customer's are kept like a customer's).
        let unknown = format!("9999999{i}");
        assert_ne!(unknown, c.user_code);
        let bodies = |user: &str| -> Vec<Value> { (0..7).map(|_| json!({"user": user, field: wrong})).collect() };
        let (known, known_work) = answers(&server, path, &bodies(&c.user_code)).await;
        let (other, other_work) = answers(&server, path, &bodies(&unknown)).await;
        assert_eq!(known, other, "{path}");
        assert_eq!(known_work, other_work, "{path}: hashes");
        assert_eq!(known_work, 5, "{path}: the two answers refused as blocked cost no hash");
        assert_eq!(known[5].0, StatusCode::LOCKED, "{path}");
        // Unblock the known customer for the next path (the password and the security code
        // are both blocked by now on some paths).
        assert_eq!(server.admin_unblock(&c.user_code).await, StatusCode::NO_CONTENT);
    }
}
