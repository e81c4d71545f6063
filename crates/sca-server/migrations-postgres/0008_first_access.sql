-- The first access of customers of acquired banks, and the SCA policy: SQLite's 0015 says why.
ALTER TABLE customers ADD COLUMN sca_policy TEXT NOT NULL DEFAULT 'push' CHECK (sca_policy IN ('push', 'sms'));
ALTER TABLE customers ADD COLUMN first_access_pending BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE legacy_customers DROP COLUMN failures;
ALTER TABLE legacy_customers ADD COLUMN reached TEXT CHECK (reached IN ('phone', 'email'));

-- Count-then-verify of legacy credentials (the same columns as unknown_user_failures, which
-- counts user names that are no customer's): keyed by 'legacy:<bank>:<legacy code>' as typed,
-- known code or not, and never forgotten while the bank's first access lasts — a count that
-- faded would let 4 guesses a month go on for ever, and would tell a known code from an
-- unknown one. 'password' counts the old passwords, 'sms_otp' the codes of first accesses.
CREATE TABLE legacy_failures (
    key        TEXT    NOT NULL,
    credential TEXT    NOT NULL CHECK (credential IN ('password', 'sms_otp')),
    failures   BIGINT NOT NULL DEFAULT 0,
    pending    BIGINT NOT NULL DEFAULT 0,
    blocked_at BIGINT,
    updated_at BIGINT NOT NULL,
    taken_at   BIGINT,
    PRIMARY KEY (key, credential)
);

CREATE TABLE first_accesses (
    id                 TEXT    PRIMARY KEY,
    legacy_customer_id BIGINT  NOT NULL REFERENCES legacy_customers(id),
    step               TEXT    NOT NULL CHECK (step IN ('sms', 'resume', 'credentials', 'phone', 'phone_code', 'email', 'email_code', 'done')),
    code_hash          BYTEA,
    code_to            TEXT,
    code_sent_at       BIGINT,
    code_expires_at    BIGINT,
    code_failures      BIGINT  NOT NULL DEFAULT 0,
    sends              BIGINT  NOT NULL DEFAULT 0,
    expires_at         BIGINT  NOT NULL,
    ended_at           BIGINT,
    created_at         BIGINT  NOT NULL
);
CREATE INDEX first_accesses_legacy ON first_accesses(legacy_customer_id, ended_at);

ALTER TABLE otps DROP CONSTRAINT otps_purpose_check;
ALTER TABLE otps ADD CONSTRAINT otps_purpose_check
    CHECK (purpose IN ('login', 'activation', 'unblock', 'password_reset', 'password_change', 'operation'));
