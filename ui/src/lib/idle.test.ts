import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdleTimer, idleSettings } from './idle';

function make(overrides: Partial<ConstructorParameters<typeof IdleTimer>[0]> = {}) {
  const calls = { warn: 0, expire: 0, resume: 0, keepalive: 0 };
  const timer = new IdleTimer({
    idleMs: 300_000,
    warnMs: 60_000,
    keepaliveAfterMs: 60_000,
    onWarn: () => calls.warn++,
    onExpire: () => calls.expire++,
    onResume: () => calls.resume++,
    keepalive: () => calls.keepalive++,
    ...overrides,
  });
  return { timer, calls };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2026-11-23T10:00:00Z'));
});

afterEach(() => {
  vi.useRealTimers();
});

describe('idle timer', () => {
  it('warns a minute before the 5 minutes and ends the session at 5 minutes', () => {
    const { timer, calls } = make();
    timer.start();
    vi.advanceTimersByTime(239_999);
    expect(calls.warn).toBe(0);
    vi.advanceTimersByTime(1);
    expect(calls.warn).toBe(1);
    expect(timer.state).toBe('warning');
    expect(timer.remainingMs()).toBe(60_000);
    vi.advanceTimersByTime(59_999);
    expect(calls.expire).toBe(0);
    vi.advanceTimersByTime(1);
    expect(calls.expire).toBe(1);
    expect(timer.state).toBe('expired');
    expect(timer.remainingMs()).toBe(0);
  });

  it('restarts with every answer from the server', () => {
    const { timer, calls } = make();
    timer.start();
    vi.advanceTimersByTime(200_000);
    timer.touched();
    vi.advanceTimersByTime(200_000);
    expect(calls.warn).toBe(0);
    vi.advanceTimersByTime(100_000);
    expect(calls.warn).toBe(1);
    expect(calls.expire).toBe(1);
  });

  it('goes on after "stay logged in": a keepalive whose answer resumes it', () => {
    const { timer, calls } = make({ keepalive: () => timer.touched() });
    timer.start();
    vi.advanceTimersByTime(250_000);
    expect(timer.state).toBe('warning');
    timer.extend();
    expect(timer.state).toBe('active');
    expect(calls.resume).toBe(1);
    vi.advanceTimersByTime(299_000);
    expect(calls.expire).toBe(0);
    vi.advanceTimersByTime(1_000);
    expect(calls.expire).toBe(1);
  });

  it('sends a keepalive on activity at most once a minute, and not during the warning', () => {
    const { timer, calls } = make();
    timer.start();
    vi.advanceTimersByTime(30_000);
    timer.activity();
    expect(calls.keepalive).toBe(0);
    vi.advanceTimersByTime(30_000);
    timer.activity();
    timer.activity();
    expect(calls.keepalive).toBe(1);
    // The keepalive's answer never came: no new one for another minute.
    vi.advanceTimersByTime(30_000);
    timer.activity();
    expect(calls.keepalive).toBe(1);
    vi.advanceTimersByTime(150_000); // 240 s since start: warning
    expect(timer.state).toBe('warning');
    timer.activity();
    expect(calls.keepalive).toBe(1);
  });

  it('does nothing once stopped (logout)', () => {
    const { timer, calls } = make();
    timer.start();
    timer.stop();
    vi.advanceTimersByTime(600_000);
    timer.touched();
    timer.activity();
    expect(calls).toEqual({ warn: 0, expire: 0, resume: 0, keepalive: 0 });
    expect(timer.state).toBe('stopped');
  });

  it('is configured from the server default, or a stored length for tests', () => {
    expect(idleSettings(null)).toEqual({ idleMs: 300_000, warnMs: 60_000, keepaliveAfterMs: 60_000 });
    expect(idleSettings('20')).toEqual({ idleMs: 20_000, warnMs: 10_000, keepaliveAfterMs: 4_000 });
    expect(idleSettings('abc').idleMs).toBe(300_000);
    expect(idleSettings('1').idleMs).toBe(300_000);
    expect(idleSettings('99999').idleMs).toBe(300_000);
  });
});
