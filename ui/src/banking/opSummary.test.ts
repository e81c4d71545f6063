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

  it('shows a pagoPA payment by creditor, its fiscal code, the notice code and the amount', () => {
    const rows = summaryRows('PAGOPA', { A: '12.50EUR', B: 'INPS', F: '80078750587', N: '302000100000012345' });
    expect(rows.map((r) => [r.field, r.label, r.format, r.testid])).toEqual([
      ['B', 'authorize.creditor', 'text', 'payee'],
      ['F', 'authorize.creditor_cf', 'mono', 'op-creditor-cf'],
      ['N', 'authorize.notice', 'notice', 'op-notice'],
      ['A', 'authorize.amount', 'amount', 'amount'],
    ]);
    expect(rows[2].value).toBe('302000100000012345');
    // Every row shows even when the payload lacks it: a missing field reads as empty, not as nothing.
    expect(summaryRows('PAGOPA', {}).map((r) => r.field)).toEqual(['B', 'F', 'N', 'A']);
  });

  it('does not take an inherited name for a kind', () => {
    expect(summaryRows('constructor', { D: 'x' }).map((r) => r.field)).toEqual(['D']);
  });
});
