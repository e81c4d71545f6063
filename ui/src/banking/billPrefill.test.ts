import { describe, expect, it } from 'vitest';
import { cleanText, DESCRIPTION_MAX, linkAmount, pagopaPrefill, PAYEE_MAX, transferPrefill } from './billPrefill';

describe("a link's amount", () => {
  it('is a dot decimal with up to two decimals, written in the page language', () => {
    expect(linkAmount('12.50', 'it')).toBe('12,50');
    expect(linkAmount('12.50', 'en')).toBe('12.50');
    expect(linkAmount('7', 'it')).toBe('7,00');
    expect(linkAmount('0.5', 'en')).toBe('0.50');
    expect(linkAmount('1500', 'it')).toBe('1500,00');
  });

  it('is refused in any other form, never guessed', () => {
    for (const bad of ['1.500', '12,50', '-3', '1e3', '12.', '.5', '', 'abc', '1 000', '0x10', '1234567890123']) {
      expect(linkAmount(bad, 'it'), bad).toBeNull();
    }
  });
});

describe('a prefilled transfer', () => {
  it('takes the values as they are, for the page to check', () => {
    const p = transferPrefill(
      { payee: 'ACEA Energia S.p.A.', iban: 'IT60X0542811101000000123456', amount: '49.90', description: 'Bolletta 2026/11' },
      'it',
    );
    expect(p).toEqual({
      payee: 'ACEA Energia S.p.A.',
      iban: 'IT60X0542811101000000123456',
      amount: '49,90',
      description: 'Bolletta 2026/11',
      fromBill: true,
      notes: [],
    });
  });

  it('is an empty page without a query', () => {
    expect(transferPrefill({}, 'en')).toEqual({ payee: '', iban: '', amount: '', description: '', fromBill: false, notes: [] });
    expect(transferPrefill({ other: 'x' }, 'en').fromBill).toBe(false);
  });

  it('keeps a wrong IBAN for the page to say so, refuses what cannot be one', () => {
    expect(transferPrefill({ iban: 'IT60X0542811101000000123457' }, 'it').iban).toBe('IT60X0542811101000000123457');
    const long = transferPrefill({ iban: 'IT'.repeat(30) }, 'it');
    expect(long.iban).toBe('');
    expect(long.notes).toEqual([{ field: 'iban', what: 'refused' }]);
  });

  it('cuts a text too long for its field, and says so', () => {
    const p = transferPrefill({ payee: 'x'.repeat(PAYEE_MAX + 5), description: 'é'.repeat(DESCRIPTION_MAX + 1) }, 'it');
    expect([...p.payee].length).toBe(PAYEE_MAX);
    expect([...p.description].length).toBe(DESCRIPTION_MAX);
    expect(p.notes).toEqual([
      { field: 'payee', what: 'cut' },
      { field: 'description', what: 'cut' },
    ]);
  });

  it('refuses an amount of another form and leaves the field empty', () => {
    const p = transferPrefill({ amount: '1.500' }, 'it');
    expect(p.amount).toBe('');
    expect(p.notes).toEqual([{ field: 'amount', what: 'refused' }]);
    expect(transferPrefill({ amount: '' }, 'it').notes).toEqual([]);
  });

  it('reads no line break nor direction override into a name', () => {
    expect(cleanText('Mario\nRossi\u202e  S.p.A.\t')).toBe('Mario Rossi S.p.A.');
    expect(transferPrefill({ payee: '\u202eiccoR\r\n' }, 'it').payee).toBe('iccoR');
  });
});

describe('a prefilled pagoPA notice', () => {
  it('groups the notice code and keeps the creditor and amount', () => {
    expect(pagopaPrefill({ notice: '302000100000012345', creditor: '80078750587', amount: '12.5' }, 'en')).toEqual({
      notice: '3020 0010 0000 0123 45',
      creditor: '80078750587',
      amount: '12.50',
      fromBill: true,
      notes: [],
    });
  });

  it('keeps a wrong code for the page to say so, refuses what is far too long', () => {
    expect(pagopaPrefill({ notice: '9020001000000123' }, 'it').notice).toBe('9020 0010 0000 0123');
    expect(pagopaPrefill({ notice: 'abc' }, 'it').notice).toBe('abc');
    const p = pagopaPrefill({ notice: '1'.repeat(40), creditor: '8'.repeat(30), amount: '12,50' }, 'it');
    expect(p.notice).toBe('');
    expect(p.creditor).toBe('');
    expect(p.amount).toBe('');
    expect(p.notes.map((n) => n.field)).toEqual(['notice', 'creditor', 'amount']);
  });

  it('is an empty page from the home link', () => {
    expect(pagopaPrefill({}, 'it')).toEqual({ notice: '', creditor: '', amount: '', fromBill: false, notes: [] });
  });
});
