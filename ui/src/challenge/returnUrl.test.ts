import { describe, expect, it } from 'vitest';
import { buildReturnUrl, transIdFromHash } from './returnUrl';

const base = 'http://127.0.0.1:8080/challenge.html#abc';
const id = '0f8e6c1a-4b7d-4c2e-9a51-3d2b1c0e9f77';

describe('return URL', () => {
  it('adds acsTransID as a query parameter', () => {
    expect(buildReturnUrl('http://127.0.0.1:8080/shop.html', id, base)).toBe(`http://127.0.0.1:8080/shop.html?acsTransID=${id}`);
  });

  it('keeps the existing query as written, and the fragment after it', () => {
    expect(buildReturnUrl('https://shop.example/back?order=12&x=a%20b#top', 'T1', base)).toBe(
      'https://shop.example/back?order=12&x=a%20b&acsTransID=T1#top',
    );
  });

  it('replaces an old acsTransID instead of adding a second one', () => {
    expect(buildReturnUrl('https://shop.example/?acsTransID=old&k=v', 'T2', base)).toBe('https://shop.example/?k=v&acsTransID=T2');
  });

  it('resolves a relative URL against the page', () => {
    expect(buildReturnUrl('/shop.html', 'T3', base)).toBe('http://127.0.0.1:8080/shop.html?acsTransID=T3');
  });

  it('refuses what is not http(s)', () => {
    expect(buildReturnUrl('javascript:alert(1)', 'T', base)).toBeNull();
    expect(buildReturnUrl('data:text/html,x', 'T', base)).toBeNull();
    expect(buildReturnUrl('http://[bad', 'T', base)).toBeNull();
  });

  it('reads the acsTransID of the page address', () => {
    expect(transIdFromHash(`#${id}`)).toBe(id);
    expect(transIdFromHash(`#/${id}`)).toBe(id);
    expect(transIdFromHash('')).toBeNull();
    expect(transIdFromHash('#<script>')).toBeNull();
    expect(transIdFromHash('#%E0%A4%A')).toBeNull();
  });
});
