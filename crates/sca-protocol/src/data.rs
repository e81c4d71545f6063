//! Canonical operation data (docs/spec/sca1.md §6.2): the typed fields and their one text form
//! `K:value*K:value…`, sorted by key, with `\\`, `\*` and `\n` escapes.

use std::fmt;

use crate::error::{AmountError, DataError, DateError, FieldError, IbanError, TextError};

/// An amount: minor units (two fraction digits) and an ISO 4217-form currency.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Amount {
    minor: u64,
    currency: [u8; 3],
}

impl Amount {
    /// At most this many integer digits (far above any bank limit; keeps arithmetic in `u64`).
    pub const MAX_INTEGER_DIGITS: usize = 15;

    /// From minor units (cents) and a currency.
    pub fn new(minor: u64, currency: &str) -> Result<Self, AmountError> {
        if minor / 100 >= 10u64.pow(Self::MAX_INTEGER_DIGITS as u32) {
            return Err(AmountError::TooLarge);
        }
        Ok(Self {
            minor,
            currency: parse_currency(currency)?,
        })
    }

    /// The protocol form, `1250.00EUR`.
    pub fn parse(text: &str) -> Result<Self, AmountError> {
        let split = text
            .len()
            .checked_sub(3)
            .filter(|&i| text.is_char_boundary(i))
            .ok_or(AmountError::Form)?;
        let (number, currency) = text.split_at(split);
        if currency.bytes().any(|b| b.is_ascii_digit() || b == b'.') {
            return Err(AmountError::Form);
        }
        let currency = parse_currency(currency)?;
        Ok(Self {
            minor: parse_decimal(number)?,
            currency,
        })
    }

    /// The API's decimal string (`"12.50"`) and a separate currency (`"EUR"`).
    pub fn from_decimal(number: &str, currency: &str) -> Result<Self, AmountError> {
        Ok(Self {
            minor: parse_decimal(number)?,
            currency: parse_currency(currency)?,
        })
    }

    /// Minor units (cents).
    pub fn minor_units(&self) -> u64 {
        self.minor
    }

    /// The currency code.
    pub fn currency(&self) -> &str {
        std::str::from_utf8(&self.currency).unwrap_or_default()
    }

    /// The decimal part alone, `1250.00`.
    pub fn decimal(&self) -> String {
        format!("{}.{:02}", self.minor / 100, self.minor % 100)
    }
}

fn parse_currency(text: &str) -> Result<[u8; 3], AmountError> {
    let bytes: [u8; 3] = text.as_bytes().try_into().map_err(|_| AmountError::Currency)?;
    if !bytes.iter().all(u8::is_ascii_uppercase) {
        return Err(AmountError::Currency);
    }
    Ok(bytes)
}

fn parse_decimal(number: &str) -> Result<u64, AmountError> {
    let (int, frac) = number.split_once('.').ok_or(AmountError::Form)?;
    if int.is_empty() || frac.len() != 2 || !(int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())) {
        return Err(AmountError::Form);
    }
    if int.len() > 1 && int.starts_with('0') {
        return Err(AmountError::LeadingZero);
    }
    if int.len() > Amount::MAX_INTEGER_DIGITS {
        return Err(AmountError::TooLarge);
    }
    let int: u64 = int.parse().map_err(|_| AmountError::TooLarge)?;
    let frac: u64 = frac.parse().map_err(|_| AmountError::Form)?;
    Ok(int * 100 + frac)
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.decimal(), self.currency())
    }
}

/// An IBAN in its electronic form: no spaces, upper case, mod-97 = 1.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Iban(String);

impl Iban {
    /// The strict form of §6: 2 upper-case letters, 2 digits, 11–30 upper-case letters or digits.
    pub fn parse(text: &str) -> Result<Self, IbanError> {
        let len = text.chars().count();
        if !(15..=34).contains(&len) {
            return Err(IbanError::Length(len));
        }
        let b = text.as_bytes();
        let form = b[..2].iter().all(u8::is_ascii_uppercase)
            && b[2..4].iter().all(u8::is_ascii_digit)
            && b[4..].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if !form {
            return Err(IbanError::Form);
        }
        if mod97(b) != 1 {
            return Err(IbanError::Checksum);
        }
        Ok(Self(text.to_owned()))
    }

