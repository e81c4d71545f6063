//! Writes of customers and their accounts: creation, alias, password, accounts and movements.

use super::StoreError;
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
        let r = sqlx::query(
            "INSERT INTO customers (user_code, alias, name, phone, email, password_hash, security_code_hash, \
             password_change_required, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&c.user_code)
        .bind(&c.alias)
        .bind(&c.name)
        .bind(&c.phone)
        .bind(&c.email)
        .bind(&c.password_hash)
        .bind(&c.security_code_hash)
        .bind(c.password_change_required)
        .bind(at as i64)
        .execute(&mut self.conn)
        .await;
        match r {
            Ok(done) => Ok(Ok(done.last_insert_rowid())),
            Err(e) if unique_violation(&e) => Ok(Err(CustomerConflict::UserCode)),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether a customer has `alias`.
    async fn alias_taken(&mut self, alias: &str) -> Result<bool, StoreError> {
        let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM customers WHERE alias = ?")
            .bind(alias)
            .fetch_optional(&mut self.conn)
            .await?;
        Ok(taken.is_some())
    }

    /// Sets or clears the alias; `false` if taken.
    pub async fn set_alias(&mut self, customer_id: i64, alias: Option<&str>) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE customers SET alias = ? WHERE id = ?")
            .bind(alias)
            .bind(customer_id)
            .execute(&mut self.conn)
            .await;
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
        sqlx::query("UPDATE customers SET password_hash = ?, password_change_required = ? WHERE id = ?")
            .bind(hash)
            .bind(change_required)
            .bind(customer_id)
            .execute(&mut self.conn)
            .await?;
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
        let r = sqlx::query(
            "INSERT INTO accounts (customer_id, iban, name, balance_minor, currency, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(customer_id)
        .bind(iban)
        .bind(name)
        .bind(balance_minor)
        .bind(currency)
        .bind(at as i64)
        .execute(&mut self.conn)
        .await;
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
        sqlx::query(
            "INSERT INTO movements (account_id, at, amount_minor, counterparty, description, operation_id) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(account_id)
        .bind(at as i64)
        .bind(amount_minor)
        .bind(counterparty)
        .bind(description)
        .bind(operation_row)
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    /// The customer's first (current) account.
    pub async fn first_account(&mut self, customer_id: i64) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT id FROM accounts WHERE customer_id = ? ORDER BY id LIMIT 1")
            .bind(customer_id)
            .fetch_optional(&mut self.conn)
            .await?
            .ok_or_else(|| StoreError::Corrupt("the customer has no account".into()))
    }
}
