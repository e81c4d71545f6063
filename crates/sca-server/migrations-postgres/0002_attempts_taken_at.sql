-- When the last attempt at a credential was taken (count-then-verify). An attempt taken and never
-- settled (its instance died while evaluating the answer) is counted as a wrong answer once no
-- attempt has been taken for UNSETTLED_AFTER_SECS: another instance may be evaluating right now,
-- so age tells a dead attempt from a live one (SQLite's 0010 is the same).
ALTER TABLE credential_failures ADD COLUMN taken_at BIGINT;
ALTER TABLE unknown_user_failures ADD COLUMN taken_at BIGINT;
