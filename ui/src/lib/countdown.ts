// Time left on the page: an operation's or a challenge's expiry, a revealed Key6's last second.
// Pure: the clock is an argument (milliseconds, as `Date.now()` gives it); deadlines are the
// server's unix seconds.

/** Whole seconds from `nowMs` until `deadline` (unix seconds), never below zero. */
export function secondsLeft(deadline: number, nowMs: number): number {
  if (!Number.isFinite(deadline) || !Number.isFinite(nowMs)) return 0;
  return Math.max(0, Math.floor(deadline - nowMs / 1000));
}

/** `m:ss` (`4:05`, `0:09`), or `h:mm:ss` from an hour up. */
export function formatCountdown(seconds: number): string {
  const s = Number.isFinite(seconds) ? Math.max(0, Math.floor(seconds)) : 0;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** The longest a revealed Key6 stays on the page (the server's window after the approval). */
export const KEY6_VISIBLE_MAX_SECONDS = 30;

/**
 * How long a revealed Key6 stays on the page: until the server's `visible_until`, by this
 * computer's clock, and never longer than the server's window even if the clocks disagree.
 */
export function revealSeconds(visibleUntil: number, nowMs: number): number {
  return Math.min(KEY6_VISIBLE_MAX_SECONDS, secondsLeft(visibleUntil, nowMs));
}
