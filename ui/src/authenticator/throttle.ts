// Kiosk activity: pointer and key events are many; the app needs to hear of them once in a while.

/** `fn` at most once per `intervalMs`; the first call goes through at once. */
export function throttle(intervalMs: number, fn: () => void, now: () => number = Date.now): () => void {
  let last = -Infinity;
  return () => {
    const t = now();
    if (t - last < intervalMs) return;
    last = t;
    fn();
  };
}
