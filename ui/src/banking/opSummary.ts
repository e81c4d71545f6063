// What the authorization page lists of an operation: the fields of the signed payload
// (docs/spec/sca1.md §6) that its kind carries, in the order a customer reads them. A transfer:
// payee, IBAN, amount, description. A card payment: amount, card, merchant. A card change
// (GENERIC): the action and the card. Pure: the page translates the labels and formats values.
import type { Key } from '../lib/i18n/index';

export interface SummaryRow {
  /** The payload field: A amount, B payee, C card, D description, I IBAN, M merchant. */
  field: string;
  label: Key;
  value: string;
  /** How the value reads: an amount, an IBAN, in a fixed-width font, or as text. */
  format: 'amount' | 'iban' | 'mono' | 'text';
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
  const specs = kind === 'TRANSFER' ? TRANSFER : kind === 'CARD_PAYMENT' ? CARD_PAYMENT : OTHER;
  return specs
    .filter(([field, , , , always]) => always || (fields[field] ?? '') !== '')
    .map(([field, label, format, testid]) => ({ field, label, value: fields[field] ?? '', format, testid }));
}
