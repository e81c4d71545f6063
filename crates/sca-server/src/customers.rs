//! Customers and their credentials: creation (user code with check digit, argon2id password and
//! security code), contact checks, aliases, unblocking, sandbox accounts and the demo customer.

use sca_protocol::{Iban, UserCode};
use zeroize::Zeroizing;

use crate::crypto::random;
use crate::error::{ApiResult, AppError, ErrorKind};
use crate::state::AppState;
use crate::storage::Customer;
use crate::storage::writer::{CustomerConflict, NewCustomer};

/// What the branch (or the demo seeding) gives.
#[derive(Debug)]
pub(crate) struct NewCustomerInput {
    pub name: String,
    pub phone: String,
    pub email: String,
    pub alias: Option<String>,
    /// A chosen password (demo); `None` draws 8 random digits, which the customer must change
    /// before any banking call.
    pub password: Option<String>,
}

/// The credentials made, shown once.
#[derive(Debug)]
pub(crate) struct CreatedCredentials {
    pub customer_id: i64,
    pub user_code: String,
    pub password: Zeroizing<String>,
    pub security_code: Zeroizing<String>,
}

/// A name: 1–70 characters, no control characters.
pub(crate) fn check_name(field: &str, name: &str, max: usize) -> ApiResult<String> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(AppError::bad_request(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(AppError::bad_request(field, format!("at most {max} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(AppError::bad_request(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

/// E.164: `+` then 8 to 15 digits, the first not 0.
pub(crate) fn check_phone(phone: &str) -> ApiResult<String> {
    let compact: String = phone.chars().filter(|c| !c.is_whitespace()).collect();
    let digits = compact.strip_prefix('+').unwrap_or("");
    if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
        return Err(AppError::bad_request(
            "phone",
            "must be in E.164 form, like +393331234567",
        ));
    }
    Ok(compact)
}

/// A phone as shown to whoever has not proven it: the country prefix and the last `keep`
/// digits (`+39*******567` with 3).
pub(crate) fn masked_phone(phone: &str, keep: usize) -> String {
    let keep = keep.min(phone.len());
    let (head, tail) = phone.split_at(phone.len() - keep);
    let prefix: String = head.chars().take(3).collect();
    format!("{prefix}{}{tail}", "*".repeat(head.chars().count().saturating_sub(3)))
}

/// An e-mail address as shown to whoever has not proven it: `g***@example.com`.
pub(crate) fn masked_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

/// A plausible e-mail address: `local@domain.tld`, no spaces, at most 254 characters.
pub(crate) fn check_email(email: &str) -> ApiResult<String> {
    let email = email.trim();
    let ok = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if !ok {
        return Err(AppError::bad_request("email", "must be an e-mail address"));
    }
    Ok(email.to_owned())
}

/// An alias: 3–32 of ASCII letters, digits, `.`, `_`, `-`, starting with a letter; stored lower
/// case (unique ignoring case). Never 8 digits, so it cannot shadow a user code.
pub(crate) fn check_alias(alias: &str) -> ApiResult<String> {
    let ok = (3..=32).contains(&alias.len())
        && alias.starts_with(|c: char| c.is_ascii_alphabetic())
        && alias
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !ok {
        return Err(AppError::bad_request(
            "alias",
            "3 to 32 letters, digits, '.', '_' or '-', starting with a letter",
        ));
    }
    Ok(alias.to_ascii_lowercase())
}

/// A password: 8 to 32 digits, not one digit repeated, not a straight run up or down (the
/// weak-code rules of every secret of digits, `sca_protocol::weak_digits`).
pub(crate) fn check_new_password(field: &str, password: &str) -> ApiResult<()> {
    let b = password.as_bytes();
    if !(8..=32).contains(&b.len()) || !b.iter().all(u8::is_ascii_digit) {
        return Err(AppError::bad_request(field, "a password is 8 to 32 digits"));
    }
    match sca_protocol::weak_digits(b) {
        Some(sca_protocol::PinError::AllEqual) => {
            Err(AppError::bad_request(field, "a password must not repeat one digit"))
        }
        Some(_) => Err(AppError::bad_request(
            field,
            "a password must not be a straight run of digits like 12345678",
        )),
        None => Ok(()),
    }
}

/// A valid Italian IBAN for a new account: `IT`, check digits, CIN, ABI 03069 (a demo bank
/// code), CAB 09606 and 12 random digits.
pub(crate) fn new_iban(state: &AppState) -> ApiResult<Iban> {
    let account = random::digits(&state.0.rng, 12).map_err(AppError::internal)?;
    let cin = char::from(b'A' + random::below(&state.0.rng, 26).map_err(AppError::internal)? as u8);
    it_iban(&format!("{cin}0306909606{}", account.as_str()))
}

/// The Italian IBAN of `bban` (CIN, ABI, CAB, account): its check digits computed.
pub(crate) fn it_iban(bban: &str) -> ApiResult<Iban> {
    // ISO 13616: move "IT00" to the end, letters as 10–35, check = 98 − (n mod 97).
    let rearranged = format!("{bban}IT00");
    let rem = rearranged.bytes().fold(0u32, |acc, c| {
        if c.is_ascii_digit() {
            (acc * 10 + u32::from(c - b'0')) % 97
        } else {
            (acc * 100 + u32::from(c - b'A') + 10) % 97
        }
    });
    let iban = format!("IT{:02}{bban}", 98 - rem);
    Iban::parse(&iban).map_err(|e| AppError::internal(format!("generated IBAN {iban}: {e}")))
}

/// The two test cards of a sandbox customer (`cards::sandbox_pans`), valid for 3 years; the
/// credit card's limit is 1 500.00.
fn sandbox_cards(state: &AppState, user_code: &str, phone: &str, now: u64) -> ApiResult<Vec<crate::storage::NewCard>> {
    let pans = crate::cards::sandbox_pans(user_code).map_err(AppError::internal)?;
    pans.iter()
        .map(|(kind, pan)| {
            let limit = (*kind == crate::cards::CardKind::Credit).then_some(150_000);
            crate::cards::new_card(
                state,
                pan,
                *kind,
                crate::cards::Expiry::years_after(now, 3),
                limit,
                phone,
            )
        })
        .collect()
}

/// Creates a customer; in sandbox mode also a current account holding 10 000.00 EUR, with a
/// debit and a credit card (`cards::sandbox_pans`).
pub(crate) async fn create(state: &AppState, input: NewCustomerInput) -> ApiResult<CreatedCredentials> {
    let name = check_name("name", &input.name, 70)?;
    let phone = check_phone(&input.phone)?;
    let email = check_email(&input.email)?;
    let alias = input.alias.as_deref().map(check_alias).transpose()?;
    // A password the bank drew was seen by the branch (and printed): the customer must replace it
    // before banking. The demo customer's chosen password is published in the README instead.
    let password_change_required = input.password.is_none();
    let password = match input.password {
        Some(p) => {
            check_new_password("password", &p)?;
            Zeroizing::new(p)
        }
        None => loop {
            let p = random::digits(&state.0.rng, 8).map_err(AppError::internal)?;
            if check_new_password("password", &p).is_ok() {
                break p;
            }
        },
    };
    let security_code = random::security_code(&state.0.rng).map_err(AppError::internal)?;
    let (p, s) = (password.clone(), security_code.clone());
    let (password_hash, security_code_hash) = state
        .hashing(move |h| Ok::<_, crate::crypto::CryptoError>((h.hash(&p)?, h.hash(&s)?)))
        .await?
        .map_err(AppError::internal)?;
    let sandbox = state.config().sandbox;
    for _ in 0..8 {
        let user_code = UserCode::random(&state.0.rng)?.to_string();
        let iban = if sandbox {
            Some(new_iban(state)?.to_string())
        } else {
            None
        };
        let new = NewCustomer {
            user_code: user_code.clone(),
            alias: alias.clone(),
            name: name.clone(),
            phone: phone.clone(),
            email: email.clone(),
            password_hash: password_hash.clone(),
            security_code_hash: security_code_hash.clone(),
            password_change_required,
            sca_policy: "push",
            first_access_pending: false,
        };
        let now = state.now();
        let cards = if sandbox {
            sandbox_cards(state, &user_code, &phone, now)?
        } else {
            Vec::new()
        };
        let result = state
            .store()
            .write(move |w| {
                Box::pin(async move {
                    let id = match w.insert_customer(now, &new).await? {
                        Ok(id) => id,
                        Err(conflict) => return Ok(Err(conflict)),
                    };
                    if let Some(iban) = &iban {
                        let Some(account_id) = w
                            .insert_account(now, id, iban, "Conto corrente", 1_000_000, "EUR")
                            .await?
                        else {
                            // A drawn IBAN collided: roll back and draw again.
                            return Err(crate::storage::StoreError::Corrupt("iban collision".into()));
                        };
                        for card in &cards {
                            if w.insert_card(now, id, account_id, card).await?.is_none() {
                                return Err(crate::storage::StoreError::Corrupt("card id collision".into()));
                            }
                        }
                    }
                    w.audit(now, "customer_created", &new.user_code, "").await?;
                    Ok(Ok(id))
                })
            })
            .await;
        match result {
            Ok(Ok(customer_id)) => {
                return Ok(CreatedCredentials {
                    customer_id,
                    user_code,
                    password,
                    security_code,
                });
            }
            Ok(Err(CustomerConflict::Alias)) => {
                return Err(AppError::new(ErrorKind::Conflict, "alias: already taken").with_field("alias"));
            }
            Ok(Err(CustomerConflict::UserCode)) | Err(crate::storage::StoreError::Corrupt(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::internal("no free user code after 8 draws"))
}

/// Unblocks every credential of `customer` and ends every web session of the customer (any one
/// still open was opened before, possibly by whoever caused the block), in one write audited with
/// `by` (`branch`).
pub(crate) async fn unblock(state: &AppState, customer: &Customer, by: &'static str) -> ApiResult<()> {
    let now = state.now();
    let (cid, user_code) = (customer.id, customer.user_code.clone());
    state
        .store()
        .write(move |w| {
            Box::pin(async move {
                w.unblock_all(now, cid).await?;
                w.end_customer_sessions(cid, None).await?;
                w.audit(now, "unblocked", &user_code, by).await
            })
        })
        .await?;
    Ok(())
}

/// The demo customer's credentials, as printed and kept in `demo-credentials.json`.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct DemoCredentials {
    /// User code.
    pub user_code: String,
    /// Alias.
    pub alias: String,
    /// Password.
    pub password: String,
    /// Security code.
    pub security_code: String,
    /// Certified phone (read its SMS at /dev/outbox?to=…).
    pub phone: String,
    /// E-mail.
    pub email: String,
    /// One customer of each of the demo's two acquired banks, for their first access.
    #[serde(default)]
    pub legacy: Vec<crate::legacy::LegacyDemo>,
}

/// Seeds the demo customer (once per data directory): a current account, a savings account, a
/// few months of movements. Returns the credentials (read back from the data directory after the
/// first time).
pub async fn seed_demo(state: &AppState) -> Result<DemoCredentials, AppError> {
    let path = state.config().data_dir.join("demo-credentials.json");
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Ok(creds) = serde_json::from_str::<DemoCredentials>(&text)
        && state.store().customer_by_user(&creds.user_code).await?.is_some()
    {
        let mut creds = creds;
        creds.legacy = crate::legacy::seed_demo(state).await?;
        return Ok(creds);
    }
    let phone = "+393330000001".to_owned();
    let email = "mario.rossi@example.invalid".to_owned();
    let created = create(
        state,
        NewCustomerInput {
            name: "Mario Rossi".into(),
            phone: phone.clone(),
            email: email.clone(),
            alias: Some("demo".into()),
            password: Some("24681357".into()),
        },
    )
    .await?;
    let savings = new_iban(state)?.to_string();
    let now = state.now();
    let cid = created.customer_id;
    let movements: Vec<(i64, &'static str, &'static str, u64)> = vec![
        (250_000, "ACME S.p.A.", "Stipendio ottobre", 40),
        (-85_000, "Immobiliare Verdi", "Affitto ottobre", 38),
        (-6_240, "Enel Energia", "Bolletta luce", 30),
        (-3_590, "Supermercato Sole", "Spesa", 21),
        (250_000, "ACME S.p.A.", "Stipendio novembre", 10),
        (-85_000, "Immobiliare Verdi", "Affitto novembre", 8),
    ];
    state
        .store()
        .write(move |w| {
            Box::pin(async move {
                let accounts = sqlx_free_first_account(w, cid).await?;
                for (amount, who, what, days_ago) in movements {
                    w.insert_movement(now.saturating_sub(days_ago * 86_400), accounts, amount, who, what, None)
                        .await?;
                }
                if let Some(sav) = w
                    .insert_account(now, cid, &savings, "Conto deposito", 2_500_000, "EUR")
                    .await?
                {
                    w.insert_movement(
                        now.saturating_sub(60 * 86_400),
                        sav,
                        2_500_000,
                        "Mario Rossi",
                        "Apertura",
                        None,
                    )
                    .await?;
                }
                w.audit(now, "demo_seeded", "", "").await
            })
        })
        .await?;
    let creds = DemoCredentials {
        user_code: created.user_code,
        alias: "demo".into(),
        password: created.password.to_string(),
        security_code: created.security_code.to_string(),
        phone,
        email,
        legacy: crate::legacy::seed_demo(state).await?,
    };
    let text = serde_json::to_string_pretty(&creds).map_err(AppError::internal)?;
    write_private_text(&path, &text).map_err(AppError::internal)?;
    Ok(creds)
}

async fn sqlx_free_first_account(
    w: &mut crate::storage::WriteCtx,
    customer_id: i64,
) -> Result<i64, crate::storage::StoreError> {
    w.first_account(customer_id).await
}

fn write_private_text(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_checks() {
        assert!(check_phone("+39 333 123 4567").is_ok());
        assert!(check_phone("3331234567").is_err());
        assert!(check_phone("+0123456789").is_err());
        assert!(check_email("a@b.it").is_ok());
        assert!(check_email("a@b").is_err());
        assert!(check_email("a b@c.it").is_err());
        assert_eq!(check_alias("Mario.Rossi").unwrap(), "mario.rossi");
        assert!(check_alias("12345678").is_err());
        assert!(check_new_password("p", "12345678").is_err());
        assert!(check_new_password("p", "9876543210").is_err());
        assert!(check_new_password("p", "12345679").is_ok());
        assert!(check_new_password("p", "11111111").is_err());
        assert!(check_new_password("p", "1234567").is_err());
        assert!(check_new_password("p", "1234567a").is_err());
    }
}
