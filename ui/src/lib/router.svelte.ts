// Hash routing (`/#/transfer`): the server serves one index.html and needs no fallback route.
export type RouteName =
  | 'login'
  | 'home'
  | 'transfer'
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
}

const NAMES: ReadonlySet<string> = new Set<RouteName>([
  'login',
  'home',
  'transfer',
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
  'authorize',
  'result',
  'cards',
  'devices',
  'security',
]);

export function parseHash(hash: string): Route | null {
  const path = hash.replace(/^#\/?/, '');
  const [name = '', param = ''] = path.split('/');
  if (name === '') return null;
  return NAMES.has(name) ? { name: name as RouteName, param: decodeURIComponent(param) } : null;
}

export const route = $state<{ current: Route | null }>({ current: parseHash(location.hash) });

export function navigate(to: string): void {
  if (location.hash === to) {
    route.current = parseHash(to);
  } else {
    location.hash = to;
  }
}

window.addEventListener('hashchange', () => {
  route.current = parseHash(location.hash);
});
