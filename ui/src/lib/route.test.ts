import { describe, expect, it } from 'vitest';
import { MAX_QUERY_LENGTH, parseHash, parseQuery, returnDestination } from './route';

describe('hash routes with a query', () => {
  it('reads the route, its parameter and its query', () => {
    expect(parseHash('#/authorize/12345678')).toEqual({ name: 'authorize', param: '12345678', query: {}, search: '' });
    const r = parseHash('#/transfer?payee=Mario%20Rossi&iban=IT60X0542811101000000123456&amount=12.50&description=Bolletta+luce');
    expect(r?.name).toBe('transfer');
    expect(r?.param).toBe('');
    expect(r?.query).toEqual({
      payee: 'Mario Rossi',
      iban: 'IT60X0542811101000000123456',
      amount: '12.50',
      description: 'Bolletta luce',
    });
    expect(r?.search).toBe('payee=Mario%20Rossi&iban=IT60X0542811101000000123456&amount=12.50&description=Bolletta+luce');
    expect(parseHash('#/pagopa?notice=302000100000012345&creditor=80078750587&amount=1')?.query).toEqual({
      notice: '302000100000012345',
      creditor: '80078750587',
      amount: '1',
    });
  });

  it('knows no other route, with or without a query', () => {
    expect(parseHash('#/nowhere?x=1')).toBeNull();
    expect(parseHash('#/?payee=x')).toBeNull();
    expect(parseHash('')).toBeNull();
  });

  it('keeps the first value of a key, drops what does not decode, and ignores a huge query', () => {
    expect(parseQuery('amount=1.00&amount=9999.00')).toEqual({ amount: '1.00' });
    expect(parseQuery('payee=%E0%A4%A&amount=2')).toEqual({ amount: '2' });
    expect(parseQuery('a&b=&=c')).toEqual({ a: '', b: '' });
    expect(parseQuery(`payee=${'x'.repeat(MAX_QUERY_LENGTH)}`)).toEqual({});
    // `__proto__` is a key like any other, not the object's prototype.
    const q = parseQuery('__proto__=x&amount=3');
    expect(q.amount).toBe('3');
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
    expect(parseHash('#/authorize/%E0%A4%A')?.param).toBe('');
  });

  it('leads the login back only to a transfer or a pagoPA page of this app', () => {
    expect(returnDestination('#/transfer?payee=x&amount=12.50')).toBe('#/transfer?payee=x&amount=12.50');
    expect(returnDestination('#/transfer')).toBe('#/transfer');
    expect(returnDestination('#/pagopa?notice=1&creditor=2')).toBe('#/pagopa?notice=1&creditor=2');
    for (const bad of [
      '#/home',
      '#/authorize/12345678',
      '#/transfer/12345678',
      '#/transferx',
      '#/cards?x=1',
      'https://evil.example/#/transfer',
      '//evil.example',
      '#/transfer?x=1#/home',
      '#//evil.example/transfer',
      `#/transfer?payee=${'x'.repeat(MAX_QUERY_LENGTH + 40)}`,
    ]) {
      expect(returnDestination(bad), bad).toBeNull();
    }
  });
});
