// A pagoPA notice (avviso di pagamento) as the customer types it or a link brings it: the notice
// code (18 digits, the first — the aux digit — 0 to 3, printed 4-4-4-4-2 on the paper notice)
// and the creditor's fiscal code (11 digits with the partita IVA check digit, which numeric
// fiscal codes of public bodies follow too). The same rules as sca-qr's bill parser; the server
// checks again. Pure.

/** Spaces (and the no-break ones a copy-paste brings) out. */
export function compactNotice(text: string): string {
  return text.replace(/[\s\u00a0\u202f]+/g, '');
}

/** Groups of 4 for reading, as the paper notice prints it: `3020 0000 0000 1234 56`. */
export function formatNotice(text: string): string {
  const c = compactNotice(text);
  return /^[0-9]+$/.test(c) ? c.replace(/(.{4})(?=.)/g, '$1 ') : text;
}

export type NoticeProblem = 'empty' | 'form' | 'length' | 'aux';

/** What is wrong with a typed notice code, or null when it is one. */
export function noticeProblem(text: string): NoticeProblem | null {
  const c = compactNotice(text);
  if (c === '') return 'empty';
  if (!/^[0-9]+$/.test(c)) return 'form';
  // The aux digit first: a wrong one shows while the rest is still being typed.
  if (c[0] > '3') return 'aux';
  if (c.length !== 18) return 'length';
  return null;
}

/**
 * The check digit of the first 10 digits of an Italian numeric fiscal code / partita IVA: the
 * digits in odd positions (1st, 3rd, …) add up as they are, those in even positions doubled
 * (less 9 when above 9); the check digit is what brings the sum to a multiple of 10.
 */
export function fiscalCodeCheckDigit(first10: string): number {
  let sum = 0;
  for (let i = 0; i < 10; i++) {
    const d = first10.charCodeAt(i) - 48;
    if (i % 2 === 0) sum += d;
    else sum += d * 2 > 9 ? d * 2 - 9 : d * 2;
  }
  return (10 - (sum % 10)) % 10;
}

export type FiscalCodeProblem = 'empty' | 'form' | 'length' | 'checksum';

/** What is wrong with a typed creditor fiscal code, or null when it is one. */
export function fiscalCodeProblem(text: string): FiscalCodeProblem | null {
  const c = compactNotice(text);
  if (c === '') return 'empty';
  if (!/^[0-9]+$/.test(c)) return 'form';
  if (c.length !== 11) return 'length';
  return fiscalCodeCheckDigit(c) === c.charCodeAt(10) - 48 ? null : 'checksum';
}
