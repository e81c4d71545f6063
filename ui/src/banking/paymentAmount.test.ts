import { describe, expect, it } from 'vitest';
import type { Account } from '../lib/api';
import { parseAmount } from '../lib/amount';
import { paymentAmountError } from './paymentAmount';

const account = { balance: '100.00', currency: 'EUR' } as Account;

describe('paymentAmountError', () => {
  it('says what is wrong with the form, the bank limit and the balance, in the language', () => {
    expect(paymentAmountError(parseAmount(''), account, 'en')).not.toBe('');
    expect(paymentAmountError(parseAmount('1,234'), account, 'it')).not.toBe('');
    expect(paymentAmountError(parseAmount('100,01'), account, 'it')).toContain('100,00');
    expect(paymentAmountError(parseAmount('60000'), null, 'en')).toContain('50,000.00');
  });

  it('has nothing to say of an amount the account holds, or while the account is not known', () => {
    expect(paymentAmountError(parseAmount('100'), account, 'it')).toBe('');
    expect(paymentAmountError(parseAmount('99,99'), null, 'en')).toBe('');
  });
});
