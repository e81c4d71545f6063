// Where the challenge page sends the browser when the challenge is over: the merchant's
// return_url with `acsTransID=<id>` added to its query (any existing query kept, an old
// acsTransID replaced), so the merchant can ask the bank for the outcome.

/** How long the final status stays on screen before the browser goes back to the merchant. */
export const RETURN_DELAY_MS = 1500;

/**
 * The merchant's return URL with the transaction id, or null when `returnUrl` is not an http(s)
 * URL (a `javascript:` URL must never be followed). `base` resolves a relative one.
 */
export function buildReturnUrl(returnUrl: string, acsTransId: string, base: string): string | null {
  let url: URL;
  try {
    url = new URL(returnUrl, base);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  // The existing parameters exactly as the merchant wrote them; only an old acsTransID goes.
  const kept = url.search
    .replace(/^\?/, '')
    .split('&')
    .filter((p) => p !== '' && paramName(p) !== 'acsTransID');
  kept.push(`acsTransID=${encodeURIComponent(acsTransId)}`);
  url.search = `?${kept.join('&')}`;
  return url.href;
}

function paramName(part: string): string {
  const name = part.split('=')[0];
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

/** The acsTransID of the challenge page's address: `challenge.html#<acsTransID>`. */
export function transIdFromHash(hash: string): string | null {
  let id = hash.replace(/^#\/?/, '');
  try {
    id = decodeURIComponent(id);
  } catch {
    return null;
  }
  return /^[A-Za-z0-9-]{1,64}$/.test(id) ? id : null;
}
