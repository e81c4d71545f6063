//! The text of a QR code printed on a bill, read strictly into a typed value.
//!
//! Two formats are recognised, by their first characters:
//!
//! * **pagoPA notice** (`PAGOPA|002|…`), the Italian public administration's *avviso di
//!   pagamento*: `PAGOPA|002|<notice code>|<creditor fiscal code>|<amount in euro cents>`, fields
//!   separated by `|`. See [`PagoPaNotice`].
//! * **EPC QR code** (`BCD` …), EPC069-12 "Quick Response Code: Guidelines to Enable Data Capture
//!   for the Initiation of a SEPA Credit Transfer" (the German *GiroCode*): up to 12 elements, one
//!   a line, separated by LF or CR LF. See [`EpcTransfer`].
//!
//! Parsing is strict: a value of these types holds only what the standards allow, every check
//! digit verified (IBAN mod 97, partita IVA, ISO 11649 RF reference). A bill that is slightly off
//! is refused rather than guessed at, because what the customer is then asked to authorise must
//! be exactly what the creditor printed. Each refusal names the field ([`BillError::field`]):
//!
//! | format | field names |
//! |---|---|
//! | pagoPA | `identifier`, `version`, `notice code`, `creditor fiscal code`, `amount`, `fields` |
//! | EPC | `service tag`, `version`, `character set`, `identification`, `bic`, `name`, `iban`, `amount`, `purpose`, `reference`, `remittance`, `information`, `lines`, `payload` |
//!
//! Each value has one canonical text ([`Bill::to_text`], also its `Display`). For a pagoPA
//! notice it is the only text accepted; for an EPC transfer it uses LF and the shortest amount
//! (`EUR12.5`), so it is never longer than the text it was read from and always reads back to
//! the same value.
//!
//! The module reads text only: the bytes of the QR code were decoded by the caller (see
//! [`crate::decode_luma`]). It does not initiate payments nor talk to pagoPA.

use std::fmt;

use sca_protocol::{Iban, IbanError};

pub use crate::error::{BillError, FieldReason};

/// The text of a bill's QR code, read into one of the formats the module knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bill {
    /// A pagoPA payment notice (`PAGOPA|002|…`).
    PagoPa(PagoPaNotice),
    /// An EPC QR code for a SEPA credit transfer (`BCD` …).
    Epc(EpcTransfer),
}

/// Reads the text of a QR code on a bill, choosing the format by its first characters: `PAGOPA`
/// for a pagoPA notice, `BCD` for an EPC transfer; anything else is
/// [`BillError::UnknownFormat`].
pub fn parse(text: &str) -> Result<Bill, BillError> {
    if text.starts_with(PagoPaNotice::IDENTIFIER) {
        PagoPaNotice::parse(text).map(Bill::PagoPa)
    } else if text.starts_with(EpcTransfer::SERVICE_TAG) {
        EpcTransfer::parse(text).map(Bill::Epc)
    } else {
        Err(BillError::UnknownFormat)
    }
}

impl Bill {
    /// The canonical text of the bill (see the module documentation).
    pub fn to_text(&self) -> String {
        match self {
            Self::PagoPa(notice) => notice.to_text(),
            Self::Epc(transfer) => transfer.to_text(),
        }
    }

    /// The amount to pay in euro cents; `None` for an EPC transfer that leaves it to the payer.
    pub fn amount_cents(&self) -> Option<u64> {
        match self {
            Self::PagoPa(notice) => Some(notice.amount_cents()),
            Self::Epc(transfer) => transfer.amount_cents(),
        }
    }
}

impl fmt::Display for Bill {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

fn refuse(field: &'static str, reason: FieldReason) -> BillError {
    BillError::Field { field, reason }
}

// ---------------------------------------------------------------------------------------------
// pagoPA
// ---------------------------------------------------------------------------------------------

/// A pagoPA payment notice (*avviso di pagamento*), as its QR code carries it:
/// `PAGOPA|002|<notice code>|<creditor fiscal code>|<amount in euro cents>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PagoPaNotice {
    notice_code: String,
    creditor_fiscal_code: String,
    amount_cents: u64,
}

