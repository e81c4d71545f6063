// The amount of a payment from the customer's account (a transfer, a pagoPA notice), as typed:
// what is wrong with it, in the customer's words — its form, the bank's largest payment, the
// balance. One rule for both pages. Pure: the language is an argument.
import type { Account } from '../lib/api';
import { decimalToCents, formatDecimal, formatMoney, MAX_TRANSFER_CENTS, type ParsedAmount } from '../lib/amount';
import { translate, type Key, type Lang } from '../lib/i18n/index';

const KEYS: Readonly<Record<string, Key>> = {
  empty: 'transfer.amount_empty',
  form: 'transfer.amount_form',
  fraction: 'transfer.amount_fraction',
  zero: 'transfer.amount_zero',
  too_large: 'transfer.amount_too_large',
};

/** What is wrong with `parsed` paid from `account` (not known yet: null), or ''. */
export function paymentAmountError(parsed: ParsedAmount, account: Account | null, lang: Lang): string {
  const max = formatMoney(MAX_TRANSFER_CENTS, 'EUR', lang);
  if (!parsed.ok) return translate(lang, KEYS[parsed.error], { max });
  if (parsed.cents > MAX_TRANSFER_CENTS) return translate(lang, 'transfer.amount_too_large', { max });
  if (account && parsed.cents > decimalToCents(account.balance)) {
    return translate(lang, 'transfer.amount_over_balance', { balance: formatDecimal(account.balance, account.currency, lang) });
  }
  return '';
}
