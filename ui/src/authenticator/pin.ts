// The PIN rules of docs/spec/sca1.md §4, checked here only to answer at once while the customer types.
// The app checks again (sca-protocol `Pin::parse`) and its refusal is what counts.

/** Why a PIN is refused, named like the app's error codes (`pin_length`, …) without the prefix. */
export type PinProblem = 'length' | 'not_digit' | 'all_equal' | 'straight';

/** The PIN's problem, or null for a PIN the rules accept. */
export function pinProblem(pin: string): PinProblem | null {
  if (!/^[0-9]*$/.test(pin)) return 'not_digit';
  if (pin.length !== 5) return 'length';
  const d = [...pin].map(Number);
  if (d.every((x) => x === d[0])) return 'all_equal';
  const up = d.every((x, i) => i === 0 || x === d[i - 1] + 1);
  const down = d.every((x, i) => i === 0 || x === d[i - 1] - 1);
  if (up || down) return 'straight';
  return null;
}

/** Five digits: enough to send an existing PIN (the bank, not the app, knows if it is right). */
export function isPinForm(pin: string): boolean {
  return /^[0-9]{5}$/.test(pin);
}