impl PagoPaNotice {
    /// The first field, the *codice identificativo*.
    pub const IDENTIFIER: &'static str = "PAGOPA";
    /// The only version of the format in use.
    pub const VERSION: &'static str = "002";
    /// The largest amount the 10 digits of the amount field can hold, in cents.
    pub const MAX_AMOUNT_CENTS: u64 = 9_999_999_999;

    /// Reads the text of a pagoPA QR code. Accepted: exactly five fields separated by `|`, the
    /// identifier `PAGOPA`, the version `002`, a notice code of 18 digits whose first (the aux
    /// digit) is 0 to 3, a creditor fiscal code of 11 digits with a valid check digit (the
    /// partita IVA rule, which numeric fiscal codes of bodies follow too), and an amount of 1 to
    /// 10 digits of euro cents, not zero and with no sign nor leading zero. Nothing else: no
    /// spaces, no separator after the amount, no line break.
    pub fn parse(text: &str) -> Result<Self, BillError> {
        let fields: Vec<&str> = text.split('|').collect();
        let field = |i: usize| fields.get(i).copied().unwrap_or_default();
        if field(0) != Self::IDENTIFIER {
            return Err(refuse("identifier", FieldReason::Form("PAGOPA")));
        }
        match field(1) {
            "" => return Err(refuse("version", FieldReason::Missing)),
            Self::VERSION => {}
            _ => return Err(refuse("version", FieldReason::Form("002"))),
        }
        if fields.len() > 5 {
            let reason = if fields.len() == 6 && field(5).is_empty() {
                FieldReason::TrailingSeparator
            } else {
                FieldReason::TooMany {
                    max: 5,
                    found: fields.len(),
                }
            };
            return Err(refuse("fields", reason));
        }
        let notice_code = parse_notice_code(field(2))?;
        let creditor_fiscal_code = parse_creditor_fiscal_code(field(3))?;
        let amount_cents = parse_cents(field(4))?;
        Ok(Self {
            notice_code,
            creditor_fiscal_code,
            amount_cents,
        })
    }

    /// The notice code (*codice avviso*), 18 digits: the aux digit, then the application or
    /// segregation code and the IUV as the aux digit says.
    pub fn notice_code(&self) -> &str {
        &self.notice_code
    }

    /// The first digit of the notice code, 0 to 3, which tells how the rest is built.
    pub fn aux_digit(&self) -> u8 {
        self.notice_code.bytes().next().map_or(0, |b| b - b'0')
    }

    /// The creditor's fiscal code (*codice fiscale ente creditore*), 11 digits.
    pub fn creditor_fiscal_code(&self) -> &str {
        &self.creditor_fiscal_code
    }

    /// The amount in euro cents, at least 1.
    pub fn amount_cents(&self) -> u64 {
        self.amount_cents
    }

    /// The text of the QR code, the only one [`PagoPaNotice::parse`] reads into this value.
    pub fn to_text(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            Self::IDENTIFIER,
            Self::VERSION,
            self.notice_code,
            self.creditor_fiscal_code,
            self.amount_cents
        )
    }
}

impl fmt::Display for PagoPaNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

fn all_digits(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_digit())
}

/// A pagoPA notice code alone (as typed on a bank's page): 18 digits, the first (the aux digit)
/// from 0 to 3. The refusal names the field `notice code`.
pub fn parse_notice_code(text: &str) -> Result<String, BillError> {
    const FIELD: &str = "notice code";
    if text.is_empty() {
        return Err(refuse(FIELD, FieldReason::Missing));
    }
    if text.len() != 18 || !all_digits(text) {
        return Err(refuse(FIELD, FieldReason::Form("18 digits")));
    }
    if !matches!(text.as_bytes().first(), Some(b'0'..=b'3')) {
        return Err(refuse(
            FIELD,
            FieldReason::Form("18 digits, the first (the aux digit) from 0 to 3"),
        ));
    }
    Ok(text.to_owned())
}

