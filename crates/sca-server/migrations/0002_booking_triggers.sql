-- Approval side effects as triggers, so that they happen in the very statement that flips an
-- operation from pending to approved — never apart from it, never twice:
--  * a transfer books its money (debit, and credit if the payee's account is here), or the whole
--    statement aborts with 'insufficient_funds' and the operation stays pending;
--  * a right answer resets the wrong-answer count of the credential that gave it.

CREATE TRIGGER operation_approved_books_transfer
AFTER UPDATE OF status ON operations
WHEN NEW.status = 'approved' AND OLD.status = 'pending' AND NEW.account_id IS NOT NULL
BEGIN
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
    DELETE FROM credential_failures
     WHERE customer_id = NEW.customer_id
       AND credential = CASE WHEN NEW.decided_by = 'sms' THEN 'sms_otp' ELSE 'code' END;
END;
