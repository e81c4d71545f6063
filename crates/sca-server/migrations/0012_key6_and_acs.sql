-- 3-D Secure with Key6 (issue 14).
--
-- A card's Key6 is kept sealed (AES-256-GCM under the secrets key, AAD `key6:<card_id>`: the bank
-- must be able to show it), with the count of wrong answers of its challenges in a row (a wrong
-- Key6 and a wrong purchase SMS code count together; 5 block it) and the low-value purchases
-- let through since the last strong authentication (RTS art. 16).
--
-- What the customer asks of a card (set or change the Key6, see it, unblock it, change the 3-D
-- Secure phone) waits in `card_requests` beside the operation that authorizes it, and is done
-- by the trigger in the very statement that approves that operation — never apart from it,
-- never twice. A purchase's challenge is an `acs_transactions` row beside its CARD_PAYMENT
-- operation, whose approval books the money (the transfer trigger) and ends the exemption run.
--
-- An operation approved by the card's own means (the exemption, or the SMS code with the Key6)
-- says so: `approved_with = 'card'`, a credential no customer-wide count resets. SQLite cannot
-- widen a CHECK: the operations table is made anew as in 0006, its triggers first dropped and
-- made again last.
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
    approved_with TEXT    CHECK (approved_with IN ('code', 'sms_otp', 'card')),
    UNIQUE (customer_id, op_id),
    CHECK ((status = 'approved') = (approved_with IS NOT NULL))
);
INSERT INTO operations_new (id, customer_id, op_id, kind, payload, status, expires_at, login_id, number,
    account_id, amount_minor, currency, payee_iban, payee_name, description, created_at, decided_at,
    decided_by, approved_with)
SELECT id, customer_id, op_id, kind, payload, status, expires_at, login_id, number, account_id,
       amount_minor, currency, payee_iban, payee_name, description, created_at, decided_at, decided_by,
       approved_with
  FROM operations;
DROP TABLE operations;
ALTER TABLE operations_new RENAME TO operations;
CREATE INDEX operations_customer_status ON operations(customer_id, status);

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

-- ----- cards: the Key6, its count, the exemption run -----
ALTER TABLE cards ADD COLUMN key6            BLOB;                 -- sealed; NULL: not set
ALTER TABLE cards ADD COLUMN key6_failures   INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cards ADD COLUMN key6_blocked_at INTEGER;
ALTER TABLE cards ADD COLUMN exempt_count    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cards ADD COLUMN exempt_sum      INTEGER NOT NULL DEFAULT 0; -- cents

CREATE TABLE card_requests (
    operation_id INTEGER PRIMARY KEY REFERENCES operations(id),
    card_id      INTEGER NOT NULL REFERENCES cards(id),
    action       TEXT    NOT NULL CHECK (action IN ('key6_set', 'key6_show', 'key6_unblock', 'secure_phone')),
    key6         BLOB,                                 -- key6_set: the new Key6, sealed for the card
    phone        TEXT,                                 -- secure_phone: the new phone
    revealed_at  INTEGER,                              -- key6_show: when it was shown (once)
    CHECK ((action = 'key6_set') = (key6 IS NOT NULL)),
    CHECK ((action = 'secure_phone') = (phone IS NOT NULL))
);

CREATE TABLE acs_transactions (
    trans_id      TEXT    PRIMARY KEY,                 -- acsTransID: a UUID, the challenge's capability
    card_id       INTEGER REFERENCES cards(id),        -- NULL: the card was not found
    operation_id  INTEGER UNIQUE REFERENCES operations(id), -- the CARD_PAYMENT; NULL: refused at once
    amount_minor  INTEGER NOT NULL,
    currency      TEXT    NOT NULL,
    merchant_name TEXT    NOT NULL,
    merchant_url  TEXT    NOT NULL,
    return_url    TEXT    NOT NULL,
    refused       TEXT,                                -- N or R at once: 'N:<reason>' | 'R:<reason>'
    auth_value    TEXT    NOT NULL,                    -- the authentication value given with Y
    otp_hash      BLOB,                                -- SHA-256(trans_id || otp) of the last SMS code
    otp_expires   INTEGER,
    otp_sends     INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

CREATE TRIGGER card_request_approved
AFTER UPDATE OF status ON operations
WHEN NEW.status = 'approved' AND OLD.status = 'pending' AND NEW.kind = 'GENERIC'
BEGIN
    UPDATE cards SET key6 = (SELECT key6 FROM card_requests WHERE operation_id = NEW.id),
                     key6_failures = 0, key6_blocked_at = NULL
     WHERE id = (SELECT card_id FROM card_requests WHERE operation_id = NEW.id AND action = 'key6_set');
    UPDATE cards SET key6_failures = 0, key6_blocked_at = NULL
     WHERE id = (SELECT card_id FROM card_requests WHERE operation_id = NEW.id AND action = 'key6_unblock');
    UPDATE cards SET secure_phone = (SELECT phone FROM card_requests WHERE operation_id = NEW.id)
     WHERE id = (SELECT card_id FROM card_requests WHERE operation_id = NEW.id AND action = 'secure_phone');
END;

-- A purchase approved with strong authentication starts a new exemption run; one let through
-- by the exemption was counted into the run by the write that let it through.
CREATE TRIGGER card_payment_approved
AFTER UPDATE OF status ON operations
WHEN NEW.status = 'approved' AND OLD.status = 'pending' AND NEW.kind = 'CARD_PAYMENT'
     AND NEW.decided_by != 'exemption'
BEGIN
    UPDATE cards SET exempt_count = 0, exempt_sum = 0
     WHERE id = (SELECT card_id FROM acs_transactions WHERE operation_id = NEW.id);
END;
