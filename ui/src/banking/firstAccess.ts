// The pure half of the first access of an acquired bank's customers (docs/api.md §12): which
// step is which of the six the page counts, the opening day in the page's language, the rules a
// new password is checked against while it is typed, and the one thing the page keeps over a
// reload — which first access it is (sessionStorage, gone with the tab, no secret in it: the
// old and the new password, the codes and the security code are never stored).
import type { AcquiredBank, FirstAccessState, FirstAccessStep, ScaPolicy } from '../lib/api';
import type { Key, Lang } from '../lib/i18n/index';

/** The steps the customer counts: old credentials, SMS code, new credentials, phone, e-mail, done. */
export const FIRST_ACCESS_STEPS = 6;

/** `start` is the form with the old bank's credentials, before any first access exists. */
export type FirstAccessView = FirstAccessStep | 'start';

/** Which of the six steps a view is (a resume is the new credentials' step, which it revisits). */
export function stepNumber(view: FirstAccessView): number {
  switch (view) {
    case 'start':
      return 1;
    case 'sms':
      return 2;
    case 'resume':
    case 'credentials':
      return 3;
    case 'phone':
    case 'phone_code':
      return 4;
    case 'email':
    case 'email_code':
      return 5;
    case 'done':
      return 6;
  }
}

/** The heading of each step; a resume names the step it stopped at with it. */
export const STEP_TITLES: Readonly<Record<FirstAccessView, Key>> = {
  start: 'fa.start_title',
  sms: 'fa.sms_title',
  resume: 'fa.resume_title',
  credentials: 'fa.credentials_title',
  phone: 'fa.phone_title',
  phone_code: 'fa.phone_code_title',
  email: 'fa.email_title',
  email_code: 'fa.email_code_title',
  done: 'fa.done_title',
};

const STEPS: ReadonlySet<string> = new Set<FirstAccessStep>([
  'sms',
  'resume',
  'credentials',
  'phone',
  'phone_code',
  'email',
  'email_code',
  'done',
]);

/** A step the page knows; anything else (a newer server's step) is null. */
export function asStep(value: unknown): FirstAccessStep | null {
  return typeof value === 'string' && STEPS.has(value) ? (value as FirstAccessStep) : null;
}

/**
 * A day given as unix seconds at midnight UTC (an acquired bank's `opens_at`), written out in the
 * page's language: «22 febbraio 2027», «22 February 2027». UTC, so that the day is the bank's
 * and not one earlier west of Greenwich.
 */
export function formatDay(unixSeconds: number, lang: Lang): string {
  return new Intl.DateTimeFormat(lang === 'it' ? 'it-IT' : 'en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  }).format(new Date(unixSeconds * 1000));
}

/**
 * The boxes the login page shows, from whatever `GET /api/v1/first-access/banks` answered: only
 * well-formed banks, upcoming or open. The login page must work whatever the answer, so anything
 * else is left out rather than shown half.
 */
export function bankBoxes(answer: unknown): AcquiredBank[] {
  if (!Array.isArray(answer)) return [];
  return answer.filter(
    (b): b is AcquiredBank =>
      !!b &&
      typeof b === 'object' &&
      typeof b.code === 'string' &&
      /^[a-z0-9]{2,16}$/.test(b.code) &&
      typeof b.name === 'string' &&
      b.name.trim() !== '' &&
      typeof b.opens_at === 'number' &&
      Number.isFinite(b.opens_at) &&
      (b.state === 'open' || b.state === 'upcoming'),
  );
}

/** How the customer will do SCA once moved: what the server said at `done`, else what the old bank's way suggests. */
export function policyAfterDone(state: Pick<FirstAccessState, 'sca_policy' | 'auth'>): ScaPolicy {
  if (state.sca_policy === 'push' || state.sca_policy === 'sms') return state.sca_policy;
  return state.auth === 'card' ? 'sms' : 'push';
}

// ---------------------------------------------------------------------------------------------
// What the customer types

/** Why a new password is refused before it is sent; the server checks again, with the old bank's password. */
export type NewPasswordProblem = 'empty' | 'form' | 'all_equal' | 'straight';

/** 8–32 digits, not one digit repeated, not a straight run up or down (12345678, 87654321). */
export function newPasswordProblem(password: string): NewPasswordProblem | null {
  if (password === '') return 'empty';
  if (!/^[0-9]{8,32}$/.test(password)) return 'form';
  const d = [...password].map(Number);
  if (d.every((x) => x === d[0])) return 'all_equal';
  const up = d.every((x, i) => i === 0 || x === d[i - 1] + 1);
  const down = d.every((x, i) => i === 0 || x === d[i - 1] - 1);
  return up || down ? 'straight' : null;
}

/** The repetition: missing, or not the same. */
export function repeatProblem(password: string, again: string): 'empty' | 'mismatch' | null {
  if (again === '') return 'empty';
  return again === password ? null : 'mismatch';
}

/** An alias as in docs/api.md §3: 3–32 of letters, digits, `.`, `_`, `-`, starting with a letter. */
export function isAlias(text: string): boolean {
  return /^[A-Za-z][A-Za-z0-9._-]{2,31}$/.test(text);
}

/** A mobile number as typed, without spaces: E.164 or null. */
export function e164(text: string): string | null {
  const compact = text.replace(/[\s.()-]/g, '');
  return /^\+[1-9][0-9]{7,14}$/.test(compact) ? compact : null;
}

/** `local@domain.tld`, at most 254 characters, nothing the bank would refuse at once. */
export function isEmail(text: string): boolean {
  return text.length <= 254 && /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/.test(text);
}

/** The security code in groups of 4, easier to copy by hand (the recovery ignores spaces). */
export function groupSecurityCode(code: string): string {
  return (
    code
      .replace(/[\s-]/g, '')
      .match(/.{1,4}/g)
      ?.join(' ') ?? ''
  );
}

// ---------------------------------------------------------------------------------------------
// Which first access this tab is in

export interface SavedFirstAccess {
  /** The first_access_id: the only thing that names it, and known only to this client. */
  id: string;
  /** The acquired bank's code: a first access resumes only on its own bank's page. */
  bank: string;
}

const STORAGE_KEY = 'sigillo.firstAccess';

type Store = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

function store(): Store | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null;
  }
}

/** What was saved, or null for nothing, garbage, or an id that cannot be one. */
export function parseSaved(raw: string | null): SavedFirstAccess | null {
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as Partial<SavedFirstAccess> | null;
    if (
      v &&
      typeof v.id === 'string' &&
      /^[A-Za-z0-9_-]{1,128}$/.test(v.id) &&
      typeof v.bank === 'string' &&
      /^[a-z0-9]{2,16}$/.test(v.bank)
    ) {
      return { id: v.id, bank: v.bank };
    }
  } catch {
    /* garbage */
  }
  return null;
}

export function loadFirstAccess(s: Store | null = store()): SavedFirstAccess | null {
  try {
    return parseSaved(s?.getItem(STORAGE_KEY) ?? null);
  } catch {
    return null;
  }
}

export function saveFirstAccess(saved: SavedFirstAccess, s: Store | null = store()): void {
  try {
    s?.setItem(STORAGE_KEY, JSON.stringify({ id: saved.id, bank: saved.bank }));
  } catch {
    /* storage disabled: a reload starts again */
  }
}

export function forgetFirstAccess(s: Store | null = store()): void {
  try {
    s?.removeItem(STORAGE_KEY);
  } catch {
    /* nothing to forget */
  }
}
