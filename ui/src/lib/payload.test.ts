import { describe, expect, it } from 'vitest';
import { groupOpId, parseData, parsePayload, splitAmount } from './payload';

const PAYLOAD =
  'SCA1\n57240006\nTRANSFER\nA:1250.00EUR*B:Mario \\*Rossi\\\\*D:Affitto\\ndicembre*I:IT60X0542811101000000123456\nUrxqtyBZuTHHFq_pdZiXzw\n1795458842\ne244d0115bf866c6\nsig\n';

describe('payload for display', () => {
  it('reads the lines of docs/spec/sca1.md §6 and unescapes the data', () => {
    const p = parsePayload(PAYLOAD);
    expect(p).not.toBeNull();
    expect(p?.opId).toBe('57240006');
    expect(p?.kind).toBe('TRANSFER');
    expect(p?.expires).toBe(1795458842);
    expect(p?.fields).toEqual({
      A: '1250.00EUR',
      B: 'Mario *Rossi\\',
      D: 'Affitto\ndicembre',
      I: 'IT60X0542811101000000123456',
    });
  });

  it('has no fields for a login', () => {
    expect(parseData('')).toEqual({});
    expect(parsePayload('SCA1\n61123611\nLOGIN\n\nn\n1\nk\ns\n')?.fields).toEqual({});
  });

  it('refuses what is not a payload', () => {
    expect(parsePayload('hello')).toBeNull();
    expect(parsePayload('SCA2\n1\n2\n3\n4\n5\n6\n7\n')).toBeNull();
  });

  it('splits the amount and groups the op id', () => {
    expect(splitAmount('0.50EUR')).toEqual({ decimal: '0.50', currency: 'EUR' });
    expect(splitAmount('12EUR')).toBeNull();
    expect(splitAmount(undefined)).toBeNull();
    expect(groupOpId('57240006')).toBe('5724 0006');
    expect(groupOpId('x')).toBe('x');
  });
});
