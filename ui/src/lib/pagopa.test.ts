import { describe, expect, it } from 'vitest';
import { compactNotice, fiscalCodeCheckDigit, fiscalCodeProblem, formatNotice, noticeProblem } from './pagopa';

describe('a pagoPA notice code', () => {
  it('is 18 digits, the first 0 to 3, spaces accepted', () => {
    expect(noticeProblem('302000100000012345')).toBeNull();
    expect(noticeProblem('3020 0010 0000 0123 45')).toBeNull();
    expect(noticeProblem('0000 0000 0000 0000 00')).toBeNull();
    expect(noticeProblem('')).toBe('empty');
    expect(noticeProblem('   ')).toBe('empty');
    expect(noticeProblem('30200010000001234')).toBe('length');
    expect(noticeProblem('3020001000000123456')).toBe('length');
    expect(noticeProblem('30200010000001234X')).toBe('form');
    expect(noticeProblem('402000100000012345')).toBe('aux');
    expect(noticeProblem('902000100000012345')).toBe('aux');
    expect(noticeProblem('9020')).toBe('aux');
  });

  it('reads 4-4-4-4-2 as on the paper notice', () => {
    expect(formatNotice('302000100000012345')).toBe('3020 0010 0000 0123 45');
    expect(formatNotice('3020 00100000 012345')).toBe('3020 0010 0000 0123 45');
    expect(formatNotice('30200')).toBe('3020 0');
    expect(formatNotice('30x')).toBe('30x');
    expect(compactNotice(' 3020\u00a00010 ')).toBe('30200010');
  });
});

describe('a creditor fiscal code', () => {
  it('accepts real ones', () => {
    for (const cf of ['80078750587', '01199250158', '02438750586', '13756881002']) {
      expect(fiscalCodeProblem(cf), cf).toBeNull();
      expect(fiscalCodeCheckDigit(cf.slice(0, 10)), cf).toBe(Number(cf[10]));
    }
    expect(fiscalCodeProblem(' 800 787 505 87 ')).toBeNull();
  });

  it('refuses a wrong check digit, a wrong length, letters', () => {
    for (const cf of ['80078750588', '01199250150', '02438750585', '13756881003', '80078750578']) {
      expect(fiscalCodeProblem(cf), cf).toBe('checksum');
    }
    expect(fiscalCodeProblem('')).toBe('empty');
    expect(fiscalCodeProblem('8007875058')).toBe('length');
    expect(fiscalCodeProblem('800787505870')).toBe('length');
    expect(fiscalCodeProblem('RSSMRA80A01H501U')).toBe('form');
  });
});
