-- Payment cards (issue 14). The card number is kept only as a keyed digest (HMAC-SHA-256 under
-- a key derived from the secrets key: found again when a merchant's 3-D Secure server names the
-- card, unreadable without the key) and its last four digits.
CREATE TABLE cards (
    id            INTEGER PRIMARY KEY,
    card_id       TEXT    NOT NULL UNIQUE,                -- public: 12 b64u characters
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    kind          TEXT    NOT NULL CHECK (kind IN ('debit', 'credit', 'prepaid')),
    brand         TEXT    NOT NULL CHECK (brand IN ('visa', 'mastercard')),
    pan_digest    BLOB    NOT NULL UNIQUE,
    last4         TEXT    NOT NULL,
    expiry_month  INTEGER NOT NULL CHECK (expiry_month BETWEEN 1 AND 12),
    expiry_year   INTEGER NOT NULL,
    limit_minor   INTEGER,                                -- credit cards: the monthly limit
    secure_phone  TEXT    NOT NULL,                       -- receives the 3-D Secure SMS codes
    created_at    INTEGER NOT NULL,
    CHECK ((kind = 'credit') = (limit_minor IS NOT NULL))
);
CREATE INDEX cards_customer ON cards(customer_id);
