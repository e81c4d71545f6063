// What the customer reads for a failure of the app (an `IpcError`): words picked by the stable
// `code`, in the page's language, with the attempts left when the bank counted one; the app's
// own message when the code is not one we have words for. The banking pages have theirs in
// src/lib/errors.ts.
import { translate, type Key, type Lang, type Params } from '../lib/i18n/index';
import { IpcError } from '../lib/ipc';
import type { PinProblem } from './pin';

const CODE_KEYS: Readonly<Record<string, Key>> = {
  blocked: 'auth.err.blocked',
  expired: 'auth.err.expired',
  payload_expired: 'auth.err.expired',
  not_pending: 'auth.err.not_pending',
  no_pending: 'auth.err.not_pending',
  too_many_requests: 'auth.err.too_many_requests',
  offline: 'auth.err.offline',
  network: 'auth.err.offline',
  pin_length: 'auth.pin.length',
  pin_not_digit: 'auth.pin.not_digit',
  pin_all_equal: 'auth.pin.all_equal',
  pin_straight: 'auth.pin.straight',
  payload_signature: 'auth.err.payload_signature',
  payload_key_id: 'auth.err.payload_key_id',
  payload_form: 'auth.err.payload_form',
  payload_op_id: 'auth.err.payload_form',
  payload_kind: 'auth.err.payload_form',
  payload_data: 'auth.err.payload_form',
  payload_missing_field: 'auth.err.payload_form',
  payload_iban: 'auth.err.payload_form',
  payload_nonce: 'auth.err.payload_form',
  no_qr_code: 'auth.err.no_qr_code',
  bad_image: 'auth.err.bad_image',
  no_camera: 'auth.err.no_camera',
  camera: 'auth.err.camera',
  no_profile: 'auth.err.no_profile',
  secrets_missing: 'auth.err.secrets_missing',
  keyring_unavailable: 'auth.err.keyring',
  storage: 'auth.err.storage',
  bad_server_answer: 'auth.err.bad_server',
  internal: 'auth.err.bad_server',
  invalid_signature: 'auth.err.invalid_signature',
  forbidden: 'auth.err.forbidden',
  not_found: 'auth.err.not_found',
  insufficient_funds: 'auth.err.insufficient_funds',
  ipc: 'auth.err.ipc',
};

/** Counted failures: their words, then the attempts left. */
const COUNTED_KEYS: Readonly<Record<string, Key>> = {
  wrong_code: 'auth.err.wrong_code',
  invalid_credentials: 'auth.err.invalid_credentials',
  wrong_otp: 'auth.err.wrong_otp',
};

/** `invalid_input` words by the field it names. */
const INPUT_KEYS: Readonly<Record<string, Key>> = {
  sms_otp: 'auth.err.sms_form',
  qr: 'auth.err.activation_qr',
  user: 'auth.err.user_empty',
  number: 'auth.err.number',
  pin_confirm: 'auth.pin.mismatch',
  new_pin_confirm: 'auth.pin.mismatch',
  new_pin: 'auth.err.new_pin_same',
};

export const PIN_PROBLEM_KEYS: Readonly<Record<PinProblem, Key>> = {
  length: 'auth.pin.length',
  not_digit: 'auth.pin.not_digit',
  all_equal: 'auth.pin.all_equal',
  straight: 'auth.pin.straight',
};

/** "3 tentativi rimasti" / "1 tentativo rimasto"; at 0, blocked. */
export function attemptsText(n: number, lang: Lang): string {
  if (n <= 0) return translate(lang, 'auth.err.blocked_now');
  return n === 1 ? translate(lang, 'auth.err.attempt_left') : translate(lang, 'auth.err.attempts_left', { n });
}

export function ipcErrorMessage(e: unknown, lang: Lang): string {
  const t = (k: Key, p?: Params) => translate(lang, k, p);
  if (typeof e === 'string') return e;
  if (!(e instanceof IpcError)) return t('auth.err.generic');
  const counted = COUNTED_KEYS[e.code];
  if (counted) return e.attemptsLeft === null ? t(counted) : `${t(counted)} ${attemptsText(e.attemptsLeft, lang)}`;
  if (e.code === 'invalid_input') {
    const key = e.field ? INPUT_KEYS[e.field] : undefined;
    if (key) return t(key);
    return e.message || t('auth.err.generic');
  }
  if (e.code === 'bad_bill') return t('auth.err.bad_bill', { field: e.field ?? '—' });
  const key = CODE_KEYS[e.code];
  if (key) {
    const text = t(key);
    return e.attemptsLeft === null || e.code === 'blocked' ? text : `${text} ${attemptsText(e.attemptsLeft, lang)}`;
  }
  return e.message || t('auth.err.generic');
}

/**
 * Is the error about one of these inputs? Rust names the field (`pin`, `sms_otp`, …); the PIN
 * rules' codes (`pin_*`) are about the new PIN.
 */
export function isAbout(e: unknown, ...fields: string[]): boolean {
  if (!(e instanceof IpcError)) return false;
  if (e.field !== null) return fields.includes(e.field);
  return e.code.startsWith('pin_') && fields.includes('pin');
}

/** The bank could not be reached (the app says `offline`). */
export function isOffline(e: unknown): boolean {
  return e instanceof IpcError && (e.code === 'offline' || e.code === 'network');
}
