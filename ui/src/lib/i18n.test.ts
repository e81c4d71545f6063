import { describe, expect, it } from 'vitest';
import { dictionaries, LANGS, placeholders, translate, type Key } from './i18n/index';

describe('dictionaries', () => {
  const keys = (lang: 'it' | 'en') => Object.keys(dictionaries[lang]).sort();

  it('have exactly the same keys in every language', () => {
    for (const lang of LANGS) expect(keys(lang)).toEqual(keys('it'));
  });

  it('have no empty text, and the same placeholders for a key in every language', () => {
    for (const key of keys('it') as Key[]) {
      const it = dictionaries.it[key];
      for (const lang of LANGS) {
        const text = dictionaries[lang][key];
        expect(text.trim(), `${lang} ${key}`).not.toBe('');
        expect(placeholders(text), `${lang} ${key}`).toEqual(placeholders(it));
      }
    }
  });

  it('differ where they should (nothing left untranslated by mistake)', () => {
    const same = (keys('it') as Key[]).filter((k) => dictionaries.it[k] === dictionaries.en[k]);
    // Names and words that are the same in both languages.
    expect(same.sort()).toEqual(
      ['app.brand', 'auth.bill.iban', 'field.payee_iban', 'home.iban', 'authorize.iban', 'lang.en', 'lang.it', 'login.password', 'field.password', 'security.alias', 'security.alias_title', 'field.alias'].sort(),
    );
  });

  it('fill placeholders, and leave unknown ones visible', () => {
    expect(translate('it', 'err.wrong_code', { n: 3 })).toBe('Codice non valido. Tentativi rimasti prima del blocco: 3.');
    expect(translate('en', 'err.wrong_code', { n: 3 })).toBe('The code is not valid. Attempts left before blocking: 3.');
    expect(translate('en', 'err.wrong_code')).toContain('{n}');
  });
});
