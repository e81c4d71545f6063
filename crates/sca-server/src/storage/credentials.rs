//! Writes of the credential counters: count-then-verify attempts, wrong answers, blocks and
//! their lifting (issue 11 §1). Every rule that a burst of answers could break is decided here,
//! in the write.

use super::db::conn;
use super::writer::{Counted, Holder, Settle, Subject, WriteCtx};
use super::{Credential, StoreError};

/// How long the counts of a user name that is no customer's are kept after its last attempt.
const UNKNOWN_USER_MEMORY_SECS: i64 = 30 * 24 * 3600;

/// An attempt taken and not settled within this time is dead: the process evaluating it died
/// (no evaluation takes a minute: a password hash takes well under a second). Such attempts are
/// counted as wrong answers (failing closed, as a lockout must), by the next attempt's write or
/// forgiven by an unblock. An attempt taken before the time was recorded (no `taken_at`) is as
/// old as the upgrade: dead too. An evaluation that does finish later counts once more if wrong.
pub(crate) const UNSETTLED_AFTER_SECS: i64 = 60;

/// The table that counts `subject`'s attempts, and its key column.
fn counts_of(subject: &Subject<'_>) -> (&'static str, &'static str) {
    match subject {
        Subject::Customer(_) => ("credential_failures", "customer_id"),
        Subject::Unknown(_) => ("unknown_user_failures", "\"user\""),
        Subject::Legacy(_) => ("legacy_failures", "key"),
    }
}

