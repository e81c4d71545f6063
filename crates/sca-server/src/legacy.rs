//! Customers of acquired banks (issue 15): the file an acquired bank exports, read strictly, and
//! its customers' old passwords checked as the old bank hashed them.
//!
//! The file is CSV (a header line, then one customer per line) or JSON (an array of objects),
//! with the same fields (docs/api.md §12):
//!
//! | field | what |
//! |---|---|
//! | `legacy_code` | the old bank's customer code: 1–32 letters, digits, `-`, `_` |
//! | `password_hash` | the old password as the old bank kept it: PHC `$argon2id$…`, `$argon2i$…`, `$pbkdf2-sha256$…`, or bcrypt `$2b$…` |
//! | `name` | 1–70 characters |
//! | `phone` | the mobile the old bank certified, E.164 |
//! | `email` | e-mail |
//! | `accounts` | CSV: `IBAN=balance` pairs separated by `;` (`IT60X0542811101000000123456=1250.00`); JSON: `[{"iban","balance","name"?}]` |
//! | `auth` | how the customer authenticated at the old bank: `app` or `card` |
//!
//! Every bad row is reported with its line (CSV: the file's line; JSON: the element's position,
//! from 1) and field; a file with one bad row imports nothing.

use password_hash::{PasswordHash, PasswordVerifier as _};
use sca_protocol::{Amount, Iban};
use serde::Deserialize;

/// How a customer authenticated at the old bank, and so the SCA that follows the migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// An authenticator app: push from the first login on.
    App,
    /// A code card ("Tessera"): one-time PINs by SMS until an authenticator is activated.
    Card,
}
crate::storage::db::text_column!(AuthMethod { App => "app", Card => "card" });

/// One customer of the file, checked.
#[derive(Debug, Clone)]
pub struct LegacyRow {
    /// Where it is in the file.
    pub line: usize,
    /// The old customer code.
    pub legacy_code: String,
    /// The old password's hash (PHC or bcrypt).
    pub password_hash: String,
    /// Full name.
    pub name: String,
    /// Certified mobile, E.164.
    pub phone: String,
    /// E-mail.
    pub email: String,
    /// The accounts carried over: IBAN, name, balance in cents, currency.
    pub accounts: Vec<LegacyAccount>,
    /// App or card.
    pub auth: AuthMethod,
}

/// An account carried over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyAccount {
    /// IBAN, compact.
    pub iban: String,
    /// As the customer will see it.
    pub name: String,
    /// Cents.
    pub balance_minor: i64,
    /// ISO 4217.
    pub currency: String,
}

/// A bad row: where, which field, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The line (CSV) or position from 1 (JSON).
    pub line: usize,
    /// The field at fault (`row` for the row as a whole).
    pub field: String,
    /// Why.
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.field, self.reason)
    }
}

/// The file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated, a header line first.
    Csv,
    /// An array of objects.
    Json,
}

impl Format {
    /// By the file name's extension.
    pub fn of_path(path: &std::path::Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "json" => Some(Self::Json),
            _ => None,
        }
    }
}

/// A row as read, before its checks.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRow {
    legacy_code: String,
    password_hash: String,
    name: String,
    phone: String,
    email: String,
    accounts: RawAccounts,
    auth: String,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawAccounts {
    /// CSV: `IBAN=balance;IBAN=balance`.
    Text(String),
    /// JSON: `[{"iban","balance","name"?}]`.
    List(Vec<RawAccount>),
}

