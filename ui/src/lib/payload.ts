// Reads the signed operation payload (docs/spec/sca1.md §6) for display only: the page shows what the
// bank signed. It verifies nothing — that is the authenticator's job, and the page is the bank's
// own anyway.

export interface PayloadView {
  opId: string;
  kind: string;
  /** Canonical data fields by key: A amount, B payee, C card, D description, I IBAN, M merchant, X date. */
  fields: Record<string, string>;
  expires: number;
}

/** Splits canonical data `K:value*K:value` on unescaped `*` and unescapes `\\`, `\*`, `\n`. */
export function parseData(data: string): Record<string, string> {
  const fields: Record<string, string> = {};
  if (data === '') return fields;
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < data.length; i++) {
    const c = data[i];
    if (c === '\\' && i + 1 < data.length) {
      const n = data[++i];
      cur += n === 'n' ? '\n' : n;
    } else if (c === '*') {
      parts.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  parts.push(cur);
  for (const p of parts) {
    const at = p.indexOf(':');
    if (at === 1) fields[p[0]] = p.slice(2);
  }
  return fields;
}

export function parsePayload(payload: string): PayloadView | null {
  const lines = payload.split('\n');
  if (lines.length < 8 || lines[0] !== 'SCA1') return null;
  const expires = Number(lines[5]);
  return {
    opId: lines[1],
    kind: lines[2],
    fields: parseData(lines[3]),
    expires: Number.isFinite(expires) ? expires : 0,
  };
}

/** "12.50EUR" → { decimal: "12.50", currency: "EUR" }. */
export function splitAmount(a: string | undefined): { decimal: string; currency: string } | null {
  const m = /^([0-9]+\.[0-9]{2})([A-Z]{3})$/.exec(a ?? '');
  return m ? { decimal: m[1], currency: m[2] } : null;
}

/** The 8-digit identifier in two groups for reading aloud: "6112 3611". */
export function groupOpId(opId: string): string {
  return /^[0-9]{8}$/.test(opId) ? `${opId.slice(0, 4)} ${opId.slice(4)}` : opId;
}
