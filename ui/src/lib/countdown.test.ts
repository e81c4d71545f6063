import { describe, expect, it } from 'vitest';
import { formatCountdown, revealSeconds, secondsLeft } from './countdown';

describe('countdown', () => {
  it('counts whole seconds to a unix deadline, never below zero', () => {
    expect(secondsLeft(1_000, 990_000)).toBe(10);
    expect(secondsLeft(1_000, 990_400)).toBe(9);
    expect(secondsLeft(1_000, 1_000_000)).toBe(0);
    expect(secondsLeft(1_000, 2_000_000)).toBe(0);
    expect(secondsLeft(Number.NaN, 0)).toBe(0);
  });

  it('writes m:ss, and h:mm:ss from an hour up', () => {
    expect(formatCountdown(0)).toBe('0:00');
    expect(formatCountdown(9)).toBe('0:09');
    expect(formatCountdown(245)).toBe('4:05');
    expect(formatCountdown(3_661)).toBe('1:01:01');
    expect(formatCountdown(-5)).toBe('0:00');
    expect(formatCountdown(12.9)).toBe('0:12');
  });

  it('keeps a revealed Key6 until visible_until, and never more than 30 s', () => {
    expect(revealSeconds(1_030, 1_000_000)).toBe(30);
    expect(revealSeconds(1_012, 1_000_000)).toBe(12);
    expect(revealSeconds(1_000, 1_000_000)).toBe(0);
    // This computer's clock behind the server's: still at most the server's window.
    expect(revealSeconds(1_090, 1_000_000)).toBe(30);
  });
});
