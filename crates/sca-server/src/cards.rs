//! Payment cards (issue 14): the rules for a card number (PAN), its expiry, kind and brand, and
//! how a card is shown. The full PAN is read once, when the branch registers a card: it is kept
//! only as a keyed digest (to find the card when a merchant's 3-D Secure server names it) and its
//! last four digits. No answer, log line or page ever carries it; [`Pan`]'s `Debug` is redacted.

use zeroize::Zeroizing;

use crate::error::{ApiResult, AppError};

/// A card number: 13 to 19 digits (spaces allowed between), the Luhn check digit right, of a
/// brand this bank issues.
pub struct Pan {
    digits: Zeroizing<String>,
    brand: Brand,
}

impl std::fmt::Debug for Pan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pan({})", self.masked())
    }
}

impl Pan {
    /// Parses a PAN; the error names what is wrong, never the number.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let digits: Zeroizing<String> = Zeroizing::new(text.chars().filter(|c| *c != ' ').collect());
        if !(13..=19).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must be 13 to 19 digits");
        }
        if !luhn(&digits) {
            return Err("the check digit is wrong");
        }
        let brand = Brand::of(&digits).ok_or("not a Visa or Mastercard number")?;
        Ok(Self { digits, brand })
    }

    /// The digits.
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// The brand, from the first digits.
    pub fn brand(&self) -> Brand {
        self.brand
    }

    /// The last four digits.
    pub fn last4(&self) -> &str {
        &self.digits[self.digits.len() - 4..]
    }

    /// `**** 1234`.
    pub fn masked(&self) -> String {
        masked(self.last4())
    }
}

/// `**** 1234`: how a card is named everywhere.
pub fn masked(last4: &str) -> String {
    format!("**** {last4}")
}

/// The Luhn check digit to append to `body`.
fn luhn_digit(body: &str) -> char {
    (b'0'..=b'9')
        .map(char::from)
        .find(|d| luhn(&format!("{body}{d}")))
        .unwrap_or('0')
}

/// The two test cards of a sandbox customer, derived from the user code so that a developer can
/// type them at a shop without the server ever showing a card number: a Visa debit card
/// `499999 <user code> 1 <check digit>` and a Mastercard credit card
/// `559999 <user code> 2 <check digit>` (16 digits each; test ranges, sandbox only).
pub fn sandbox_pans(user_code: &str) -> Result<[(CardKind, Pan); 2], &'static str> {
    let make = |prefix: &str, kind_digit: char| {
        let body = format!("{prefix}{user_code}{kind_digit}");
        Pan::parse(&format!("{body}{}", luhn_digit(&body)))
    };
    Ok([
        (CardKind::Debit, make("499999", '1')?),
        (CardKind::Credit, make("559999", '2')?),
    ])
}

/// The Luhn (mod 10) check over every digit, the check digit last.
fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The card schemes this bank issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Brand {
    /// Visa (Visa Secure).
    Visa,
    /// Mastercard (Mastercard Identity Check).
    Mastercard,
}
crate::storage::db::text_column!(Brand { Visa => "visa", Mastercard => "mastercard" });

impl Brand {
    /// Visa: 4…; Mastercard: 51–55 and 2221–2720.
    fn of(digits: &str) -> Option<Self> {
        let two: u32 = digits[..2].parse().ok()?;
        let four: u32 = digits[..4].parse().ok()?;
        if digits.starts_with('4') {
            Some(Self::Visa)
        } else if (51..=55).contains(&two) || (2221..=2720).contains(&four) {
            Some(Self::Mastercard)
        } else {
            None
        }
    }
}

/// Debit, credit or prepaid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardKind {
    /// Charges the account at once.
    Debit,
    /// Charges the account monthly, within a limit.
    Credit,
    /// Spends what was loaded on it (here: the account it is linked to).
    Prepaid,
}
crate::storage::db::text_column!(CardKind { Debit => "debit", Credit => "credit", Prepaid => "prepaid" });

/// The last month a card is valid in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    /// 1–12.
    pub month: u32,
    /// Four digits.
    pub year: i32,
}

