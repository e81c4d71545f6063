import { describe, expect, it } from 'vitest';
import { centsToDecimal, decimalToCents, formatDecimal, formatMoney, parseAmount } from './amount';

const ok = (text: string) => {
  const p = parseAmount(text);
  if (!p.ok) throw new Error(`${text}: ${p.error}`);
  return p.cents;
};
const err = (text: string) => {
  const p = parseAmount(text);
  return p.ok ? `ok ${p.cents}` : p.error;
};

describe('parseAmount', () => {
  it('reads Italian and English forms into cents', () => {
    expect(ok('12')).toBe(1200);
    expect(ok('12,5')).toBe(1250);
    expect(ok('12,50')).toBe(1250);
    expect(ok('12.50')).toBe(1250);
    expect(ok('0,01')).toBe(1);
    expect(ok(',5')).toBe(50);
    expect(ok('1.234,56')).toBe(123456);
    expect(ok('1,234.56')).toBe(123456);
    expect(ok('1 234,56')).toBe(123456);
    expect(ok('1.234.567,89')).toBe(123456789);
    expect(ok(' 250 € ')).toBe(25000);
    expect(ok('EUR 250')).toBe(25000);
  });

  it('takes a lone separator before three digits as grouping', () => {
    expect(ok('1.000')).toBe(100000);
    expect(ok('1,000')).toBe(100000);
    expect(ok('12.345.678')).toBe(1234567800);
  });

  it('refuses what is not an amount', () => {
    expect(err('')).toBe('empty');
    expect(err('   ')).toBe('empty');
    expect(err('abc')).toBe('form');
    expect(err('12a')).toBe('form');
    expect(err('-5')).toBe('form');
    expect(err('1e3')).toBe('form');
    expect(err('12,')).toBe('form');
    expect(err('1,2,3')).toBe('form');
    expect(err('1.23.4')).toBe('form');
    expect(err('12,5.3')).toBe('form');
    expect(err('.')).toBe('form');
  });

  it('refuses more than two decimals, zero, and absurd sizes', () => {
    expect(err('1,2345')).toBe('fraction');
    expect(err('0,500')).toBe('fraction');
    expect(err('0')).toBe('zero');
    expect(err('0,00')).toBe('zero');
    expect(err('10000000000000')).toBe('too_large');
  });
});

describe('decimal strings of the contract', () => {
  it('round-trip through cents', () => {
    for (const d of ['0.01', '0.50', '12.50', '1250.00', '-850.00', '10000.00']) {
      expect(centsToDecimal(decimalToCents(d))).toBe(d);
    }
    expect(centsToDecimal(5)).toBe('0.05');
    expect(centsToDecimal(-1)).toBe('-0.01');
  });

  it('refuse malformed decimals', () => {
    expect(() => decimalToCents('12.5')).toThrow();
    expect(() => decimalToCents('12')).toThrow();
    expect(() => decimalToCents('abc')).toThrow();
    expect(() => centsToDecimal(0.5)).toThrow();
  });
});

describe('formatMoney', () => {
  // Intl puts narrow no-break spaces in some locales: compare with plain spaces.
  const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');

  it('formats in Italian by default conventions', () => {
    expect(plain(formatMoney(123456, 'EUR', 'it'))).toBe('1.234,56 €');
    expect(plain(formatMoney(1000000000, 'EUR', 'it'))).toBe('10.000.000,00 €');
    expect(plain(formatDecimal('-850.00', 'EUR', 'it'))).toBe('-850,00 €');
    expect(plain(formatDecimal('2500.00', 'EUR', 'it', true))).toBe('+2.500,00 €');
  });

  it('formats in English', () => {
    expect(formatMoney(123456, 'EUR', 'en')).toBe('€1,234.56');
    expect(formatDecimal('-850.00', 'EUR', 'en', true)).toBe('-€850.00');
  });
});
