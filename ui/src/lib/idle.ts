// The web session ends after SCA_SESSION_IDLE seconds (300) without a request (RTS art. 4(3)(d));
// the server decides. This timer mirrors the server's clock on the page: every answer from the
// server restarts it; `warnMs` before the end the page warns; at the end it logs out. While the
// customer is busy on a page (typing a transfer) and no request goes out, activity sends a
// keepalive now and then so the server's clock and the page's agree with what the customer does.

export interface IdleOptions {
  idleMs: number;
  warnMs: number;
  /** Activity sends a keepalive when the last server answer is older than this. */
  keepaliveAfterMs: number;
  onWarn: () => void;
  onExpire: () => void;
  /** The server answered during the warning: the session goes on. */
  onResume?: () => void;
  /** A request that touches the session (its answer calls `touched()` through api.ts). */
  keepalive: () => void;
  now?: () => number;
}

export type IdlePhase = 'stopped' | 'active' | 'warning' | 'expired';

export class IdleTimer {
  private o: Required<Omit<IdleOptions, 'onResume'>> & Pick<IdleOptions, 'onResume'>;
  private last = 0;
  private phase: IdlePhase = 'stopped';
  private warnTimer: ReturnType<typeof setTimeout> | null = null;
  private endTimer: ReturnType<typeof setTimeout> | null = null;
  private keepaliveSentAt = -Infinity;

  constructor(options: IdleOptions) {
    this.o = { now: () => Date.now(), ...options };
  }

  get state(): IdlePhase {
    return this.phase;
  }

  /** Milliseconds until the session ends (0 when stopped or over). */
  remainingMs(): number {
    if (this.phase === 'stopped' || this.phase === 'expired') return 0;
    return Math.max(0, this.last + this.o.idleMs - this.o.now());
  }

  /** The session began (after SCA). */
  start(): void {
    this.phase = 'active';
    this.touched();
  }

  stop(): void {
    this.phase = 'stopped';
    this.clear();
  }

  /** The server answered a session call: its idle clock restarted. */
  touched(): void {
    if (this.phase === 'stopped' || this.phase === 'expired') return;
    const wasWarning = this.phase === 'warning';
    this.last = this.o.now();
    this.phase = 'active';
    this.schedule();
    if (wasWarning) this.o.onResume?.();
  }

  /** The customer did something on the page (key, pointer). A warning needs an explicit answer. */
  activity(): void {
    if (this.phase !== 'active') return;
    const now = this.o.now();
    if (now - this.last >= this.o.keepaliveAfterMs && now - this.keepaliveSentAt >= this.o.keepaliveAfterMs) {
      this.keepaliveSentAt = now;
      this.o.keepalive();
    }
  }

  /** "Stay signed in" in the warning. */
  extend(): void {
    if (this.phase !== 'warning' && this.phase !== 'active') return;
    this.keepaliveSentAt = this.o.now();
    this.o.keepalive();
  }

  private clear(): void {
    if (this.warnTimer) clearTimeout(this.warnTimer);
    if (this.endTimer) clearTimeout(this.endTimer);
    this.warnTimer = this.endTimer = null;
  }

  private schedule(): void {
    this.clear();
    const warnIn = Math.max(0, this.o.idleMs - this.o.warnMs);
    this.warnTimer = setTimeout(() => {
      this.warnTimer = null;
      if (this.phase !== 'active') return;
      this.phase = 'warning';
      this.o.onWarn();
    }, warnIn);
    this.endTimer = setTimeout(() => {
      this.endTimer = null;
      if (this.phase === 'stopped') return;
      this.phase = 'expired';
      this.clear();
      this.o.onExpire();
    }, this.o.idleMs);
  }
}

/**
 * The idle length the page assumes: the server's default 300 s, or, for development and the
 * end-to-end tests (which run the server with a short SCA_SESSION_IDLE), the seconds stored in
 * localStorage `sigillo.sessionIdle`. The warning comes a minute before the end, or half-way for
 * short sessions; a keepalive at most every minute (or fifth of the session).
 */
export function idleSettings(stored: string | null): { idleMs: number; warnMs: number; keepaliveAfterMs: number } {
  const n = stored === null ? NaN : Number(stored);
  const idleMs = Number.isInteger(n) && n >= 5 && n <= 3600 ? n * 1000 : 300_000;
  return {
    idleMs,
    warnMs: Math.min(60_000, Math.floor(idleMs / 2)),
    keepaliveAfterMs: Math.min(60_000, Math.floor(idleMs / 5)),
  };
}
