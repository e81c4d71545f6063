//! A bank's existing database keeps every row across a migration that makes its tables anew
//! (0006 and 0007, the closed sets of states and kinds; 0012 and 0016, wider kinds), and comes out
//! with the constraints and triggers in force: the upgrade, not only a fresh start.

use std::sync::Arc;

use sca_server::{AppState, Config, ManualClock};
use sqlx::Connection as _;

use crate::support::now_unix;

#[tokio::test]
async fn the_closed_sets_migration_keeps_every_row_of_an_existing_bank() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("sca.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut conn)
        .await
        .unwrap();
    // The database as the previous release left it: migrations 1 to 5, with rows in every table
    // that 0006 and 0007 make anew, and a movement that points at an operation.
    let mut previous = sqlx::migrate!("./migrations");
    previous.migrations = previous
        .migrations
        .iter()
        .filter(|m| m.version < 6)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    previous.run(&mut conn).await.unwrap();
    // The device's secrets sealed with the bank's secrets key, as that release did: the server
    // checks the key it is given against them (no key is recorded in data this old).
    let key = [0x5a; 32];
    std::fs::write(dir.path().join("secrets.key"), key).unwrap();
    let sealed = sca_server::crypto::SecretBox::new(&key)
        .unwrap()
        .seal("dev1", &[7; 64])
        .unwrap();
    for sql in [
        "INSERT INTO customers (id, user_code, name, phone, email, password_hash, security_code_hash, created_at) \
         VALUES (1, '12345674', 'Rosa Vecchi', '+393330000099', 'rosa@example.invalid', 'x', 'y', 0)",
        "INSERT INTO accounts (id, customer_id, iban, name, balance_minor, currency, created_at) \
         VALUES (1, 1, 'IT60X0542811101000000123456', 'Conto', 1000, 'EUR', 0)",
        "INSERT INTO operations (id, customer_id, op_id, kind, payload, status, expires_at, created_at, decided_by) \
         VALUES (7, 1, '11111111', 'TRANSFER', 'p', 'approved', 0, 0, 'sms')",
        "INSERT INTO operations (id, customer_id, op_id, kind, payload, status, expires_at, created_at, decided_by) \
         VALUES (8, 1, '22222222', 'LOGIN', 'p', 'approved', 0, 0, 'device:abc')",
        "INSERT INTO operations (id, customer_id, op_id, kind, payload, status, expires_at, created_at) \
         VALUES (9, 1, '33333333', 'DEVICE', 'p', 'pending', 0, 0)",
        "INSERT INTO movements (account_id, at, amount_minor, counterparty, description, operation_id) \
         VALUES (1, 0, -5, 'Anna', 'Cena', 7)",
        "INSERT INTO credential_failures (customer_id, credential, failures, pending) VALUES (1, 'code', 2, 0)",
        "INSERT INTO otps (id, customer_id, purpose, ref, hash, expires_at, created_at) \
         VALUES ('otp1', 1, 'password_change', 'r', x'00', 0, 0)",
        "INSERT INTO activations (id, customer_id, source, operation_id, status, expires_at, created_at) \
         VALUES ('act1', 1, 'device', 9, 'awaiting_keys', 0, 0)",
        format!(
            "INSERT INTO devices (id, customer_id, name, public_key, secrets, status, created_at) \
             VALUES ('dev1', 1, 'Portatile', x'04', x'{}', 'active', 0)",
            hex::encode(&sealed)
        )
        .as_str(),
    ] {
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();

    // The server opens it and brings it up to date.
    let mut config = Config::new(dir.path());
    config.argon2_memory_kib = 1024;
    config.argon2_iterations = 1;
    let state = AppState::new(config, Arc::new(ManualClock::new(now_unix())))
        .await
        .unwrap();

    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let ops: Vec<(i64, String, Option<String>)> =
        sqlx::query_as("SELECT id, status, approved_with FROM operations ORDER BY id")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        ops,
        vec![
            (7, "approved".into(), Some("sms_otp".into())),
            (8, "approved".into(), Some("code".into())),
            (9, "pending".into(), None),
        ]
    );
    for (table, rows) in [
        ("movements", 1),
        ("credential_failures", 1),
        ("otps", 1),
        ("activations", 1),
        ("devices", 1),
    ] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(n, rows, "{table}");
    }
    let broken: Vec<(String,)> = sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert!(broken.is_empty(), "{broken:?}");
    // The closed sets are in force.
    for bad in [
        "UPDATE operations SET status = 'done' WHERE id = 9",
        "UPDATE operations SET kind = 'PAYMENT' WHERE id = 9",
        "UPDATE operations SET status = 'approved' WHERE id = 9",
        "UPDATE activations SET status = 'ok' WHERE id = 'act1'",
        "UPDATE credential_failures SET credential = 'pin' WHERE customer_id = 1",
        "UPDATE otps SET purpose = 'other' WHERE id = 'otp1'",
        "UPDATE devices SET status = 'lost' WHERE id = 'dev1'",
    ] {
        let err = sqlx::query(bad).execute(&mut conn).await.unwrap_err();
        assert!(
            matches!(&err, sqlx::Error::Database(d) if d.is_check_violation()),
            "{bad}: {err}"
        );
    }
    // 0016 made the operations table anew for PAGOPA: the kind is taken, and every approval
    // trigger is there again.
    sqlx::query("UPDATE operations SET kind = 'PAGOPA' WHERE id = 9")
        .execute(&mut conn)
        .await
        .unwrap();
    let triggers: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'operations' ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        triggers.into_iter().map(|t| t.0).collect::<Vec<_>>(),
        [
            "card_payment_approved",
            "card_request_approved",
            "operation_approved_books_transfer",
            "operation_approved_resets_failures",
            "pagopa_approved"
        ]
    );
    drop(state);
}
