// How the authenticator shows an operation the app verified (docs/spec/sca1.md §6): each field of the
// signed data with a label in the customer's words and its value in a readable form, the kind,
// the identifier in two groups, the time left. Pure: the language is an argument.
import { formatDecimal } from '../lib/amount';
import { formatIban } from '../lib/iban';
import { translate, type Key, type Lang } from '../lib/i18n/index';
import { splitAmount } from '../lib/payload';
import { formatNotice } from '../lib/pagopa';
import type { FieldView, OperationView } from '../lib/ipc';

export interface ShownField {
  key: string;
  /** The label; an unknown key is shown as itself. */
  label: string;
  /** The value for reading; an unknown key's value is shown as it is. */
  value: string;
  /** Read better in a fixed-width font (IBAN, card). */
  mono: boolean;
}

const FIELD_LABELS: Readonly<Record<string, Key>> = {
  A: 'auth.field.A',
  B: 'auth.field.B',
  C: 'auth.field.C',
  D: 'auth.field.D',
  F: 'auth.field.F',
  I: 'auth.field.I',
  M: 'auth.field.M',
  N: 'auth.field.N',
  X: 'auth.field.X',
};

const KIND_LABELS: Readonly<Record<OperationView['kind'], Key>> = {
  TRANSFER: 'auth.kind.TRANSFER',
  LOGIN: 'auth.kind.LOGIN',
  CARD_PAYMENT: 'auth.kind.CARD_PAYMENT',
  DEVICE: 'auth.kind.DEVICE',
  GENERIC: 'auth.kind.GENERIC',
  PAGOPA: 'auth.kind.PAGOPA',
};

export function kindLabel(kind: string, lang: Lang): string {
  const key = (KIND_LABELS as Record<string, Key | undefined>)[kind];
  return key ? translate(lang, key) : kind;
}

export function fieldLabel(key: string, lang: Lang): string {
  const k = FIELD_LABELS[key];
  return k ? translate(lang, k) : key;
}

/** `2025-03-01` as a date in the language (UTC: a calendar day has no time zone). */
export function formatDate(ymd: string, lang: Lang): string {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(ymd);
  if (!m) return ymd;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (date.getUTCDate() !== Number(m[3]) || date.getUTCMonth() !== Number(m[2]) - 1) return ymd;
  return new Intl.DateTimeFormat(lang === 'it' ? 'it-IT' : 'en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  }).format(date);
}

/** A field's value for reading. Anything not of its form is shown exactly as signed. */
export function fieldValue(key: string, value: string, lang: Lang): string {
  switch (key) {
    case 'A': {
      const a = splitAmount(value);
      if (!a) return value;
      try {
        return formatDecimal(a.decimal, a.currency, lang);
      } catch {
        return value;
      }
    }
    case 'I':
      return formatIban(value);
    case 'X':
      return formatDate(value, lang);
    case 'N':
      // A pagoPA notice code in the groups of the paper notice; anything else as signed.
      return /^[0-9]{18}$/.test(value) ? formatNotice(value) : value;
    default:
      return value;
  }
}

/** Keys read better in a fixed-width font: IBAN, card, creditor fiscal code, notice code. */
const MONO: ReadonlySet<string> = new Set(['I', 'C', 'F', 'N']);

/** Every field, in the order the app gave them (the canonical order: sorted by key). */
export function showFields(fields: readonly FieldView[], lang: Lang): ShownField[] {
  return fields.map((f) => ({
    key: f.key,
    label: fieldLabel(f.key, lang),
    value: fieldValue(f.key, f.value, lang),
    mono: MONO.has(f.key),
  }));
}

/** Seconds from `now` until `expires` (both unix seconds), never below zero. */
export function secondsLeft(expires: number, now: number): number {
  return Math.max(0, Math.floor(expires - now));
}

/** `m:ss`, or `h:mm:ss` from an hour up. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A 6-digit code in two groups for reading: `123 456`. */
export function groupCode(code: string): string {
  return /^[0-9]{6}$/.test(code) ? `${code.slice(0, 3)} ${code.slice(3)}` : code;
}

/** A typed identifier without its spaces. */
export function compactOpId(text: string): string {
  return text.replace(/\s+/g, '');
}

/**
 * Why a typed identifier is refused, for the words to say (the app decides *whether* it is):
 * a character other than a digit, the wrong length, or else the check digit.
 */
export function opIdProblem(text: string): 'not_digit' | 'length' | 'check_digit' {
  const c = compactOpId(text);
  if (!/^[0-9]*$/.test(c)) return 'not_digit';
  if (c.length !== 8) return 'length';
  return 'check_digit';
}
