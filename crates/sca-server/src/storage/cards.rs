//! Cards: their rows and the writes that issue them (rules in `crate::cards`).

use super::db::{conn, pool};
use super::writer::{WriteCtx, inserted_unless_taken};
use super::{OperationStatus, Store, StoreError};
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
    /// That account's balance, in cents.
    pub balance_minor: i64,
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
    /// Whether a Key6 is set.
    pub key6_set: bool,
    /// Wrong Key6 or purchase SMS codes in a row.
    pub key6_failures: i64,
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

const CARD_COLUMNS: &str = "k.id, k.card_id, k.customer_id, k.account_id, a.iban, a.balance_minor, k.kind, k.brand, k.last4, \
     k.expiry_month, k.expiry_year, k.limit_minor, k.secure_phone, k.created_at, \
     (k.key6 IS NOT NULL) AS key6_set, k.key6_failures \
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

/// What a customer asks of a card, done by the approval of the operation it waits beside
/// (`card_requests`, the trigger of migration 0012).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardAction {
    /// Set or change the Key6.
    Key6Set,
    /// See the Key6, once.
    Key6Show,
    /// Forgive the wrong answers that blocked it.
    Key6Unblock,
    /// Change the phone that receives the 3-D Secure SMS codes.
    SecurePhone,
}
crate::storage::db::text_column!(CardAction {
    Key6Set => "key6_set",
    Key6Show => "key6_show",
    Key6Unblock => "key6_unblock",
    SecurePhone => "secure_phone",
});

/// Why a Key6 could not be revealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reveal {
    /// Not an approved `key6_show` of this card.
    NotApproved,
    /// Already shown.
    Shown,
    /// Approved too long ago.
    TooLate,
}

/// A 3-D Secure authentication as stored, with its CARD_PAYMENT operation's state. (`Debug`
/// leaves out the authentication value and the SMS code's hash.)
#[derive(Clone, sqlx::FromRow)]
pub struct AcsRow {
    /// acsTransID.
    pub trans_id: String,
    /// The card's row, if it was found.
    pub card_id: Option<i64>,
    /// The CARD_PAYMENT's row, unless refused at once.
    pub operation_id: Option<i64>,
    /// Cents.
    pub amount_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// As the merchant named itself.
    pub merchant_name: String,
    /// The merchant's site.
    pub merchant_url: String,
    /// Where the challenge sends the cardholder back.
    pub return_url: String,
    /// `N:<reason>` or `R:<reason>` when refused at once.
    pub refused: Option<String>,
    /// The authentication value given with `Y`.
    pub auth_value: String,
    /// SHA-256(trans_id || otp) of the last SMS code sent.
    pub otp_hash: Option<Vec<u8>>,
    /// Until when that code counts.
    pub otp_expires: Option<i64>,
    /// SMS codes sent for it.
    pub otp_sends: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// The operation's status.
    pub status: Option<OperationStatus>,
    /// Who decided it (`exemption`, `device:…`, `card`, `cancel`, `clock` …).
    pub decided_by: Option<String>,
    /// Its op id.
    pub op_id: Option<String>,
    /// Its signed payload.
    pub payload: Option<String>,
    /// Its expiry.
    pub expires_at: Option<i64>,
    /// The cardholder.
    pub customer_id: Option<i64>,
}

const ACS_COLUMNS: &str = "t.trans_id, t.card_id, t.operation_id, t.amount_minor, t.currency, t.merchant_name, \
     t.merchant_url, t.return_url, t.refused, t.auth_value, t.otp_hash, t.otp_expires, t.otp_sends, t.created_at, o.status, \
     o.decided_by, o.op_id, o.payload, o.expires_at, o.customer_id \
     FROM acs_transactions t LEFT JOIN operations o ON o.id = t.operation_id";

impl std::fmt::Debug for AcsRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcsRow")
            .field("trans_id", &self.trans_id)
            .field("card_id", &self.card_id)
            .field("operation_id", &self.operation_id)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// A 3-D Secure authentication to store. (`Debug` leaves out the authentication value.)
