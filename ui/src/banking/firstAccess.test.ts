import { describe, expect, it } from 'vitest';
import {
  asStep,
  bankBoxes,
  e164,
  FIRST_ACCESS_STEPS,
  forgetFirstAccess,
  formatDay,
  groupSecurityCode,
  isAlias,
  isEmail,
  loadFirstAccess,
  newPasswordProblem,
  parseSaved,
  policyAfterDone,
  repeatProblem,
  saveFirstAccess,
  stepNumber,
} from './firstAccess';

describe('the steps of a first access', () => {
  it('count six, from the old credentials to done, a resume being the new credentials again', () => {
    expect(stepNumber('start')).toBe(1);
    expect(stepNumber('sms')).toBe(2);
    expect(stepNumber('resume')).toBe(3);
    expect(stepNumber('credentials')).toBe(3);
    expect([stepNumber('phone'), stepNumber('phone_code')]).toEqual([4, 4]);
    expect([stepNumber('email'), stepNumber('email_code')]).toEqual([5, 5]);
    expect(stepNumber('done')).toBe(FIRST_ACCESS_STEPS);
  });

  it('know the server\'s steps and nothing else', () => {
    expect(asStep('phone_code')).toBe('phone_code');
    expect(asStep('start')).toBeNull();
    expect(asStep('something_new')).toBeNull();
    expect(asStep(undefined)).toBeNull();
  });

  it('end with the SCA policy the server gives, else the one the old bank\'s way suggests', () => {
    expect(policyAfterDone({ sca_policy: 'sms', auth: 'app' })).toBe('sms');
    expect(policyAfterDone({ sca_policy: 'push', auth: 'card' })).toBe('push');
    expect(policyAfterDone({ auth: 'card' })).toBe('sms');
    expect(policyAfterDone({ auth: 'app' })).toBe('push');
  });
});

describe('the boxes of the login page', () => {
  const ubi = { code: 'ubi', name: 'UBI Banca', opens_at: 1_803_340_800, state: 'open' };
  const carige = { code: 'carige', name: 'Banca Carige', opens_at: 1_803_340_800, closes_at: 1_900_000_000, state: 'upcoming' };

  it('are the banks the server lists, in its order', () => {
    expect(bankBoxes([ubi, carige])).toEqual([ubi, carige]);
  });

  it('leave out whatever is not a bank, and are none for an answer that is not a list', () => {
    expect(bankBoxes([ubi, { ...carige, state: 'closed' }, { ...ubi, code: '../x' }, null, 'x', { ...ubi, name: ' ' }])).toEqual([ubi]);
    expect(bankBoxes({ banks: [ubi] })).toEqual([]);
    expect(bankBoxes(undefined)).toEqual([]);
  });
});

describe('the opening day', () => {
  // 2027-02-22T00:00:00Z
  const opens = Date.UTC(2027, 1, 22) / 1000;

  it('is written out in the page language', () => {
    expect(formatDay(opens, 'it')).toBe('22 febbraio 2027');
    expect(formatDay(opens, 'en')).toBe('22 February 2027');
  });

  it('is the UTC day: midnight is not the day before in any time zone of the browser', () => {
    expect(formatDay(opens + 86_399, 'it')).toBe('22 febbraio 2027');
    expect(formatDay(opens - 1, 'en')).toBe('21 February 2027');
  });
});

describe('the new credentials as typed', () => {
  it('take 8 to 32 digits, not one repeated, not a run', () => {
    expect(newPasswordProblem('')).toBe('empty');
    expect(newPasswordProblem('1234567')).toBe('form');
    expect(newPasswordProblem('1234567a')).toBe('form');
    expect(newPasswordProblem('1'.repeat(33).replace(/1$/, '2'))).toBe('form');
    expect(newPasswordProblem('77777777')).toBe('all_equal');
    expect(newPasswordProblem('12345678')).toBe('straight');
    expect(newPasswordProblem('98765432')).toBe('straight');
    expect(newPasswordProblem('97531864')).toBeNull();
    expect(newPasswordProblem('89012345')).toBeNull();
  });

  it('check the repetition', () => {
    expect(repeatProblem('97531864', '')).toBe('empty');
    expect(repeatProblem('97531864', '97531865')).toBe('mismatch');
    expect(repeatProblem('97531864', '97531864')).toBeNull();
  });

  it('check an alias, a mobile number and an e-mail address by their form', () => {
    expect(isAlias('giulia.verdi')).toBe(true);
    expect(isAlias('1giulia')).toBe(false);
    expect(isAlias('gv')).toBe(false);
    expect(e164('+39 333 123 4567')).toBe('+393331234567');
    expect(e164('3331234567')).toBeNull();
    expect(e164('+0123456789')).toBeNull();
    expect(isEmail('giulia.verdi@example.invalid')).toBe(true);
    expect(isEmail('giulia@example')).toBe(false);
    expect(isEmail('giulia verdi@example.com')).toBe(false);
    expect(isEmail(`${'a'.repeat(250)}@b.it`)).toBe(false);
  });

  it('show the security code in groups of four', () => {
    expect(groupSecurityCode('ABCDEFGHJKMNPQRSTVWX')).toBe('ABCD EFGH JKMN PQRS TVWX');
    expect(groupSecurityCode('abcd-efgh')).toBe('abcd efgh');
    expect(groupSecurityCode('')).toBe('');
  });
});

describe('which first access the tab is in', () => {
  function memory(): Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> & { data: Map<string, string> } {
    const data = new Map<string, string>();
    return {
      data,
      getItem: (k) => data.get(k) ?? null,
      setItem: (k, v) => void data.set(k, v),
      removeItem: (k) => void data.delete(k),
    };
  }

  it('is kept as its id and bank only, and forgotten', () => {
    const s = memory();
    saveFirstAccess({ id: 'Zm9vYmFyYmF6cXV4MTIzNA', bank: 'ubi' }, s);
    expect(loadFirstAccess(s)).toEqual({ id: 'Zm9vYmFyYmF6cXV4MTIzNA', bank: 'ubi' });
    expect(JSON.parse([...s.data.values()][0])).toEqual({ id: 'Zm9vYmFyYmF6cXV4MTIzNA', bank: 'ubi' });
    forgetFirstAccess(s);
    expect(loadFirstAccess(s)).toBeNull();
    expect(loadFirstAccess(null)).toBeNull();
  });

  it('drops garbage and ids that cannot be one', () => {
    expect(parseSaved(null)).toBeNull();
    expect(parseSaved('{')).toBeNull();
    expect(parseSaved('null')).toBeNull();
    expect(parseSaved('{"id":"../x","bank":"ubi"}')).toBeNull();
    expect(parseSaved('{"id":"abc","bank":"UBI"}')).toBeNull();
    expect(parseSaved('{"id":"abc","bank":"ubi","password":"x"}')).toEqual({ id: 'abc', bank: 'ubi' });
  });
});
