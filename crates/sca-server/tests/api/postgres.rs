//! What only the PostgreSQL engine has to survive (run with `SCA_TEST_ENGINE=postgres`; on
//! SQLite these tests say so and pass).

use reqwest::StatusCode;

use crate::support::*;

/// Every connection of the server to its database is terminated by the database (a restart, a
/// failover, an operator's `pg_terminate_backend`): the next requests are served on new ones,
/// reads and writes alike, and nothing acknowledged before is lost.
#[tokio::test]
async fn connections_terminated_by_the_database_are_replaced() {
    postgres_only!();
    let server = TestServer::start().await;
    let c = server.admin_create("Connessione Persa", "+393331120001").await;
    let mut db = test_db(server.state.config()).await;
    let terminated: i64 = on_db!(&mut db, |c| sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()) t"
    )
    .fetch_one(c)
    .await)
    .unwrap();
    assert!(terminated >= 2, "the writer and at least one reader: {terminated}");
    // A write (a login writes its operation and session) and reads, on new connections.
    let (web, _) = server.sms_login(&c).await;
    assert_eq!(web.get("/api/v1/accounts").await.0, StatusCode::OK);
    let other = server.admin_create("Dopo Il Taglio", "+393331120002").await;
    assert_ne!(other.user_code, c.user_code);
}
