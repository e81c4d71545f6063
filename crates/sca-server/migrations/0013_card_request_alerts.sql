-- A change to a card's 3-D Secure means (a new Key6, a new phone) is announced when it is made:
-- by SMS to the phone the card had until then and by e-mail to the customer, as a new device is.
-- The text is written with the request (texts.rs), and sent by the statement that approves its
-- operation, before the phone changes.
ALTER TABLE card_requests ADD COLUMN alert TEXT;

DROP TRIGGER card_request_approved;
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
