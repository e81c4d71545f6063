//! Secrets of the server: the AES-256-GCM key that seals device secrets at rest, the bank signing
//! key, password and security-code hashing (argon2id), and random values. All randomness comes
//! from `ring::rand::SystemRandom`.
//!
//! The two keys come either from files the operator gives (`--bank-key-file`,
//! `--secrets-key-file`, or the secrets key in `SCA_SECRETS_KEY`) — the same for every instance of
//! a deployment, read and never made — or from the data directory (`bank-key.p8`, `secrets.key`,
//! both 0600), made on the first start of a single instance. `sca-server keygen` makes the given
//! files. This module never logs a secret; a key is named by its fingerprint
//! ([`SigningKey`]'s key id, [`SecretBox::fingerprint`]).

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use sca_protocol::{PublicKey, SigningKey, b64u_encode};
use zeroize::Zeroizing;

/// Why a secret could not be loaded, made or opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// Reading or writing a key file.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A key file or configured key is not of its form.
    #[error("{0}")]
    BadKey(&'static str),
    /// The system random source failed.
    #[error("the random source failed")]
    Random,
    /// A sealed secret did not open: wrong key, or tampered data.
    #[error("a sealed secret did not open")]
    Open,
    /// Password hashing failed.
    #[error("password hashing: {0}")]
    Hash(String),
    /// A key file that was given does not exist (a given key is read, never made).
    #[error(
        "key file {0} does not exist: make it once with `sca-server keygen` and give the same file to every instance"
    )]
    Missing(String),
    /// A key file exists where a new one was to be made.
    #[error("key file {0} exists already: a key is never overwritten")]
    Exists(String),
}

/// The name of the bank key file in the data directory.
const BANK_KEY_FILE: &str = "bank-key.p8";
/// The name of the secrets key file in the data directory.
const SECRETS_KEY_FILE: &str = "secrets.key";
/// What a secrets key's fingerprint hashes before the key: a fingerprint is never a hash used
/// anywhere else.
const SECRETS_FINGERPRINT_DOMAIN: &[u8] = b"sigillo secrets key fingerprint v1\0";

/// Writes `bytes` to a new file readable by the owner only, durably.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CryptoError> {
    let io = |source| CryptoError::Io {
        path: path.display().to_string(),
        source,
    };
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    fs::rename(&tmp, path).map_err(io)?;
    if let Some(dir) = path.parent()
        && let Ok(d) = fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A file that must exist: a key that was given.
fn read_given(path: &Path) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    read_file(path)?.ok_or_else(|| CryptoError::Missing(path.display().to_string()))
}

fn read_file(path: &Path) -> Result<Option<Zeroizing<Vec<u8>>>, CryptoError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(Zeroizing::new(bytes))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(CryptoError::Io {
            path: path.display().to_string(),
            source,
        }),
    }
}

fn parse_bank_key(der: &[u8], rng: &SystemRandom) -> Result<SigningKey, CryptoError> {
    SigningKey::from_pkcs8(der, rng).map_err(|_| CryptoError::BadKey("the bank key is not a P-256 PKCS#8 key"))
}

/// The bank's public key, if its key file is there (never makes one): `key_file` when given,
/// else `bank-key.p8` in the data directory. What `audit-verify` checks the signed checkpoints
/// with.
pub fn read_bank_public_key(
    key_file: Option<&Path>,
    data_dir: &Path,
    rng: &SystemRandom,
) -> Result<Option<PublicKey>, CryptoError> {
    let der = match key_file {
        Some(path) => Some(read_given(path)?),
        None => read_file(&data_dir.join(BANK_KEY_FILE))?,
    };
    der.map(|der| parse_bank_key(&der, rng).map(|k| k.public_key()))
        .transpose()
}

/// The bank signing key: the given `key_file` (PKCS#8; it must exist), else `bank-key.p8`
/// (0600) in the data directory, made on first start.
pub fn load_or_create_bank_key(
    key_file: Option<&Path>,
    data_dir: &Path,
    rng: &SystemRandom,
) -> Result<SigningKey, CryptoError> {
    if let Some(path) = key_file {
        return parse_bank_key(&read_given(path)?, rng);
    }
    let path = data_dir.join(BANK_KEY_FILE);
    if let Some(der) = read_file(&path)? {
        return parse_bank_key(&der, rng);
    }
    let key = SigningKey::generate(rng).map_err(|_| CryptoError::Random)?;
    write_private(&path, key.pkcs8())?;
    tracing::info!(key_id = %key.public_key().key_id(), "generated a new bank signing key");
    Ok(key)
}

