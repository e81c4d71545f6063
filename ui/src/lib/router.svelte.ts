// Hash routing (`/#/transfer`, `/#/pagopa?notice=…`): the server serves one index.html and needs
// no fallback route. The parsing is in route.ts.
import { parseHash } from './route';

export { parseHash, parseQuery, PRIVATE, returnDestination } from './route';
export type { Route, RouteName } from './route';

export const route = $state<{ current: ReturnType<typeof parseHash> }>({ current: parseHash(location.hash) });

/**
 * Goes to `to` (`#/…`). The route changes at once, not only at the `hashchange` that follows, so
 * a guard that runs in between (App.svelte) never sees the old page with the new session state.
 */
export function navigate(to: string): void {
  route.current = parseHash(to);
  if (location.hash !== to) location.hash = to;
}

window.addEventListener('hashchange', () => {
  route.current = parseHash(location.hash);
});
