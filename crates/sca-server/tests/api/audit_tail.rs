//! The audit log's newest rows cannot be cut off or rewritten unseen (issue 11 §7): the writer
//! signs the chain's head with the bank key in the same transaction, and `sca-server
//! audit-verify` checks the signatures and that no row is missing after, or comes after, the
//! newest checkpoint — also when the forger recomputed every hash.

use sca_server::audit::{chain_hash, entry_bytes};

use crate::support::*;

fn verify(server: &TestServer) -> (Option<i32>, String) {
    let out = audit_verify_command(server).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

async fn db(server: &TestServer) -> TestDb {
    test_db(server.state.config()).await
}

#[tokio::test]
async fn deleting_the_newest_rows_is_seen() {
    let server = TestServer::start().await;
    let c = server.admin_create("Coda Tagliata", "+393331119001").await;
    let _device = Device::activate(&server, &c).await;
    let (code, text) = verify(&server);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("signed checkpoints"), "{text}");
    let mut conn = db(&server).await;
    let newest: i64 = on_db!(&mut conn, |c| sqlx::query_scalar("SELECT max(seq) FROM audit")
        .fetch_one(c)
        .await)
    .unwrap();
    on_db!(&mut conn, |c| sqlx::query("DELETE FROM audit WHERE seq > $1")
        .bind(newest - 2)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
    .unwrap();
    let (code, text) = verify(&server);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("cut off or rewritten"), "{text}");
}

#[tokio::test]
async fn a_tail_rewritten_with_recomputed_hashes_is_seen() {
    let server = TestServer::start().await;
    let c = server.admin_create("Coda Riscritta", "+393331119002").await;
    let _device = Device::activate(&server, &c).await;
    let mut conn = db(&server).await;
    // A forger with the database but not the key rewrites the newest row and recomputes its
    // hash: the chain itself verifies again.
    let (seq, at, kind, customer, prev): (i64, i64, String, String, Vec<u8>) = on_db!(&mut conn, |c| sqlx::query_as(
        "SELECT seq, at, kind, customer, prev_hash FROM audit ORDER BY seq DESC LIMIT 1"
    )
    .fetch_one(c)
    .await)
    .unwrap();
    let prev: [u8; 32] = prev.try_into().unwrap();
    let hash = chain_hash(&prev, &entry_bytes(seq, at, &kind, &customer, "nothing happened"));
    on_db!(&mut conn, |c| sqlx::query(
        "UPDATE audit SET detail = 'nothing happened', hash = $1 WHERE seq = $2"
    )
    .bind(&hash[..])
    .bind(seq)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))
    .unwrap();
    assert!(
        server.state.store().verify_audit().await.unwrap().is_ok(),
        "the bare chain is fooled"
    );
    let (code, text) = verify(&server);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains(&format!("row {seq}")), "{text}");
    // Nor can the forger drop the checkpoints and leave rows unsigned.
    on_db!(&mut conn, |c| sqlx::query(
        "DELETE FROM audit_checkpoints WHERE seq >= $1"
    )
    .bind(seq)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))
    .unwrap();
    let (code, text) = verify(&server);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("after the newest signed checkpoint"), "{text}");
}

/// The chain is signed whole once, when it has no checkpoint yet; a database that lost every
/// checkpoint afterwards is not signed again at the next start (that would vouch for whatever
/// was rewritten meanwhile).
#[tokio::test]
async fn a_chain_that_lost_its_checkpoints_is_not_signed_again() {
    let server = TestServer::start().await;
    let c = server.admin_create("Ancora Persa", "+393331119003").await;
    let _device = Device::activate(&server, &c).await;
    let mut conn = db(&server).await;
    on_db!(&mut conn, |c| sqlx::query("DELETE FROM audit_checkpoints")
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
    .unwrap();
    let clock = std::sync::Arc::new(sca_server::ManualClock::new(server.clock.now_secs()));
    let again = sca_server::AppState::new(server.state.config().clone(), clock)
        .await
        .unwrap();
    drop(again);
    let (code, text) = verify(&server);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("after the newest signed checkpoint"), "{text}");
}
