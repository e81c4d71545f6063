-- The first access of customers of acquired banks, and the SCA policy that follows (issue 15).

-- How a customer authenticates: 'push' (the authenticator, the SMS code as fallback) or 'sms' (a
-- one-time PIN by SMS at each login and operation, for customers without an authenticator, as
-- those of an acquired bank who used a code card). Activating an authenticator moves to 'push'.
ALTER TABLE customers ADD COLUMN sca_policy TEXT NOT NULL DEFAULT 'push' CHECK (sca_policy IN ('push', 'sms'));
-- A customer made by a first access that has not ended yet: the new user code does not log in.
ALTER TABLE customers ADD COLUMN first_access_pending INTEGER NOT NULL DEFAULT 0;

-- Wrong legacy passwords and codes are counted in legacy_failures (below), whether the code
-- exists or not, so that the answers and the work are the same; blocked_at here is what the
-- branch sees and clears.
ALTER TABLE legacy_customers DROP COLUMN failures;
-- Where a half-finished first access of this customer stopped: 'phone' or 'email' (NULL: before
-- the new credentials).
ALTER TABLE legacy_customers ADD COLUMN reached TEXT CHECK (reached IN ('phone', 'email'));

-- One first access: a short-lived record named by a random id only its client knows. It holds
-- the one code of its current step (SMS to the old or the new mobile, or e-mail), hashed.
-- Count-then-verify of legacy credentials (the same columns as unknown_user_failures, which
-- counts user names that are no customer's): keyed by 'legacy:<bank>:<legacy code>' as typed,
-- known code or not, and never forgotten while the bank's first access lasts — a count that
-- faded would let 4 guesses a month go on for ever, and would tell a known code from an
-- unknown one. 'password' counts the old passwords, 'sms_otp' the codes of first accesses.
CREATE TABLE legacy_failures (
    key        TEXT    NOT NULL,
    credential TEXT    NOT NULL CHECK (credential IN ('password', 'sms_otp')),
    failures   INTEGER NOT NULL DEFAULT 0,
    pending    INTEGER NOT NULL DEFAULT 0,
    blocked_at INTEGER,
    updated_at INTEGER NOT NULL,
    taken_at   INTEGER,
    PRIMARY KEY (key, credential)
);

CREATE TABLE first_accesses (
    id                 TEXT    PRIMARY KEY,
    legacy_customer_id INTEGER NOT NULL REFERENCES legacy_customers(id),
    step               TEXT    NOT NULL CHECK (step IN ('sms', 'resume', 'credentials', 'phone', 'phone_code', 'email', 'email_code', 'done')),
    code_hash          BLOB,                              -- SHA-256(id || step || code)
    code_to            TEXT,                              -- the phone or address it went to
    code_sent_at       INTEGER,
    code_expires_at    INTEGER,
    code_failures      INTEGER NOT NULL DEFAULT 0,
    sends              INTEGER NOT NULL DEFAULT 0,        -- codes sent: at most 8 per first access
    expires_at         INTEGER NOT NULL,
    ended_at           INTEGER,                           -- done, or stopped by a newer one
    created_at         INTEGER NOT NULL
);
CREATE INDEX first_accesses_legacy ON first_accesses(legacy_customer_id, ended_at);

-- SMS codes for operations (the `sms` policy, and the fallback of `push`): one more purpose.
-- SQLite widens a CHECK only by making the table again.
CREATE TABLE otps_new (
    id          TEXT    PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    purpose     TEXT    NOT NULL
                CHECK (purpose IN ('login', 'activation', 'unblock', 'password_reset', 'password_change', 'operation')),
    ref         TEXT    NOT NULL,                      -- the login id, activation id, recovery id or operation
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