/// Makes the two key files a deployment of several instances gives each of them (0600; neither
/// may exist): a P-256 bank key (PKCS#8) and a 32-byte secrets key. Returns the bank key's id and
/// the secrets key's fingerprint.
pub fn generate_key_files(bank_key_file: &Path, secrets_key_file: &Path) -> Result<(String, String), CryptoError> {
    for path in [bank_key_file, secrets_key_file] {
        if path.exists() {
            return Err(CryptoError::Exists(path.display().to_string()));
        }
    }
    let rng = SystemRandom::new();
    let bank = SigningKey::generate(&rng).map_err(|_| CryptoError::Random)?;
    let mut secrets = Zeroizing::new([0u8; 32]);
    rng.fill(&mut *secrets).map_err(|_| CryptoError::Random)?;
    write_private(bank_key_file, bank.pkcs8())?;
    write_private(secrets_key_file, &*secrets)?;
    Ok((
        bank.public_key().key_id().to_string(),
        SecretBox::new(&secrets)?.fingerprint().to_owned(),
    ))
}

/// Derives the key of card-number digests from the secrets key.
const PAN_DIGEST_DOMAIN: &[u8] = b"sigillo card pan digest v1";

/// Seals and opens device secrets with AES-256-GCM; the row id is the associated data, so a
/// sealed value copied to another row does not open.
pub struct SecretBox {
    key: LessSafeKey,
    pan_key: ring::hmac::Key,
    rng: SystemRandom,
    fingerprint: String,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(<redacted>)")
    }
}

impl SecretBox {
    /// From 32 key bytes.
    pub fn new(key: &[u8; 32]) -> Result<Self, CryptoError> {
        let unbound = UnboundKey::new(&AES_256_GCM, key).map_err(|_| CryptoError::BadKey("AES-256 key"))?;
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(SECRETS_FINGERPRINT_DOMAIN);
        ctx.update(key);
        let pan_key = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key), PAN_DIGEST_DOMAIN);
        Ok(Self {
            key: LessSafeKey::new(unbound),
            pan_key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, pan_key.as_ref()),
            rng: SystemRandom::new(),
            fingerprint: hex::encode(&ctx.finish().as_ref()[..16]),
        })
    }

    /// The key, from the first of: `configured_hex` (64 hex characters, `SCA_SECRETS_KEY`), the
    /// given `key_file` (32 bytes, or 64 hex characters and a newline; it must exist), or
    /// `secrets.key` in the data directory, made on first start.
    pub fn load_or_create(
        configured_hex: Option<&str>,
        key_file: Option<&Path>,
        data_dir: &Path,
    ) -> Result<Self, CryptoError> {
        let mut key = Zeroizing::new([0u8; 32]);
        let from_hex = |text: &[u8], key: &mut [u8; 32], what| {
            let text = std::str::from_utf8(text).map_err(|_| CryptoError::BadKey(what))?;
            hex::decode_to_slice(text.trim(), key).map_err(|_| CryptoError::BadKey(what))
        };
        if let Some(hex_key) = configured_hex {
            from_hex(
                hex_key.as_bytes(),
                &mut key,
                "SCA_SECRETS_KEY must be 64 hex characters",
            )?;
            return Self::new(&key);
        }
        if let Some(path) = key_file {
            let bytes = read_given(path)?;
            if bytes.len() == 32 {
                key.copy_from_slice(&bytes);
            } else {
                from_hex(
                    &bytes,
                    &mut key,
                    "the secrets key file must hold 32 bytes or 64 hex characters",
                )?;
            }
            return Self::new(&key);
        }
        let path = data_dir.join(SECRETS_KEY_FILE);
        match read_file(&path)? {
            Some(bytes) => {
                if bytes.len() != 32 {
                    return Err(CryptoError::BadKey("secrets.key must hold 32 bytes"));
                }
                key.copy_from_slice(&bytes);
            }
            None => {
                SystemRandom::new().fill(&mut *key).map_err(|_| CryptoError::Random)?;
                write_private(&path, &*key)?;
            }
        }
        Self::new(&key)
    }

    /// 32 hex characters naming the key (a domain-separated SHA-256 of it, which reveals nothing
    /// of it): what the database records to refuse an instance started with another key.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The keyed digest a card number is stored and found by (HMAC-SHA-256 under a key derived
    /// from this one): the same on every instance, and nothing without the key.
    pub fn pan_digest(&self, pan: &str) -> Vec<u8> {
        ring::hmac::sign(&self.pan_key, pan.as_bytes()).as_ref().to_vec()
    }

    /// `nonce || ciphertext || tag`.
    pub fn seal(&self, aad: &str, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| CryptoError::Random)?;
        let mut in_out = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut in_out,
            )
            .map_err(|_| CryptoError::Random)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&in_out);
        zeroize::Zeroize::zeroize(&mut in_out);
        Ok(out)
    }

    /// Opens what [`seal`](Self::seal) made with the same `aad`.
    pub fn open(&self, aad: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if sealed.len() < NONCE_LEN {
            return Err(CryptoError::Open);
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Open)?;
        let mut buf = Zeroizing::new(ct.to_vec());
        let plain_len = self
            .key
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut buf)
            .map_err(|_| CryptoError::Open)?
            .len();
        buf.truncate(plain_len);
        Ok(buf)
    }
}