    /// What a person types: spaces ignored, lower case accepted.
    pub fn parse_typed(text: &str) -> Result<Self, IbanError> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        Self::parse(&compact)
    }

    /// The electronic form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Groups of four for display: `IT60 X054 2811 1010 0000 0123 456`.
    pub fn grouped(&self) -> String {
        let chunks: Vec<String> = self
            .0
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        chunks.join(" ")
    }
}

/// ISO 13616 check: the first four characters moved to the end, letters as 10–35, mod 97.
fn mod97(iban: &[u8]) -> u32 {
    iban[4..].iter().chain(&iban[..4]).fold(0u32, |acc, &c| {
        let v = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A') + 10
        };
        if v >= 10 {
            (acc * 100 + v) % 97
        } else {
            (acc * 10 + v) % 97
        }
    })
}

impl fmt::Display for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Free text of a field: 1 to `max` Unicode characters, no control character but the line break.
fn parse_text(text: &str, max: usize) -> Result<String, TextError> {
    if text.is_empty() {
        return Err(TextError::Empty);
    }
    if let Some(position) = text.chars().position(|c| c.is_control() && c != '\n') {
        return Err(TextError::Control(position + 1));
    }
    let len = text.chars().count();
    if len > max {
        return Err(TextError::TooLong { max, len });
    }
    Ok(text.to_owned())
}

/// A masked card: `****` and the last 4 digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct MaskedCard([u8; 4]);

impl MaskedCard {
    /// `****1234`.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let digits = text.strip_prefix("****").ok_or(FieldError::Card)?;
        let last4: [u8; 4] = digits.as_bytes().try_into().map_err(|_| FieldError::Card)?;
        if !last4.iter().all(u8::is_ascii_digit) {
            return Err(FieldError::Card);
        }
        Ok(Self(last4))
    }

    /// The last 4 digits.
    pub fn last4(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for MaskedCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "****{}", self.last4())
    }
}

/// A code of exactly `N` ASCII digits: a pagoPA creditor's fiscal code (`F`, 11) or notice code
/// (`N`, 18). Only the form is checked here; what the digits mean (check digits, the notice's aux
/// digit) is the bank's to check when it makes the operation.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Digits<const N: usize>([u8; N]);

impl<const N: usize> Digits<N> {
    /// Exactly `N` ASCII digits.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let bytes: [u8; N] = text.as_bytes().try_into().map_err(|_| FieldError::Digits(N))?;
        if !bytes.iter().all(u8::is_ascii_digit) {
            return Err(FieldError::Digits(N));
        }
        Ok(Self(bytes))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl<const N: usize> fmt::Display for Digits<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A calendar date, `YYYY-MM-DD`, year 0001 to 9999 (proleptic Gregorian).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// Parses `YYYY-MM-DD` and checks the day exists.
    pub fn parse(text: &str) -> Result<Self, DateError> {
        let b = text.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) || !digits(5..7) || !digits(8..10) {
            return Err(DateError::Form);
        }
        let year: u16 = text[0..4].parse().map_err(|_| DateError::Form)?;
        let month: u8 = text[5..7].parse().map_err(|_| DateError::Form)?;
        let day: u8 = text[8..10].parse().map_err(|_| DateError::Form)?;
        let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return Err(DateError::NotADate),
        };
        if year == 0 || day == 0 || day > days {
            return Err(DateError::NotADate);
        }
        Ok(Self { year, month, day })
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// The keys of §6, in their canonical (sorted) order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum FieldKey {
    /// `A`: amount.
    Amount,
    /// `B`: payee name.
    PayeeName,
    /// `C`: card.
    Card,
    /// `D`: description ("causale").
    Description,
    /// `F`: the creditor's fiscal code (a pagoPA notice): 11 digits.
    CreditorFiscalCode,
    /// `I`: payee IBAN.
    PayeeIban,
    /// `M`: merchant.
    Merchant,
    /// `N`: a pagoPA notice code: 18 digits.
    NoticeCode,
    /// `X`: execution date.
    ExecutionDate,
}