impl Default for RawAccounts {
    fn default() -> Self {
        Self::Text(String::new())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    iban: String,
    balance: String,
    #[serde(default)]
    name: Option<String>,
}

/// The CSV header the file must start with.
pub const CSV_HEADER: [&str; 7] = [
    "legacy_code",
    "password_hash",
    "name",
    "phone",
    "email",
    "accounts",
    "auth",
];

/// Reads and checks every row of `text`: all of them, or every bad one.
pub fn parse(text: &str, format: Format) -> Result<Vec<LegacyRow>, Vec<RowError>> {
    let raw = match format {
        Format::Csv => read_csv(text)?,
        Format::Json => read_json(text)?,
    };
    let mut rows = Vec::with_capacity(raw.len());
    let mut errors = Vec::new();
    let mut codes = std::collections::HashMap::new();
    let mut ibans = std::collections::HashMap::new();
    for (line, r) in raw {
        // Codes and IBANs repeated in the file are said also of rows bad in other ways.
        let code = r.legacy_code.trim().to_owned();
        let repeated_code = (!code.is_empty()).then(|| codes.insert(code, line)).flatten();
        let mut repeated_ibans = Vec::new();
        for iban in raw_ibans(&r.accounts) {
            if let Some(first) = ibans.insert(iban.clone(), line) {
                repeated_ibans.push((iban, first));
            }
        }
        match check_row(line, r) {
            Ok(row) => rows.push(row),
            Err(mut e) => errors.append(&mut e),
        }
        if let Some(first) = repeated_code {
            errors.push(RowError {
                line,
                field: "legacy_code".into(),
                reason: format!("the same code as line {first}"),
            });
        }
        for (iban, first) in repeated_ibans {
            errors.push(RowError {
                line,
                field: "accounts".into(),
                reason: format!("{iban} is also on line {first}"),
            });
        }
    }
    if errors.is_empty() { Ok(rows) } else { Err(errors) }
}

/// The IBANs a row names, compact and upper-case, as written (checked later).
fn raw_ibans(accounts: &RawAccounts) -> Vec<String> {
    let compact = |t: &str| {
        t.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase()
    };
    match accounts {
        RawAccounts::Text(t) => t
            .split(';')
            .filter_map(|p| p.split_once('=').map(|(iban, _)| compact(iban)))
            .filter(|i| !i.is_empty())
            .collect(),
        RawAccounts::List(list) => list.iter().map(|a| compact(&a.iban)).collect(),
    }
}

fn read_csv(text: &str) -> Result<Vec<(usize, RawRow)>, Vec<RowError>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header_ok = reader
        .headers()
        .map(|h| h.iter().eq(CSV_HEADER.iter().copied()))
        .unwrap_or(false);
    if !header_ok {
        return Err(vec![RowError {
            line: 1,
            field: "header".into(),
            reason: format!("must be exactly: {}", CSV_HEADER.join(",")),
        }]);
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for record in reader.records() {
        match record {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line() as usize);
                if r.len() != CSV_HEADER.len() {
                    errors.push(RowError {
                        line,
                        field: "row".into(),
                        reason: format!(
                            "has {} fields, not {} (a field holding a comma, as a PHC string does, goes in double quotes)",
                            r.len(),
                            CSV_HEADER.len()
                        ),
                    });
                    continue;
                }
                let get = |i: usize| r.get(i).unwrap_or("").to_owned();
                out.push((
                    line,
                    RawRow {
                        legacy_code: get(0),
                        password_hash: get(1),
                        name: get(2),
                        phone: get(3),
                        email: get(4),
                        accounts: RawAccounts::Text(get(5)),
                        auth: get(6),
                    },
                ));
            }
            Err(e) => errors.push(RowError {
                line: e.position().map_or(0, |p| p.line() as usize),
                field: "row".into(),
                reason: "is not a CSV row of this file".into(),
            }),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

fn read_json(text: &str) -> Result<Vec<(usize, RawRow)>, Vec<RowError>> {
    let values: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|e| {
        vec![RowError {
            line: e.line(),
            field: "file".into(),
            reason: "must be a JSON array of customers".into(),
        }]
    })?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, v) in values.into_iter().enumerate() {
        let line = i + 1;
        match serde_path_to_error::deserialize::<_, RawRow>(v) {
            Ok(r) => out.push((line, r)),
            Err(e) => {
                let path = e.path().to_string();
                let field = path
                    .split('.')
                    .next()
                    .filter(|p| !p.is_empty() && *p != "?")
                    .unwrap_or("row");
                // serde's own message may repeat the value: only its kind is said.
                errors.push(RowError {
                    line,
                    field: field.to_owned(),
                    reason: "is missing, unknown or not of its type".into(),
                });
            }
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// The password-hash schemes an acquired bank's file may carry.
fn hash_scheme(hash: &str) -> Result<(), &'static str> {
    if hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$") {
        return bcrypt_parts(hash).map(|_| ());
    }
    let phc = PasswordHash::new(hash).map_err(|_| "is not a PHC string or a bcrypt hash")?;
    match phc.algorithm.as_str() {
        "argon2id" | "argon2i" | "argon2d" | "pbkdf2-sha256" => {}
        _ => return Err("uses a scheme other than argon2, pbkdf2-sha256 or bcrypt"),
    }
    if phc.hash.is_none() || phc.salt.is_none() {
        return Err("has no salt or no hash");
    }
    Ok(())
}

/// A bcrypt hash's cost, checked: `$2b$<cost>$<53 characters>`.
fn bcrypt_parts(hash: &str) -> Result<u32, &'static str> {
    let mut parts = hash.split('$');
    let (_, _, cost, rest) = (parts.next(), parts.next(), parts.next(), parts.next());
    let cost: u32 = cost.and_then(|c| c.parse().ok()).ok_or("is not a bcrypt hash")?;
    if !(4..=31).contains(&cost) || rest.map(str::len) != Some(53) || parts.next().is_some() {
        return Err("is not a bcrypt hash");
    }
    Ok(cost)
}

