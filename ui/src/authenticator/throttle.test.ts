import { describe, expect, it } from 'vitest';
import { throttle } from './throttle';

describe('throttle', () => {
  it('lets one call through per interval', () => {
    let t = 1_000_000;
    let calls = 0;
    const f = throttle(15_000, () => calls++, () => t);
    f();
    f();
    expect(calls).toBe(1);
    t += 14_999;
    f();
    expect(calls).toBe(1);
    t += 1;
    f();
    expect(calls).toBe(2);
    t += 60_000;
    f();
    f();
    expect(calls).toBe(3);
  });
});
