// IBAN as typed (ISO 13616): spaces ignored, lower case accepted, checked with mod-97 as the
// customer types, so a wrong character is caught before the bank sees it. The server checks it
// again (sca-protocol `Iban::parse_typed`); this is only for a quick, kind answer.

/** Lengths of the SEPA countries' IBANs (SWIFT IBAN registry). */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AT: 20, BE: 16, BG: 22, CH: 21, CY: 28, CZ: 24, DE: 22, DK: 18, EE: 20, ES: 24, FI: 18,
  FR: 27, GB: 22, GI: 23, GR: 27, HR: 21, HU: 28, IE: 22, IS: 26, IT: 27, LI: 21, LT: 20, LU: 20,
  LV: 21, MC: 27, MT: 31, NL: 18, NO: 15, PL: 28, PT: 25, RO: 24, SE: 24, SI: 19, SK: 24, SM: 27,
  VA: 22,
};

export type IbanState =
  | 'empty'
  /** Well formed so far, too short yet: no error to show while typing. */
  | 'incomplete'
  /** A character that is not a letter or digit, or in the wrong place. */
  | 'form'
  | 'too_long'
  | 'checksum'
  | 'ok';

/** Spaces out, upper case. */
export function compactIban(text: string): string {
  return text.replace(/\s+/g, '').toUpperCase();
}

/** Groups of four for reading: `IT60 X054 2811 1010 0000 0123 456`. */
export function formatIban(text: string): string {
  return compactIban(text).replace(/(.{4})(?=.)/g, '$1 ');
}

/** ISO 13616 mod-97 of an IBAN in electronic form (letters as 10–35, first four moved last). */
export function mod97(iban: string): number {
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (const ch of moved) {
    const v = ch >= 'A' && ch <= 'Z' ? ch.charCodeAt(0) - 55 : ch.charCodeAt(0) - 48;
    rem = v >= 10 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
  }
  return rem;
}

/** Where a typed IBAN stands. */
export function checkIban(text: string): IbanState {
  const iban = compactIban(text);
  if (iban === '') return 'empty';
  // Shape so far: 2 letters, 2 digits, then letters or digits.
  if (!/^[A-Z]{0,2}$/.test(iban.slice(0, 2)) || !/^[0-9]{0,2}$/.test(iban.slice(2, 4)) || !/^[A-Z0-9]*$/.test(iban.slice(4))) {
    return 'form';
  }
  if (iban.length > 2 && !/^[A-Z]{2}$/.test(iban.slice(0, 2))) return 'form';
  const expected = IBAN_LENGTHS[iban.slice(0, 2)];
  const max = expected ?? 34;
  const min = expected ?? 15;
  if (iban.length > max) return 'too_long';
  if (iban.length < min) return 'incomplete';
  if (mod97(iban) === 1) return 'ok';
  // A country of unknown length may simply be unfinished.
  return expected === undefined && iban.length < 34 ? 'incomplete' : 'checksum';
}

export function isValidIban(text: string): boolean {
  return checkIban(text) === 'ok';
}
