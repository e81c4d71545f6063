-- Sigillo sca-server schema, SQLite dialect. Amounts are integer minor units (cents); times are
-- unix seconds. Nothing here is ever deleted that an audit or a customer may need later:
-- operations keep their op_id for life, so an op_id can never be reused for a customer.

CREATE TABLE customers (
    id                       INTEGER PRIMARY KEY,
    user_code                TEXT    NOT NULL UNIQUE,
    alias                    TEXT    UNIQUE,            -- stored lower-case: unique ignoring case
    name                     TEXT    NOT NULL,
    phone                    TEXT    NOT NULL,
    email                    TEXT    NOT NULL,
    password_hash            TEXT    NOT NULL,
    security_code_hash       TEXT    NOT NULL,
    password_change_required INTEGER NOT NULL DEFAULT 1,
    created_at               INTEGER NOT NULL
);
CREATE INDEX customers_phone ON customers(phone);

-- Wrong answers in a row, per customer and credential ('password', 'code', 'sms_otp',
-- 'security_code'). A row with failures >= 5 is a blocked credential.
CREATE TABLE credential_failures (
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    credential  TEXT    NOT NULL,
    failures    INTEGER NOT NULL,
    blocked_at  INTEGER,
    PRIMARY KEY (customer_id, credential)
) WITHOUT ROWID;

CREATE TABLE devices (
    id                    TEXT    PRIMARY KEY,
    customer_id           INTEGER NOT NULL REFERENCES customers(id),
    name                  TEXT    NOT NULL,
    public_key            BLOB    NOT NULL,
    secrets               BLOB    NOT NULL,            -- AES-256-GCM(K_poss || K_know), AAD = id
    status                TEXT    NOT NULL,            -- 'active' | 'removed'
    last_login_step       INTEGER NOT NULL DEFAULT 0,
    last_transaction_step INTEGER NOT NULL DEFAULT 0,
    created_at            INTEGER NOT NULL,
    removed_at            INTEGER
);
CREATE INDEX devices_customer ON devices(customer_id, status);

CREATE TABLE activations (
    id             TEXT    PRIMARY KEY,
    customer_id    INTEGER NOT NULL REFERENCES customers(id),
    source         TEXT    NOT NULL,                   -- 'password_sms' | 'device'
    source_device  TEXT,
    operation_id   INTEGER,                            -- the DEVICE operation that unlocks it
    status         TEXT    NOT NULL,                   -- 'awaiting_keys' | 'awaiting_confirm' | 'active' | 'failed'
    expires_at     INTEGER NOT NULL,
    device_id      TEXT,
    device_name    TEXT,
    device_pub     BLOB,
    secrets        BLOB,                               -- AES-256-GCM(K_poss || K_know || K_conf), AAD = id
    created_at     INTEGER NOT NULL
);

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    iban          TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    balance_minor INTEGER NOT NULL,
    currency      TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX accounts_customer ON accounts(customer_id);

CREATE TABLE operations (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers(id),
    op_id        TEXT    NOT NULL,
    kind         TEXT    NOT NULL,                     -- 'TRANSFER' | 'LOGIN' | 'DEVICE' | …
    payload      TEXT    NOT NULL,
    status       TEXT    NOT NULL,                     -- 'pending' | 'approved' | 'rejected' | 'expired' | 'failed'
    expires_at   INTEGER NOT NULL,
    login_id     TEXT    UNIQUE,
    number       INTEGER,                              -- number matching, logins only
    account_id   INTEGER REFERENCES accounts(id),
    amount_minor INTEGER,
    currency     TEXT,
    payee_iban   TEXT,
    payee_name   TEXT,
    description  TEXT,
    created_at   INTEGER NOT NULL,
    decided_at   INTEGER,
    decided_by   TEXT,                                 -- how: 'device:<id>' | 'code:<id>' | 'sms'
    UNIQUE (customer_id, op_id)
);
CREATE INDEX operations_customer_status ON operations(customer_id, status);

CREATE TABLE movements (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts(id),
    at           INTEGER NOT NULL,
    amount_minor INTEGER NOT NULL,                     -- negative: debit
    counterparty TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    operation_id INTEGER REFERENCES operations(id)
);
CREATE INDEX movements_account ON movements(account_id, id);
-- Money moves once per operation and account, whatever happens above.
CREATE UNIQUE INDEX movements_once ON movements(operation_id, account_id) WHERE operation_id IS NOT NULL;

-- One-time passwords sent by SMS, and the recoveries they unlock (same row).
CREATE TABLE otps (
    id          TEXT    PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    purpose     TEXT    NOT NULL,                      -- 'login' | 'activation' | 'unblock' | 'password_reset'
    ref         TEXT    NOT NULL,                      -- the login id, activation id or recovery id
    hash        BLOB    NOT NULL,                      -- SHA-256(id || otp)
    expires_at  INTEGER NOT NULL,
    failures    INTEGER NOT NULL DEFAULT 0,
    used_at     INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE INDEX otps_ref ON otps(ref, purpose);

-- Transactional outbox: messages are written in the transaction that decides to send them.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    recipient    TEXT    NOT NULL,
    channel      TEXT    NOT NULL,                     -- 'sms' | 'email'
    body         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    delivered_at INTEGER,
    attempts     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_recipient ON outbox(recipient, id);
CREATE INDEX outbox_undelivered ON outbox(delivered_at, id);

-- Hash-chained audit log: hash = SHA-256(prev_hash || entry), see src/audit.rs.
CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    kind      TEXT    NOT NULL,
    customer  TEXT    NOT NULL,                        -- user code, or '' for none
    detail    TEXT    NOT NULL,
    prev_hash BLOB    NOT NULL,
    hash      BLOB    NOT NULL
);