impl Expiry {
    /// `MM/YY`, as printed on the card; not before the month of `now` (unix seconds).
    pub fn parse(text: &str, now: u64) -> Result<Self, &'static str> {
        let (mm, yy) = text.trim().split_once('/').ok_or("must be MM/YY")?;
        if mm.len() != 2 || yy.len() != 2 || !(mm.bytes().chain(yy.bytes())).all(|b| b.is_ascii_digit()) {
            return Err("must be MM/YY");
        }
        let month: u32 = mm.parse().map_err(|_| "must be MM/YY")?;
        let year = 2000 + yy.parse::<i32>().map_err(|_| "must be MM/YY")?;
        if !(1..=12).contains(&month) {
            return Err("the month must be 01 to 12");
        }
        let expiry = Self { month, year };
        if expiry.is_past(now) {
            return Err("the card has expired");
        }
        Ok(expiry)
    }

    /// As stored (month and year columns).
    pub fn from_row(month: i64, year: i64) -> Self {
        Self {
            month: u32::try_from(month).unwrap_or(0),
            year: i32::try_from(year).unwrap_or(0),
        }
    }

    /// The month of `now`, `years` later: a new card's expiry.
    pub fn years_after(now: u64, years: i32) -> Self {
        let (year, month) = year_month(now);
        Self {
            month,
            year: year + years,
        }
    }

    /// Whether the card's last month is over at `now`.
    pub fn is_past(&self, now: u64) -> bool {
        (self.year, self.month) < year_month(now)
    }

    /// `MM/YY`.
    pub fn text(&self) -> String {
        format!("{:02}/{:02}", self.month, self.year % 100)
    }
}

/// The (year, month) of unix seconds, UTC (H. Hinnant's `civil_from_days`).
fn year_month(unix: u64) -> (i32, u32) {
    let z = (unix / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (year, month)
}

/// The first second (UTC) of the month of `unix`: where a credit card's month of spending starts.
pub fn month_start(unix: u64) -> u64 {
    let (year, month) = year_month(unix);
    u64::try_from(midnight_utc(i64::from(year), i64::from(month), 1)).unwrap_or(0)
}

/// Midnight UTC of a calendar day, in unix seconds (H. Hinnant's `days_from_civil`).
pub fn midnight_utc(year: i64, month: i64, day: i64) -> i64 {
    let y = year - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400
}

/// A card to issue for `pan`: a new public id, the PAN's keyed digest and last four digits,
/// and nothing else of the PAN.
pub fn new_card(
    state: &crate::state::AppState,
    pan: &Pan,
    kind: CardKind,
    expiry: Expiry,
    limit_minor: Option<i64>,
    secure_phone: &str,
) -> ApiResult<crate::storage::NewCard> {
    Ok(crate::storage::NewCard {
        card_id: crate::crypto::random::b64u(&state.0.rng, 9).map_err(AppError::internal)?,
        kind,
        brand: pan.brand(),
        pan_digest: state.0.secrets.pan_digest(pan.digits()),
        last4: pan.last4().to_owned(),
        expiry,
        limit_minor,
        secure_phone: secure_phone.to_owned(),
    })
}

/// The customer's 3-D Secure phone, or the certified one when none is given.
pub fn check_secure_phone(phone: Option<&str>, certified: &str) -> ApiResult<String> {
    match phone {
        None => Ok(certified.to_owned()),
        Some(p) => crate::customers::check_phone(p)
            .map_err(|_| AppError::bad_request("secure_phone", "must be in E.164 form, like +393331234567")),
    }
}

/// A Key6 as the customer chooses it: 6 digits under the PIN's weak-code rules
/// (`sca_protocol::secret_digits`). Zeroized on drop; `Debug` prints no digit.
pub struct Key6(zeroize::Zeroizing<[u8; 6]>);

impl Key6 {
    /// Checks a new Key6; the error says why, never the digits.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        use sca_protocol::PinError as E;
        sca_protocol::secret_digits::<6>(text).map(Self).map_err(|e| match e {
            E::Length => "must be exactly 6 digits",
            E::NotDigit => "must contain digits only",
            E::AllEqual => "must not repeat one digit",
            E::Straight => "must not be a sequence of consecutive digits",
            _ => "is not accepted",
        })
    }
}

impl std::fmt::Debug for Key6 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key6(******)")
    }
}

/// The associated data a card's Key6 is sealed under: a sealed Key6 opens for its card only.
fn key6_aad(card_id: &str) -> String {
    format!("key6:{card_id}")
}

/// A Key6 sealed for a card (AES-256-GCM under the secrets key, as device secrets are).
pub fn seal_key6(state: &crate::state::AppState, card_id: &str, key6: &Key6) -> ApiResult<Vec<u8>> {
    state
        .0
        .secrets
        .seal(&key6_aad(card_id), &key6.0[..])
        .map_err(AppError::internal)
}

/// A card's Key6, opened.
pub fn open_key6(
    secrets: &crate::crypto::SecretBox,
    card_id: &str,
    sealed: &[u8],
) -> Result<zeroize::Zeroizing<Vec<u8>>, crate::crypto::CryptoError> {
    secrets.open(&key6_aad(card_id), sealed)
}

