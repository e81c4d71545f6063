-- 3-D Secure with Key6 (issue 14): the same tables and rules as SQLite's 0012, which says why.
-- An operation approved by the card's own means says `approved_with = 'card'`.
ALTER TABLE operations DROP CONSTRAINT operations_approved_with_check;
ALTER TABLE operations ADD CONSTRAINT operations_approved_with_check
    CHECK (approved_with IN ('code', 'sms_otp', 'card'));

ALTER TABLE cards ADD COLUMN key6            BYTEA;                -- sealed; NULL: not set
ALTER TABLE cards ADD COLUMN key6_failures   BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cards ADD COLUMN key6_blocked_at BIGINT;
ALTER TABLE cards ADD COLUMN exempt_count    BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cards ADD COLUMN exempt_sum      BIGINT NOT NULL DEFAULT 0; -- cents

CREATE TABLE card_requests (
    operation_id BIGINT  PRIMARY KEY REFERENCES operations(id),
    card_id      BIGINT  NOT NULL REFERENCES cards(id),
    action       TEXT    NOT NULL CHECK (action IN ('key6_set', 'key6_show', 'key6_unblock', 'secure_phone')),
    key6         BYTEA,                                 -- key6_set: the new Key6, sealed for the card
    phone        TEXT,                                 -- secure_phone: the new phone
    revealed_at  BIGINT,                              -- key6_show: when it was shown (once)
    CHECK ((action = 'key6_set') = (key6 IS NOT NULL)),
    CHECK ((action = 'secure_phone') = (phone IS NOT NULL))
);

CREATE TABLE acs_transactions (
    trans_id      TEXT    PRIMARY KEY,                 -- acsTransID: a UUID, the challenge's capability
    card_id       BIGINT  REFERENCES cards(id),        -- NULL: the card was not found
    operation_id  BIGINT  UNIQUE REFERENCES operations(id), -- the CARD_PAYMENT; NULL: refused at once
    amount_minor  BIGINT  NOT NULL,
    currency      TEXT    NOT NULL,
    merchant_name TEXT    NOT NULL,
    merchant_url  TEXT    NOT NULL,
    return_url    TEXT    NOT NULL,
    refused       TEXT,                                -- N or R at once: 'N:<reason>' | 'R:<reason>'
    auth_value    TEXT    NOT NULL,                    -- the authentication value given with Y
    otp_hash      BYTEA,                                -- SHA-256(trans_id || otp) of the last SMS code
    otp_expires   BIGINT,
    otp_sends     BIGINT  NOT NULL DEFAULT 0,
    created_at    BIGINT  NOT NULL
);

-- What an approved operation does to a card: a request's change, or the end of an exemption run.
CREATE FUNCTION card_operation_approved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r card_requests%ROWTYPE;
BEGIN
    IF NEW.kind = 'GENERIC' THEN
        SELECT * INTO r FROM card_requests WHERE operation_id = NEW.id;
        IF FOUND THEN
            IF r.action = 'key6_set' THEN
                UPDATE cards SET key6 = r.key6, key6_failures = 0, key6_blocked_at = NULL WHERE id = r.card_id;
            ELSIF r.action = 'key6_unblock' THEN
                UPDATE cards SET key6_failures = 0, key6_blocked_at = NULL WHERE id = r.card_id;
            ELSIF r.action = 'secure_phone' THEN
                UPDATE cards SET secure_phone = r.phone WHERE id = r.card_id;
            END IF;
        END IF;
    ELSIF NEW.kind = 'CARD_PAYMENT' AND NEW.decided_by <> 'exemption' THEN
        UPDATE cards SET exempt_count = 0, exempt_sum = 0
         WHERE id = (SELECT card_id FROM acs_transactions WHERE operation_id = NEW.id)
           AND (exempt_count <> 0 OR exempt_sum <> 0);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER card_operation_approved
AFTER UPDATE OF status ON operations
FOR EACH ROW WHEN (NEW.status = 'approved' AND OLD.status = 'pending' AND NEW.kind IN ('GENERIC', 'CARD_PAYMENT'))
EXECUTE FUNCTION card_operation_approved();
