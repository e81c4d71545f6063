-- Count-then-verify (issue 11): a password or a security code takes its attempt before it is
-- evaluated. `pending` counts the attempts taken and not yet settled; an answer may be evaluated
-- only while `failures + pending < max`, so however many arrive at once, no more than the
-- attempts left are ever evaluated. A right answer resets `failures`, never another answer's
-- pending attempt.
ALTER TABLE credential_failures ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;

-- The same counters for user names that are no customer's, so that a known and an unknown user
-- get the same answers and cause the same work (issue 11 §3). Rows are forgotten after 30 days.
CREATE TABLE unknown_user_failures (
    user        TEXT    NOT NULL,
    credential  TEXT    NOT NULL,
    failures    INTEGER NOT NULL DEFAULT 0,
    pending     INTEGER NOT NULL DEFAULT 0,
    blocked_at  INTEGER,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (user, credential)
) WITHOUT ROWID;
CREATE INDEX unknown_user_failures_updated ON unknown_user_failures(updated_at);

-- A right answer resets the count of wrong ones and leaves the attempts other answers have
-- taken (and not yet settled) where they are.
DROP TRIGGER operation_approved_resets_failures;
CREATE TRIGGER operation_approved_resets_failures
AFTER UPDATE OF status ON operations
WHEN NEW.status = 'approved' AND OLD.status = 'pending'
BEGIN
    UPDATE credential_failures SET failures = 0, blocked_at = NULL
     WHERE customer_id = NEW.customer_id
       AND credential = CASE WHEN NEW.decided_by = 'sms' THEN 'sms_otp' ELSE 'code' END;
END;

-- Device signatures accepted, keyed on SHA-256(device_id || 0 || the signature's low-S form) (never
-- on the bytes as sent, which ECDSA lets anyone rewrite as (r, n - s)), kept until their `ts` can no
-- longer pass the clock check, so a replay is refused also after a restart (issue 11 §2).
CREATE TABLE device_requests_seen (
    key         BLOB    PRIMARY KEY,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX device_requests_seen_expiry ON device_requests_seen(expires_at);
