//! The vault: the customer's profiles ("utenze") on this computer.
//!
//! Two halves. The **index** (`profiles.json` in the data folder, owner-only) holds what is not
//! secret: names, server, device id, the bank's public key, the PIN salt and iteration count.
//! The **secrets** of each profile (`K_poss`, the PIN-wrapped `W`, the device's private key) are one
//! entry in a [`SecretStore`]: the OS keyring (Secret Service) normally, process memory in kiosk
//! mode, where the index is kept in memory too and nothing touches the disk.
//!
//! Nothing stored tells a right PIN from a wrong one (docs/spec/sca1.md §4): [`Vault::unlock`] returns
//! keys for any well-formed PIN, and only the server, checking a code, knows if they were right.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use ring::rand::{SecureRandom, SystemRandom};
use sca_protocol::{
    Iterations, KnowledgeKey, Pin, PinSalt, PossessionKey, PublicKey, SigningKey, WrappedKnowledgeKey,
    unwrap_knowledge_key, wrap_knowledge_key,
};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Where profile secrets live.
pub trait SecretStore: Send + Sync + fmt::Debug {
    /// Stores (or replaces) the secret of `profile`.
    fn put(&self, profile: &str, secret: &[u8]) -> Result<()>;
    /// The secret of `profile`; `Ok(None)` if there is none.
    fn get(&self, profile: &str) -> Result<Option<Zeroizing<Vec<u8>>>>;
    /// Deletes it; deleting a missing secret is not an error.
    fn delete(&self, profile: &str) -> Result<()>;
}

/// The OS keyring through `keyring-core`: Secret Service (gnome-keyring, KWallet) on Linux.
pub struct KeyringStore {
    store: Arc<keyring_core::CredentialStore>,
    service: String,
}

impl KeyringStore {
    /// The keyring service name under which Sigillo keeps its entries.
    pub const SERVICE: &'static str = "it.sigillo.authenticator";

    /// Connects to the Secret Service on the session bus.
    pub fn secret_service() -> Result<Self> {
        let store = zbus_secret_service_keyring_store::Store::new().map_err(|e| Error::Keyring(e.to_string()))?;
        Ok(Self {
            store,
            service: Self::SERVICE.to_owned(),
        })
    }

    /// Any `keyring-core` store, under another service name (tests use their own).
    pub fn with_store(store: Arc<keyring_core::CredentialStore>, service: &str) -> Self {
        Self {
            store,
            service: service.to_owned(),
        }
    }

    fn entry(&self, profile: &str) -> Result<keyring_core::Entry> {
        self.store
            .build(&self.service, profile, None)
            .map_err(|e| Error::Keyring(e.to_string()))
    }
}

impl fmt::Debug for KeyringStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyringStore({}, {})", self.store.vendor(), self.service)
    }
}

impl SecretStore for KeyringStore {
    fn put(&self, profile: &str, secret: &[u8]) -> Result<()> {
        self.entry(profile)?
            .set_secret(secret)
            .map_err(|e| Error::Keyring(e.to_string()))
    }

    fn get(&self, profile: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        match self.entry(profile)?.get_secret() {
            Ok(secret) => Ok(Some(Zeroizing::new(secret))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(Error::Keyring(e.to_string())),
        }
    }

    fn delete(&self, profile: &str) -> Result<()> {
        match self.entry(profile)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(Error::Keyring(e.to_string())),
        }
    }
}

/// Secrets in process memory only (kiosk mode): gone, zeroized, when the process ends.
#[derive(Default)]
pub struct MemoryStore {
    secrets: Mutex<HashMap<String, Zeroizing<Vec<u8>>>>,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MemoryStore(..)")
    }
}