/// A pagoPA creditor's fiscal code alone: 11 digits whose last is the partita IVA check digit.
/// The refusal names the field `creditor fiscal code`.
pub fn parse_creditor_fiscal_code(text: &str) -> Result<String, BillError> {
    const FIELD: &str = "creditor fiscal code";
    if text.is_empty() {
        return Err(refuse(FIELD, FieldReason::Missing));
    }
    if text.len() != 11 || !all_digits(text) {
        return Err(refuse(FIELD, FieldReason::Form("11 digits")));
    }
    if !partita_iva_check(text.as_bytes()) {
        return Err(refuse(FIELD, FieldReason::CheckDigits));
    }
    Ok(text.to_owned())
}

/// The check of an Italian partita IVA (and of the numeric fiscal code of a body): of the first
/// ten digits, those in odd places (from 1) count as they are, those in even places doubled less
/// 9 when over 9; the eleventh digit brings the sum to a multiple of 10. `digits` are 11 ASCII
/// digits.
fn partita_iva_check(digits: &[u8]) -> bool {
    let value = |b: u8| u32::from(b.wrapping_sub(b'0'));
    let sum: u32 = digits
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, &b)| {
            let v = value(b);
            if i % 2 == 0 {
                v
            } else if v * 2 > 9 {
                v * 2 - 9
            } else {
                v * 2
            }
        })
        .sum();
    digits
        .get(10)
        .is_some_and(|&check| (10 - sum % 10) % 10 == value(check))
}

fn parse_cents(text: &str) -> Result<u64, BillError> {
    const FIELD: &str = "amount";
    if text.is_empty() {
        return Err(refuse(FIELD, FieldReason::Missing));
    }
    let leading_zero = text.len() > 1 && text.starts_with('0');
    if text.len() > 10 || !all_digits(text) || leading_zero {
        return Err(refuse(
            FIELD,
            FieldReason::Form("1 to 10 digits of euro cents, with no sign and no leading zero"),
        ));
    }
    match text.parse::<u64>() {
        Ok(cents) if cents > 0 => Ok(cents),
        _ => Err(refuse(
            FIELD,
            FieldReason::OutOfRange {
                min: "1",
                max: "9999999999",
            },
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// EPC QR code
// ---------------------------------------------------------------------------------------------

/// A SEPA credit transfer as an EPC QR code (EPC069-12) describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpcTransfer {
    version: EpcVersion,
    character_set: CharacterSet,
    bic: Option<String>,
    name: String,
    iban: Iban,
    amount_cents: Option<u64>,
    purpose: Option<String>,
    remittance: Option<Remittance>,
    information: Option<String>,
}

/// The version of an EPC QR code (its second line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EpcVersion {
    /// `001`: the BIC is mandatory.
    V001,
    /// `002`: the BIC may be left empty.
    V002,
}

impl EpcVersion {
    /// As the QR code writes it, `001` or `002`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V001 => "001",
            Self::V002 => "002",
        }
    }
}

/// The character set an EPC QR code declares on its third line (`1` to `8`).
///
/// The text reaches this module already decoded, so what can be checked is that it fits the
/// declared set: any text for UTF-8, code points up to U+00FF for ISO 8859-1. Under the other
/// six sets only ASCII text is accepted, the one text on which they all agree with any decoder;
/// a name in Cyrillic under ISO 8859-5 is refused rather than shown as the decoder guessed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CharacterSet {
    /// `1`: UTF-8.
    Utf8,
    /// `2`: ISO 8859-1.
    Iso8859_1,
    /// `3`: ISO 8859-2.
    Iso8859_2,
    /// `4`: ISO 8859-4.
    Iso8859_4,
    /// `5`: ISO 8859-5.
    Iso8859_5,
    /// `6`: ISO 8859-7.
    Iso8859_7,
    /// `7`: ISO 8859-10.
    Iso8859_10,
    /// `8`: ISO 8859-15.
    Iso8859_15,
}

