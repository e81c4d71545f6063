-- The audit chain's head, signed by the bank key in the same transaction as the rows it covers
-- (issue 11 §7): a tail cut off, or rewritten with recomputed hashes by someone without the key,
-- no longer matches the newest checkpoint, and `sca-server audit-verify` says so.
CREATE TABLE audit_checkpoints (
    seq         INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    hash        BLOB    NOT NULL,
    signature   BLOB    NOT NULL
);

-- Set when the chain is first signed: a database that has it and no checkpoint lost them, and
-- is never signed again over what may have been rewritten.
CREATE TABLE audit_anchor (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    value   INTEGER NOT NULL
);
