-- A device's status is one of a closed set too (issue 12 item 2; 0006 did the other tables):
-- the devices table made anew with a CHECK, every row kept.
CREATE TABLE devices_new (
    id                    TEXT    PRIMARY KEY,
    customer_id           INTEGER NOT NULL REFERENCES customers(id),
    name                  TEXT    NOT NULL,
    public_key            BLOB    NOT NULL,
    secrets               BLOB    NOT NULL,            -- AES-256-GCM(K_poss || K_know), AAD = id
    status                TEXT    NOT NULL CHECK (status IN ('active', 'removed')),
    last_login_step       INTEGER NOT NULL DEFAULT 0,
    last_transaction_step INTEGER NOT NULL DEFAULT 0,
    created_at            INTEGER NOT NULL,
    removed_at            INTEGER
);
INSERT INTO devices_new (id, customer_id, name, public_key, secrets, status, last_login_step,
    last_transaction_step, created_at, removed_at)
SELECT id, customer_id, name, public_key, secrets, status, last_login_step, last_transaction_step,
       created_at, removed_at
  FROM devices;
DROP TABLE devices;
ALTER TABLE devices_new RENAME TO devices;
CREATE INDEX devices_customer ON devices(customer_id, status);
