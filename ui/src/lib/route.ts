// The pure part of hash routing (`#/name/param?query`), kept apart from the reactive router so
// it can be tested without a browser. A link from outside (the desktop authenticator opening a
// bill's page) can put anything in the query: parsing is strict and bounded, and nothing read
// here is trusted by a page before it checks it like typed input.
export type RouteName =
  | 'login'
  | 'home'
  | 'transfer'
  /** A pagoPA notice to pay (issue 16). */
  | 'pagopa'
  | 'authorize'
  | 'result'
  | 'cards'
  | 'devices'
  | 'security'
  | 'recovery'
  /** An acquired bank's customer moving here (no session); the parameter is the bank's code. */
  | 'first-access';

export interface Route {
  name: RouteName;
  /** The path parameter: an op id, a recovery section, an acquired bank's code. */
  param: string;
  /** The query after `?`: each key once (the first wins), values decoded. */
  query: Readonly<Record<string, string>>;
  /** The query as it was in the address (without `?`); '' when none. A page keyed on it starts over when it changes. */
  search: string;
}

const NAMES: ReadonlySet<string> = new Set<RouteName>([
  'login',
  'home',
  'transfer',
  'pagopa',
  'authorize',
  'result',
  'cards',
  'devices',
  'security',
  'recovery',
  'first-access',
]);

/** Routes that need a session with SCA completed. */
export const PRIVATE: ReadonlySet<RouteName> = new Set<RouteName>([
  'home',
  'transfer',
  'pagopa',
  'authorize',
  'result',
  'cards',
  'devices',
  'security',
]);

/** A longer query is not read at all (a bill's fields fit in far less). */
export const MAX_QUERY_LENGTH = 2048;
/** At most this many keys are read; the rest is ignored. */
const MAX_QUERY_KEYS = 16;

function decode(text: string): string | null {
  try {
    // `+` is a space in a form-encoded query, as URLSearchParams reads it.
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

/**
 * `payee=Mario%20Rossi&amount=12.50` → `{ payee: 'Mario Rossi', amount: '12.50' }`. A key seen
 * twice keeps its first value (a second one cannot override what came first); a part that does
 * not decode is dropped; a query longer than MAX_QUERY_LENGTH reads as empty.
 */
export function parseQuery(search: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  const s = search.replace(/^\?/, '');
  if (s === '' || s.length > MAX_QUERY_LENGTH) return out;
  let keys = 0;
  for (const part of s.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = decode(eq < 0 ? part : part.slice(0, eq));
    const value = decode(eq < 0 ? '' : part.slice(eq + 1));
    if (key === null || value === null || key === '' || Object.prototype.hasOwnProperty.call(out, key)) continue;
    if (++keys > MAX_QUERY_KEYS) break;
    out[key] = value;
  }
  return out;
}

export function parseHash(hash: string): Route | null {
  const full = hash.replace(/^#\/?/, '');
  const q = full.indexOf('?');
  const path = q < 0 ? full : full.slice(0, q);
  const search = q < 0 ? '' : full.slice(q + 1);
  const [name = '', param = ''] = path.split('/');
  if (name === '' || !NAMES.has(name)) return null;
  return { name: name as RouteName, param: decode(param.replace(/\+/g, '%2B')) ?? '', query: parseQuery(search), search };
}

/** The routes a login may lead back to: the pages a link from outside (a scanned bill) opens. */
const RETURNABLE: ReadonlySet<RouteName> = new Set<RouteName>(['transfer', 'pagopa']);

/**
 * `hash` if the login may lead back there once SCA is done, else null: only this app's own
 * `#/transfer…` and `#/pagopa…` (with their query), never a path parameter, another route, or
 * anything that is not a hash of this page.
 */
export function returnDestination(hash: string): string | null {
  if (typeof hash !== 'string' || hash.length > MAX_QUERY_LENGTH + 32) return null;
  const m = /^#\/(transfer|pagopa)(\?[^#]*)?$/.exec(hash);
  if (!m) return null;
  const r = parseHash(hash);
  return r && RETURNABLE.has(r.name) && r.param === '' ? hash : null;
}