fn check_row(line: usize, r: RawRow) -> Result<LegacyRow, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut bad = |field: &str, reason: String| {
        errors.push(RowError {
            line,
            field: field.to_owned(),
            reason,
        })
    };
    let legacy_code = r.legacy_code.trim().to_owned();
    if let Err(why) = check_legacy_code(&legacy_code) {
        bad("legacy_code", why.into());
    }
    let password_hash = r.password_hash.trim().to_owned();
    if let Err(why) = hash_scheme(&password_hash) {
        bad("password_hash", why.into());
    }
    let name = match crate::customers::check_name("name", &r.name, 70) {
        Ok(n) => n,
        Err(e) => {
            bad("name", detail_of("name", &e));
            String::new()
        }
    };
    let phone = match crate::customers::check_phone(&r.phone) {
        Ok(p) => p,
        Err(e) => {
            bad("phone", detail_of("phone", &e));
            String::new()
        }
    };
    let email = match crate::customers::check_email(&r.email) {
        Ok(m) => m,
        Err(e) => {
            bad("email", detail_of("email", &e));
            String::new()
        }
    };
    let auth = match AuthMethod::parse(r.auth.trim()) {
        Some(a) => a,
        None => {
            bad("auth", "must be app or card".into());
            AuthMethod::App
        }
    };
    let raw_accounts: Vec<(String, String, Option<String>)> = match r.accounts {
        RawAccounts::Text(t) => t
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|pair| match pair.split_once('=') {
                Some((iban, balance)) => (iban.to_owned(), balance.to_owned(), None),
                None => (pair.to_owned(), String::new(), None),
            })
            .collect(),
        RawAccounts::List(list) => list.into_iter().map(|a| (a.iban, a.balance, a.name)).collect(),
    };
    if raw_accounts.is_empty() {
        bad("accounts", "at least one account to carry over".into());
    }
    let mut accounts = Vec::new();
    for (i, (iban, balance, name)) in raw_accounts.into_iter().enumerate() {
        let iban = match Iban::parse_typed(&iban) {
            Ok(iban) => iban.to_string(),
            Err(e) => {
                bad("accounts", format!("account {}: the IBAN: {e}", i + 1));
                continue;
            }
        };
        let balance = balance.trim();
        let (digits, negative) = match balance.strip_prefix('-') {
            Some(d) => (d, true),
            None => (balance, false),
        };
        let minor = match Amount::from_decimal(digits, "EUR") {
            Ok(a) => i64::try_from(a.minor_units()).map(|m| if negative { -m } else { m }),
            Err(_) => {
                bad(
                    "accounts",
                    format!(
                        "account {}: the balance must be a decimal with two digits after the point",
                        i + 1
                    ),
                );
                continue;
            }
        };
        let Ok(balance_minor) = minor else {
            bad("accounts", format!("account {}: the balance is too large", i + 1));
            continue;
        };
        let name = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        accounts.push(LegacyAccount {
            iban,
            name: name.unwrap_or_else(|| "Conto corrente".to_owned()),
            balance_minor,
            currency: "EUR".to_owned(),
        });
    }
    if errors.is_empty() {
        Ok(LegacyRow {
            line,
            legacy_code,
            password_hash,
            name,
            phone,
            email,
            accounts,
            auth,
        })
    } else {
        Err(errors)
    }
}

/// What a check of `field` said, without the field's name before it.
fn detail_of(field: &str, e: &crate::error::AppError) -> String {
    let text = e.to_string();
    let prefix = format!("{field}: ");
    text.find(&prefix)
        .map_or(text.clone(), |i| text[i + prefix.len()..].to_owned())
}

