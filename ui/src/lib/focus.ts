// Moves keyboard focus once Svelte has applied the pending state changes (the element may only
// appear with them): after a step changes, focus goes where the customer continues.
import { tick } from 'svelte';

export function focusSoon(selector: string): void {
  void tick().then(() => {
    const el = selector.startsWith('#') ? document.getElementById(selector.slice(1)) : document.querySelector(selector);
    (el as HTMLElement | null)?.focus();
  });
}
