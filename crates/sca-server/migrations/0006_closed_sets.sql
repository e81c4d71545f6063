-- Every state and kind the server writes is one of a closed set, and the schema says so (issue 12
-- item 2): CHECK constraints on the operations' status and kind, the activations' status and
-- source, the credentials counted and the SMS codes' purposes. An approved operation names the
-- credential that approved it (`approved_with`), and the trigger that resets that credential's
-- count reads it there, not out of the free text of `decided_by`.
--
-- SQLite cannot add a CHECK to a table: each table is made anew, filled with every row, and
-- renamed over the old one (the procedure of https://sqlite.org/lang_altertable.html#otheralter).
-- Foreign keys are off while a parent table is replaced: `Store::open` runs the migrations with
-- them off and checks them all (`pragma_foreign_key_check`) before turning them on again.
-- The approval triggers name tables made anew here: they go first and are made again last.
DROP TRIGGER operation_approved_books_transfer;
DROP TRIGGER operation_approved_resets_failures;

-- ----- operations -----
CREATE TABLE operations_new (
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    op_id         TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('TRANSFER', 'LOGIN', 'CARD_PAYMENT', 'DEVICE', 'GENERIC')),
    payload       TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'failed')),
    expires_at    INTEGER NOT NULL,
    login_id      TEXT    UNIQUE,
    number        INTEGER,                             -- number matching, logins only
    account_id    INTEGER REFERENCES accounts(id),
    amount_minor  INTEGER,
    currency      TEXT,
    payee_iban    TEXT,
    payee_name    TEXT,
    description   TEXT,
    created_at    INTEGER NOT NULL,
    decided_at    INTEGER,
    decided_by    TEXT,                                -- for people: 'device:<id>' | 'code:<id>' | 'sms'
    approved_with TEXT    CHECK (approved_with IN ('code', 'sms_otp')),
    UNIQUE (customer_id, op_id),
    CHECK ((status = 'approved') = (approved_with IS NOT NULL))
);
INSERT INTO operations_new (id, customer_id, op_id, kind, payload, status, expires_at, login_id, number,
    account_id, amount_minor, currency, payee_iban, payee_name, description, created_at, decided_at,
    decided_by, approved_with)
SELECT id, customer_id, op_id, kind, payload, status, expires_at, login_id, number, account_id,
       amount_minor, currency, payee_iban, payee_name, description, created_at, decided_at, decided_by,
       CASE WHEN status = 'approved' THEN CASE WHEN decided_by = 'sms' THEN 'sms_otp' ELSE 'code' END END
  FROM operations;
DROP TABLE operations;
ALTER TABLE operations_new RENAME TO operations;
CREATE INDEX operations_customer_status ON operations(customer_id, status);

-- ----- activations -----
CREATE TABLE activations_new (
    id             TEXT    PRIMARY KEY,
    customer_id    INTEGER NOT NULL REFERENCES customers(id),
    source         TEXT    NOT NULL CHECK (source IN ('password_sms', 'device')),
    source_device  TEXT,
    operation_id   INTEGER,                            -- the DEVICE operation's row id (operations.id)
    status         TEXT    NOT NULL CHECK (status IN ('awaiting_keys', 'awaiting_confirm', 'active', 'failed')),
    expires_at     INTEGER NOT NULL,
    device_id      TEXT,
    device_name    TEXT,
    device_pub     BLOB,
    secrets        BLOB,                               -- AES-256-GCM(K_poss || K_know || K_conf), AAD = id
    created_at     INTEGER NOT NULL
);
INSERT INTO activations_new SELECT id, customer_id, source, source_device, operation_id, status, expires_at,
       device_id, device_name, device_pub, secrets, created_at FROM activations;
DROP TABLE activations;
ALTER TABLE activations_new RENAME TO activations;

-- ----- credential_failures -----
CREATE TABLE credential_failures_new (
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    credential  TEXT    NOT NULL CHECK (credential IN ('password', 'code', 'sms_otp', 'security_code')),
    failures    INTEGER NOT NULL,
    blocked_at  INTEGER,
    pending     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (customer_id, credential)
) WITHOUT ROWID;
INSERT INTO credential_failures_new (customer_id, credential, failures, blocked_at, pending)
SELECT customer_id, credential, failures, blocked_at, pending FROM credential_failures;
DROP TABLE credential_failures;
ALTER TABLE credential_failures_new RENAME TO credential_failures;

-- ----- otps -----
CREATE TABLE otps_new (
    id          TEXT    PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    purpose     TEXT    NOT NULL
                CHECK (purpose IN ('login', 'activation', 'unblock', 'password_reset', 'password_change')),
    ref         TEXT    NOT NULL,                      -- the login id, activation id or recovery id
    hash        BLOB    NOT NULL,                      -- SHA-256(id || otp)
    expires_at  INTEGER NOT NULL,
    failures    INTEGER NOT NULL DEFAULT 0,
    used_at     INTEGER,
    created_at  INTEGER NOT NULL
);
INSERT INTO otps_new SELECT id, customer_id, purpose, ref, hash, expires_at, failures, used_at, created_at FROM otps;
DROP TABLE otps;
ALTER TABLE otps_new RENAME TO otps;
CREATE INDEX otps_ref ON otps(ref, purpose);

-- ----- the approval triggers, made again -----
CREATE TRIGGER operation_approved_books_transfer
AFTER UPDATE OF status ON operations
WHEN NEW.status = 'approved' AND OLD.status = 'pending' AND NEW.account_id IS NOT NULL
BEGIN
    -- The writer checks the balance in the same transaction first; this is the last guard.
    SELECT RAISE(ABORT, 'insufficient_funds')
     WHERE (SELECT balance_minor FROM accounts WHERE id = NEW.account_id) < NEW.amount_minor;
    UPDATE accounts SET balance_minor = balance_minor - NEW.amount_minor WHERE id = NEW.account_id;
    INSERT INTO movements (account_id, at, amount_minor, counterparty, description, operation_id)
    VALUES (NEW.account_id, NEW.decided_at, -NEW.amount_minor, NEW.payee_name, coalesce(NEW.description, ''), NEW.id);
    INSERT INTO movements (account_id, at, amount_minor, counterparty, description, operation_id)
    SELECT a.id, NEW.decided_at, NEW.amount_minor,
           (SELECT c.name FROM accounts pa JOIN customers c ON c.id = pa.customer_id WHERE pa.id = NEW.account_id),
           coalesce(NEW.description, ''), NEW.id
      FROM accounts a
     WHERE a.iban = NEW.payee_iban AND a.id != NEW.account_id;
    UPDATE accounts SET balance_minor = balance_minor + NEW.amount_minor
     WHERE iban = NEW.payee_iban AND id != NEW.account_id;
END;

-- A right answer resets the count of wrong ones of the credential that gave it, and leaves the
-- attempts other answers have taken (and not yet settled) where they are.
CREATE TRIGGER operation_approved_resets_failures
AFTER UPDATE OF status ON operations
WHEN NEW.status = 'approved' AND OLD.status = 'pending'
BEGIN
    UPDATE credential_failures SET failures = 0, blocked_at = NULL
     WHERE customer_id = NEW.customer_id AND credential = NEW.approved_with;
END;