impl FieldKey {
    /// Every key, sorted.
    pub const ALL: [FieldKey; 9] = [
        Self::Amount,
        Self::PayeeName,
        Self::Card,
        Self::Description,
        Self::CreditorFiscalCode,
        Self::PayeeIban,
        Self::Merchant,
        Self::NoticeCode,
        Self::ExecutionDate,
    ];

    /// The key letter.
    pub fn letter(self) -> char {
        match self {
            Self::Amount => 'A',
            Self::PayeeName => 'B',
            Self::Card => 'C',
            Self::Description => 'D',
            Self::CreditorFiscalCode => 'F',
            Self::PayeeIban => 'I',
            Self::Merchant => 'M',
            Self::NoticeCode => 'N',
            Self::ExecutionDate => 'X',
        }
    }

    /// From its letter.
    pub fn from_letter(letter: char) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.letter() == letter)
    }

    /// English label, for tools and logs.
    pub fn label(self) -> &'static str {
        match self {
            Self::Amount => "amount",
            Self::PayeeName => "payee name",
            Self::Card => "card",
            Self::Description => "description",
            Self::CreditorFiscalCode => "creditor code",
            Self::PayeeIban => "payee IBAN",
            Self::Merchant => "merchant",
            Self::NoticeCode => "notice code",
            Self::ExecutionDate => "execution date",
        }
    }
}

/// The operation data: every field optional here; each kind says which it needs.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub struct OperationData {
    /// `A`.
    pub amount: Option<Amount>,
    /// `B`, at most 70 characters.
    pub payee_name: Option<String>,
    /// `C`.
    pub card: Option<MaskedCard>,
    /// `D`, at most 140 characters.
    pub description: Option<String>,
    /// `I`.
    pub payee_iban: Option<Iban>,
    /// `M`, at most 70 characters.
    pub merchant: Option<String>,
    /// `X`.
    pub execution_date: Option<Date>,
    /// `F`: 11 digits.
    pub creditor_fiscal_code: Option<Digits<11>>,
    /// `N`: 18 digits.
    pub notice_code: Option<Digits<18>>,
}

impl OperationData {
    /// Length limits of the text fields, in Unicode characters.
    pub const PAYEE_NAME_MAX: usize = 70;
    /// See [`PAYEE_NAME_MAX`](Self::PAYEE_NAME_MAX).
    pub const DESCRIPTION_MAX: usize = 140;
    /// See [`PAYEE_NAME_MAX`](Self::PAYEE_NAME_MAX).
    pub const MERCHANT_MAX: usize = 70;

    /// Sets one field from its raw (unescaped) value, checking its form.
    pub fn set(&mut self, key: FieldKey, value: &str) -> Result<(), DataError> {
        let letter = key.letter();
        let wrap = |error: FieldError| DataError::Value { key: letter, error };
        match key {
            FieldKey::Amount => self.amount = Some(Amount::parse(value).map_err(|e| wrap(e.into()))?),
            FieldKey::PayeeName => {
                self.payee_name = Some(parse_text(value, Self::PAYEE_NAME_MAX).map_err(|e| wrap(e.into()))?)
            }
            FieldKey::Card => self.card = Some(MaskedCard::parse(value).map_err(wrap)?),
            FieldKey::Description => {
                self.description = Some(parse_text(value, Self::DESCRIPTION_MAX).map_err(|e| wrap(e.into()))?)
            }
            FieldKey::PayeeIban => self.payee_iban = Some(Iban::parse(value).map_err(|e| wrap(e.into()))?),
            FieldKey::Merchant => {
                self.merchant = Some(parse_text(value, Self::MERCHANT_MAX).map_err(|e| wrap(e.into()))?)
            }
            FieldKey::ExecutionDate => self.execution_date = Some(Date::parse(value).map_err(|e| wrap(e.into()))?),
            FieldKey::CreditorFiscalCode => self.creditor_fiscal_code = Some(Digits::parse(value).map_err(wrap)?),
            FieldKey::NoticeCode => self.notice_code = Some(Digits::parse(value).map_err(wrap)?),
        }
        Ok(())
    }

