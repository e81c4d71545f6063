// What the authorization page lists of an operation: the fields of the signed payload
// (docs/spec/sca1.md §6) that its kind carries, in the order a customer reads them. A transfer:
// payee, IBAN, amount, description. A card payment: amount, card, merchant. A card change
// (GENERIC): the action and the card. A pagoPA notice (PAGOPA): the creditor, its fiscal code,
// the notice code and the amount. Pure: the page translates the labels and formats values.
import type { Key } from '../lib/i18n/index';

export interface SummaryRow {
  /**
   * The payload field: A amount, B payee (a pagoPA creditor), C card, D description, F creditor
   * fiscal code, I IBAN, M merchant, N pagoPA notice code.
   */
  field: string;
  label: Key;
  value: string;
  /**
   * How the value reads: an amount, an IBAN, a pagoPA notice code (fixed-width, 4-4-4-4-2 as on
   * the paper notice), in a fixed-width font, or as text.
   */
  format: 'amount' | 'iban' | 'notice' | 'mono' | 'text';
  testid?: string;
}

type Spec = readonly [field: string, label: Key, format: SummaryRow['format'], testid: string | undefined, always: boolean];

const TRANSFER: readonly Spec[] = [
  ['B', 'authorize.payee', 'text', 'payee', true],
  ['I', 'authorize.iban', 'iban', undefined, true],
  ['A', 'authorize.amount', 'amount', 'amount', true],
  ['D', 'authorize.description', 'text', undefined, false],
];

const CARD_PAYMENT: readonly Spec[] = [
  ['A', 'authorize.amount', 'amount', 'amount', true],
  ['C', 'authorize.card', 'mono', 'op-card', true],
  ['M', 'authorize.merchant', 'text', 'op-merchant', true],
  ['D', 'authorize.description', 'text', undefined, false],
];

const PAGOPA: readonly Spec[] = [
  ['B', 'authorize.creditor', 'text', 'payee', true],
  ['F', 'authorize.creditor_cf', 'mono', 'op-creditor-cf', true],
  ['N', 'authorize.notice', 'notice', 'op-notice', true],
  ['A', 'authorize.amount', 'amount', 'amount', true],
];

const SPECS: Readonly<Record<string, readonly Spec[]>> = { TRANSFER, CARD_PAYMENT, PAGOPA };

const OTHER: readonly Spec[] = [
  ['D', 'authorize.action', 'text', 'op-description', false],
  ['C', 'authorize.card', 'mono', 'op-card', false],
  ['M', 'authorize.merchant', 'text', 'op-merchant', false],
  ['B', 'authorize.payee', 'text', undefined, false],
  ['I', 'authorize.iban', 'iban', undefined, false],
  ['A', 'authorize.amount', 'amount', undefined, false],
];

/** The rows to show for an operation of `kind` with these payload fields. */
export function summaryRows(kind: string, fields: Readonly<Record<string, string>>): SummaryRow[] {
  const specs = Object.prototype.hasOwnProperty.call(SPECS, kind) ? SPECS[kind] : OTHER;
  return specs
    .filter(([field, , , , always]) => always || (fields[field] ?? '') !== '')
    .map(([field, label, format, testid]) => ({ field, label, value: fields[field] ?? '', format, testid }));
}