impl MemoryStore {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Zeroizing<Vec<u8>>>> {
        self.secrets.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl SecretStore for MemoryStore {
    fn put(&self, profile: &str, secret: &[u8]) -> Result<()> {
        self.lock().insert(profile.to_owned(), Zeroizing::new(secret.to_vec()));
        Ok(())
    }

    fn get(&self, profile: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        Ok(self.lock().get(profile).cloned())
    }

    fn delete(&self, profile: &str) -> Result<()> {
        self.lock().remove(profile);
        Ok(())
    }
}

/// One activated device profile: what is not secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Local id (16 hex characters), also the keyring entry's user name.
    pub id: String,
    /// How the customer logs in (user code or alias), to tell profiles apart.
    pub user: String,
    /// The name this device was given at activation.
    pub device_name: String,
    /// The bank's server, e.g. `https://bank.example` (no trailing slash).
    pub server_url: String,
    /// The device id the server assigned.
    pub device_id: String,
    /// The bank's public key, b64u: every payload must be signed by it.
    pub bank_pub: String,
    /// `salt_pin`, hex.
    pub pin_salt: String,
    /// PBKDF2 iterations.
    pub iterations: u32,
    /// The main profile ("utenza principale").
    pub main: bool,
    /// Unix seconds.
    pub created_at: u64,
}

impl Profile {
    /// The bank key this profile trusts.
    pub fn bank_key(&self) -> Result<PublicKey> {
        PublicKey::from_b64u(&self.bank_pub).map_err(|e| Error::BadAnswer(format!("stored bank key: {e}")))
    }

    fn salt(&self) -> Result<PinSalt> {
        let mut salt = [0u8; 16];
        hex::decode_to_slice(&self.pin_salt, &mut salt)
            .map_err(|_| Error::storage("read", Path::new("profiles.json"), "bad pin_salt"))?;
        Ok(PinSalt(salt))
    }

    fn iterations(&self) -> Result<Iterations> {
        Iterations::new(u64::from(self.iterations)).map_err(|e| Error::storage("read", Path::new("profiles.json"), e))
    }
}

/// The secrets of a new profile, before the PIN wraps `K_know` (what activation hands over).
pub use sca_client::NewSecrets;

/// The keys a PIN unlocks. With a wrong PIN, `knowledge` is simply wrong.
#[derive(Debug)]
pub struct UnlockedKeys {
    /// `K_poss`.
    pub possession: PossessionKey,
    /// `K_know'` = W XOR PBKDF2(PIN).
    pub knowledge: KnowledgeKey,
}

/// Stored secret layout: version 1, `K_poss` (32), `W` (32), the device key's PKCS#8.
struct StoredSecrets {
    possession: PossessionKey,
    wrapped: WrappedKnowledgeKey,
    device_pkcs8: Zeroizing<Vec<u8>>,
}

impl StoredSecrets {
    const VERSION: u8 = 1;

    fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(65 + self.device_pkcs8.len()));
        out.push(Self::VERSION);
        out.extend_from_slice(self.possession.expose_secret());
        out.extend_from_slice(self.wrapped.expose_secret());
        out.extend_from_slice(&self.device_pkcs8);
        out
    }

    fn decode(profile: &str, bytes: &[u8]) -> Result<Self> {
        let bad = || Error::Keyring(format!("the keyring entry of profile {profile} is damaged"));
        if bytes.len() < 65 + 32 || bytes[0] != Self::VERSION {
            return Err(bad());
        }
        let mut possession = [0u8; 32];
        let mut wrapped = [0u8; 32];
        possession.copy_from_slice(&bytes[1..33]);
        wrapped.copy_from_slice(&bytes[33..65]);
        Ok(Self {
            possession: PossessionKey::from_bytes(possession),
            wrapped: WrappedKnowledgeKey::from_bytes(wrapped),
            device_pkcs8: Zeroizing::new(bytes[65..].to_vec()),
        })
    }
}

#[derive(Default, Serialize, Deserialize)]
struct Index {
    version: u32,
    profiles: Vec<Profile>,
}

/// The customer's profiles and their secrets.
#[derive(Debug)]
pub struct Vault {
    dir: Option<PathBuf>,
    index: Mutex<Vec<Profile>>,
    secrets: Box<dyn SecretStore>,
    rng: SystemRandom,
}

const INDEX_FILE: &str = "profiles.json";
/// Locked while a process changes the index.
const LOCK_FILE: &str = "profiles.lock";

/// The profiles of the index in `dir`; none when there is no index yet.
fn read_index(dir: &Path) -> Result<Vec<Profile>> {
    let path = dir.join(INDEX_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => {
            let index: Index = serde_json::from_slice(&bytes).map_err(|e| Error::storage("read", &path, e))?;
            Ok(index.profiles)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::storage("read", &path, e)),
    }
}

/// The index held for a change (see [`Vault::begin_change`]); dropping it releases both locks.
struct Change<'a> {
    profiles: MutexGuard<'a, Vec<Profile>>,
    _file: Option<std::fs::File>,
}

