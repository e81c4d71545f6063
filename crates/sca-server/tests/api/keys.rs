//! Every instance of a deployment signs and seals with the same keys (issue 13): keys given as
//! files are read and never made, and an instance whose keys are not those the database's data
//! was made with refuses to start, naming the key — instead of signing payloads the devices
//! reject, or sealing secrets the other instances cannot open.

use std::sync::Arc;

use sca_server::{AppState, Config};

use crate::support::*;

async fn refused(config: Config, server: &TestServer) -> String {
    match AppState::new(config, server.clock.clone()).await {
        Ok(_) => panic!("an instance started with keys the data was not made with"),
        Err(e) => e.to_string(),
    }
}

/// The configuration of a second instance on `server`'s database, with its own data directory.
fn second_instance(server: &TestServer, data_dir: &std::path::Path, tune: impl FnOnce(&mut Config)) -> Config {
    let mut config = server.state.config().clone();
    config.database_url = Some(config.database_url());
    config.data_dir = data_dir.to_owned();
    tune(&mut config);
    config
}

#[tokio::test]
async fn an_instance_with_other_keys_refuses_the_database_and_one_given_the_same_keys_serves_it() {
    let server = TestServer::start().await;
    let c = server.admin_create("Chiave Condivisa", "+393337770031").await;
    let device = Device::activate(&server, &c).await;
    let first = server.dir.path().to_owned();
    let other = tempfile::tempdir().unwrap();

    // Keys of its own (made in its own data directory): refused, the bank key named first.
    let e = refused(second_instance(&server, other.path(), |_| {}), &server).await;
    assert!(e.contains("bank signing key") && e.contains("--bank-key-file"), "{e}");
    assert!(
        e.contains(&device.bank_pub.key_id().to_string()),
        "names the key of the data: {e}"
    );
    // The bank key given, the secrets key its own.
    let with_bank = |c: &mut Config| c.bank_key_file = Some(first.join("bank-key.p8"));
    let e = refused(second_instance(&server, other.path(), with_bank), &server).await;
    assert!(e.contains("secrets key") && e.contains("--secrets-key-file"), "{e}");
    // A given key file that is not there is named, and nothing is made in its place.
    let missing = other.path().join("no-such-key.p8");
    let e = refused(
        second_instance(&server, other.path(), |c| c.bank_key_file = Some(missing.clone())),
        &server,
    )
    .await;
    assert!(e.contains("no-such-key.p8") && e.contains("does not exist"), "{e}");
    assert!(!missing.exists());

    // Both keys given: it starts, signs with the key the device holds, and opens the device's
    // secrets (the device logs in through it with codes made from them).
    let shared = second_instance(&server, other.path(), |c| {
        c.bank_key_file = Some(first.join("bank-key.p8"));
        c.secrets_key_file = Some(first.join("secrets.key"));
    });
    let state = AppState::new(shared, server.clock.clone()).await.unwrap();
    assert_eq!(state.bank_public_key(), device.bank_pub);
    let second = Api::serve(state, server.clock.clone()).await;
    let web = second.web_login(&c, &device).await;
    assert_eq!(web.balance().await, "10000.00");
}

#[tokio::test]
async fn data_made_before_the_keys_were_recorded_is_tested_with_the_keys_given() {
    let server = TestServer::start().await;
    let c = server.admin_create("Dati Vecchi", "+393337770032").await;
    let device = Device::activate(&server, &c).await;
    let config = server.state.config().clone();
    // The database as a release before the record left it: the same data, no keys recorded.
    let mut conn = test_db(&config).await;
    on_db!(&mut conn, |c| sqlx::query("DELETE FROM keys_in_use")
        .execute(c)
        .await
        .map(|_| ()))
    .unwrap();
    drop(conn);

    // Another bank key does not verify the newest signed audit checkpoint.
    let other = tempfile::tempdir().unwrap();
    let e = refused(second_instance(&server, other.path(), |_| {}), &server).await;
    assert!(e.contains("bank signing key") && e.contains("audit checkpoint"), "{e}");
    // Another secrets key does not open the device's sealed secrets.
    let first = server.dir.path().to_owned();
    let e = refused(
        second_instance(&server, other.path(), |c| {
            c.bank_key_file = Some(first.join("bank-key.p8"))
        }),
        &server,
    )
    .await;
    assert!(e.contains("secrets key") && e.contains(&device.id), "{e}");

    // The right keys start, and are recorded again: another key is refused by the record now.
    let restarted = AppState::new(config.clone(), Arc::new(sca_server::ManualClock::new(now_unix())))
        .await
        .unwrap();
    drop(restarted);
    let mut conn = test_db(&config).await;
    let recorded: i64 = on_db!(&mut conn, |c| sqlx::query_scalar("SELECT count(*) FROM keys_in_use")
        .fetch_one(c)
        .await)
    .unwrap();
    assert_eq!(recorded, 2);
}

/// A removed device's secrets are wiped: they are not taken for data sealed with another key.
#[tokio::test]
async fn a_removed_devices_wiped_secrets_do_not_refuse_the_right_key() {
    let server = TestServer::start().await;
    let first = server.admin_create("Dispositivo Rimosso", "+393337770033").await;
    let removed = Device::activate(&server, &first).await;
    let second = server.admin_create("Dispositivo Attivo", "+393337770034").await;
    let _active = Device::activate(&server, &second).await;
    let config = server.state.config().clone();
    let mut conn = test_db(&config).await;
    on_db!(&mut conn, |c| sqlx::query("DELETE FROM keys_in_use")
        .execute(c)
        .await
        .map(|_| ()))
    .unwrap();
    on_db!(&mut conn, |c| sqlx::query(
        "UPDATE devices SET status = 'removed', secrets = $1 WHERE id = $2"
    )
    .bind(&[][..] as &[u8])
    .bind(&removed.id)
    .execute(c)
    .await
    .map(|_| ()))
    .unwrap();
    drop(conn);
    AppState::new(config, server.clock.clone()).await.unwrap();
}