/// Whether a typed Key6 is the card's: compared in constant time, whatever was typed.
pub fn key6_matches(secrets: &crate::crypto::SecretBox, card_id: &str, sealed: &[u8], typed: &str) -> bool {
    open_key6(secrets, card_id, sealed).is_ok_and(|k| sca_protocol::constant_time_eq(&k, typed.trim().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAN_2027: u64 = 1_798_761_600; // 2027-01-01

    #[test]
    fn pans_are_checked_by_length_luhn_and_brand() {
        let visa = Pan::parse("4111 1111 1111 1111").unwrap();
        assert_eq!((visa.brand(), visa.masked().as_str()), (Brand::Visa, "**** 1111"));
        assert_eq!(Pan::parse("5555555555554444").unwrap().brand(), Brand::Mastercard);
        assert_eq!(Pan::parse("2223000048400011").unwrap().brand(), Brand::Mastercard);
        assert_eq!(Pan::parse("4111111111111112").unwrap_err(), "the check digit is wrong");
        assert_eq!(
            Pan::parse("378282246310005").unwrap_err(),
            "not a Visa or Mastercard number"
        );
        assert_eq!(Pan::parse("41111111111").unwrap_err(), "must be 13 to 19 digits");
        assert_eq!(
            Pan::parse("4111-1111-1111-1111").unwrap_err(),
            "must be 13 to 19 digits"
        );
        assert!(!format!("{visa:?}").contains("41111111"));
    }

    #[test]
    fn sandbox_cards_follow_from_the_user_code() {
        let [(debit, visa), (credit, mc)] = sandbox_pans("12345678").unwrap();
        assert_eq!(
            (debit, visa.brand(), visa.digits().len()),
            (CardKind::Debit, Brand::Visa, 16)
        );
        assert_eq!((credit, mc.brand()), (CardKind::Credit, Brand::Mastercard));
        assert!(visa.digits().starts_with("499999123456781"));
        assert!(mc.digits().starts_with("559999123456782"));
        assert_eq!(Expiry::years_after(JAN_2027, 3), Expiry { month: 1, year: 2030 });
    }

    #[test]
    fn months_of_unix_seconds() {
        assert_eq!(year_month(0), (1970, 1));
        assert_eq!(year_month(JAN_2027), (2027, 1));
        assert_eq!(year_month(JAN_2027 - 1), (2026, 12));
        assert_eq!(year_month(951_782_400), (2000, 2)); // 2000-02-29
        assert_eq!(year_month(951_868_800), (2000, 3));
    }

    #[test]
    fn an_expiry_is_mm_yy_and_valid_through_its_month() {
        assert_eq!(Expiry::parse("01/27", JAN_2027).unwrap().text(), "01/27");
        assert_eq!(Expiry::parse("12/26", JAN_2027).unwrap_err(), "the card has expired");
        assert_eq!(
            Expiry::parse("13/29", JAN_2027).unwrap_err(),
            "the month must be 01 to 12"
        );
        assert_eq!(Expiry::parse("1/29", JAN_2027).unwrap_err(), "must be MM/YY");
        assert_eq!(Expiry::parse("0129", JAN_2027).unwrap_err(), "must be MM/YY");
    }

    #[test]
    fn a_month_starts_on_its_first_day_at_midnight_utc() {
        assert_eq!(month_start(JAN_2027), JAN_2027);
        assert_eq!(month_start(JAN_2027 + 20 * 86_400 + 3_600), JAN_2027);
        assert_eq!(month_start(JAN_2027 - 1), JAN_2027 - 31 * 86_400, "December 2026");
        assert_eq!(
            month_start(1_709_251_200 + 86_399),
            1_709_251_200,
            "1 March 2024, after a 29 February"
        );
    }

    #[test]
    fn key6_follows_the_pins_weak_code_rules_for_six_digits() {
        assert!(Key6::parse("583920").is_ok());
        assert_eq!(Key6::parse("58392").unwrap_err(), "must be exactly 6 digits");
        assert_eq!(Key6::parse("58392a").unwrap_err(), "must contain digits only");
        assert_eq!(Key6::parse("777777").unwrap_err(), "must not repeat one digit");
        assert_eq!(
            Key6::parse("234567").unwrap_err(),
            "must not be a sequence of consecutive digits"
        );
        assert_eq!(
            Key6::parse("987654").unwrap_err(),
            "must not be a sequence of consecutive digits"
        );
        assert_eq!(format!("{:?}", Key6::parse("583920").unwrap()), "Key6(******)");
    }
}