impl CharacterSet {
    /// All eight, in the order of their numbers.
    pub const ALL: [Self; 8] = [
        Self::Utf8,
        Self::Iso8859_1,
        Self::Iso8859_2,
        Self::Iso8859_4,
        Self::Iso8859_5,
        Self::Iso8859_7,
        Self::Iso8859_10,
        Self::Iso8859_15,
    ];

    /// The number the QR code writes, 1 to 8.
    pub fn number(self) -> u8 {
        match self {
            Self::Utf8 => 1,
            Self::Iso8859_1 => 2,
            Self::Iso8859_2 => 3,
            Self::Iso8859_4 => 4,
            Self::Iso8859_5 => 5,
            Self::Iso8859_7 => 6,
            Self::Iso8859_10 => 7,
            Self::Iso8859_15 => 8,
        }
    }

    fn from_text(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|set| text.len() == 1 && text.bytes().next() == Some(b'0' + set.number()))
    }

    /// Bytes the text takes in this set (every set but UTF-8 has one byte a character).
    fn byte_len(self, text: &str) -> usize {
        match self {
            Self::Utf8 => text.len(),
            _ => text.chars().count(),
        }
    }

    /// `Err` with what the text does not fit, when it does not.
    fn check(self, text: &str) -> Result<(), &'static str> {
        let fits = match self {
            Self::Utf8 => true,
            Self::Iso8859_1 => text.chars().all(|c| u32::from(c) <= 0xFF),
            _ => text.is_ascii(),
        };
        if fits {
            return Ok(());
        }
        Err(match self {
            Self::Utf8 | Self::Iso8859_1 => "ISO 8859-1",
            Self::Iso8859_2 => "ASCII, the only text read under ISO 8859-2",
            Self::Iso8859_4 => "ASCII, the only text read under ISO 8859-4",
            Self::Iso8859_5 => "ASCII, the only text read under ISO 8859-5",
            Self::Iso8859_7 => "ASCII, the only text read under ISO 8859-7",
            Self::Iso8859_10 => "ASCII, the only text read under ISO 8859-10",
            Self::Iso8859_15 => "ASCII, the only text read under ISO 8859-15",
        })
    }
}

/// What the transfer tells the creditor, one of two kinds (never both).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Remittance {
    /// A structured creditor reference, up to 35 characters; when it starts with `RF` it is an
    /// ISO 11649 reference whose check digits were verified.
    Reference(String),
    /// Free text for the creditor, up to 140 characters.
    Text(String),
}

impl EpcTransfer {
    /// The first line.
    pub const SERVICE_TAG: &'static str = "BCD";
    /// The fourth line: SEPA credit transfer.
    pub const IDENTIFICATION: &'static str = "SCT";
    /// The most bytes an EPC QR code carries (QR version 13 at error-correction level M).
    pub const MAX_BYTES: usize = 331;
    /// The most elements (lines).
    pub const MAX_LINES: usize = 12;
    /// The largest amount, 999 999 999.99 euro, in cents.
    pub const MAX_AMOUNT_CENTS: u64 = 99_999_999_999;

