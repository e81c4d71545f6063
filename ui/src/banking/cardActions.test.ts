import { describe, expect, it } from 'vitest';
import {
  CARD_ACTION_TTL_MS,
  cardActionFor,
  forgetAllCardActions,
  forgetCardAction,
  parseActions,
  pendingCardActions,
  rememberCardAction,
  routeAfterApproval,
} from './cardActions';

function memory(): Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => void data.set(k, v),
    removeItem: (k) => void data.delete(k),
  };
}

describe('pending card actions', () => {
  it('remembers an action by op id, and forgets it', () => {
    const s = memory();
    rememberCardAction({ opId: '57240006', cardId: 'c1', card: '**** 1234', action: 'key6_show' }, 1_000, s);
    rememberCardAction({ opId: '61123611', cardId: 'c2', card: '**** 5678', action: 'secure_phone' }, 2_000, s);
    expect(cardActionFor('57240006', 3_000, s)).toEqual({ opId: '57240006', cardId: 'c1', card: '**** 1234', action: 'key6_show', at: 1_000 });
    expect(pendingCardActions(3_000, s).map((a) => a.opId)).toEqual(['57240006', '61123611']);
    forgetCardAction('57240006', 3_000, s);
    expect(cardActionFor('57240006', 3_000, s)).toBeNull();
    forgetAllCardActions(s);
    expect(s.data.size).toBe(0);
  });

  it('drops old actions and garbage', () => {
    const s = memory();
    rememberCardAction({ opId: '57240006', cardId: 'c1', card: '**** 1234', action: 'key6_set' }, 0, s);
    expect(pendingCardActions(CARD_ACTION_TTL_MS, s)).toEqual([]);
    expect(parseActions('not json', 0)).toEqual({});
    expect(parseActions('{"1":{"opId":"2","cardId":"c","card":"x","action":"key6_set","at":0}}', 0)).toEqual({});
    expect(parseActions('{"1":{"opId":"1","cardId":"c","card":"x","action":"steal","at":0}}', 0)).toEqual({});
  });

  it('sends a card change back to the cards page, a transfer to its result', () => {
    const a = { opId: '1', cardId: 'c', card: 'x', action: 'key6_set' as const, at: 0 };
    expect(routeAfterApproval('GENERIC', '57240006', a)).toBe('#/cards');
    expect(routeAfterApproval('GENERIC', '57240006', null)).toBe('#/result/57240006');
    expect(routeAfterApproval('TRANSFER', '57240006', null)).toBe('#/result/57240006');
  });
});
