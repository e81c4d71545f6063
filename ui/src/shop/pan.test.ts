import { describe, expect, it } from 'vitest';
import { compactPan, expiryProblem, groupPan, luhnDigit, luhnValid, panProblem, sandboxPan } from './pan';

describe('card numbers at the demo shop', () => {
  it('checks Luhn like the server', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('5555555555554444')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('')).toBe(false);
    expect(luhnDigit('7992739871')).toBe('3');
  });

  it('derives the sandbox cards of a user code as cards::sandbox_pans does', () => {
    const debit = sandboxPan('12345678', 'debit');
    const credit = sandboxPan('12345678', 'credit');
    expect(debit).toMatch(/^499999123456781[0-9]$/);
    expect(credit).toMatch(/^559999123456782[0-9]$/);
    expect(debit).toHaveLength(16);
    expect(luhnValid(debit!)).toBe(true);
    expect(luhnValid(credit!)).toBe(true);
    // Check digits worked out independently (Python, and tests/e2e's sandboxPan).
    expect(debit).toBe('4999991234567811');
    expect(credit).toBe('5599991234567820');
    expect(sandboxPan(' 12345678 ', 'debit')).toBe(debit);
    expect(sandboxPan('1234567', 'debit')).toBeNull();
    expect(sandboxPan('1234567a', 'credit')).toBeNull();
  });

  it('takes a number typed with spaces, and says what is wrong with a bad one', () => {
    expect(compactPan('4999 9912 3456 7811')).toBe('4999991234567811');
    expect(groupPan('4999991234567811')).toBe('4999 9912 3456 7811');
    expect(groupPan('4999991234567')).toBe('4999 9912 3456 7');
    expect(panProblem('4999 9912 3456 7811')).toBeNull();
    expect(panProblem('')).toBe('empty');
    expect(panProblem('4999 99x2')).toBe('form');
    expect(panProblem('411111111111')).toBe('length');
    expect(panProblem('4999991234567812')).toBe('luhn');
  });

  it('takes an optional MM/YY expiry', () => {
    expect(expiryProblem('')).toBeNull();
    expect(expiryProblem('12/29')).toBeNull();
    expect(expiryProblem('13/29')).toBe('form');
    expect(expiryProblem('1/29')).toBe('form');
    expect(expiryProblem('1229')).toBe('form');
  });
});
