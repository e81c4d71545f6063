// Amounts: what a customer types (Italian "1.234,56" or "1234.56") into whole cents, and cents
// into the contract's decimal string ("1234.56") and into text for the page. Integers of cents
// throughout: no floating-point money.

export type AmountError = 'empty' | 'form' | 'fraction' | 'zero' | 'too_large';
export type ParsedAmount = { ok: true; cents: number } | { ok: false; error: AmountError };

/** The server refuses more (`SCA_MAX_TRANSFER_CENTS` default, 50 000.00). */
export const MAX_TRANSFER_CENTS = 5_000_000;
// 9 999 999 999.99: far above any transfer, and cents stay a safe integer.
const MAX_CENTS = 999_999_999_999;

/**
 * Parses a typed amount. Accepts `,` or `.` as the decimal separator (the last one, followed by
 * one or two digits) and the other, or a space, as thousands grouping in groups of three.
 * A lone separator followed by exactly three digits is grouping: `1.000` and `1,000` are a
 * thousand in either language.
 */
export function parseAmount(text: string): ParsedAmount {
  const s = text.replace(/[\s\u00a0\u202f€]/g, '').replace(/^EUR|EUR$/i, '');
  if (s === '') return { ok: false, error: 'empty' };
  if (!/^[0-9.,]+$/.test(s) || !/[0-9]/.test(s)) return { ok: false, error: 'form' };
  const dots = s.split('.').length - 1;
  const commas = s.split(',').length - 1;
  let intPart = s;
  let frac = '';
  let decimalSep = '';
  if (dots > 0 && commas > 0) {
    decimalSep = s.lastIndexOf('.') > s.lastIndexOf(',') ? '.' : ',';
    if ((decimalSep === '.' ? dots : commas) > 1) return { ok: false, error: 'form' };
  } else if (dots + commas === 1) {
    const sep = dots ? '.' : ',';
    const after = s.slice(s.indexOf(sep) + 1);
    // "1.000" / "1,000": a thousand either way; "0,500" cannot be grouping.
    const grouping = after.length === 3 && !/^0/.test(s);
    if (!grouping) decimalSep = sep;
  }
  if (decimalSep) {
    const at = s.lastIndexOf(decimalSep);
    frac = s.slice(at + 1);
    intPart = s.slice(0, at);
    if (frac.length === 0) return { ok: false, error: 'form' };
    if (frac.length > 2) return { ok: false, error: 'fraction' };
    if (intPart === '') intPart = '0';
  }
  const groups = intPart.split(/[.,]/);
  if (groups.length > 1 && (groups[0] === '' || groups[0].length > 3 || /^0/.test(groups[0]) || groups.slice(1).some((g) => g.length !== 3))) {
    return { ok: false, error: 'form' };
  }
  const digits = groups.join('');
  if (digits.replace(/^0+/, '').length > 12) return { ok: false, error: 'too_large' };
  const cents = Number(digits) * 100 + Number(frac.padEnd(2, '0'));
  if (cents > MAX_CENTS) return { ok: false, error: 'too_large' };
  if (cents === 0) return { ok: false, error: 'zero' };
  return { ok: true, cents };
}

/** Cents as the contract's decimal string: 1250 → "12.50". */
export function centsToDecimal(cents: number): string {
  if (!Number.isSafeInteger(cents)) throw new RangeError('cents must be a safe integer');
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** The contract's decimal string into cents: "-850.00" → -85000. Throws on anything else. */
export function decimalToCents(decimal: string): number {
  const m = /^(-?)([0-9]+)\.([0-9]{2})$/.exec(decimal.trim());
  if (!m) throw new RangeError(`not a decimal amount: ${decimal}`);
  const cents = Number(m[2]) * 100 + Number(m[3]);
  return m[1] === '-' ? -cents : cents;
}

const formatters = new Map<string, Intl.NumberFormat>();

/** Money for the page, in the page's language: `1.234,56 €` / `€1,234.56`. */
export function formatMoney(cents: number, currency: string, lang: string, signed = false): string {
  const key = `${lang}|${currency}|${signed}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.NumberFormat(lang === 'it' ? 'it-IT' : 'en-GB', {
      style: 'currency',
      currency,
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
      useGrouping: true,
      signDisplay: signed ? 'exceptZero' : 'auto',
    });
    formatters.set(key, f);
  }
  return f.format(cents / 100);
}

/** A contract decimal string for the page. */
export function formatDecimal(decimal: string, currency: string, lang: string, signed = false): string {
  return formatMoney(decimalToCents(decimal), currency, lang, signed);
}
