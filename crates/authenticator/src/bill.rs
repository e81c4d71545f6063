//! Bills read from a QR code (a pagoPA notice or an EPC transfer, parsed strictly by
//! [`sca_qr::bill`]) and the bank's page that pays them, prefilled by its URL.
//!
//! The authenticator never pays a bill itself and never hands its values to the bank through
//! anything but the address of the bank's own page: `#/pagopa?notice=&creditor=&amount=` for a
//! pagoPA notice, `#/transfer?payee=&iban=&amount=&description=` for an EPC transfer
//! (docs/api.md §13). The customer checks the values there, may change them, and confirms; the
//! operation the bank then makes is authorized like any other, its signed payload carrying what
//! is paid (dynamic linking).

use serde::Serialize;

pub use sca_qr::bill::{Bill, BillError, EpcTransfer, PagoPaNotice, Remittance};

/// Whether a QR code's text claims to be a bill (by its first characters), right or wrong.
pub fn looks_like_bill(text: &str) -> bool {
    text.starts_with(PagoPaNotice::IDENTIFIER) || text.starts_with(EpcTransfer::SERVICE_TAG)
}

/// A bill and the page of the bank that pays it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BillPage {
    /// `pagopa` or `epc`.
    pub kind: &'static str,
    /// Who is paid: the beneficiary (EPC), or the creditor's fiscal code (pagoPA; the bank's page
    /// names the creditor).
    pub payee: String,
    /// The beneficiary's IBAN (EPC).
    pub iban: Option<String>,
    /// The notice code (pagoPA).
    pub notice_code: Option<String>,
    /// The amount in euro cents, when the bill says it (an EPC code may leave it out).
    pub amount_cents: Option<u64>,
    /// The remittance text or the creditor reference (EPC).
    pub description: Option<String>,
    /// The bank's page, prefilled.
    pub url: String,
}

/// `12.50` from 1250 cents: the amount as the bank's pages take it.
pub fn decimal(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// Percent-encodes a query value: everything but RFC 3986's unreserved characters.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn query(pairs: &[(&str, Option<String>)]) -> String {
    pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", encode(v))))
        .collect::<Vec<_>>()
        .join("&")
}

impl BillPage {
    /// The page of the bank at `bank_url` (its Area Clienti, `https://bank.example/`) that pays
    /// `bill`.
    pub fn new(bank_url: &str, bill: &Bill) -> Self {
        let base = bank_url.split('#').next().unwrap_or(bank_url);
        let base = if base.ends_with('/') {
            base.to_owned()
        } else {
            format!("{base}/")
        };
        match bill {
            Bill::PagoPa(n) => {
                let q = query(&[
                    ("notice", Some(n.notice_code().to_owned())),
                    ("creditor", Some(n.creditor_fiscal_code().to_owned())),
                    ("amount", Some(decimal(n.amount_cents()))),
                ]);
                Self {
                    kind: "pagopa",
                    payee: n.creditor_fiscal_code().to_owned(),
                    iban: None,
                    notice_code: Some(n.notice_code().to_owned()),
                    amount_cents: Some(n.amount_cents()),
                    description: None,
                    url: format!("{base}#/pagopa?{q}"),
                }
            }
            Bill::Epc(t) => {
                let description = t.remittance().map(|r| match r {
                    Remittance::Reference(s) | Remittance::Text(s) => s.clone(),
                });
                let q = query(&[
                    ("payee", Some(t.name().to_owned())),
                    ("iban", Some(t.iban().to_string())),
                    ("amount", t.amount_cents().map(decimal)),
                    ("description", description.clone()),
                ]);
                Self {
                    kind: "epc",
                    payee: t.name().to_owned(),
                    iban: Some(t.iban().to_string()),
                    notice_code: None,
                    amount_cents: t.amount_cents(),
                    description,
                    url: format!("{base}#/transfer?{q}"),
                }
            }
        }
    }

    /// Reads a QR code's text as a bill and makes its page at `bank_url`.
    pub fn read(bank_url: &str, text: &str) -> Result<Self, BillError> {
        sca_qr::bill::parse(text).map(|bill| Self::new(bank_url, &bill))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_pagopa_notice_opens_the_pagopa_page() {
        let page = BillPage::read(
            "http://127.0.0.1:8080",
            "PAGOPA|002|302000100000009424|80078750587|12030",
        )
        .unwrap();
        assert_eq!(
            page.url,
            "http://127.0.0.1:8080/#/pagopa?notice=302000100000009424&creditor=80078750587&amount=120.30"
        );
        assert_eq!((page.kind, page.amount_cents), ("pagopa", Some(12030)));
    }

    #[test]
    fn an_epc_transfer_opens_the_transfer_page_with_its_values_encoded() {
        let text =
            "BCD\n002\n1\nSCT\n\nCaffè & Co. #1\nIT60X0542811101000000123456\nEUR12.5\n\n\nFattura 7/2026 = saldo";
        let page = BillPage::read("https://bank.example/ib/#/home", text).unwrap();
        assert_eq!(
            page.url,
            "https://bank.example/ib/#/transfer?payee=Caff%C3%A8%20%26%20Co.%20%231\
             &iban=IT60X0542811101000000123456&amount=12.50&description=Fattura%207%2F2026%20%3D%20saldo"
        );
        assert_eq!(page.payee, "Caffè & Co. #1");
        // Without an amount the page leaves the amount to the customer.
        let no_amount = "BCD\n002\n1\nSCT\n\nMario Rossi\nIT60X0542811101000000123456";
        let page = BillPage::read("https://bank.example", no_amount).unwrap();
        assert!(!page.url.contains("amount="), "{}", page.url);
        assert_eq!(page.amount_cents, None);
    }

    #[test]
    fn a_wrong_bill_is_refused_naming_its_field_and_other_texts_are_not_bills() {
        let e = BillPage::read("http://x", "PAGOPA|002|302000100000009424|80078750588|12030").unwrap_err();
        assert_eq!(e.field(), Some("creditor fiscal code"));
        assert!(looks_like_bill("PAGOPA|002|1"));
        assert!(!looks_like_bill("SCA1\n12345678\n"));
    }
}