    /// Builds from `(letter, raw value)` pairs in any order; refuses unknown and repeated keys.
    pub fn from_fields<'a>(fields: impl IntoIterator<Item = (char, &'a str)>) -> Result<Self, DataError> {
        let mut data = Self::default();
        let mut seen = Vec::new();
        for (letter, value) in fields {
            let key = FieldKey::from_letter(letter).ok_or(DataError::UnknownKey(letter))?;
            if seen.contains(&key) {
                return Err(DataError::Order(letter));
            }
            seen.push(key);
            data.set(key, value)?;
        }
        Ok(data)
    }

    /// The fields present, sorted, with their raw (unescaped) values.
    pub fn fields(&self) -> Vec<(FieldKey, String)> {
        let mut out = Vec::new();
        let mut push = |key, value: Option<String>| {
            if let Some(v) = value {
                out.push((key, v));
            }
        };
        push(FieldKey::Amount, self.amount.map(|a| a.to_string()));
        push(FieldKey::PayeeName, self.payee_name.clone());
        push(FieldKey::Card, self.card.map(|c| c.to_string()));
        push(FieldKey::Description, self.description.clone());
        push(
            FieldKey::CreditorFiscalCode,
            self.creditor_fiscal_code.map(|d| d.to_string()),
        );
        push(FieldKey::PayeeIban, self.payee_iban.as_ref().map(|i| i.to_string()));
        push(FieldKey::Merchant, self.merchant.clone());
        push(FieldKey::NoticeCode, self.notice_code.map(|d| d.to_string()));
        push(FieldKey::ExecutionDate, self.execution_date.map(|d| d.to_string()));
        out
    }

    /// The fields as aligned lines for a terminal, each `indent` + (the letter, with `letters`) +
    /// `label:` + the value, a value's own line breaks continued under it. Both command-line tools
    /// (`sca` and `sigillo-auth`) print an operation's fields with it.
    pub fn terminal_lines(&self, indent: &str, letters: bool) -> Vec<String> {
        let letter_width = if letters { 2 } else { 0 };
        let continued = format!("\n{}{}", indent, " ".repeat(letter_width + 17));
        self.fields()
            .into_iter()
            .map(|(key, value)| {
                let letter = if letters {
                    format!("{} ", key.letter())
                } else {
                    String::new()
                };
                let label = format!("{}:", key.label());
                format!("{indent}{letter}{label:<16} {}", value.replace('\n', &continued))
            })
            .collect()
    }

    /// Whether `key` is present.
    pub fn has(&self, key: FieldKey) -> bool {
        match key {
            FieldKey::Amount => self.amount.is_some(),
            FieldKey::PayeeName => self.payee_name.is_some(),
            FieldKey::Card => self.card.is_some(),
            FieldKey::Description => self.description.is_some(),
            FieldKey::PayeeIban => self.payee_iban.is_some(),
            FieldKey::Merchant => self.merchant.is_some(),
            FieldKey::ExecutionDate => self.execution_date.is_some(),
            FieldKey::CreditorFiscalCode => self.creditor_fiscal_code.is_some(),
            FieldKey::NoticeCode => self.notice_code.is_some(),
        }
    }

    /// The canonical text: `K:value` items sorted by key, joined by `*`, values escaped.
    pub fn canonical(&self) -> String {
        let items: Vec<String> = self
            .fields()
            .into_iter()
            .map(|(key, value)| format!("{}:{}", key.letter(), escape(&value)))
            .collect();
        items.join("*")
    }

    /// Parses the canonical text, refusing any other spelling of the same data (unsorted keys,
    /// repeats, unknown keys, unknown escapes), so that SHA(data) has one meaning.
    pub fn parse_canonical(text: &str) -> Result<Self, DataError> {
        let mut data = Self::default();
        if text.is_empty() {
            return Ok(data);
        }
        let mut last: Option<FieldKey> = None;
        for (index, item) in split_items(text).into_iter().enumerate() {
            let mut chars = item.chars();
            let (Some(letter), Some(':')) = (chars.next(), chars.next()) else {
                return Err(DataError::Item(index + 1));
            };
            let key = FieldKey::from_letter(letter).ok_or(DataError::UnknownKey(letter))?;
            if last.is_some_and(|l| l >= key) {
                return Err(DataError::Order(letter));
            }
            last = Some(key);
            let raw = chars.as_str();
            // A line break is written `\n`; a raw one would give the same data a second spelling.
            if raw.contains('\n') {
                return Err(DataError::Escape(letter));
            }
            let value = unescape(raw).ok_or(DataError::Escape(letter))?;
            data.set(key, &value)?;
        }
        Ok(data)
    }
}

