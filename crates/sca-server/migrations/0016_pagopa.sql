-- Paying a pagoPA notice (issue 16): a PAGOPA operation (docs/spec/sca1.md §6) books its money
-- as a transfer does, to the creditor's account, and the notice it pays beside it in
-- `pagopa_payments`. A notice is paid once: the approval statement approves no PAGOPA whose
-- notice is already paid (storage/operations.rs), and the unique index on paid notices is the
-- last guard should two approvals still meet. `pagopa_creditors` is the bank's list of public
-- bodies it can pay (a sandbox seeds a few), so a page can name the creditor.
--
-- SQLite cannot widen a CHECK: the operations table is made anew as in 0012, its triggers first
-- dropped and then made again as they stood (0012, 0013).
DROP TRIGGER operation_approved_books_transfer;
DROP TRIGGER operation_approved_resets_failures;
DROP TRIGGER card_payment_approved;
DROP TRIGGER card_request_approved;

CREATE TABLE operations_new (
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    op_id         TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('TRANSFER', 'LOGIN', 'CARD_PAYMENT', 'DEVICE', 'GENERIC', 'PAGOPA')),
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
INSERT INTO operations_new (id, customer_id, op_id, kind, payload, status, expires_at, login_id, number, account_id, amount_minor, currency, payee_iban, payee_name, description, created_at, decided_at, decided_by, approved_with)
SELECT id, customer_id, op_id, kind, payload, status, expires_at, login_id, number, account_id, amount_minor, currency, payee_iban, payee_name, description, created_at, decided_at, decided_by, approved_with
  FROM operations;
DROP TABLE operations;
ALTER TABLE operations_new RENAME TO operations;
CREATE INDEX operations_customer_status ON operations(customer_id, status);

CREATE TRIGGER card_payment_approved
AFTER UPDATE OF status ON operations
WHEN NEW.status = 'approved' AND OLD.status = 'pending' AND NEW.kind = 'CARD_PAYMENT'
     AND NEW.decided_by != 'exemption'
BEGIN
    UPDATE cards SET exempt_count = 0, exempt_sum = 0
     WHERE id = (SELECT card_id FROM acs_transactions WHERE operation_id = NEW.id);
END;
CREATE TRIGGER card_request_approved
AFTER UPDATE OF status ON operations
WHEN NEW.status = 'approved' AND OLD.status = 'pending' AND NEW.kind = 'GENERIC'
BEGIN
    INSERT INTO outbox (recipient, channel, body, created_at)
    SELECT k.secure_phone, 'sms', r.alert, NEW.decided_at
      FROM card_requests r JOIN cards k ON k.id = r.card_id
     WHERE r.operation_id = NEW.id AND r.alert IS NOT NULL;
    INSERT INTO outbox (recipient, channel, body, created_at)
    SELECT c.email, 'email', r.alert, NEW.decided_at
      FROM card_requests r JOIN customers c ON c.id = NEW.customer_id
     WHERE r.operation_id = NEW.id AND r.alert IS NOT NULL;
    UPDATE cards SET key6 = (SELECT key6 FROM card_requests WHERE operation_id = NEW.id),
                     key6_failures = 0, key6_blocked_at = NULL
     WHERE id = (SELECT card_id FROM card_requests WHERE operation_id = NEW.id AND action = 'key6_set');
    UPDATE cards SET key6_failures = 0, key6_blocked_at = NULL
     WHERE id = (SELECT card_id FROM card_requests WHERE operation_id = NEW.id AND action = 'key6_unblock');
    UPDATE cards SET secure_phone = (SELECT phone FROM card_requests WHERE operation_id = NEW.id)
     WHERE id = (SELECT card_id FROM card_requests WHERE operation_id = NEW.id AND action = 'secure_phone');
END;
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
CREATE TRIGGER operation_approved_resets_failures
AFTER UPDATE OF status ON operations
WHEN NEW.status = 'approved' AND OLD.status = 'pending'
BEGIN
    UPDATE credential_failures SET failures = 0, blocked_at = NULL
     WHERE customer_id = NEW.customer_id AND credential = NEW.approved_with;
END;

CREATE TABLE pagopa_creditors (
    fiscal_code TEXT PRIMARY KEY CHECK (length(fiscal_code) = 11),
    name        TEXT NOT NULL,
    iban        TEXT NOT NULL                          -- where the bank pays the creditor
);

-- The notices a creditor has issued, with the amount each asks for: a payment pays that amount,
-- no other. (A bank learns them from the pagoPA node; a sandbox's creditors issue a notice the
-- first time it is asked for, at the amount asked.)
CREATE TABLE pagopa_notices (
    creditor_fiscal_code TEXT    NOT NULL REFERENCES pagopa_creditors(fiscal_code),
    notice_code          TEXT    NOT NULL CHECK (length(notice_code) = 18),
    amount_minor         INTEGER NOT NULL CHECK (amount_minor > 0),
    issued_at            INTEGER NOT NULL,
    PRIMARY KEY (creditor_fiscal_code, notice_code)
);

CREATE TABLE pagopa_payments (
    operation_id         INTEGER PRIMARY KEY REFERENCES operations(id),
    creditor_fiscal_code TEXT    NOT NULL REFERENCES pagopa_creditors(fiscal_code),
    notice_code          TEXT    NOT NULL CHECK (length(notice_code) = 18),
    paid_at              INTEGER                       -- set by the approval, in its statement
);
CREATE UNIQUE INDEX pagopa_paid_once ON pagopa_payments(creditor_fiscal_code, notice_code)
    WHERE paid_at IS NOT NULL;
CREATE INDEX pagopa_by_notice ON pagopa_payments(creditor_fiscal_code, notice_code);

CREATE TRIGGER pagopa_approved
AFTER UPDATE OF status ON operations
WHEN NEW.status = 'approved' AND OLD.status = 'pending' AND NEW.kind = 'PAGOPA'
BEGIN
    UPDATE pagopa_payments SET paid_at = NEW.decided_at WHERE operation_id = NEW.id;
END;
