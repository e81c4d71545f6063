-- A change to a card's 3-D Secure means is announced when it is made (SQLite's 0013 says why).
ALTER TABLE card_requests ADD COLUMN alert TEXT;

CREATE OR REPLACE FUNCTION card_operation_approved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r card_requests%ROWTYPE;
BEGIN
    IF NEW.kind = 'GENERIC' THEN
        SELECT * INTO r FROM card_requests WHERE operation_id = NEW.id;
        IF FOUND THEN
            IF r.alert IS NOT NULL THEN
                INSERT INTO outbox (recipient, channel, body, created_at)
                SELECT k.secure_phone, 'sms', r.alert, NEW.decided_at FROM cards k WHERE k.id = r.card_id;
                INSERT INTO outbox (recipient, channel, body, created_at)
                SELECT c.email, 'email', r.alert, NEW.decided_at FROM customers c WHERE c.id = NEW.customer_id;
            END IF;
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
