import { describe, expect, it } from 'vitest';
import { circumference, ringFraction, ringOffset, RING_RADIUS } from './ring';

describe('countdown ring', () => {
  const c = 2 * Math.PI * RING_RADIUS;

  it('has the circle’s circumference', () => {
    expect(circumference()).toBeCloseTo(c);
    expect(circumference(10)).toBeCloseTo(62.8318, 3);
  });

  it('is full at the start of the period and empty at its end', () => {
    expect(ringOffset(30, 30)).toBeCloseTo(0);
    expect(ringOffset(0, 30)).toBeCloseTo(c);
  });

  it('follows secondsLeft / period', () => {
    expect(ringOffset(15, 30)).toBeCloseTo(c / 2);
    expect(ringOffset(10, 30)).toBeCloseTo((c * 2) / 3);
    expect(ringFraction(6, 30)).toBeCloseTo(0.2);
  });

  it('stays within the circle for odd input', () => {
    expect(ringOffset(45, 30)).toBeCloseTo(0);
    expect(ringOffset(-5, 30)).toBeCloseTo(c);
    expect(ringOffset(10, 0)).toBeCloseTo(c);
    expect(ringFraction(Number.NaN, 30)).toBe(0);
  });
});
