-- A right answer resets the count only where there is one to reset: most approvals find it at 0,
-- and an UPDATE that changes nothing still writes a new row version (the hot path, issue 13).
CREATE OR REPLACE FUNCTION operation_approved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.account_id IS NOT NULL THEN
        -- The writer checks the balance in the same transaction first; this is the last guard.
        IF (SELECT balance_minor FROM accounts WHERE id = NEW.account_id) < NEW.amount_minor THEN
            RAISE EXCEPTION 'insufficient_funds';
        END IF;
        UPDATE accounts SET balance_minor = balance_minor - NEW.amount_minor WHERE id = NEW.account_id;
        INSERT INTO movements (account_id, at, amount_minor, counterparty, description, operation_id)
        VALUES (NEW.account_id, NEW.decided_at, -NEW.amount_minor, NEW.payee_name,
                coalesce(NEW.description, ''), NEW.id);
        INSERT INTO movements (account_id, at, amount_minor, counterparty, description, operation_id)
        SELECT a.id, NEW.decided_at, NEW.amount_minor,
               (SELECT c.name FROM accounts pa JOIN customers c ON c.id = pa.customer_id
                 WHERE pa.id = NEW.account_id),
               coalesce(NEW.description, ''), NEW.id
          FROM accounts a
         WHERE a.iban = NEW.payee_iban AND a.id <> NEW.account_id;
        UPDATE accounts SET balance_minor = balance_minor + NEW.amount_minor
         WHERE iban = NEW.payee_iban AND id <> NEW.account_id;
    END IF;
    UPDATE credential_failures SET failures = 0, blocked_at = NULL
     WHERE customer_id = NEW.customer_id AND credential = NEW.approved_with
       AND (failures <> 0 OR blocked_at IS NOT NULL);
    RETURN NULL;
END;
$$;