/// Whether `password` is the one the old bank hashed as `hash` (slow: run off the async
/// threads). A hash of a scheme this bank does not read is never right.
pub fn verify_legacy_password(hash: &str, password: &str) -> bool {
    if hash.starts_with("$2") {
        return bcrypt::verify(password, hash).unwrap_or(false);
    }
    let Ok(phc) = PasswordHash::new(hash) else {
        return false;
    };
    match phc.algorithm.as_str() {
        "argon2id" | "argon2i" | "argon2d" => argon2::Argon2::default()
            .verify_password(password.as_bytes(), &phc)
            .is_ok(),
        "pbkdf2-sha256" => pbkdf2::Pbkdf2.verify_password(password.as_bytes(), &phc).is_ok(),
        _ => false,
    }
}

/// An import refused: nothing was imported.
#[derive(Debug)]
pub enum ImportError {
    /// The file could not be read.
    File(String),
    /// Rows that are bad, or that clash with this bank's data.
    Rows(Vec<RowError>),
    /// No acquired bank by this code (make it with `--bank-name` and `--opens`).
    UnknownBank(String),
    /// The database failed.
    Store(crate::storage::StoreError),
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(e) => write!(f, "{e}"),
            Self::Rows(rows) => {
                writeln!(f, "{} bad rows; nothing was imported:", rows.len())?;
                for r in rows {
                    writeln!(f, "  {r}")?;
                }
                Ok(())
            }
            Self::UnknownBank(code) => write!(
                f,
                "no acquired bank {code}: make it with --bank-name and --opens (YYYY-MM-DD)"
            ),
            Self::Store(e) => write!(f, "{e}"),
        }
    }
}

/// A legacy customer code: 1 to 32 letters, digits, `-`, `_`.
pub fn check_legacy_code(code: &str) -> Result<(), &'static str> {
    if !code.is_empty()
        && code.len() <= 32
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(())
    } else {
        Err("must be 1 to 32 letters, digits, - or _")
    }
}

/// An acquired bank's code: 2 to 16 lower-case letters and digits.
pub fn check_bank_code(code: &str) -> Result<(), &'static str> {
    if (2..=16).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
        Ok(())
    } else {
        Err("must be 2 to 16 lower-case letters and digits")
    }
}

/// Midnight UTC of a `YYYY-MM-DD` date, in unix seconds.
pub fn date_to_unix(text: &str) -> Result<i64, &'static str> {
    sca_protocol::Date::parse(text).map_err(|_| "must be a date, YYYY-MM-DD")?;
    let n = |r: std::ops::Range<usize>| text[r].parse::<i64>().unwrap_or(0);
    Ok(crate::cards::midnight_utc(n(0..4), n(5..7), n(8..10)))
}

/// A civil date `YYYY-MM-DD` of unix seconds (UTC).
pub fn civil_date(at: i64) -> String {
    let days = at.div_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Makes the acquired bank `code` (or updates its name and dates).
pub async fn upsert_bank(
    state: &crate::state::AppState,
    code: &str,
    name: &str,
    opens_at: i64,
    closes_at: Option<i64>,
) -> Result<i64, crate::error::AppError> {
    check_bank_code(code).map_err(|e| crate::error::AppError::bad_request("code", e))?;
    let name = crate::customers::check_name("name", name, 70)?;
    if closes_at.is_some_and(|c| c <= opens_at) {
        return Err(crate::error::AppError::bad_request(
            "closes_at",
            "must be after opens_at",
        ));
    }
    let (now, code) = (state.now(), code.to_owned());
    Ok(state
        .store()
        .write(move |w| {
            Box::pin(async move {
                let id = w.upsert_acquired_bank(now, &code, &name, opens_at, closes_at).await?;
                w.audit(now, "acquired_bank", "", &format!("{code} {name} opens_at={opens_at}"))
                    .await?;
                Ok(id)
            })
        })
        .await?)
}

/// Imports the checked `rows` as customers of the acquired bank `bank_code`, all or none, in one
/// commit: a row whose account is already another's is refused with the others. Rows whose
/// legacy code is imported already are left as they are.
pub async fn import(
    state: &crate::state::AppState,
    bank_code: &str,
    rows: Vec<LegacyRow>,
) -> Result<crate::storage::Imported, ImportError> {
    let (now, code) = (state.now(), bank_code.to_owned());
    state
        .store()
        .write(move |w| {
            Box::pin(async move {
                let Some(bank_id) = w.acquired_bank_id(&code).await? else {
                    return Ok(Err(ImportError::UnknownBank(code)));
                };
                let mut errors = Vec::new();
                for row in &rows {
                    let ibans: Vec<String> = row.accounts.iter().map(|a| a.iban.clone()).collect();
                    for iban in w.ibans_taken(bank_id, &row.legacy_code, &ibans).await? {
                        errors.push(RowError {
                            line: row.line,
                            field: "accounts".into(),
                            reason: format!("{iban} is already an account of another customer"),
                        });
                    }
                }
                if !errors.is_empty() {
                    return Ok(Err(ImportError::Rows(errors)));
                }
                let mut done = crate::storage::Imported::default();
                for row in &rows {
                    if w.insert_legacy(now, bank_id, row).await? {
                        done.added += 1;
                    } else {
                        done.unchanged += 1;
                    }
                }
                w.audit(
                    now,
                    "legacy_import",
                    "",
                    &format!("{code}: {} added, {} unchanged", done.added, done.unchanged),
                )
                .await?;
                Ok(Ok(done))
            })
        })
        .await
        .map_err(ImportError::Store)?
}

/// Reads `text` as `format` and imports it ([`parse`], then [`import`]).
pub async fn import_text(
    state: &crate::state::AppState,
    bank_code: &str,
    text: &str,
    format: Format,
) -> Result<crate::storage::Imported, ImportError> {
    let rows = parse(text, format).map_err(ImportError::Rows)?;
    import(state, bank_code, rows).await
}

/// A demo customer of an acquired bank, as `--demo` prints it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct LegacyDemo {
    /// The acquired bank's code.
    pub bank: String,
    /// Its name.
    pub bank_name: String,
    /// The customer code at the old bank.
    pub legacy_code: String,
    /// The password at the old bank.
    pub password: String,
    /// The mobile the old bank certified (read its SMS at /dev/outbox?to=…).
    pub phone: String,
    /// E-mail.
    pub email: String,
    /// `app` | `card`.
    pub auth: String,
}