#[derive(Clone)]
pub struct NewAcs {
    /// acsTransID.
    pub trans_id: String,
    /// The card's row, if found.
    pub card_id: Option<i64>,
    /// The CARD_PAYMENT's row.
    pub operation_id: Option<i64>,
    /// Cents.
    pub amount_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// Merchant name.
    pub merchant_name: String,
    /// Merchant URL.
    pub merchant_url: String,
    /// Return URL.
    pub return_url: String,
    /// Refused at once.
    pub refused: Option<String>,
    /// The authentication value.
    pub auth_value: String,
}

impl std::fmt::Debug for NewAcs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAcs")
            .field("trans_id", &self.trans_id)
            .field("card_id", &self.card_id)
            .field("refused", &self.refused)
            .finish_non_exhaustive()
    }
}

impl WriteCtx {
    /// Stores what an operation will do to a card once approved.
    pub async fn insert_card_request(
        &mut self,
        operation_id: i64,
        card_id: i64,
        action: CardAction,
        key6: Option<&[u8]>,
        phone: Option<&str>,
        alert: Option<&str>,
    ) -> Result<(), StoreError> {
        conn!(&mut self.conn, |c| {
            sqlx::query(
            "INSERT INTO card_requests (operation_id, card_id, action, key6, phone, alert) VALUES ($1, $2, $3, $4, $5, $6)"
        )
        .bind(operation_id)
        .bind(card_id)
        .bind(action)
        .bind(key6)
        .bind(phone)
        .bind(alert)
        .execute(c)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }

    /// Takes the sealed Key6 of `card_id` for an approved `key6_show` operation approved less
    /// than `window` seconds ago that has not shown it yet: the one write that shows it once.
    /// With it, when the operation was approved.
    pub async fn reveal_key6(
        &mut self,
        at: u64,
        card_id: i64,
        operation_id: i64,
        window: u64,
    ) -> Result<Result<(Vec<u8>, i64), Reveal>, StoreError> {
        let sealed: Option<(Option<Vec<u8>>, i64)> = conn!(&mut self.conn, |c| {
            sqlx::query_as(
            "UPDATE card_requests SET revealed_at = $1 \
              WHERE operation_id = $2 AND card_id = $3 AND action = 'key6_show' AND revealed_at IS NULL \
                AND EXISTS (SELECT 1 FROM operations o WHERE o.id = $2 AND o.status = 'approved' AND o.decided_at > $4) \
             RETURNING (SELECT key6 FROM cards WHERE id = card_requests.card_id), \
                       (SELECT decided_at FROM operations WHERE id = card_requests.operation_id)"
        )
        .bind(at as i64)
        .bind(operation_id)
        .bind(card_id)
        .bind(at.saturating_sub(window) as i64)
        .fetch_optional(c)
        .await
        })?;
        if let Some((sealed, decided_at)) = sealed {
            return Ok(sealed.map(|s| (s, decided_at)).ok_or(Reveal::NotApproved));
        }
        let row: Option<(Option<i64>, Option<OperationStatus>)> = conn!(&mut self.conn, |c| sqlx::query_as(
            "SELECT r.revealed_at, o.status FROM card_requests r JOIN operations o ON o.id = r.operation_id \
              WHERE r.operation_id = $1 AND r.card_id = $2 AND r.action = 'key6_show'"
        )
        .bind(operation_id)
        .bind(card_id)
        .fetch_optional(c)
        .await)?;
        Ok(Err(match row {
            Some((Some(_), _)) => Reveal::Shown,
            Some((None, Some(OperationStatus::Approved))) => Reveal::TooLate,
            _ => Reveal::NotApproved,
        }))
    }

    /// The sealed Key6 and the count of wrong answers of a card, as this batch sees them.
    pub async fn key6_of(&mut self, card_id: i64) -> Result<(Option<Vec<u8>>, i64), StoreError> {
        Ok(conn!(&mut self.conn, |c| sqlx::query_as(
            "SELECT key6, key6_failures FROM cards WHERE id = $1"
        )
        .bind(card_id)
        .fetch_one(c)
        .await)?)
    }

    /// Counts a wrong Key6 or purchase SMS code of a card, unless `max` are counted already:
    /// the count after it, or `None` when the card's Key6 was blocked before.
    pub async fn count_key6_failure(&mut self, at: u64, card_id: i64, max: u32) -> Result<Option<u32>, StoreError> {
        let after: Option<i64> = conn!(&mut self.conn, |c| sqlx::query_scalar(
            "UPDATE cards SET key6_failures = key6_failures + 1, \
                    key6_blocked_at = CASE WHEN key6_failures + 1 >= $3 THEN $2 ELSE key6_blocked_at END \
              WHERE id = $1 AND key6_failures < $3 RETURNING key6_failures"
        )
        .bind(card_id)
        .bind(at as i64)
        .bind(i64::from(max))
        .fetch_optional(c)
        .await)?;
        Ok(after.map(|n| u32::try_from(n).unwrap_or(u32::MAX)))
    }

    /// A right Key6 with its SMS code: the wrong answers before it no longer count.
    pub async fn reset_key6_failures(&mut self, card_id: i64) -> Result<(), StoreError> {
        self.unblock_key6(card_id).await.map(|_| ())
    }

    /// The card's 3-D Secure phone.
    pub async fn card_phone(&mut self, card_id: i64) -> Result<String, StoreError> {
        Ok(conn!(&mut self.conn, |c| sqlx::query_scalar(
            "SELECT secure_phone FROM cards WHERE id = $1"
        )
        .bind(card_id)
        .fetch_one(c)
        .await)?)
    }

    /// Forgives the wrong answers of a card's Key6 (the branch's unblock).
    pub async fn unblock_key6(&mut self, card_id: i64) -> Result<bool, StoreError> {
        let n = conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE cards SET key6_failures = 0, key6_blocked_at = NULL WHERE id = $1 AND key6_failures <> 0"
        )
        .bind(card_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Counts a purchase of `amount` into the card's low-value exemption run if it fits
    /// (`count` purchases adding up to `sum` at most): whether it does.
    pub async fn take_exemption(
        &mut self,
        card_id: i64,
        amount: i64,
        count: u32,
        sum: i64,
    ) -> Result<bool, StoreError> {
        let n = conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE cards SET exempt_count = exempt_count + 1, exempt_sum = exempt_sum + $2 \
              WHERE id = $1 AND exempt_count < $3 AND exempt_sum + $2 <= $4"
        )
        .bind(card_id)
        .bind(amount)
        .bind(i64::from(count))
        .bind(sum)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Stores a 3-D Secure authentication.
    pub async fn insert_acs(&mut self, at: u64, t: &NewAcs) -> Result<(), StoreError> {
        conn!(&mut self.conn, |c| sqlx::query(
            "INSERT INTO acs_transactions (trans_id, card_id, operation_id, amount_minor, currency, merchant_name, \
             merchant_url, return_url, refused, auth_value, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        )
        .bind(&t.trans_id)
        .bind(t.card_id)
        .bind(t.operation_id)
        .bind(t.amount_minor)
        .bind(&t.currency)
        .bind(&t.merchant_name)
        .bind(&t.merchant_url)
        .bind(&t.return_url)
        .bind(&t.refused)
        .bind(&t.auth_value)
        .bind(at as i64)
        .execute(c)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// The authentication as this batch sees it.
    pub async fn acs(&mut self, trans_id: &str) -> Result<Option<AcsRow>, StoreError> {
        let sql = format!("SELECT {ACS_COLUMNS} WHERE t.trans_id = $1");
        Ok(conn!(&mut self.conn, |c| sqlx::query_as(&sql)
            .bind(trans_id)
            .fetch_optional(c)
            .await)?)
    }

    /// Records the SMS code just sent for a challenge (the last one counts).
    pub async fn set_acs_otp(&mut self, trans_id: &str, hash: &[u8], expires: u64) -> Result<(), StoreError> {
        conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE acs_transactions SET otp_hash = $2, otp_expires = $3, otp_sends = otp_sends + 1 WHERE trans_id = $1"
        )
        .bind(trans_id)
        .bind(hash)
        .bind(expires as i64)
        .execute(c)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Spends the challenge's SMS code: it counts once.
    pub async fn spend_acs_otp(&mut self, trans_id: &str) -> Result<(), StoreError> {
        conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE acs_transactions SET otp_hash = NULL, otp_expires = NULL WHERE trans_id = $1"
        )
        .bind(trans_id)
        .execute(c)
        .await
        .map(|_| ()))?;
        Ok(())
    }
}

impl Store {
    /// A 3-D Secure authentication.
    pub async fn acs(&self, trans_id: &str) -> Result<Option<AcsRow>, StoreError> {
        let sql = format!("SELECT {ACS_COLUMNS} WHERE t.trans_id = $1");
        Ok(pool!(&self.read, |p| sqlx::query_as(&sql)
            .bind(trans_id)
            .fetch_optional(p)
            .await)?)
    }

    /// The card's purchases, newest first: the movements its approved CARD_PAYMENTs booked on its
    /// account.
    pub async fn card_movements(&self, card_id: i64, limit: i64) -> Result<Vec<super::Movement>, StoreError> {
        Ok(pool!(&self.read, |p| sqlx::query_as(
            "SELECT m.id, m.at, m.amount_minor, m.counterparty, m.description FROM movements m \
               JOIN acs_transactions t ON t.operation_id = m.operation_id \
               JOIN cards k ON k.id = t.card_id AND k.account_id = m.account_id \
              WHERE t.card_id = $1 ORDER BY m.id DESC LIMIT $2"
        )
        .bind(card_id)
        .bind(limit)
        .fetch_all(p)
        .await)?)
    }

    /// What the card's purchases since `since` (unix seconds) took, in cents.
    pub async fn card_spent_since(&self, card_id: i64, since: u64) -> Result<i64, StoreError> {
        let spent: Option<i64> = pool!(&self.read, |p| sqlx::query_scalar(
            "SELECT CAST(coalesce(sum(-m.amount_minor), 0) AS BIGINT) FROM movements m \
               JOIN acs_transactions t ON t.operation_id = m.operation_id \
               JOIN cards k ON k.id = t.card_id AND k.account_id = m.account_id \
              WHERE t.card_id = $1 AND m.at >= $2"
        )
        .bind(card_id)
        .bind(since as i64)
        .fetch_one(p)
        .await)?;
        Ok(spent.unwrap_or(0))
    }

    /// The card's challenges waiting at `now`.
    pub async fn pending_challenges(&self, card_id: i64, now: u64) -> Result<i64, StoreError> {
        Ok(pool!(&self.read, |p| sqlx::query_scalar(
            "SELECT count(*) FROM acs_transactions t JOIN operations o ON o.id = t.operation_id \
              WHERE t.card_id = $1 AND o.status = 'pending' AND o.expires_at > $2"
        )
        .bind(card_id)
        .bind(now as i64)
        .fetch_one(p)
        .await)?)
    }

    /// The card with this row id.
    pub async fn card(&self, id: i64) -> Result<Option<CardRow>, StoreError> {
        let sql = format!("SELECT {CARD_COLUMNS} WHERE k.id = $1");
        Ok(pool!(&self.read, |p| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(p)
            .await)?)
    }

    /// The card of a customer by its public id.
    pub async fn customer_card(&self, customer_id: i64, card_id: &str) -> Result<Option<CardRow>, StoreError> {
        let sql = format!("SELECT {CARD_COLUMNS} WHERE k.customer_id = $1 AND k.card_id = $2");
        Ok(pool!(&self.read, |p| sqlx::query_as(&sql)
            .bind(customer_id)
            .bind(card_id)
            .fetch_optional(p)
            .await)?)
    }

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