impl std::ops::Deref for Change<'_> {
    type Target = Vec<Profile>;
    fn deref(&self) -> &Vec<Profile> {
        &self.profiles
    }
}

impl std::ops::DerefMut for Change<'_> {
    fn deref_mut(&mut self) -> &mut Vec<Profile> {
        &mut self.profiles
    }
}

/// The vault's folder when none is given: `$XDG_DATA_HOME/sigillo`, or
/// `$HOME/.local/share/sigillo`. The same for `sigillo-auth` and the desktop app, which may run
/// at once: changes to the index are locked ([`Vault`]).
pub fn default_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .map(|d| d.join("sigillo"))
}

impl Vault {
    /// Opens (or creates) the vault whose index is in `dir`, secrets in `secrets`.
    pub fn open(dir: &Path, secrets: Box<dyn SecretStore>) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::storage("create", dir, e))?;
        let profiles = read_index(dir)?;
        Ok(Self {
            dir: Some(dir.to_owned()),
            index: Mutex::new(profiles),
            secrets,
            rng: SystemRandom::new(),
        })
    }

    /// A vault that never touches the disk: index and secrets in memory (kiosk mode).
    pub fn in_memory() -> Self {
        Self {
            dir: None,
            index: Mutex::new(Vec::new()),
            secrets: Box::new(MemoryStore::default()),
            rng: SystemRandom::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Profile>> {
        self.index.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The index as it is on disk now: another process (the desktop app, `sigillo-auth`) may
    /// have changed it since this one read it. The file is replaced by a rename, so a reader
    /// never sees half of it. If it cannot be read, the last index read stands.
    fn fresh(&self) -> MutexGuard<'_, Vec<Profile>> {
        let mut profiles = self.lock();
        if let Some(dir) = &self.dir {
            match read_index(dir) {
                Ok(now) => *profiles = now,
                Err(e) => tracing::warn!(error = %e, "the profile index cannot be read again; using the last one read"),
            }
        }
        profiles
    }

    /// The index for a change: this process's lock, then the folder's lock (`profiles.lock`,
    /// held by one process at a time until the returned guard is dropped), then the index read
    /// again under it — so two processes sharing the folder never write over each other's change.
    fn begin_change(&self) -> Result<Change<'_>> {
        let mut profiles = self.lock();
        let Some(dir) = &self.dir else {
            return Ok(Change { profiles, _file: None });
        };
        let path = dir.join(LOCK_FILE);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&path).map_err(|e| Error::storage("open", &path, e))?;
        file.lock().map_err(|e| Error::storage("lock", &path, e))?;
        *profiles = read_index(dir)?;
        Ok(Change {
            profiles,
            _file: Some(file),
        })
    }

    /// Writes the index atomically (temporary file, fsync, rename), owner-only.
    fn save(&self, profiles: &[Profile]) -> Result<()> {
        let Some(dir) = &self.dir else { return Ok(()) };
        let path = dir.join(INDEX_FILE);
        let tmp = dir.join(format!("{INDEX_FILE}.tmp"));
        let bytes = serde_json::to_vec_pretty(&Index {
            version: 1,
            profiles: profiles.to_vec(),
        })
        .map_err(|e| Error::storage("write", &path, e))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut file = options.open(&tmp)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            std::fs::File::open(dir)?.sync_all()
        };
        write().map_err(|e| Error::storage("write", &path, e))
    }

    /// Every profile, the main one first.
    pub fn profiles(&self) -> Vec<Profile> {
        let mut profiles = self.fresh().clone();
        profiles.sort_by_key(|p| (!p.main, p.created_at));
        profiles
    }

    /// A profile by id; `None` or `"main"` means the main profile.
    pub fn profile(&self, id: Option<&str>) -> Result<Profile> {
        let profiles = self.fresh();
        let found = match id {
            None | Some("main") => profiles.iter().find(|p| p.main).or(profiles.first()),
            Some(id) => profiles.iter().find(|p| p.id == id || p.user == id),
        };
        found
            .cloned()
            .ok_or_else(|| Error::NoProfile(id.unwrap_or("main").to_owned()))
    }

    /// Adds a profile: wraps `K_know` with the PIN, stores the secrets, then the index. The first
    /// profile becomes the main one.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &self,
        user: &str,
        device_name: &str,
        server_url: &str,
        device_id: &str,
        bank_pub: &PublicKey,
        secrets: NewSecrets,
        pin: &Pin,
        now: u64,
    ) -> Result<Profile> {
        let mut id_bytes = [0u8; 8];
        self.rng
            .fill(&mut id_bytes)
            .map_err(|_| Error::Keyring("no randomness".into()))?;
        let salt = PinSalt::random(&self.rng).map_err(|_| Error::Keyring("no randomness".into()))?;
        let iterations = Iterations::DEFAULT;
        let wrapped = wrap_knowledge_key(&secrets.knowledge, pin, &salt, iterations);
        let stored = StoredSecrets {
            possession: secrets.possession,
            wrapped,
            device_pkcs8: Zeroizing::new(secrets.device_key.pkcs8().to_vec()),
        };
        let mut profiles = self.begin_change()?;
        let profile = Profile {
            id: hex::encode(id_bytes),
            user: user.to_owned(),
            device_name: device_name.to_owned(),
            server_url: server_url.trim_end_matches('/').to_owned(),
            device_id: device_id.to_owned(),
            bank_pub: bank_pub.to_b64u(),
            pin_salt: hex::encode(salt.0),
            iterations: iterations.get(),
            main: profiles.is_empty(),
            created_at: now,
        };
        self.secrets.put(&profile.id, &stored.encode())?;
        profiles.push(profile.clone());
        if let Err(e) = self.save(&profiles) {
            profiles.pop();
            let _ = self.secrets.delete(&profile.id);
            return Err(e);
        }
        Ok(profile)
    }

    fn stored(&self, profile: &Profile) -> Result<StoredSecrets> {
        let bytes = self
            .secrets
            .get(&profile.id)?
            .ok_or_else(|| Error::SecretsMissing(profile.id.clone()))?;
        StoredSecrets::decode(&profile.id, &bytes)
    }

    /// `K_poss` and `K_know'` for `pin`. Never fails for a wrong PIN: the keys are just wrong.
    pub fn unlock(&self, profile: &Profile, pin: &Pin) -> Result<UnlockedKeys> {
        let stored = self.stored(profile)?;
        let knowledge = unwrap_knowledge_key(&stored.wrapped, pin, &profile.salt()?, profile.iterations()?);
        Ok(UnlockedKeys {
            possession: stored.possession.clone(),
            knowledge,
        })
    }

    /// The device's signing key (no PIN: it signs requests and rejections).
    pub fn device_key(&self, profile: &Profile) -> Result<SigningKey> {
        let stored = self.stored(profile)?;
        SigningKey::from_pkcs8(&stored.device_pkcs8, &self.rng)
            .map_err(|e| Error::Keyring(format!("the device key of profile {} is damaged: {e}", profile.id)))
    }

    /// Re-wraps `K_know` under a new PIN, with a new salt. Call only after the server accepted a code
    /// made with `old` (docs/spec/sca1.md §4): otherwise a mistyped old PIN would lock the profile for ever.
    pub fn rewrap(&self, profile: &Profile, old: &Pin, new: &Pin) -> Result<()> {
        let keys = self.unlock(profile, old)?;
        let stored = self.stored(profile)?;
        let salt = PinSalt::random(&self.rng).map_err(|_| Error::Keyring("no randomness".into()))?;
        let iterations = Iterations::DEFAULT;
        let rewrapped = StoredSecrets {
            possession: stored.possession,
            wrapped: wrap_knowledge_key(&keys.knowledge, new, &salt, iterations),
            device_pkcs8: stored.device_pkcs8,
        };
        let mut profiles = self.begin_change()?;
        let mut updated = profiles.clone();
        let entry = updated
            .iter_mut()
            .find(|p| p.id == profile.id)
            .ok_or_else(|| Error::NoProfile(profile.id.clone()))?;
        // The keys above were unwrapped with the salt the caller read; if another process changed
        // the PIN since, they are wrong, and wrapping them would lose the profile.
        if entry.pin_salt != profile.pin_salt {
            return Err(Error::input(
                "old_pin",
                "the PIN of this profile was changed meanwhile (in another window or program); try again",
            ));
        }
        entry.pin_salt = hex::encode(salt.0);
        entry.iterations = iterations.get();
        // Secret first: if the index write then fails, restore the old secret.
        let old_secret = self.stored(profile)?.encode();
        self.secrets.put(&profile.id, &rewrapped.encode())?;
        if let Err(e) = self.save(&updated) {
            let _ = self.secrets.put(&profile.id, &old_secret);
            return Err(e);
        }
        *profiles = updated;
        Ok(())
    }

    /// Makes `id` the main profile.
    pub fn set_main(&self, id: &str) -> Result<()> {
        let mut profiles = self.begin_change()?;
        if !profiles.iter().any(|p| p.id == id) {
            return Err(Error::NoProfile(id.to_owned()));
        }
        let updated: Vec<Profile> = profiles
            .iter()
            .cloned()
            .map(|mut p| {
                p.main = p.id == id;
                p
            })
            .collect();
        self.save(&updated)?;
        *profiles = updated;
        Ok(())
    }

    /// Removes a profile and its secrets from this computer. If it was the main one, the oldest
    /// remaining profile becomes main.
    pub fn remove(&self, id: &str) -> Result<()> {
        let mut profiles = self.begin_change()?;
        let mut updated: Vec<Profile> = profiles.iter().filter(|p| p.id != id).cloned().collect();
        if updated.len() == profiles.len() {
            return Err(Error::NoProfile(id.to_owned()));
        }
        if !updated.iter().any(|p| p.main)
            && let Some(first) = updated.iter_mut().min_by_key(|p| p.created_at)
        {
            first.main = true;
        }
        self.save(&updated)?;
        *profiles = updated;
        drop(profiles);
        self.secrets.delete(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> NewSecrets {
        NewSecrets {
            possession: PossessionKey::from_bytes([1; 32]),
            knowledge: KnowledgeKey::from_bytes([2; 32]),
            device_key: SigningKey::generate(&SystemRandom::new()).unwrap(),
        }
    }

    fn add(vault: &Vault, user: &str, pin: &str) -> Profile {
        let bank = SigningKey::generate(&SystemRandom::new()).unwrap().public_key();
        vault
            .add(
                user,
                "laptop",
                "http://127.0.0.1:1/",
                "dev1",
                &bank,
                secrets(),
                &Pin::parse(pin).unwrap(),
                10,
            )
            .unwrap()
    }

    #[test]
    fn profiles_survive_reopening_and_the_first_is_main() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(MemoryStore::default());
        #[derive(Debug)]
        struct Shared(Arc<MemoryStore>);
        impl SecretStore for Shared {
            fn put(&self, p: &str, s: &[u8]) -> Result<()> {
                self.0.put(p, s)
            }
            fn get(&self, p: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
                self.0.get(p)
            }
            fn delete(&self, p: &str) -> Result<()> {
                self.0.delete(p)
            }
        }
        let vault = Vault::open(dir.path(), Box::new(Shared(store.clone()))).unwrap();
        let a = add(&vault, "12345678", "13579");
        let b = add(&vault, "alias", "24680");
        assert!(a.main && !b.main);
        assert_eq!(a.server_url, "http://127.0.0.1:1");
        let again = Vault::open(dir.path(), Box::new(Shared(store))).unwrap();
        assert_eq!(again.profiles(), vec![a.clone(), b.clone()]);
        assert_eq!(again.profile(None).unwrap(), a);
        assert_eq!(again.profile(Some("alias")).unwrap(), b);
        again.set_main(&b.id).unwrap();
        assert_eq!(again.profile(None).unwrap().id, b.id);
        again.remove(&b.id).unwrap();
        assert!(again.profile(None).unwrap().main, "the remaining profile becomes main");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(INDEX_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    /// Two programs on one folder (the desktop app and `sigillo-auth`): each sees the other's
    /// profiles, and changes made at once are all kept.
    #[test]
    fn two_vaults_on_one_folder_keep_each_others_changes() {
        let dir = tempfile::tempdir().unwrap();
        let app = Arc::new(Vault::open(dir.path(), Box::new(MemoryStore::default())).unwrap());
        let cli = Arc::new(Vault::open(dir.path(), Box::new(MemoryStore::default())).unwrap());
        let first = add(&app, "11111111", "13579");
        assert_eq!(cli.profiles(), vec![first.clone()], "a profile added elsewhere is seen");
        let second = add(&cli, "22222222", "13579");
        assert!(!second.main, "the other program's profile is main already");
        cli.set_main(&second.id).unwrap();
        assert_eq!(app.profile(None).unwrap().id, second.id);
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let vault = if i % 2 == 0 { app.clone() } else { cli.clone() };
                std::thread::spawn(move || add(&vault, &format!("user{i}"), "13579").id)
            })
            .collect();
        let mut added: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        added.extend([first.id.clone(), second.id.clone()]);
        added.sort();
        let mut on_disk: Vec<String> = Vault::open(dir.path(), Box::new(MemoryStore::default()))
            .unwrap()
            .profiles()
            .into_iter()
            .map(|p| p.id)
            .collect();
        on_disk.sort();
        assert_eq!(on_disk, added, "no change lost");
        assert_eq!(app.profiles().iter().filter(|p| p.main).count(), 1);
        app.remove(&second.id).unwrap();
        assert!(cli.profile(Some(&second.id)).is_err());
        assert_eq!(cli.profiles().iter().filter(|p| p.main).count(), 1);
    }

    #[test]
    fn nothing_stored_tells_a_right_pin_from_a_wrong_one() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path(), Box::new(MemoryStore::default())).unwrap();
        let profile = add(&vault, "12345678", "13579");
        // Every PIN unlocks *something*, without an error: no local check exists to fail.
        let right = vault.unlock(&profile, &Pin::parse("13579").unwrap()).unwrap();
        assert_eq!(right.knowledge.expose_secret(), &[2; 32]);
        for wrong in ["13578", "24680", "97531"] {
            let keys = vault.unlock(&profile, &Pin::parse(wrong).unwrap()).unwrap();
            assert_ne!(keys.knowledge.expose_secret(), &[2; 32]);
            assert_eq!(keys.possession.expose_secret(), &[1; 32]);
        }
        // The index holds no hash of the PIN or of K_know: only salt, iterations and public data.
        let index = std::fs::read_to_string(dir.path().join(INDEX_FILE)).unwrap();
        let p = vault.profile(None).unwrap();
        let salt = p.salt().unwrap();
        let it = p.iterations().unwrap();
        let pk = sca_protocol::sha256(&[2; 32]);
        for needle in [
            hex::encode([2u8; 32]),
            hex::encode(pk),
            hex::encode(sca_protocol::sha256(b"13579")),
        ] {
            assert!(!index.contains(&needle));
        }
        // The secret holds W, not K_know, and W is not a function of the PIN alone.
        let stored = vault.stored(&profile).unwrap();
        assert_ne!(stored.wrapped.expose_secret(), &[2; 32]);
        let w_again = wrap_knowledge_key(
            &KnowledgeKey::from_bytes([2; 32]),
            &Pin::parse("13579").unwrap(),
            &salt,
            it,
        );
        assert_eq!(w_again.expose_secret(), stored.wrapped.expose_secret());
    }

    #[test]
    fn rewrap_changes_the_pin_and_keeps_the_keys() {
        let vault = Vault::in_memory();
        let profile = add(&vault, "12345678", "13579");
        vault
            .rewrap(&profile, &Pin::parse("13579").unwrap(), &Pin::parse("86420").unwrap())
            .unwrap();
        let profile = vault.profile(None).unwrap();
        let keys = vault.unlock(&profile, &Pin::parse("86420").unwrap()).unwrap();
        assert_eq!(keys.knowledge.expose_secret(), &[2; 32]);
        let old = vault.unlock(&profile, &Pin::parse("13579").unwrap()).unwrap();
        assert_ne!(old.knowledge.expose_secret(), &[2; 32]);
        assert!(vault.device_key(&profile).is_ok());
    }

    #[test]
    fn missing_or_damaged_secrets_are_named() {
        let vault = Vault::in_memory();
        let profile = add(&vault, "12345678", "13579");
        vault.secrets.put(&profile.id, b"junk").unwrap();
        assert_eq!(vault.device_key(&profile).unwrap_err().code(), "keyring_unavailable");
        vault.secrets.delete(&profile.id).unwrap();
        assert_eq!(
            vault
                .unlock(&profile, &Pin::parse("13579").unwrap())
                .unwrap_err()
                .code(),
            "secrets_missing"
        );
        assert_eq!(vault.profile(Some("nobody")).unwrap_err().code(), "no_profile");
    }

    #[test]
    fn a_corrupt_index_is_a_clear_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(INDEX_FILE), b"{not json").unwrap();
        let err = Vault::open(dir.path(), Box::new(MemoryStore::default())).unwrap_err();
        assert_eq!(err.code(), "storage");
        assert!(err.to_string().contains(INDEX_FILE));
    }
}
