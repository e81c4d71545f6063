// Where the login leads once SCA is done, when a private page was opened without a session: a
// link from outside (the desktop authenticator opening a scanned bill's prefilled page) must
// bring the customer to that page, its query included, and not to the home page. Only this
// app's own `#/transfer…` and `#/pagopa…` qualify (route.ts `returnDestination`); the page the
// link opens checks every value again like typed input and submits nothing by itself.
// sessionStorage: gone with the tab, used once, forgotten after RETURN_TTL_MS and at logout.
import { returnDestination } from '../lib/route';

/** A destination older than this is forgotten: the customer has gone elsewhere. */
export const RETURN_TTL_MS = 15 * 60 * 1000;

const STORAGE_KEY = 'sigillo.returnTo';

type Store = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

function session(): Store | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null;
  }
}

/** Remembers `hash` as the login's destination if it may be one; says whether it was. */
export function rememberDestination(hash: string, now = Date.now(), store = session()): boolean {
  const d = returnDestination(hash);
  if (!d) return false;
  try {
    store?.setItem(STORAGE_KEY, JSON.stringify({ hash: d, at: now }));
    return true;
  } catch {
    return false;
  }
}

/** The remembered destination, once: it is forgotten as it is read. Null when none is valid. */
export function takeDestination(now = Date.now(), store = session()): string | null {
  let raw: string | null = null;
  try {
    raw = store?.getItem(STORAGE_KEY) ?? null;
    store?.removeItem(STORAGE_KEY);
  } catch {
    return null;
  }
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as { hash?: unknown; at?: unknown } | null;
    if (!v || typeof v.hash !== 'string' || typeof v.at !== 'number') return null;
    if (now - v.at >= RETURN_TTL_MS || v.at > now + 60_000) return null;
    return returnDestination(v.hash);
  } catch {
    return null;
  }
}

export function forgetDestination(store = session()): void {
  try {
    store?.removeItem(STORAGE_KEY);
  } catch {
    /* nothing stored */
  }
}
