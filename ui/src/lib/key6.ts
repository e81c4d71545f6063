// The Key6 of a card: the 6-digit secret the customer chooses for 3-D Secure SMS challenges.
// Its rules are the PIN's (sca-protocol `secret_digits`): exactly 6 digits, not all equal, not a
// straight run up or down. Checked here only to answer at once while the customer types; the
// server checks again and its refusal is what counts.

/** Why a new Key6 (or its repetition) is refused. */
export type Key6Problem = 'empty' | 'not_digit' | 'length' | 'all_equal' | 'straight' | 'mismatch';

/** A typed code without spaces (`583 920` → `583920`). */
export function compactDigits(text: string): string {
  return text.replace(/\s+/g, '');
}

/** Six digits: the form of an SMS code and of a Key6 being used (the bank knows if it is right). */
export function isSixDigits(text: string): boolean {
  return /^[0-9]{6}$/.test(compactDigits(text));
}

/** The problem of a new Key6, or null when the rules accept it. */
export function key6Problem(text: string): Key6Problem | null {
  const k = compactDigits(text);
  if (k === '') return 'empty';
  if (!/^[0-9]+$/.test(k)) return 'not_digit';
  if (k.length !== 6) return 'length';
  const d = [...k].map(Number);
  if (d.every((x) => x === d[0])) return 'all_equal';
  const up = d.every((x, i) => i === 0 || x === d[i - 1] + 1);
  const down = d.every((x, i) => i === 0 || x === d[i - 1] - 1);
  if (up || down) return 'straight';
  return null;
}

/** The problem of the repetition: missing, or not the same as the new Key6. */
export function key6RepeatProblem(key6: string, again: string): Key6Problem | null {
  const a = compactDigits(again);
  if (a === '') return 'empty';
  return a === compactDigits(key6) ? null : 'mismatch';
}