/// argon2id hashing of passwords and security codes (PHC strings).
#[derive(Clone)]
pub struct PasswordHashing {
    argon: Argon2<'static>,
    dummy: String,
}

impl std::fmt::Debug for PasswordHashing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHashing(argon2id)")
    }
}

impl PasswordHashing {
    /// argon2id with `memory_kib` and `iterations`, one lane.
    pub fn new(memory_kib: u32, iterations: u32) -> Result<Self, CryptoError> {
        let params = Params::new(memory_kib, iterations, 1, None).map_err(|e| CryptoError::Hash(e.to_string()))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut this = Self {
            argon,
            dummy: String::new(),
        };
        this.dummy = this.hash("00000000")?;
        Ok(this)
    }

    /// A PHC string of `secret` with a random salt.
    pub fn hash(&self, secret: &str) -> Result<String, CryptoError> {
        let mut salt = [0u8; 16];
        SystemRandom::new().fill(&mut salt).map_err(|_| CryptoError::Random)?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| CryptoError::Hash(e.to_string()))?;
        self.argon
            .hash_password(secret.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| CryptoError::Hash(e.to_string()))
    }

    /// Whether `secret` matches `phc`. A malformed stored hash never matches.
    pub fn verify(&self, secret: &str, phc: &str) -> bool {
        PasswordHash::new(phc).is_ok_and(|h| self.argon.verify_password(secret.as_bytes(), &h).is_ok())
    }

    /// Spends the time of one verification, for an unknown user (no timing oracle).
    pub fn verify_dummy(&self, secret: &str) {
        let _ = self.verify(secret, &self.dummy);
    }
}

/// Random values, from the system source.
pub mod random {
    use super::*;

    /// `n` random bytes, as b64u.
    pub fn b64u(rng: &SystemRandom, n: usize) -> Result<String, CryptoError> {
        let mut bytes = Zeroizing::new(vec![0u8; n]);
        rng.fill(&mut bytes).map_err(|_| CryptoError::Random)?;
        Ok(b64u_encode(&bytes))
    }

    /// A uniform integer in `0..bound` (bound ≤ 2^32), by rejection sampling.
    pub fn below(rng: &SystemRandom, bound: u32) -> Result<u32, CryptoError> {
        let limit = u32::MAX - u32::MAX % bound;
        loop {
            let mut b = [0u8; 4];
            rng.fill(&mut b).map_err(|_| CryptoError::Random)?;
            let v = u32::from_be_bytes(b);
            if v < limit {
                return Ok(v % bound);
            }
        }
    }

    /// `n` random decimal digits.
    pub fn digits(rng: &SystemRandom, n: usize) -> Result<Zeroizing<String>, CryptoError> {
        let mut out = Zeroizing::new(String::with_capacity(n));
        for _ in 0..n {
            out.push(char::from(b'0' + below(rng, 10)? as u8));
        }
        Ok(out)
    }

    /// The alphabet of security codes: Crockford's base 32 (no I, L, O, U).
    pub const SECURITY_CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    /// A 20-character security code.
    pub fn security_code(rng: &SystemRandom) -> Result<Zeroizing<String>, CryptoError> {
        let mut out = Zeroizing::new(String::with_capacity(20));
        for _ in 0..20 {
            out.push(char::from(SECURITY_CODE_ALPHABET[below(rng, 32)? as usize]));
        }
        Ok(out)
    }
}

