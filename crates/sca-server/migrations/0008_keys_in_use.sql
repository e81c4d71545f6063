-- The keys this database's data is made with (issue 13: several instances share one database):
-- the bank signing key (its public key, which signs operations and audit checkpoints) and the
-- fingerprint of the secrets key (which seals device secrets). Recorded by the first instance to
-- start; an instance started with another key refuses to start instead of signing or sealing
-- what the others cannot verify or open.
CREATE TABLE keys_in_use (
    name    TEXT    PRIMARY KEY CHECK (name IN ('bank_signing', 'secrets')),
    value   TEXT    NOT NULL,
    since   INTEGER NOT NULL
);
