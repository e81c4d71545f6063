-- Paying a pagoPA notice (issue 16): the same tables and rules as SQLite's 0016, which says why.
ALTER TABLE operations DROP CONSTRAINT operations_kind_check;
ALTER TABLE operations ADD CONSTRAINT operations_kind_check
    CHECK (kind IN ('TRANSFER', 'LOGIN', 'CARD_PAYMENT', 'DEVICE', 'GENERIC', 'PAGOPA'));

CREATE TABLE pagopa_creditors (
    fiscal_code TEXT PRIMARY KEY CHECK (length(fiscal_code) = 11),
    name        TEXT NOT NULL,
    iban        TEXT NOT NULL
);

-- The notices a creditor has issued, with the amount each asks for: a payment pays that amount,
-- no other. (A bank learns them from the pagoPA node; a sandbox's creditors issue a notice the
-- first time it is asked for, at the amount asked.)
CREATE TABLE pagopa_notices (
    creditor_fiscal_code TEXT    NOT NULL REFERENCES pagopa_creditors(fiscal_code),
    notice_code          TEXT    NOT NULL CHECK (length(notice_code) = 18),
    amount_minor         BIGINT NOT NULL CHECK (amount_minor > 0),
    issued_at            BIGINT NOT NULL,
    PRIMARY KEY (creditor_fiscal_code, notice_code)
);

CREATE TABLE pagopa_payments (
    operation_id         BIGINT PRIMARY KEY REFERENCES operations(id),
    creditor_fiscal_code TEXT   NOT NULL REFERENCES pagopa_creditors(fiscal_code),
    notice_code          TEXT   NOT NULL CHECK (length(notice_code) = 18),
    paid_at              BIGINT
);
CREATE UNIQUE INDEX pagopa_paid_once ON pagopa_payments(creditor_fiscal_code, notice_code)
    WHERE paid_at IS NOT NULL;
CREATE INDEX pagopa_by_notice ON pagopa_payments(creditor_fiscal_code, notice_code);

CREATE FUNCTION pagopa_approved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE pagopa_payments SET paid_at = NEW.decided_at WHERE operation_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER pagopa_approved
AFTER UPDATE OF status ON operations
FOR EACH ROW WHEN (NEW.status = 'approved' AND OLD.status = 'pending' AND NEW.kind = 'PAGOPA')
EXECUTE FUNCTION pagopa_approved();
