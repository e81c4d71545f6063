-- Web sessions and the per-address login buckets live in the database (issue 13): any instance
-- serves any request, and a restart logs nobody out.
--
-- A session is named by the SHA-256 of its cookie value, never by the value itself: a copy of
-- this table opens no session. Whether it completed strong authentication is not stored: it is
-- whether its login operation is approved (one place for that fact). Its customer's flags (the
-- password the bank issued) are read from the customer's row.
CREATE TABLE sessions (
    token_hash  BLOB    PRIMARY KEY CHECK (length(token_hash) = 32),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    login_id    TEXT    NOT NULL,
    csrf        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL
);
CREATE INDEX sessions_customer ON sessions(customer_id);
CREATE INDEX sessions_last_seen ON sessions(last_seen);
CREATE INDEX sessions_created_at ON sessions(created_at);

-- The token bucket in front of argon2id, per client address (an IPv6 /64, an IPv4 address):
-- `tokens` left at `at` (Unix seconds); it refills at the configured rate up to the burst.
CREATE TABLE login_buckets (
    client  TEXT    PRIMARY KEY,
    tokens  INTEGER NOT NULL CHECK (tokens >= 0),
    at      INTEGER NOT NULL
);
