// What the authenticator window knows: the app's info, the profiles ("utenze") and the one
// selected, the operations waiting for approval, each profile's connection to its bank, and the
// screen shown. The app (Rust) holds the truth; this store is filled from `ipc` and kept current
// by its events. Nothing secret lives here: no PIN, no code.
import {
  EVENTS,
  ipc,
  subscribe,
  type AppInfo,
  type ConnectionEvent,
  type OpenApproval,
  type PendingView,
  type ProfileView,
  type ResolvedEvent,
} from '../lib/ipc';

export type HomeScreen = 'pending' | 'codes' | 'scan' | 'opid' | 'profiles';
export type Screen = 'loading' | 'unavailable' | 'activate' | HomeScreen;

export const app = $state({
  info: null as AppInfo | null,
  /** Why the window could not start (outside the desktop app, or the app failed). */
  loadError: null as unknown,
  profiles: [] as ProfileView[],
  selectedId: null as string | null,
  pending: [] as PendingView[],
  connections: {} as Record<string, ConnectionEvent>,
  screen: 'loading' as Screen,
  /** A pending operation to bring into view (a desktop notification was clicked). */
  openApproval: null as OpenApproval | null,
  /** A short confirmation shown above the screen (after an activation), cleared on navigation. */
  notice: '',
});

/** Unix seconds, ticking every second: the time left of operations and codes follows it. */
export const clock = $state({ now: Math.floor(Date.now() / 1000) });

/** An expired operation stays this long (seconds), marked expired, then leaves the list. */
const EXPIRED_GRACE = 5;

export function pendingKey(profileId: string, opId: string): string {
  return `${profileId}/${opId}`;
}

export function selectedProfile(): ProfileView | null {
  return app.profiles.find((p) => p.id === app.selectedId) ?? null;
}

/** Whether the selected profile's bank is reachable; with no profile, whether any is. */
export function isOnline(): boolean {
  const id = app.selectedId;
  if (id) return app.connections[id]?.online ?? false;
  return Object.values(app.connections).some((c) => c.online);
}

export function go(screen: Screen): void {
  app.notice = '';
  app.screen = screen;
}

/** Where a profile's home starts: the operations waiting, if any. */
export function homeScreen(): HomeScreen {
  return app.pending.length > 0 ? 'pending' : 'codes';
}

export function selectProfile(id: string): void {
  if (app.profiles.some((p) => p.id === id)) app.selectedId = id;
}

export async function refreshProfiles(): Promise<void> {
  const profiles = await ipc.profilesList();
  app.profiles = profiles;
  if (!profiles.some((p) => p.id === app.selectedId)) {
    app.selectedId = (profiles.find((p) => p.main) ?? profiles[0])?.id ?? null;
  }
}

export async function refreshPending(): Promise<void> {
  const list = await ipc.pendingList();
  app.pending = sortPending(list);
}

// How many push:connection events each profile has had: an event that arrives while
// refreshConnections waits for its answer is newer than that answer, and must not be undone by it.
const connectionEvents: Record<string, number> = {};

export async function refreshConnections(): Promise<void> {
  const seen = { ...connectionEvents };
  const list = await ipc.connectionStatus();
  const next: Record<string, ConnectionEvent> = {};
  for (const c of list) next[c.profileId] = c;
  for (const [id, n] of Object.entries(connectionEvents)) {
    const current = app.connections[id];
    if (n !== seen[id] && current) next[id] = current;
  }
  app.connections = next;
}

function sortPending(list: PendingView[]): PendingView[] {
  return [...list].sort((a, b) => b.receivedAt - a.receivedAt);
}

export function upsertPending(p: PendingView): void {
  const key = pendingKey(p.profileId, p.operation.opId);
  const rest = app.pending.filter((x) => pendingKey(x.profileId, x.operation.opId) !== key);
  app.pending = sortPending([...rest, p]);
}

export function removePending(profileId: string, opId: string): void {
  const key = pendingKey(profileId, opId);
  app.pending = app.pending.filter((x) => pendingKey(x.profileId, x.operation.opId) !== key);
}

/** A new profile was activated: it becomes the selected one, and its home is shown. */
export async function activated(profile: ProfileView): Promise<void> {
  await refreshProfiles();
  selectProfile(profile.id);
  void refreshConnections().catch(() => {});
  go(homeScreen());
}

/** After a profile was removed: the main one is selected, or the activation wizard shown. */
export async function profileRemoved(): Promise<void> {
  await refreshProfiles();
  app.pending = app.pending.filter((p) => app.profiles.some((x) => x.id === p.profileId));
  if (app.profiles.length === 0) go('activate');
}

let started = false;

/** Loads everything and listens to the app's events; once per page load. */
export async function start(): Promise<void> {
  if (started) return;
  app.screen = 'loading';
  app.loadError = null;
  try {
    app.info = await ipc.appInfo();
  } catch (e) {
    app.loadError = e;
    app.screen = 'unavailable';
    return;
  }
  started = true;
  listen();
  setInterval(tick, 1000);
  try {
    await refreshProfiles();
  } catch (e) {
    app.loadError = e;
    app.screen = 'unavailable';
    return;
  }
  await Promise.all([refreshPending().catch(() => {}), refreshConnections().catch(() => {})]);
  app.screen = app.profiles.length === 0 ? 'activate' : homeScreen();
  if (app.openApproval && app.profiles.length > 0) app.screen = 'pending';
}

function tick(): void {
  clock.now = Math.floor(Date.now() / 1000);
  const keep = app.pending.filter((p) => p.operation.expires + EXPIRED_GRACE > clock.now);
  if (keep.length !== app.pending.length) app.pending = keep;
}

function listen(): void {
  subscribe<PendingView>(EVENTS.pending, (p) => upsertPending(p));
  subscribe<ResolvedEvent>(EVENTS.resolved, (r) => removePending(r.profileId, r.opId));
  subscribe<ConnectionEvent>(EVENTS.connection, (c) => {
    connectionEvents[c.profileId] = (connectionEvents[c.profileId] ?? 0) + 1;
    app.connections = { ...app.connections, [c.profileId]: c };
  });
  subscribe<OpenApproval>(EVENTS.openApproval, (o) => {
    app.openApproval = o;
    selectProfile(o.profileId);
    if (app.profiles.length > 0) go('pending');
    if (!app.pending.some((p) => p.profileId === o.profileId && p.operation.opId === o.opId)) {
      void refreshPending().catch(() => {});
    }
  });
  subscribe<unknown>(EVENTS.kioskReset, () => location.reload());
}
