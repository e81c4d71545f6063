// The values a link from outside puts in a page's query (issue 16: the desktop authenticator
// reads a bill's QR code and opens `#/transfer?payee=…&iban=…&amount=…&description=…` or
// `#/pagopa?notice=…&creditor=…&amount=…`). They are never trusted: each goes into its field as
// if the customer had typed it, so the page checks it the same way and shows what is wrong; a
// value too long for its field is cut (text) or refused (codes, amounts), and the page says so.
// Nothing here submits anything. Pure: the page passes the query and the language.
import { centsToDecimal } from '../lib/amount';
import type { Lang } from '../lib/i18n/index';
import { compactNotice, formatNotice } from '../lib/pagopa';

/** What happened to one value of the link, for the page to say. */
export interface PrefillNote {
  field: 'payee' | 'iban' | 'amount' | 'description' | 'notice' | 'creditor';
  /** `cut`: too long, shortened to the field's limit; `refused`: not usable, left empty. */
  what: 'cut' | 'refused';
}

export interface TransferPrefill {
  payee: string;
  iban: string;
  amount: string;
  description: string;
  /** Some value came from the link: the page says the values are a bill's and must be checked. */
  fromBill: boolean;
  notes: PrefillNote[];
}

export interface PagopaPrefill {
  notice: string;
  creditor: string;
  amount: string;
  fromBill: boolean;
  notes: PrefillNote[];
}

/** The transfer page's limits (the server's too: payee 70, description 140 characters). */
export const PAYEE_MAX = 70;
export const DESCRIPTION_MAX = 140;
/** An IBAN is at most 34 characters; with a space every four, 42. Longer is not an IBAN. */
const IBAN_TEXT_MAX = 42;
/** 18 digits with the spaces of the paper notice's groups, and a little slack. */
const NOTICE_TEXT_MAX = 24;
/** 11 digits, a little slack for spaces. */
const CREDITOR_TEXT_MAX = 14;

type Query = Readonly<Record<string, string>>;

function has(q: Query, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(q, key);
}

/**
 * Text for a one-line field: control characters (line breaks included) and the bidirectional
 * overrides that could make a name read otherwise than it is become spaces; runs of spaces one.
 */
export function cleanText(text: string): string {
  return text
    .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** At most `max` characters (code points, as the server counts), and whether it was cut. */
function cut(text: string, max: number): { text: string; cut: boolean } {
  const chars = [...text];
  return chars.length > max ? { text: chars.slice(0, max).join('').trimEnd(), cut: true } : { text, cut: false };
}

/**
 * The link's amount: a dot decimal with up to two decimals (`12.50`, `7`, `0.5`), nothing else
 * — `1.500` would read as a thousand in Italian, so it is refused rather than guessed. Written
 * for the amount field in the page's language (`12,50` / `12.50`); null when refused.
 */
export function linkAmount(text: string, lang: Lang): string | null {
  const m = /^([0-9]{1,12})(?:\.([0-9]{1,2}))?$/.exec(text.trim());
  if (!m) return null;
  const cents = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  if (!Number.isSafeInteger(cents)) return null;
  const decimal = centsToDecimal(cents);
  return lang === 'it' ? decimal.replace('.', ',') : decimal;
}

function amountOf(q: Query, lang: Lang, notes: PrefillNote[]): string {
  if (!has(q, 'amount')) return '';
  const a = linkAmount(q.amount, lang);
  if (a === null) {
    if (q.amount.trim() !== '') notes.push({ field: 'amount', what: 'refused' });
    return '';
  }
  return a;
}

/** `#/transfer?payee=…&iban=…&amount=…&description=…`, every key optional. */
export function transferPrefill(q: Query, lang: Lang): TransferPrefill {
  const notes: PrefillNote[] = [];
  let payee = '';
  if (has(q, 'payee')) {
    const c = cut(cleanText(q.payee), PAYEE_MAX);
    payee = c.text;
    if (c.cut) notes.push({ field: 'payee', what: 'cut' });
  }
  let iban = '';
  if (has(q, 'iban')) {
    const raw = cleanText(q.iban);
    if (raw.length > IBAN_TEXT_MAX) notes.push({ field: 'iban', what: 'refused' });
    else iban = raw;
  }
  const amount = amountOf(q, lang, notes);
  let description = '';
  if (has(q, 'description')) {
    const c = cut(cleanText(q.description), DESCRIPTION_MAX);
    description = c.text;
    if (c.cut) notes.push({ field: 'description', what: 'cut' });
  }
  const fromBill = ['payee', 'iban', 'amount', 'description'].some((k) => has(q, k));
  return { payee, iban, amount, description, fromBill, notes };
}

/** `#/pagopa?notice=…&creditor=…&amount=…`, every key optional. */
export function pagopaPrefill(q: Query, lang: Lang): PagopaPrefill {
  const notes: PrefillNote[] = [];
  let notice = '';
  if (has(q, 'notice')) {
    const raw = cleanText(q.notice);
    if (raw.length > NOTICE_TEXT_MAX) notes.push({ field: 'notice', what: 'refused' });
    else notice = /^[0-9]+$/.test(compactNotice(raw)) ? formatNotice(raw) : raw;
  }
  let creditor = '';
  if (has(q, 'creditor')) {
    const raw = cleanText(q.creditor);
    if (raw.length > CREDITOR_TEXT_MAX) notes.push({ field: 'creditor', what: 'refused' });
    else creditor = compactNotice(raw);
  }
  const amount = amountOf(q, lang, notes);
  const fromBill = ['notice', 'creditor', 'amount'].some((k) => has(q, k));
  return { notice, creditor, amount, fromBill, notes };
}
