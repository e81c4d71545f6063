import { describe, expect, it } from 'vitest';
import { checkIban, compactIban, formatIban, isValidIban, mod97 } from './iban';

// Published examples (ECBS / SWIFT IBAN registry) and one of the demo bank's.
const VALID = [
  'IT60X0542811101000000123456',
  'IT60 X054 2811 1010 0000 0123 456',
  'it60x0542811101000000123456',
  'DE89370400440532013000',
  'GB82WEST12345698765432',
  'FR1420041010050500013M02606',
  'NL91ABNA0417164300',
  'NO9386011117947',
  'MT84MALT011000012345MTLCAST001S',
];

describe('IBAN as typed', () => {
  it('accepts valid IBANs, with spaces and in lower case', () => {
    for (const iban of VALID) expect(checkIban(iban), iban).toBe('ok');
    for (const iban of VALID) expect(isValidIban(iban)).toBe(true);
  });

  it('catches every single-character change of a valid IBAN (mod-97 detects them all)', () => {
    const iban = 'IT60X0542811101000000123456';
    for (let i = 4; i < iban.length; i++) {
      const c = iban[i];
      const other = /[0-9]/.test(c) ? String((Number(c) + 1) % 10) : c === 'X' ? 'Y' : 'X';
      const changed = iban.slice(0, i) + other + iban.slice(i + 1);
      expect(checkIban(changed), changed).toBe('checksum');
    }
  });

  it('catches a swap of two neighbouring different digits', () => {
    expect(checkIban('IT60X0542811101000000124356')).toBe('checksum');
  });

  it('says incomplete while typing, not wrong', () => {
    expect(checkIban('')).toBe('empty');
    expect(checkIban('I')).toBe('incomplete');
    expect(checkIban('IT')).toBe('incomplete');
    expect(checkIban('IT6')).toBe('incomplete');
    expect(checkIban('IT60 X054 2811')).toBe('incomplete');
    expect(checkIban('IT60X054281110100000012345')).toBe('incomplete');
  });

  it('refuses characters out of place at once', () => {
    expect(checkIban('1T60')).toBe('form');
    expect(checkIban('ITX0')).toBe('form');
    expect(checkIban('IT60-X054')).toBe('form');
    expect(checkIban('IT60X05428111010000001234€')).toBe('form');
  });

  it('knows the length of each SEPA country', () => {
    expect(checkIban('IT60X05428111010000001234567')).toBe('too_long');
    expect(checkIban('DE8937040044053201300')).toBe('incomplete');
    expect(checkIban('DE893704004405320130001')).toBe('too_long');
  });

  it('checks the sum for countries it does not list, from 15 characters', () => {
    // Brazil (29): valid example from the registry
    expect(checkIban('BR1800360305000010009795493C1')).toBe('ok');
    expect(checkIban('BR1800360305')).toBe('incomplete');
  });

  it('compacts and groups for reading', () => {
    expect(compactIban(' it60 x054\t2811 ')).toBe('IT60X0542811');
    expect(formatIban('IT60X0542811101000000123456')).toBe('IT60 X054 2811 1010 0000 0123 456');
    expect(formatIban('DE89370400440532013000')).toBe('DE89 3704 0044 0532 0130 00');
  });

  it('computes mod-97 = 1 exactly for the valid ones', () => {
    expect(mod97('GB82WEST12345698765432')).toBe(1);
    expect(mod97('GB82WEST12345698765433')).not.toBe(1);
  });
});
