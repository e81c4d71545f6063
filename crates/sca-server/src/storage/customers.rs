//! Writes of customers and their accounts: creation, alias, password, accounts and movements.

use super::StoreError;
use super::db::conn;
use super::writer::{CustomerConflict, NewCustomer, WriteCtx, inserted_unless_taken, unique_violation};

impl WriteCtx {
    /// Stores a customer.
    pub async fn insert_customer(
        &mut self,
        at: u64,
        c: &NewCustomer,
    ) -> Result<Result<i64, CustomerConflict>, StoreError> {
        // Two unique columns: which one refused is asked, not read out of the error's text (the
        // writer is alone, so nothing takes the alias between this read and the insert).
        if let Some(alias) = &c.alias
            && self.alias_taken(alias).await?
        {
            return Ok(Err(CustomerConflict::Alias));
        }
        self.begin_maybe_taken().await?;
        let r: Result<i64, _> = conn!(&mut self.conn, |db| sqlx::query_scalar(
            "INSERT INTO customers (user_code, alias, name, phone, email, password_hash, security_code_hash, \
             password_change_required, sca_policy, first_access_pending, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(&c.user_code)
        .bind(&c.alias)
        .bind(&c.name)
        .bind(&c.phone)
        .bind(&c.email)
        .bind(&c.password_hash)
        .bind(&c.security_code_hash)
        .bind(c.password_change_required)
        .bind(c.sca_policy)
        .bind(c.first_access_pending)
        .bind(at as i64)
        .fetch_one(db)
        .await);
        self.end_maybe_taken(r.is_err()).await?;
        match r {
            Ok(id) => Ok(Ok(id)),
            Err(e) if unique_violation(&e) => Ok(Err(CustomerConflict::UserCode)),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether a customer has `alias`.
    async fn alias_taken(&mut self, alias: &str) -> Result<bool, StoreError> {
        let taken: Option<i64> = conn!(&mut self.conn, |c| sqlx::query_scalar(
            "SELECT id FROM customers WHERE alias = $1"
        )
        .bind(alias)
        .fetch_optional(c)
        .await)?;
        Ok(taken.is_some())
    }

    /// Sets or clears the alias; `false` if taken.
    pub async fn set_alias(&mut self, customer_id: i64, alias: Option<&str>) -> Result<bool, StoreError> {
        self.begin_maybe_taken().await?;
        let r = conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE customers SET alias = $1 WHERE id = $2"
        )
        .bind(alias)
        .bind(customer_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()));
        self.end_maybe_taken(r.is_err()).await?;
        match r {
            Ok(_) => Ok(true),
            Err(e) if unique_violation(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Replaces the password hash.
    pub async fn set_password(
        &mut self,
        customer_id: i64,
        hash: &str,
        change_required: bool,
    ) -> Result<(), StoreError> {
        conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE customers SET password_hash = $1, password_change_required = $2 WHERE id = $3"
        )
        .bind(hash)
        .bind(change_required)
        .bind(customer_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Opens an account; `None` if the IBAN exists.
    pub async fn insert_account(
        &mut self,
        at: u64,
        customer_id: i64,
        iban: &str,
        name: &str,
        balance_minor: i64,
        currency: &str,
    ) -> Result<Option<i64>, StoreError> {
        self.begin_maybe_taken().await?;
        let r: Result<i64, _> = conn!(&mut self.conn, |c| {
            sqlx::query_scalar(
            "INSERT INTO accounts (customer_id, iban, name, balance_minor, currency, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(customer_id)
        .bind(iban)
        .bind(name)
        .bind(balance_minor)
        .bind(currency)
        .bind(at as i64)
        .fetch_one(c)
        .await
        });
        self.end_maybe_taken(r.is_err()).await?;
        inserted_unless_taken(r)
    }

    /// Books a movement (demo seeding and transfers).
    pub async fn insert_movement(
        &mut self,
        at: u64,
        account_id: i64,
        amount_minor: i64,
        counterparty: &str,
        description: &str,
        operation_row: Option<i64>,
    ) -> Result<(), StoreError> {
        conn!(&mut self.conn, |c| sqlx::query(
            "INSERT INTO movements (account_id, at, amount_minor, counterparty, description, operation_id) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(account_id)
        .bind(at as i64)
        .bind(amount_minor)
        .bind(counterparty)
        .bind(description)
        .bind(operation_row)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The customer's first (current) account.
    pub async fn first_account(&mut self, customer_id: i64) -> Result<i64, StoreError> {
        conn!(&mut self.conn, |c| sqlx::query_scalar(
            "SELECT id FROM accounts WHERE customer_id = $1 ORDER BY id LIMIT 1"
        )
        .bind(customer_id)
        .fetch_optional(c)
        .await)?
        .ok_or_else(|| StoreError::Corrupt("the customer has no account".into()))
    }
}
