//! The two engines behind one set of statements (issue 13): SQLite, the embedded default, and
//! PostgreSQL, for several instances on one database. Every statement of the storage layer is
//! written once, in the SQL both read ($N parameters, `RETURNING`, `CASE` for min/max), and run
//! through [`conn!`] (the writer's connection) or [`pool!`] (the readers), which compile it once
//! for each engine. What differs — opening, migrations, the batch's lock, durability — is in
//! `mod.rs` and `writer.rs`, each marked by engine.

use sqlx::{PgConnection, PgPool, SqliteConnection, SqlitePool};

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// SQLite (one instance per database file).
    Sqlite,
    /// PostgreSQL (any number of instances).
    Postgres,
}

/// A connection of either engine.
#[derive(Debug)]
pub enum Conn {
    /// SQLite.
    Sqlite(SqliteConnection),
    /// PostgreSQL.
    Pg(PgConnection),
}

/// A pool of either engine.
#[derive(Debug, Clone)]
pub enum Pool {
    /// SQLite.
    Sqlite(SqlitePool),
    /// PostgreSQL.
    Pg(PgPool),
}

impl Conn {
    /// The engine.
    pub fn engine(&self) -> Engine {
        match self {
            Self::Sqlite(_) => Engine::Sqlite,
            Self::Pg(_) => Engine::Postgres,
        }
    }
}

/// Runs `$body` with `$c` the engine's own connection (`&mut SqliteConnection` or
/// `&mut PgConnection`): the statement is written once and compiled for each engine.
macro_rules! conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::storage::db::Conn::Sqlite($c) => $body,
            $crate::storage::db::Conn::Pg($c) => $body,
        }
    };
}

/// [`conn!`] for the reader pool.
macro_rules! pool {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $pool {
            $crate::storage::db::Pool::Sqlite($p) => $body,
            $crate::storage::db::Pool::Pg($p) => $body,
        }
    };
}

pub(crate) use {conn, pool};

/// A closed set stored as text (the column's CHECK lists the same names): its `as_str`, and its
/// encoding and decoding as text for either engine (an unknown name is a decoding error).
macro_rules! text_column {
    ($ty:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            /// The value of a stored name.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl<DB: sqlx::Database> sqlx::Type<DB> for $ty
        where
            str: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as sqlx::Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $ty
        where
            &'q str: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&'q str as sqlx::Encode<'q, DB>>::encode(self.as_str(), buf)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $ty
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(value: <DB as sqlx::Database>::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <&'r str as sqlx::Decode<'r, DB>>::decode(value)?;
                Self::parse(text).ok_or_else(|| format!("not a {}: {text}", stringify!($ty)).into())
            }
        }
    };
}

pub(crate) use text_column;
