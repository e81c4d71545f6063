-- Customers of acquired banks (issue 15). An acquired bank's customers are imported from the file
-- it exports (`sca-server import-legacy`), with their old credentials as the old bank kept them
-- (PHC strings, never a clear password), and move to their own new credentials at a first access
-- once the bank's migration is open. The import is keyed by the legacy code, so a second import
-- of the same file adds nothing.
CREATE TABLE acquired_banks (
    id         INTEGER PRIMARY KEY,
    code       TEXT    NOT NULL UNIQUE,               -- 'ubi': lower-case letters and digits
    name       TEXT    NOT NULL,                      -- 'UBI Banca'
    opens_at   INTEGER NOT NULL,                      -- unix seconds: the first access opens
    closes_at  INTEGER,                               -- and closes (NULL: never)
    created_at INTEGER NOT NULL
);

CREATE TABLE legacy_customers (
    id            INTEGER PRIMARY KEY,
    bank_id       INTEGER NOT NULL REFERENCES acquired_banks(id),
    legacy_code   TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,                   -- PHC (argon2, pbkdf2-sha256) or bcrypt MCF
    name          TEXT    NOT NULL,
    phone         TEXT    NOT NULL,                   -- certified by the old bank, E.164
    email         TEXT    NOT NULL,
    auth_method   TEXT    NOT NULL CHECK (auth_method IN ('app', 'card')),
    status        TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'migrated')),
    customer_id   INTEGER UNIQUE REFERENCES customers(id), -- the new customer, once made
    failures      INTEGER NOT NULL DEFAULT 0,         -- wrong legacy passwords in a row
    blocked_at    INTEGER,
    created_at    INTEGER NOT NULL,
    UNIQUE (bank_id, legacy_code)
);

CREATE TABLE legacy_accounts (
    id                 INTEGER PRIMARY KEY,
    legacy_customer_id INTEGER NOT NULL REFERENCES legacy_customers(id),
    iban               TEXT    NOT NULL UNIQUE,
    name               TEXT    NOT NULL,
    balance_minor      INTEGER NOT NULL,
    currency           TEXT    NOT NULL
);
CREATE INDEX legacy_accounts_customer ON legacy_accounts(legacy_customer_id);