    /// Reads the text of an EPC QR code. Lines are separated by LF, or by CR LF throughout
    /// (the first line break decides); the last element is not followed by a separator, and
    /// optional elements at the end may be left out. Accepted, line by line:
    ///
    /// 1. `BCD`; 2. `001` or `002`; 3. the character set, `1` to `8` (see [`CharacterSet`]);
    /// 4. `SCT`;
    /// 5. the BIC, 8 or 11 characters, which only version `002` may leave empty;
    /// 6. the beneficiary's name, 1 to 70 characters;
    /// 7. the IBAN, checked by mod 97;
    /// 8. optionally the amount, `EUR` and 0.01 to 999999999.99 with a dot and at most two
    ///    decimals, no leading zero;
    /// 9. optionally the purpose, 4 upper-case letters or digits;
    /// 10. optionally a structured reference, up to 35 characters, checked by ISO 11649 when it
    ///     starts with `RF`;
    /// 11. optionally unstructured remittance text, up to 140 characters, only when line 10 is
    ///     empty;
    /// 12. optionally information for the payer, up to 70 characters.
    ///
    /// No text field may hold a control character, and the whole text is at most 331 bytes in
    /// the declared character set.
    pub fn parse(text: &str) -> Result<Self, BillError> {
        let crlf = text
            .find('\n')
            .is_some_and(|i| text.get(..i).is_some_and(|l| l.ends_with('\r')));
        let lines: Vec<&str> = if crlf {
            text.split("\r\n").collect()
        } else {
            text.split('\n').collect()
        };
        let line = |i: usize| lines.get(i).copied().unwrap_or_default();

        if line(0) != Self::SERVICE_TAG {
            return Err(refuse("service tag", FieldReason::Form("BCD")));
        }
        let version = match line(1) {
            "" => return Err(refuse("version", FieldReason::Missing)),
            "001" => EpcVersion::V001,
            "002" => EpcVersion::V002,
            _ => return Err(refuse("version", FieldReason::Form("001 or 002"))),
        };
        let character_set = match line(2) {
            "" => return Err(refuse("character set", FieldReason::Missing)),
            set => CharacterSet::from_text(set)
                .ok_or_else(|| refuse("character set", FieldReason::Form("a digit from 1 to 8")))?,
        };
        match line(3) {
            "" => return Err(refuse("identification", FieldReason::Missing)),
            Self::IDENTIFICATION => {}
            _ => return Err(refuse("identification", FieldReason::Form("SCT"))),
        }
        let bytes = character_set.byte_len(text);
        if bytes > Self::MAX_BYTES {
            return Err(refuse(
                "payload",
                FieldReason::TooManyBytes {
                    max: Self::MAX_BYTES,
                    len: bytes,
                },
            ));
        }
        // Lines 1 to 7 are mandatory (the BIC's may be empty), so an empty last line after them
        // can only come from a separator after the last element.
        if lines.len() > 7 && lines.last().is_some_and(|l| l.is_empty()) {
            return Err(refuse("lines", FieldReason::TrailingSeparator));
        }
        if lines.len() > Self::MAX_LINES {
            return Err(refuse(
                "lines",
                FieldReason::TooMany {
                    max: Self::MAX_LINES,
                    found: lines.len(),
                },
            ));
        }

        let bic = match line(4) {
            "" if version == EpcVersion::V001 => return Err(refuse("bic", FieldReason::Missing)),
            "" => None,
            bic => Some(parse_bic(bic)?),
        };
        let name =
            text_field("name", line(5), 70, character_set)?.ok_or_else(|| refuse("name", FieldReason::Missing))?;
        let iban = parse_iban(line(6))?;
        let amount_cents = match line(7) {
            "" => None,
            amount => Some(parse_epc_amount(amount)?),
        };
        let purpose = match line(8) {
            "" => None,
            purpose => Some(parse_purpose(purpose)?),
        };
        let reference = text_field("reference", line(9), 35, character_set)?;
        if let Some(reference) = &reference {
            check_reference(reference)?;
        }
        let text_remittance = text_field("remittance", line(10), 140, character_set)?;
        let remittance = match (reference, text_remittance) {
            (Some(_), Some(_)) => return Err(refuse("remittance", FieldReason::BothReferences)),
            (Some(reference), None) => Some(Remittance::Reference(reference)),
            (None, Some(text)) => Some(Remittance::Text(text)),
            (None, None) => None,
        };
        let information = text_field("information", line(11), 70, character_set)?;
        Ok(Self {
            version,
            character_set,
            bic,
            name,
            iban,
            amount_cents,
            purpose,
            remittance,
            information,
        })
    }

