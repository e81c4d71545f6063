//! The vault on the real OS keyring: a Secret Service (gnome-keyring) on the session bus.
//! `make test` runs every test inside `scripts/with-keyring.sh` (dbus-run-session + an unlocked
//! gnome-keyring-daemon); without a Secret Service these tests fail, as they should.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers, not only #[test] fns

#[path = "flows/support.rs"]
mod support;

use authenticator::{KeyringStore, SecretStore, TimeCodeKind, Vault};
use support::*;

#[tokio::test]
async fn profiles_live_in_the_os_keyring_and_survive_a_restart() {
    let bank = Bank::start().await;
    let customer = bank.customer("Ugo Keyring").await;
    let dir = tempfile::tempdir().unwrap();
    let auth = bank.authenticator(
        Box::new(KeyringStore::secret_service().expect("a Secret Service")),
        dir.path(),
    );
    let profile = bank.activate(&auth, &customer).await;
    drop(auth);

    // A new process would open the same index and a new keyring connection.
    let auth = bank.authenticator(Box::new(KeyringStore::secret_service().unwrap()), dir.path());
    let again = auth.vault().profile(None).unwrap();
    assert_eq!(again, profile);
    let web = Web::login(&bank, &customer).await;
    let code = auth.time_code(&again, &pin(PIN), TimeCodeKind::Login).unwrap();
    assert_eq!(web.send_code(code.code.as_str()).await.0, 200);

    // The index on disk holds no secret: the keyring entry does, and only there.
    let store = KeyringStore::secret_service().unwrap();
    let secret = store.get(&profile.id).unwrap().expect("a keyring entry");
    let index = std::fs::read(dir.path().join("profiles.json")).unwrap();
    assert!(secret.len() > 65);
    assert!(
        !index.windows(32).any(|w| w == &secret[1..33]),
        "K_poss is not in the index"
    );
    let index_text = String::from_utf8(index).unwrap();
    assert!(!index_text.contains(&hex::encode(&secret[1..33])));

    auth.vault().remove(&profile.id).unwrap();
    assert!(
        store.get(&profile.id).unwrap().is_none(),
        "removing a profile removes its keyring entry"
    );
}

#[test]
fn a_fresh_entry_round_trips_and_deleting_twice_is_fine() {
    let store = KeyringStore::secret_service().expect("a Secret Service");
    let id = format!("test-{}", std::process::id());
    store.put(&id, b"\x01secret bytes \x00\xff").unwrap();
    assert_eq!(
        store.get(&id).unwrap().unwrap().as_slice(),
        b"\x01secret bytes \x00\xff"
    );
    store.delete(&id).unwrap();
    store.delete(&id).unwrap();
    assert!(store.get(&id).unwrap().is_none());
    let _ = Vault::open(tempfile::tempdir().unwrap().path(), Box::new(store)).unwrap();
}