/// Splits on `*` not preceded by an escaping `\`.
fn split_items(text: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '*' => {
                items.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&text[start..]);
    items
}

/// `\` → `\\`, `*` → `\*`, line break → `\n`.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '*' => out.push_str("\\*"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// The inverse of [`escape`]; `None` on an unknown or unfinished escape.
pub fn unescape(value: &str) -> Option<String> {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next()? {
                '\\' => out.push('\\'),
                '*' => out.push('*'),
                'n' => out.push('\n'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_lines_align_values_and_continue_their_lines() {
        let data = OperationData::from_fields([('A', "12.50EUR"), ('D', "Affitto\nnovembre")]).unwrap();
        assert_eq!(
            data.terminal_lines("  ", false),
            vec![
                "  amount:          12.50EUR".to_owned(),
                format!("  description:     Affitto\n{}novembre", " ".repeat(19)),
            ]
        );
        let with_letters = data.terminal_lines("", true);
        assert_eq!(with_letters[0], "A amount:          12.50EUR");
        assert!(with_letters[1].ends_with(&format!("\n{}novembre", " ".repeat(19))));
    }

    #[test]
    fn pagopa_codes_are_exact_digit_counts_in_key_order() {
        let data = OperationData::from_fields([
            ('N', "302000100000009424"),
            ('F', "80078750587"),
            ('B', "INPS"),
            ('A', "120.30EUR"),
        ])
        .unwrap();
        assert_eq!(
            data.canonical(),
            "A:120.30EUR*B:INPS*F:80078750587*N:302000100000009424"
        );
        assert_eq!(OperationData::parse_canonical(&data.canonical()).unwrap(), data);
        for (key, bad, n) in [
            ('F', "8007875058", 11),
            ('F', "800787505870", 11),
            ('F', "8007875058X", 11),
            ('F', "８0078750587", 11),
            ('N', "30200010000000942", 18),
            ('N', "3020001000000094244", 18),
            ('N', "30200010000000942 ", 18),
        ] {
            assert_eq!(
                OperationData::from_fields([(key, bad)]),
                Err(DataError::Value {
                    key,
                    error: FieldError::Digits(n)
                }),
                "{key}:{bad}"
            );
        }
        // Out of order: N before F.
        assert_eq!(
            OperationData::parse_canonical("N:302000100000009424*F:80078750587"),
            Err(DataError::Order('F'))
        );
    }

    #[test]
    fn amounts() {
        assert_eq!(Amount::parse("1250.00EUR").unwrap().minor_units(), 125_000);
        assert_eq!(Amount::parse("0.50EUR").unwrap().to_string(), "0.50EUR");
        for (bad, err) in [
            ("01.00EUR", AmountError::LeadingZero),
            ("1.0EUR", AmountError::Form),
            ("1.000EUR", AmountError::Form),
            ("1EUR", AmountError::Form),
            (".50EUR", AmountError::Form),
            ("1.00eur", AmountError::Currency),
            ("1.00EU", AmountError::Form),
            ("1.00EURO", AmountError::Form),
            ("-1.00EUR", AmountError::Form),
            ("1,00EUR", AmountError::Form),
            ("1234567890123456.00EUR", AmountError::TooLarge),
            ("", AmountError::Form),
            ("1.00€", AmountError::Currency),
        ] {
            assert_eq!(Amount::parse(bad), Err(err), "{bad}");
        }
        assert_eq!(Amount::from_decimal("12.50", "EUR").unwrap().to_string(), "12.50EUR");
        assert_eq!(Amount::new(5, "EUR").unwrap().to_string(), "0.05EUR");
    }

    #[test]
    fn ibans() {
        assert!(Iban::parse("IT60X0542811101000000123456").is_ok());
        assert!(Iban::parse("DE89370400440532013000").is_ok());
        assert!(Iban::parse("NO9386011117947").is_ok());
        assert_eq!(Iban::parse("IT61X0542811101000000123456"), Err(IbanError::Checksum));
        assert_eq!(Iban::parse("it60X0542811101000000123456"), Err(IbanError::Form));
        assert_eq!(Iban::parse("IT60X05428111010000001234 6"), Err(IbanError::Form));
        assert_eq!(Iban::parse("IT60X054"), Err(IbanError::Length(8)));
        let typed = Iban::parse_typed("it60 x054 2811 1010 0000 0123 456").unwrap();
        assert_eq!(typed.as_str(), "IT60X0542811101000000123456");
        assert_eq!(typed.grouped(), "IT60 X054 2811 1010 0000 0123 456");
    }

    #[test]
    fn dates() {
        assert!(Date::parse("2024-02-29").is_ok());
        assert!(Date::parse("2000-02-29").is_ok());
        assert_eq!(Date::parse("1900-02-29"), Err(DateError::NotADate));
        assert_eq!(Date::parse("2025-02-29"), Err(DateError::NotADate));
        assert_eq!(Date::parse("2025-04-31"), Err(DateError::NotADate));
        assert_eq!(Date::parse("2025-13-01"), Err(DateError::NotADate));
        assert_eq!(Date::parse("0000-01-01"), Err(DateError::NotADate));
        assert_eq!(Date::parse("2025-1-01"), Err(DateError::Form));
        assert_eq!(Date::parse("2025/01/01"), Err(DateError::Form));
    }

    #[test]
    fn canonical_form_and_escapes() {
        let data = OperationData::from_fields([('B', "a*b"), ('A', "1.00EUR")]).unwrap();
        assert_eq!(data.canonical(), "A:1.00EUR*B:a\\*b");
        let card = OperationData::from_fields([('C', "****1234")]).unwrap();
        assert_eq!(card.canonical(), "C:\\*\\*\\*\\*1234");
        let text = OperationData::from_fields([('D', "riga 1\nback\\slash")]).unwrap();
        assert_eq!(text.canonical(), "D:riga 1\\nback\\\\slash");
        for canonical in [
            "A:1.00EUR*B:a\\*b",
            "C:\\*\\*\\*\\*1234",
            "D:riga 1\\nback\\\\slash",
            "",
        ] {
            assert_eq!(
                OperationData::parse_canonical(canonical).unwrap().canonical(),
                canonical
            );
        }
    }

    #[test]
    fn non_canonical_spellings_are_refused() {
        assert_eq!(
            OperationData::parse_canonical("B:x*A:1.00EUR"),
            Err(DataError::Order('A'))
        );
        assert_eq!(OperationData::parse_canonical("B:x*B:y"), Err(DataError::Order('B')));
        assert_eq!(OperationData::parse_canonical("Z:x"), Err(DataError::UnknownKey('Z')));
        assert_eq!(OperationData::parse_canonical("B:x\\q"), Err(DataError::Escape('B')));
        assert_eq!(OperationData::parse_canonical("B:x\\"), Err(DataError::Escape('B')));
        assert_eq!(OperationData::parse_canonical("Bx"), Err(DataError::Item(1)));
        assert_eq!(OperationData::parse_canonical("A:1.00EUR*"), Err(DataError::Item(2)));
        assert!(matches!(
            OperationData::parse_canonical("B:"),
            Err(DataError::Value {
                key: 'B',
                error: FieldError::Text(TextError::Empty)
            })
        ));
        assert!(matches!(
            OperationData::parse_canonical("B:a\u{7}"),
            Err(DataError::Value {
                key: 'B',
                error: FieldError::Text(TextError::Control(2))
            })
        ));
        let long = "x".repeat(71);
        assert!(matches!(
            OperationData::parse_canonical(&format!("B:{long}")),
            Err(DataError::Value {
                key: 'B',
                error: FieldError::Text(TextError::TooLong { max: 70, len: 71 })
            })
        ));
        assert!(OperationData::parse_canonical(&format!("B:{}", "è".repeat(70))).is_ok());
        // A raw line break inside data is not canonical: it must be written \n.
        assert!(OperationData::parse_canonical("B:a\rb").is_err());
        assert_eq!(OperationData::parse_canonical("B:a\nb"), Err(DataError::Escape('B')));
    }
}