    /// The version the QR code declared.
    pub fn version(&self) -> EpcVersion {
        self.version
    }

    /// The character set the QR code declared.
    pub fn character_set(&self) -> CharacterSet {
        self.character_set
    }

    /// The BIC of the beneficiary's bank, when given (always in version `001`).
    pub fn bic(&self) -> Option<&str> {
        self.bic.as_deref()
    }

    /// The beneficiary's name, 1 to 70 characters.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The beneficiary's IBAN.
    pub fn iban(&self) -> &Iban {
        &self.iban
    }

    /// The amount in euro cents, when the QR code gives one (otherwise the payer types it).
    pub fn amount_cents(&self) -> Option<u64> {
        self.amount_cents
    }

    /// The purpose code (ISO 20022, such as `CHAR` or `GDDS`), when given.
    pub fn purpose(&self) -> Option<&str> {
        self.purpose.as_deref()
    }

    /// The structured reference or the remittance text, when either is given.
    pub fn remittance(&self) -> Option<&Remittance> {
        self.remittance.as_ref()
    }

    /// Information for the payer (not sent with the transfer), when given.
    pub fn information(&self) -> Option<&str> {
        self.information.as_deref()
    }

    /// The canonical text: LF between lines, the amount in its shortest form (`EUR12.5`,
    /// `EUR12`), empty trailing elements left out. It is never longer than a text
    /// [`EpcTransfer::parse`] read this value from, and reads back to the same value.
    pub fn to_text(&self) -> String {
        let (reference, remittance) = match &self.remittance {
            Some(Remittance::Reference(r)) => (r.as_str(), ""),
            Some(Remittance::Text(t)) => ("", t.as_str()),
            None => ("", ""),
        };
        let amount = self.amount_cents.map(epc_amount_text).unwrap_or_default();
        let number = self.character_set.number().to_string();
        let mut lines = vec![
            Self::SERVICE_TAG,
            self.version.as_str(),
            number.as_str(),
            Self::IDENTIFICATION,
            self.bic.as_deref().unwrap_or_default(),
            &self.name,
            self.iban.as_str(),
            &amount,
            self.purpose.as_deref().unwrap_or_default(),
            reference,
            remittance,
            self.information.as_deref().unwrap_or_default(),
        ];
        while lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        lines.join("\n")
    }
}

impl fmt::Display for EpcTransfer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// A free-text element: `None` when empty; otherwise no control character, at most `max`
/// characters, and within what the declared character set can hold.
fn text_field(field: &'static str, text: &str, max: usize, set: CharacterSet) -> Result<Option<String>, BillError> {
    if text.is_empty() {
        return Ok(None);
    }
    if let Some(position) = text.chars().position(char::is_control) {
        return Err(refuse(field, FieldReason::Control { position: position + 1 }));
    }
    set.check(text)
        .map_err(|what| refuse(field, FieldReason::CharacterSet(what)))?;
    let len = text.chars().count();
    if len > max {
        return Err(refuse(field, FieldReason::TooLong { max, len }));
    }
    Ok(Some(text.to_owned()))
}

fn parse_bic(text: &str) -> Result<String, BillError> {
    let b = text.as_bytes();
    let upper_alnum = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    let ok = (b.len() == 8 || b.len() == 11)
        && b.iter().take(6).all(u8::is_ascii_uppercase)
        && b.iter().skip(6).all(upper_alnum);
    if !ok {
        return Err(refuse(
            "bic",
            FieldReason::Form(
                "8 or 11 upper-case letters and digits: 4 letters for the bank, 2 for the country, \
                 2 for the place, and maybe 3 for the branch",
            ),
        ));
    }
    Ok(text.to_owned())
}

fn parse_iban(text: &str) -> Result<Iban, BillError> {
    const FIELD: &str = "iban";
    if text.is_empty() {
        return Err(refuse(FIELD, FieldReason::Missing));
    }
    Iban::parse(text).map_err(|e| {
        let reason = match e {
            IbanError::Checksum => FieldReason::CheckDigits,
            _ => FieldReason::Form(
                "15 to 34 characters with no space: 2 upper-case letters, 2 digits, then upper-case \
                 letters or digits",
            ),
        };
        refuse(FIELD, reason)
    })
}

