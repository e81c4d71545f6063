// The card changes waiting for their authorization: setting, changing, showing or unblocking a
// card's Key6, and changing its 3-D Secure phone. Each is an operation (kind GENERIC) that the
// customer authorizes on `#/authorize/<op id>` like a transfer; this remembers, by op id, which
// card and which action it was, so that after the approval the authorization page comes back
// to «Le tue carte» and that page knows what to say (or, for `show`, to ask for the Key6).
// sessionStorage: gone with the tab, cleared at logout; it holds no secret (no Key6, no number).

export type CardAction = 'key6_set' | 'key6_change' | 'key6_show' | 'key6_unblock' | 'secure_phone';

export interface PendingCardAction {
  opId: string;
  cardId: string;
  /** How the page names the card (`**** 1234`), for its messages. */
  card: string;
  action: CardAction;
  /** When it was asked, ms. */
  at: number;
}

/** An action older than this is forgotten: its operation has long expired. */
export const CARD_ACTION_TTL_MS = 30 * 60 * 1000;

const STORAGE_KEY = 'sigillo.cardActions';
const ACTIONS: ReadonlySet<string> = new Set<CardAction>(['key6_set', 'key6_change', 'key6_show', 'key6_unblock', 'secure_phone']);

type Store = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

function session(): Store | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null;
  }
}

/** The stored actions still young enough, by op id; garbage is dropped. */
export function parseActions(raw: string | null, now: number): Record<string, PendingCardAction> {
  const out: Record<string, PendingCardAction> = {};
  if (!raw) return out;
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return out;
  }
  if (!data || typeof data !== 'object') return out;
  for (const [opId, v] of Object.entries(data as Record<string, unknown>)) {
    const a = v as Partial<PendingCardAction> | null;
    if (
      a &&
      a.opId === opId &&
      typeof a.cardId === 'string' &&
      typeof a.card === 'string' &&
      typeof a.action === 'string' &&
      ACTIONS.has(a.action) &&
      typeof a.at === 'number' &&
      now - a.at < CARD_ACTION_TTL_MS &&
      a.at <= now + 60_000
    ) {
      out[opId] = { opId, cardId: a.cardId, card: a.card, action: a.action as CardAction, at: a.at };
    }
  }
  return out;
}

function load(store: Store | null, now: number): Record<string, PendingCardAction> {
  try {
    return parseActions(store?.getItem(STORAGE_KEY) ?? null, now);
  } catch {
    return {};
  }
}

function save(store: Store | null, all: Record<string, PendingCardAction>): void {
  try {
    if (Object.keys(all).length === 0) store?.removeItem(STORAGE_KEY);
    else store?.setItem(STORAGE_KEY, JSON.stringify(all));
  } catch {
    /* storage disabled: the page still works, it only cannot say what was done afterwards */
  }
}

export function rememberCardAction(a: Omit<PendingCardAction, 'at'>, now = Date.now(), store = session()): void {
  const all = load(store, now);
  all[a.opId] = { ...a, at: now };
  save(store, all);
}

export function cardActionFor(opId: string, now = Date.now(), store = session()): PendingCardAction | null {
  return load(store, now)[opId] ?? null;
}

/** Every remembered action, oldest first. */
export function pendingCardActions(now = Date.now(), store = session()): PendingCardAction[] {
  return Object.values(load(store, now)).sort((a, b) => a.at - b.at);
}

export function forgetCardAction(opId: string, now = Date.now(), store = session()): void {
  const all = load(store, now);
  delete all[opId];
  save(store, all);
}

export function forgetAllCardActions(store = session()): void {
  save(store, {});
}

/**
 * Where the authorization page goes once an operation is approved: a transfer to its result;
 * a card change back to «Le tue carte»; anything else to the result page.
 */
export function routeAfterApproval(kind: string, opId: string, action: PendingCardAction | null): string {
  if (kind !== 'TRANSFER' && action) return '#/cards';
  return `#/result/${opId}`;
}
