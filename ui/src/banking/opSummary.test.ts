import { describe, expect, it } from 'vitest';
import { summaryRows } from './opSummary';

describe('what the authorization page lists', () => {
  it('shows a transfer as it always did', () => {
    const rows = summaryRows('TRANSFER', { A: '12.50EUR', B: 'Luigi Bianchi', I: 'IT60X0542811101000000123456' });
    expect(rows.map((r) => [r.field, r.testid])).toEqual([
      ['B', 'payee'],
      ['I', undefined],
      ['A', 'amount'],
    ]);
    expect(summaryRows('TRANSFER', { D: 'rent' }).map((r) => r.field)).toEqual(['B', 'I', 'A', 'D']);
  });

  it('shows a card change by its action and card', () => {
    const rows = summaryRows('GENERIC', { C: '****1234', D: 'Key6 3D Secure: imposta / set' });
    expect(rows.map((r) => [r.field, r.label, r.value, r.format])).toEqual([
      ['D', 'authorize.action', 'Key6 3D Secure: imposta / set', 'text'],
      ['C', 'authorize.card', '****1234', 'mono'],
    ]);
  });

  it('shows a card payment by amount, card and merchant', () => {
    const rows = summaryRows('CARD_PAYMENT', { A: '25.00EUR', C: '****1234', M: 'Sigillo Demo Shop' });
    expect(rows.map((r) => r.field)).toEqual(['A', 'C', 'M']);
    expect(rows[0].testid).toBe('amount');
  });
});