const EPC_AMOUNT_FORM: &str =
    "EUR then the amount with no leading zero and at most 2 decimals after a dot, as in EUR12.50";

fn parse_epc_amount(text: &str) -> Result<u64, BillError> {
    const FIELD: &str = "amount";
    let form = || refuse(FIELD, FieldReason::Form(EPC_AMOUNT_FORM));
    let number = text.strip_prefix("EUR").ok_or_else(form)?;
    let (int, frac) = match number.split_once('.') {
        Some((_, "")) => return Err(form()),
        Some((int, frac)) => (int, frac),
        None => (number, ""),
    };
    let leading_zero = int.len() > 1 && int.starts_with('0');
    if int.is_empty() || !all_digits(int) || !all_digits(frac) || frac.len() > 2 || leading_zero {
        return Err(form());
    }
    let out_of_range = || {
        refuse(
            FIELD,
            FieldReason::OutOfRange {
                min: "0.01",
                max: "999999999.99",
            },
        )
    };
    if int.len() > 9 {
        return Err(out_of_range());
    }
    let euros: u64 = int.parse().map_err(|_| form())?;
    let cents: u64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<u64>().map_err(|_| form())? * 10,
        _ => frac.parse().map_err(|_| form())?,
    };
    let total = euros * 100 + cents;
    if total == 0 {
        return Err(out_of_range());
    }
    Ok(total)
}

/// The shortest text of an amount: `EUR12`, `EUR12.5`, `EUR12.05`.
fn epc_amount_text(cents: u64) -> String {
    let (euros, cents) = (cents / 100, cents % 100);
    if cents == 0 {
        format!("EUR{euros}")
    } else if cents % 10 == 0 {
        format!("EUR{euros}.{}", cents / 10)
    } else {
        format!("EUR{euros}.{cents:02}")
    }
}

fn parse_purpose(text: &str) -> Result<String, BillError> {
    let ok = text.len() == 4 && text.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if !ok {
        return Err(refuse(
            "purpose",
            FieldReason::Form("4 upper-case letters or digits, as in CHAR"),
        ));
    }
    Ok(text.to_owned())
}

/// A reference starting with `RF` must be an ISO 11649 creditor reference: `RF`, 2 check
/// digits, 1 to 21 upper-case letters or digits, mod 97 = 1 once the first four characters are
/// moved to the end and letters read as 10 to 35. Other references are taken as they are.
fn check_reference(text: &str) -> Result<(), BillError> {
    const FIELD: &str = "reference";
    let Some(rest) = text.strip_prefix("RF") else {
        return Ok(());
    };
    let b = rest.as_bytes();
    let ok = (3..=23).contains(&b.len())
        && b.iter().take(2).all(u8::is_ascii_digit)
        && b.iter().skip(2).all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if !ok {
        return Err(refuse(
            FIELD,
            FieldReason::Form("RF, 2 check digits, then 1 to 21 upper-case letters or digits with no space"),
        ));
    }
    let rearranged = b.iter().skip(2).chain(b"RF").chain(b.iter().take(2));
    if mod97(rearranged) != 1 {
        return Err(refuse(FIELD, FieldReason::CheckDigits));
    }
    Ok(())
}

/// ISO 7064 mod 97-10 over upper-case letters (10 to 35) and digits.
fn mod97<'a>(chars: impl Iterator<Item = &'a u8>) -> u32 {
    chars.fold(0, |acc, &c| {
        if c.is_ascii_digit() {
            (acc * 10 + u32::from(c - b'0')) % 97
        } else {
            (acc * 100 + u32::from(c.wrapping_sub(b'A')) + 10) % 97
        }
    })
}

#[cfg(test)]
mod tests;
