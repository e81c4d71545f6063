import { describe, expect, it } from 'vitest';
import { compactDigits, isSixDigits, key6Problem, key6RepeatProblem } from './key6';

describe('Key6 rules', () => {
  it('accepts six digits that are neither all equal nor a straight run', () => {
    for (const k of ['583920', '123465', '890123', '000001', '583 920']) expect(key6Problem(k), k).toBeNull();
  });

  it('says what is wrong with a weak or malformed Key6', () => {
    expect(key6Problem('')).toBe('empty');
    expect(key6Problem('   ')).toBe('empty');
    expect(key6Problem('12a456')).toBe('not_digit');
    expect(key6Problem('12345')).toBe('length');
    expect(key6Problem('1234567')).toBe('length');
    expect(key6Problem('777777')).toBe('all_equal');
    expect(key6Problem('123456')).toBe('straight');
    expect(key6Problem('987654')).toBe('straight');
    expect(key6Problem('456789')).toBe('straight');
  });

  it('checks the repetition', () => {
    expect(key6RepeatProblem('583920', '')).toBe('empty');
    expect(key6RepeatProblem('583920', '583921')).toBe('mismatch');
    expect(key6RepeatProblem('583920', '583 920')).toBeNull();
  });

  it('knows six digits when it sees them', () => {
    expect(isSixDigits('123456')).toBe(true);
    expect(isSixDigits('123 456')).toBe(true);
    expect(isSixDigits('12345')).toBe(false);
    expect(isSixDigits('12345x')).toBe(false);
    expect(compactDigits(' 1 2 3 ')).toBe('123');
  });
});