/// Seeds the demo's two acquired banks, open since a month, with one customer each: one who
/// used an app (their old password kept as pbkdf2-sha256) and one who used a code card (bcrypt).
/// A bank or a customer already there is left as it is.
pub async fn seed_demo(state: &crate::state::AppState) -> Result<Vec<LegacyDemo>, crate::error::AppError> {
    use crate::error::AppError;
    let opens = (state.now() as i64).div_euclid(86_400) * 86_400 - 30 * 86_400;
    let demos = [
        (
            "ubi",
            "UBI Banca",
            "U1234567",
            "ubi12345",
            "Giulia Verdi",
            "+393330000002",
            "giulia.verdi@example.invalid",
            AuthMethod::App,
            "X0311101600000000012345",
            320_000,
        ),
        (
            "carige",
            "Banca Carige",
            "C7654321",
            "carige2020",
            "Luca Neri",
            "+393330000003",
            "luca.neri@example.invalid",
            AuthMethod::Card,
            "X0617501400000000067890",
            85_000,
        ),
    ];
    let mut out = Vec::new();
    for (bank, bank_name, code, password, name, phone, email, auth, bban, balance) in demos {
        if state.store().acquired_bank(bank).await?.is_none() {
            upsert_bank(state, bank, bank_name, opens, None).await?;
        }
        if state.store().legacy_customer(bank, code).await?.is_none() {
            let password_hash = match auth {
                AuthMethod::App => {
                    use password_hash::PasswordHasher as _;
                    // Digits are of the PHC salt alphabet (B64 without `-` and `_`).
                    let salt = crate::crypto::random::digits(&state.0.rng, 16).map_err(AppError::internal)?;
                    let salt = password_hash::SaltString::from_b64(&salt).map_err(AppError::internal)?;
                    pbkdf2::Pbkdf2
                        .hash_password(password.as_bytes(), &salt)
                        .map_err(AppError::internal)?
                        .to_string()
                }
                AuthMethod::Card => bcrypt::hash(password, 10).map_err(AppError::internal)?,
            };
            let row = LegacyRow {
                line: 1,
                legacy_code: code.into(),
                password_hash,
                name: name.into(),
                phone: phone.into(),
                email: email.into(),
                accounts: vec![LegacyAccount {
                    iban: crate::customers::it_iban(bban)?.to_string(),
                    name: "Conto corrente".into(),
                    balance_minor: balance,
                    currency: "EUR".into(),
                }],
                auth,
            };
            import(state, bank, vec![row])
                .await
                .map_err(|e| AppError::internal(e.to_string()))?;
        }
        out.push(LegacyDemo {
            bank: bank.into(),
            bank_name: bank_name.into(),
            legacy_code: code.into(),
            password: password.into(),
            phone: phone.into(),
            email: email.into(),
            auth: auth.as_str().into(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {

    #[test]
    fn civil_dates_and_back() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(951_782_400), "2000-02-29");
        for d in ["2027-02-22", "2026-11-28", "2024-12-31"] {
            assert_eq!(civil_date(date_to_unix(d).unwrap()), d);
        }
    }

    use super::*;

    const ARGON2: &str =
        "$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$HVJ2sOLX5p7Oej2wUuF9MV6KZ7n3sT8W5XfUa0qNqb0";

    fn csv_of(rows: &[&str]) -> String {
        let mut s = CSV_HEADER.join(",");
        for r in rows {
            s.push('\n');
            s.push_str(r);
        }
        s
    }

    #[test]
    fn a_good_csv_row_is_read_with_its_accounts() {
        let text = csv_of(&[&format!(
            "UBI-001,\"{ARGON2}\",Anna Rossi,+39 333 111 2222,anna@example.it,IT60X0542811101000000123456=1250.00;IT33X0542811101000000123457=-10.50,card"
        )]);
        let rows = parse(&text, Format::Csv).unwrap();
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(
            (r.line, r.legacy_code.as_str(), r.phone.as_str(), r.auth),
            (2, "UBI-001", "+393331112222", AuthMethod::Card)
        );
        assert_eq!(r.accounts[0].balance_minor, 125_000);
        assert_eq!(r.accounts[1].balance_minor, -1_050);
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line_and_field() {
        let text = csv_of(&[
            &format!(
                "UBI-001,\"{ARGON2}\",Anna Rossi,+393331112222,anna@example.it,IT60X0542811101000000123456=1.00,app"
            ),
            "UBI-002,plaintext,Bruno,+393331112223,bruno@example.it,IT06X0542811101000000123458=1.00,app",
            &format!("UBI-003,\"{ARGON2}\",Carla,12345,carla@example.it,IT60X0542811101000000123456=1.00,sms"),
            &format!("UBI-001,\"{ARGON2}\",Dario,+393331112225,dario@example.it,IT33X0542811101000000123457=1,app"),
        ]);
        let errors = parse(&text, Format::Csv).unwrap_err();
        let got: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(
            got,
            [
                (3, "password_hash"),
                (4, "phone"),
                (4, "auth"),
                (4, "accounts"),
                (5, "accounts"),
                (5, "legacy_code"),
            ],
            "{errors:?}"
        );
        assert!(
            errors.iter().all(|e| !e.reason.contains("plaintext")),
            "a reason repeats a value"
        );
    }

    #[test]
    fn json_rows_are_checked_the_same_way() {
        let text = format!(
            r#"[{{"legacy_code":"B-1","password_hash":"{ARGON2}","name":"Eva","phone":"+393331110000","email":"eva@example.it",
               "accounts":[{{"iban":"IT60X0542811101000000123456","balance":"10.00","name":"Conto Eva"}}],"auth":"app"}},
              {{"legacy_code":"B-2","name":"Franco"}}]"#
        );
        let errors = parse(&text, Format::Json).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 2);
        let ok = text.replacen(
            r#",
              {"legacy_code":"B-2","name":"Franco"}"#,
            "",
            1,
        );
        let rows = parse(&ok, Format::Json).unwrap();
        assert_eq!(rows[0].accounts[0].name, "Conto Eva");
    }

    #[test]
    fn dates_are_midnight_utc() {
        assert_eq!(date_to_unix("1970-01-01"), Ok(0));
        assert_eq!(date_to_unix("2027-01-01"), Ok(1_798_761_600));
        assert_eq!(date_to_unix("2024-03-01"), Ok(1_709_251_200));
        assert!(date_to_unix("2027-02-30").is_err());
    }

    #[test]
    fn an_unquoted_phc_string_is_said_to_need_quotes() {
        let errors = parse(
            &csv_of(&[&format!(
                "U-1,{ARGON2},A,+393331110000,a@example.it,IT60X0542811101000000123456=1.00,app"
            )]),
            Format::Csv,
        )
        .unwrap_err();
        assert_eq!((errors[0].line, errors[0].field.as_str()), (2, "row"));
        assert!(errors[0].reason.contains("double quotes"), "{errors:?}");
    }

    #[test]
    fn a_wrong_header_is_said_once() {
        let errors = parse("code,hash\nx,y", Format::Csv).unwrap_err();
        assert_eq!((errors.len(), errors[0].field.as_str()), (1, "header"));
    }
}
