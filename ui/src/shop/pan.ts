// Card numbers at the demo shop: the Luhn check, the number typed with spaces, the expiry, and
// the sandbox cards derived from a user code exactly as the server's `cards::sandbox_pans`
// derives them: a Visa debit card `499999 <user code> 1 <check digit>` and a Mastercard credit
// card `559999 <user code> 2 <check digit>`. Pure; nothing here keeps a number anywhere.

/** The digits of a typed card number: spaces (and dashes) dropped. */
export function compactPan(text: string): string {
  return text.replace(/[\s-]+/g, '');
}

/** The number in groups of four, for reading: `4999 9912 3456 7810`. */
export function groupPan(digits: string): string {
  return digits.replace(/(.{4})(?=.)/g, '$1 ');
}

/** The Luhn (mod 10) check over every digit, the check digit last. */
export function luhnValid(digits: string): boolean {
  if (!/^[0-9]+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** The Luhn check digit to append to `body`. */
export function luhnDigit(body: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(`${body}${d}`)) return String(d);
  throw new RangeError('not a string of digits');
}

export type SandboxKind = 'debit' | 'credit';

/** The sandbox card of a user code (8 digits), or null for anything else. */
export function sandboxPan(userCode: string, kind: SandboxKind): string | null {
  const code = userCode.trim();
  if (!/^[0-9]{8}$/.test(code)) return null;
  const body = kind === 'debit' ? `499999${code}1` : `559999${code}2`;
  return body + luhnDigit(body);
}

export type PanProblem = 'empty' | 'form' | 'length' | 'luhn';

/** Why a typed card number cannot be sent, or null. */
export function panProblem(text: string): PanProblem | null {
  const d = compactPan(text);
  if (d === '') return 'empty';
  if (!/^[0-9]+$/.test(d)) return 'form';
  if (d.length < 13 || d.length > 19) return 'length';
  return luhnValid(d) ? null : 'luhn';
}

/** An expiry is optional; when given it is `MM/YY` with a month 01 to 12. */
export function expiryProblem(text: string): 'form' | null {
  const e = text.trim();
  if (e === '') return null;
  return /^(0[1-9]|1[0-2])\/[0-9]{2}$/.test(e) ? null : 'form';
}