impl WriteCtx {
    /// Wrong answers in a row for `credential`.
    pub async fn failures(&mut self, customer_id: i64, credential: Credential) -> Result<u32, StoreError> {
        let n: Option<i64> = conn!(&mut self.conn, |c| sqlx::query_scalar(
            "SELECT failures FROM credential_failures WHERE customer_id = $1 AND credential = $2"
        )
        .bind(customer_id)
        .bind(credential.as_str())
        .fetch_optional(c)
        .await)?;
        Ok(n.map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)))
    }

    /// Whether `credential` is blocked (`max` wrong answers in a row).
    pub async fn is_blocked(&mut self, customer_id: i64, credential: Credential, max: u32) -> Result<bool, StoreError> {
        Ok(self.failures(customer_id, credential).await? >= max)
    }

    /// Counts a wrong answer whose evaluation ran in this job's batch order (codes and SMS
    /// codes, cheap to check, are settled by the job that consumes them). On the `max`-th in a
    /// row the credential is blocked, the customer is alerted by SMS and e-mail, the customer's
    /// other web sessions end, and the block is audited.
    pub async fn count_failure(
        &mut self,
        at: u64,
        holder: &Holder,
        credential: Credential,
        max: u32,
        detail: &str,
    ) -> Result<Counted, StoreError> {
        let customer_id = holder.id;
        let user_code = holder.user_code.as_str();
        let before = self.failures(customer_id, credential).await?;
        if before >= max {
            self.audit(at, "attempt_while_blocked", user_code, credential.as_str())
                .await?;
            return Ok(Counted::Blocked);
        }
        let now_failures = before + 1;
        let blocked = now_failures >= max;
        conn!(&mut self.conn, |c| {
            sqlx::query(
            "INSERT INTO credential_failures (customer_id, credential, failures, blocked_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (customer_id, credential) DO UPDATE SET failures = excluded.failures, blocked_at = excluded.blocked_at",
        )
        .bind(customer_id)
        .bind(credential.as_str())
        .bind(i64::from(now_failures))
        .bind(blocked.then_some(at as i64))
        .execute(c)
        .await.map(|r| r.rows_affected())
        })?;
        self.wrong_counted(at, holder, credential, max, now_failures, detail)
            .await?;
        Ok(Counted::Wrong {
            attempts_left: max.saturating_sub(now_failures),
        })
    }

    /// Audits a counted wrong answer and, on the `max`-th in a row, alerts the customer by SMS
    /// and e-mail, ends the customer's web sessions but the one that answered (whoever is
    /// guessing may be in one, issue 11 §5), and audits the block.
    async fn wrong_counted(
        &mut self,
        at: u64,
        holder: &Holder,
        credential: Credential,
        max: u32,
        failures: u32,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.audit(
            at,
            &format!("{}_wrong", credential.as_str()),
            &holder.user_code,
            &format!("{detail}; failures={failures}"),
        )
        .await?;
        if failures == max {
            self.blocked(at, holder, credential, max).await?;
        }
        Ok(())
    }

    /// What a block does: alerts the customer by SMS and e-mail, ends the customer's web
    /// sessions but the one that answered, and audits the block.
    async fn blocked(&mut self, at: u64, holder: &Holder, credential: Credential, max: u32) -> Result<(), StoreError> {
        let text = crate::texts::blocked_alert(credential, max);
        self.outbox(at, &holder.phone, "sms", &text).await?;
        self.outbox(at, &holder.email, "email", &text).await?;
        self.end_customer_sessions(holder.id, holder.keep_session.as_ref())
            .await?;
        self.audit(at, "credential_blocked", &holder.user_code, credential.as_str())
            .await
    }

    /// Count-then-verify: takes an attempt at `credential` before the answer is evaluated, in
    /// one statement, only while `failures + pending < max`. `false`: none is left (blocked, or
    /// every attempt left is already being evaluated), so the answer must not be evaluated. An
    /// attempt taken must be settled with [`settle_attempt`](Self::settle_attempt).
    pub async fn take_attempt(
        &mut self,
        at: u64,
        subject: &Subject<'_>,
        credential: Credential,
        max: u32,
    ) -> Result<bool, StoreError> {
        self.count_unsettled(at, subject, credential, max).await?;
        let taken = match subject {
            Subject::Customer(h) => conn!(&mut self.conn, |c| {
                sqlx::query(
                    "INSERT INTO credential_failures AS f (customer_id, credential, failures, pending, taken_at) \
                 VALUES ($1, $2, 0, 1, $4) \
                 ON CONFLICT (customer_id, credential) DO UPDATE SET pending = f.pending + 1, taken_at = $4 \
                 WHERE f.failures + f.pending < $3 RETURNING pending",
                )
                .bind(h.id)
                .bind(credential.as_str())
                .bind(i64::from(max))
                .bind(at as i64)
                .fetch_optional(c)
                .await
                .map(|row| row.is_some())
            })?,
            Subject::Unknown(_) | Subject::Legacy(_) => {
                if let Subject::Legacy(h) = subject
                    && let Some(known) = &h.known
                    && self.legacy_blocked_at(known.id).await?.is_some()
                {
                    self.audit(at, "attempt_while_blocked", &h.key, credential.as_str())
                        .await?;
                    return Ok(false);
                }
                let name = subject.name().unwrap_or_default();
                let (table, key) = counts_of(subject);
                // Unknown user names are forgotten after a while; legacy codes are not (their
                // table says why).
                if let Subject::Unknown(_) = subject {
                    conn!(&mut self.conn, |c| sqlx::query(
                        "DELETE FROM unknown_user_failures WHERE updated_at < $1"
                    )
                    .bind((at as i64).saturating_sub(UNKNOWN_USER_MEMORY_SECS))
                    .execute(c)
                    .await
                    .map(|r| r.rows_affected()))?;
                }
                let sql = format!(
                    "INSERT INTO {table} AS f ({key}, credential, failures, pending, updated_at, taken_at) \
                     VALUES ($1, $2, 0, 1, $4, $4) ON CONFLICT ({key}, credential) DO UPDATE SET pending = f.pending + 1, \
                     updated_at = $4, taken_at = $4 WHERE f.failures + f.pending < $3 RETURNING pending"
                );
                conn!(&mut self.conn, |c| {
                    sqlx::query(&sql)
                        .bind(name)
                        .bind(credential.as_str())
                        .bind(i64::from(max))
                        .bind(at as i64)
                        .fetch_optional(c)
                        .await
                        .map(|row| row.is_some())
                })?
            }
        };
        if !taken && let Subject::Customer(h) = subject {
            // Blocked, or every attempt left is being evaluated by answers that came at once.
            let kind = if self.failures(h.id, credential).await? >= max {
                "attempt_while_blocked"
            } else {
                "attempt_while_others_evaluated"
            };
            self.audit(at, kind, &h.user_code, credential.as_str()).await?;
        }
        Ok(taken)
    }

    /// Counts as wrong answers the attempts at `credential` that were taken and never settled
    /// (no attempt taken for [`UNSETTLED_AFTER_SECS`]: whoever took them died). Writers run one
    /// at a time (on PostgreSQL, whichever instance), so the read and the update are one step.
    async fn count_unsettled(
        &mut self,
        at: u64,
        subject: &Subject<'_>,
        credential: Credential,
        max: u32,
    ) -> Result<(), StoreError> {
        let (table, key) = counts_of(subject);
        let stale = at as i64 - UNSETTLED_AFTER_SECS;
        let sql = format!(
            "SELECT failures, pending FROM {table} WHERE {key} = $1 AND credential = $2 AND pending > 0 AND coalesce(taken_at, 0) < $3"
        );
        let row: Option<(i64, i64)> = conn!(&mut self.conn, |c| {
            let q = sqlx::query_as(&sql);
            let q = match (subject, subject.name()) {
                (Subject::Customer(h), _) => q.bind(h.id),
                (_, name) => q.bind(name.unwrap_or_default()),
            };
            q.bind(credential.as_str()).bind(stale).fetch_optional(c).await
        })?;
        let Some((before, unsettled)) = row else {
            return Ok(());
        };
        let after = before + unsettled;
        let sql = format!(
            "UPDATE {table} SET failures = $3, pending = 0, \
             blocked_at = CASE WHEN $3 >= $4 THEN coalesce(blocked_at, $5) ELSE blocked_at END \
             WHERE {key} = $1 AND credential = $2"
        );
        conn!(&mut self.conn, |c| {
            let q = sqlx::query(&sql);
            let q = match (subject, subject.name()) {
                (Subject::Customer(h), _) => q.bind(h.id),
                (_, name) => q.bind(name.unwrap_or_default()),
            };
            q.bind(credential.as_str())
                .bind(after)
                .bind(i64::from(max))
                .bind(at as i64)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })?;
        if let Subject::Customer(h) = subject {
            self.audit(
                at,
                "attempts_unsettled",
                &h.user_code,
                &format!(
                    "{}: {unsettled} counted as wrong; failures={after}",
                    credential.as_str()
                ),
            )
            .await?;
            if before < i64::from(max) && after >= i64::from(max) {
                self.blocked(at, h, credential, max).await?;
            }
        }
        if let Subject::Legacy(h) = subject
            && before < i64::from(max)
            && after >= i64::from(max)
        {
            self.legacy_blocked(at, h, max).await?;
        }
        Ok(())
    }

    /// Settles an attempt taken with [`take_attempt`](Self::take_attempt): a wrong answer is
    /// counted (and on the `max`-th blocks, alerting the customer), a right one resets the count
    /// of wrong ones when `Settle::Right { reset: true }`, and an answer that could not be
    /// evaluated gives its attempt back. Returns the wrong answers left before the block (not
    /// counting the attempts other answers hold: a customer sees 4, 3, 2, 1, 0 whether the
    /// answers came one by one or at once).
    pub async fn settle_attempt(
        &mut self,
        at: u64,
        subject: &Subject<'_>,
        credential: Credential,
        settle: Settle,
        max: u32,
        detail: &str,
    ) -> Result<Counted, StoreError> {
        let set = match settle {
            Settle::Wrong => {
                "pending = CASE WHEN pending > 0 THEN pending - 1 ELSE 0 END, failures = failures + 1, \
                 blocked_at = CASE WHEN failures + 1 >= $3 THEN coalesce(blocked_at, $4) ELSE blocked_at END"
            }
            Settle::Right { reset: true } => {
                "pending = CASE WHEN pending > 0 THEN pending - 1 ELSE 0 END, failures = 0, blocked_at = NULL"
            }
            Settle::Right { reset: false } | Settle::NotEvaluated => {
                "pending = CASE WHEN pending > 0 THEN pending - 1 ELSE 0 END"
            }
        };
        let (table, key) = counts_of(subject);
        // Every variant binds the same four parameters; `$3 = $3 AND $4 = $4` names the two that
        // only `Wrong` uses, so that the engine counts four.
        let sql = format!(
            "UPDATE {table} SET {set} WHERE {key} = $1 AND credential = $2 AND $3 = $3 AND $4 = $4 \
             RETURNING failures"
        );
        let failures: Option<i64> = conn!(&mut self.conn, |c| {
            let q = sqlx::query_scalar(&sql);
            let q = match (subject, subject.name()) {
                (Subject::Customer(h), _) => q.bind(h.id),
                (_, name) => q.bind(name.unwrap_or_default()),
            };
            q.bind(credential.as_str())
                .bind(i64::from(max))
                .bind(at as i64)
                .fetch_optional(c)
                .await
        })?;
        let Some(failures) = failures else {
            return Err(StoreError::Corrupt(format!(
                "no attempt at {} to settle",
                credential.as_str()
            )));
        };
        let failures = u32::try_from(failures).unwrap_or(u32::MAX);
        if let Subject::Customer(h) = subject {
            match settle {
                Settle::Wrong => self.wrong_counted(at, h, credential, max, failures, detail).await?,
                // Audited where it is decided: the rows after it tell what the answer opened.
                Settle::Right { .. } => {
                    self.audit(at, &format!("{}_right", credential.as_str()), &h.user_code, detail)
                        .await?;
                }
                Settle::NotEvaluated => {}
            }
        }
        if let Subject::Legacy(h) = subject {
            match settle {
                Settle::Wrong => {
                    self.audit(
                        at,
                        "legacy_password_wrong",
                        &h.key,
                        &format!("{detail}; failures={failures}"),
                    )
                    .await?;
                    if failures == max {
                        self.legacy_blocked(at, h, max).await?;
                    }
                }
                Settle::Right { .. } => self.audit(at, "legacy_password_right", &h.key, detail).await?,
                Settle::NotEvaluated => {}
            }
        }
        Ok(Counted::Wrong {
            attempts_left: max.saturating_sub(failures),
        })
    }

    /// A right answer: the count of `credential` starts again.
    pub async fn reset_failures(&mut self, customer_id: i64, credential: Credential) -> Result<(), StoreError> {
        conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE credential_failures SET failures = 0, blocked_at = NULL WHERE customer_id = $1 AND credential = $2",
        )
        .bind(customer_id)
        .bind(credential.as_str())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Unblocks every credential, and forgives the attempts left unsettled by a process that
    /// died (attempts being evaluated now stay taken).
    pub async fn unblock_all(&mut self, at: u64, customer_id: i64) -> Result<(), StoreError> {
        conn!(&mut self.conn, |c| sqlx::query(
            "UPDATE credential_failures SET failures = 0, blocked_at = NULL, \
             pending = CASE WHEN coalesce(taken_at, 0) < $2 THEN 0 ELSE pending END WHERE customer_id = $1"
        )
        .bind(customer_id)
        .bind(at as i64 - UNSETTLED_AFTER_SECS)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
