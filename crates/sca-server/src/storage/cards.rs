//! Cards: their rows and the writes that issue them (rules in `crate::cards`).

use super::db::{conn, pool};
use super::writer::{WriteCtx, inserted_unless_taken};
use super::{Store, StoreError};
use crate::cards::{Brand, CardKind};

/// A card as stored, with the IBAN of the account it charges. There is no PAN in it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CardRow {
    /// Row id.
    pub id: i64,
    /// Public id.
    pub card_id: String,
    /// Holder.
    pub customer_id: i64,
    /// The account it charges.
    pub account_id: i64,
    /// That account's IBAN.
    pub iban: String,
    /// Debit, credit, prepaid.
    pub kind: CardKind,
    /// Visa, Mastercard.
    pub brand: Brand,
    /// The last four digits of the PAN.
    pub last4: String,
    /// 1–12.
    pub expiry_month: i64,
    /// Four digits.
    pub expiry_year: i64,
    /// Credit cards: the monthly limit, in cents.
    pub limit_minor: Option<i64>,
    /// Receives the 3-D Secure SMS codes.
    pub secure_phone: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// A card to issue (`cards::new_card`), for a customer and account the write names.
#[derive(Debug, Clone)]
pub struct NewCard {
    /// Public id.
    pub card_id: String,
    /// Kind.
    pub kind: CardKind,
    /// Brand.
    pub brand: Brand,
    /// The keyed digest of the PAN.
    pub pan_digest: Vec<u8>,
    /// Its last four digits.
    pub last4: String,
    /// Last month valid.
    pub expiry: crate::cards::Expiry,
    /// Credit cards only.
    pub limit_minor: Option<i64>,
    /// 3-D Secure phone.
    pub secure_phone: String,
}

const CARD_COLUMNS: &str = "k.id, k.card_id, k.customer_id, k.account_id, a.iban, k.kind, k.brand, k.last4, \
     k.expiry_month, k.expiry_year, k.limit_minor, k.secure_phone, k.created_at \
     FROM cards k JOIN accounts a ON a.id = k.account_id";

impl WriteCtx {
    /// Issues a card of `customer_id` on `account_id`; `None` if its PAN (or its public id) is
    /// already a card's.
    pub async fn insert_card(
        &mut self,
        at: u64,
        customer_id: i64,
        account_id: i64,
        card: &NewCard,
    ) -> Result<Option<i64>, StoreError> {
        self.begin_maybe_taken().await?;
        let r: Result<i64, _> = conn!(&mut self.conn, |c| {
            sqlx::query_scalar(
                "INSERT INTO cards (card_id, customer_id, account_id, kind, brand, pan_digest, last4, expiry_month, \
                 expiry_year, limit_minor, secure_phone, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            )
            .bind(&card.card_id)
            .bind(customer_id)
            .bind(account_id)
            .bind(card.kind)
            .bind(card.brand)
            .bind(&card.pan_digest)
            .bind(&card.last4)
            .bind(i64::from(card.expiry.month))
            .bind(i64::from(card.expiry.year))
            .bind(card.limit_minor)
            .bind(&card.secure_phone)
            .bind(at as i64)
            .fetch_one(c)
            .await
        });
        self.end_maybe_taken(r.is_err()).await?;
        inserted_unless_taken(r)
    }
}

impl Store {
    /// The customer's cards, oldest first.
    pub async fn cards(&self, customer_id: i64) -> Result<Vec<CardRow>, StoreError> {
        let sql = format!("SELECT {CARD_COLUMNS} WHERE k.customer_id = $1 ORDER BY k.id");
        Ok(pool!(&self.read, |p| sqlx::query_as(&sql)
            .bind(customer_id)
            .fetch_all(p)
            .await)?)
    }

    /// The card with this PAN digest.
    pub async fn card_by_pan(&self, pan_digest: &[u8]) -> Result<Option<CardRow>, StoreError> {
        let sql = format!("SELECT {CARD_COLUMNS} WHERE k.pan_digest = $1");
        Ok(pool!(&self.read, |p| sqlx::query_as(&sql)
            .bind(pan_digest)
            .fetch_optional(p)
            .await)?)
    }
}