/// A typed security code in the form it is hashed: upper case, spaces and dashes dropped.
pub fn normalize_security_code(text: &str) -> Option<String> {
    let s: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (s.len() == 20 && s.bytes().all(|b| random::SECURITY_CODE_ALPHABET.contains(&b))).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_row_id() {
        let dir = tempfile::tempdir().unwrap();
        let sbox = SecretBox::load_or_create(None, None, dir.path()).unwrap();
        let sealed = sbox.seal("dev1", b"secret bytes").unwrap();
        assert_eq!(&*sbox.open("dev1", &sealed).unwrap(), b"secret bytes");
        assert!(sbox.open("dev2", &sealed).is_err());
        let mut tampered = sealed.clone();
        tampered[14] ^= 1;
        assert!(sbox.open("dev1", &tampered).is_err());
        // The key file is private and reloads to the same key.
        let meta = fs::metadata(dir.path().join("secrets.key")).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
            0o600
        );
        let again = SecretBox::load_or_create(None, None, dir.path()).unwrap();
        assert_eq!(&*again.open("dev1", &sealed).unwrap(), b"secret bytes");
        assert!(SecretBox::load_or_create(Some("zz"), None, dir.path()).is_err());
    }

    #[test]
    fn bank_key_is_made_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let rng = SystemRandom::new();
        let k1 = load_or_create_bank_key(None, dir.path(), &rng).unwrap();
        let k2 = load_or_create_bank_key(None, dir.path(), &rng).unwrap();
        assert_eq!(k1.public_key(), k2.public_key());
        let meta = fs::metadata(dir.path().join("bank-key.p8")).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
            0o600
        );
    }

    #[test]
    fn given_key_files_are_read_never_made_and_name_the_same_keys() {
        let dir = tempfile::tempdir().unwrap();
        let (bank_file, secrets_file) = (dir.path().join("bank.p8"), dir.path().join("secrets"));
        let empty = tempfile::tempdir().unwrap();
        let rng = SystemRandom::new();
        // Missing: refused by name, and nothing is made in their place or in the data directory.
        let missing = load_or_create_bank_key(Some(&bank_file), empty.path(), &rng).unwrap_err();
        assert!(
            matches!(&missing, CryptoError::Missing(p) if p.ends_with("bank.p8")),
            "{missing}"
        );
        assert!(SecretBox::load_or_create(None, Some(&secrets_file), empty.path()).is_err());
        assert!(!bank_file.exists() && !secrets_file.exists());
        assert_eq!(fs::read_dir(empty.path()).unwrap().count(), 0);

        let (key_id, fingerprint) = generate_key_files(&bank_file, &secrets_file).unwrap();
        for file in [&bank_file, &secrets_file] {
            let mode = std::os::unix::fs::PermissionsExt::mode(&fs::metadata(file).unwrap().permissions());
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(
            generate_key_files(&bank_file, &secrets_file),
            Err(CryptoError::Exists(_))
        ));
        let bank = load_or_create_bank_key(Some(&bank_file), empty.path(), &rng).unwrap();
        assert_eq!(bank.public_key().key_id().to_string(), key_id);
        let public = read_bank_public_key(Some(&bank_file), empty.path(), &rng).unwrap();
        assert_eq!(public, Some(bank.public_key()));
        let sbox = SecretBox::load_or_create(None, Some(&secrets_file), empty.path()).unwrap();
        assert_eq!(sbox.fingerprint(), fingerprint);
        assert_eq!(fingerprint.len(), 32);
        // The same key written as hex reads the same; another key has another fingerprint.
        let hex_file = dir.path().join("secrets.hex");
        fs::write(
            &hex_file,
            format!("{}\n", hex::encode(fs::read(&secrets_file).unwrap())),
        )
        .unwrap();
        let from_hex = SecretBox::load_or_create(None, Some(&hex_file), empty.path()).unwrap();
        assert_eq!(from_hex.fingerprint(), fingerprint);
        let sealed = sbox.seal("dev1", b"k").unwrap();
        assert_eq!(&*from_hex.open("dev1", &sealed).unwrap(), b"k");
        assert_ne!(SecretBox::new(&[7; 32]).unwrap().fingerprint(), fingerprint);
        fs::write(&hex_file, "not a key").unwrap();
        assert!(matches!(
            SecretBox::load_or_create(None, Some(&hex_file), empty.path()),
            Err(CryptoError::BadKey(_))
        ));
        assert_eq!(fs::read_dir(empty.path()).unwrap().count(), 0);
    }

    #[test]
    fn passwords_hash_and_verify() {
        let h = PasswordHashing::new(1024, 1).unwrap();
        let phc = h.hash("12345678").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(h.verify("12345678", &phc));
        assert!(!h.verify("12345679", &phc));
        assert!(!h.verify("12345678", "garbage"));
    }

    #[test]
    fn random_values_have_their_form() {
        let rng = SystemRandom::new();
        let code = random::security_code(&rng).unwrap();
        assert_eq!(code.len(), 20);
        assert_eq!(
            normalize_security_code(&code.to_lowercase()).as_deref(),
            Some(code.as_str())
        );
        assert_eq!(normalize_security_code("ABCD-EFGH"), None);
        assert_eq!(random::digits(&rng, 8).unwrap().len(), 8);
        assert!(random::below(&rng, 90).unwrap() < 90);
    }
}
