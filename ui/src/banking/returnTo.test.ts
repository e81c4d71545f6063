import { describe, expect, it } from 'vitest';
import { forgetDestination, rememberDestination, RETURN_TTL_MS, takeDestination } from './returnTo';

function memory() {
  const m = new Map<string, string>();
  return {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    removeItem: (k: string) => void m.delete(k),
    raw: m,
  };
}

describe('where the login leads back to', () => {
  it('keeps a prefilled page with its query, once', () => {
    const s = memory();
    expect(rememberDestination('#/transfer?payee=Mario%20Rossi&amount=12.50', 1000, s)).toBe(true);
    expect(takeDestination(2000, s)).toBe('#/transfer?payee=Mario%20Rossi&amount=12.50');
    expect(takeDestination(2000, s)).toBeNull();
  });

  it('refuses any other destination', () => {
    const s = memory();
    expect(rememberDestination('#/home', 1000, s)).toBe(false);
    expect(rememberDestination('#/authorize/12345678', 1000, s)).toBe(false);
    expect(takeDestination(2000, s)).toBeNull();
  });

  it('forgets a destination that is old, tampered with, or dropped at logout', () => {
    const s = memory();
    rememberDestination('#/pagopa?notice=1', 0, s);
    expect(takeDestination(RETURN_TTL_MS, s)).toBeNull();
    s.setItem('sigillo.returnTo', JSON.stringify({ hash: '#/home', at: 0 }));
    expect(takeDestination(1, s)).toBeNull();
    s.setItem('sigillo.returnTo', 'not json');
    expect(takeDestination(1, s)).toBeNull();
    rememberDestination('#/pagopa', 0, s);
    forgetDestination(s);
    expect(takeDestination(1, s)).toBeNull();
  });
});
