-- When the last attempt at a credential was taken (count-then-verify, 0003). An attempt taken
-- and never settled (its process died while evaluating the answer) is counted as a wrong answer
-- once no attempt has been taken for UNSETTLED_AFTER_SECS: on PostgreSQL another instance may be
-- evaluating right now, so age, not a restart, tells a dead attempt from a live one.
ALTER TABLE credential_failures ADD COLUMN taken_at INTEGER;
ALTER TABLE unknown_user_failures ADD COLUMN taken_at INTEGER;
