// What the customer reads for a failure. Every page goes through here, so the same error reads
// the same everywhere, and a refused credential never says which element was wrong (the server
// does not say either).
import { ApiError } from './api';
import { translate, type Key, type Lang } from './i18n/index';

const FIELD_KEYS: Record<string, Key> = {
  user: 'field.user',
  password: 'field.password',
  code: 'field.code',
  sms_otp: 'field.sms_otp',
  payee_name: 'field.payee_name',
  payee_iban: 'field.payee_iban',
  amount: 'field.amount',
  description: 'field.description',
  currency: 'field.currency',
  alias: 'field.alias',
  name: 'field.name',
  new_password: 'field.new_password',
  current_password: 'field.current_password',
  security_code: 'field.security_code',
  phone: 'field.phone',
  key6: 'field.key6',
  secure_phone: 'field.secure_phone',
  pan: 'field.pan',
  expiry: 'field.expiry',
  otp: 'field.otp',
  merchant_name: 'field.merchant_name',
  merchant_url: 'field.merchant_url',
  return_url: 'field.return_url',
  op_id: 'field.op_id',
  legacy_code: 'field.legacy_code',
  bank: 'field.bank',
  restart: 'field.restart',
  email: 'field.email',
  notice_code: 'field.notice_code',
  creditor_fiscal_code: 'field.creditor_fiscal_code',
  fiscal_code: 'field.creditor_fiscal_code',
};

/** The failure blocked the credential, or found it blocked: the page offers the way to unblock. */
export function isBlocking(e: unknown): boolean {
  return e instanceof ApiError && (e.code === 'blocked' || e.attemptsLeft === 0);
}

export function errorMessage(e: unknown, lang: Lang): string {
  const t = (k: Key, p?: Record<string, string | number>) => translate(lang, k, p);
  if (!(e instanceof ApiError)) return t('err.generic', { code: 'client' });
  const n = e.attemptsLeft;
  // The answer that uses up the last attempt is still a 401 (attempts_left 0); the next one is
  // 423. Say "blocked" at once.
  if (n === 0 && (e.code === 'invalid_credentials' || e.code === 'wrong_code' || e.code === 'wrong_otp')) {
    const plain = { invalid_credentials: 'err.invalid_credentials_plain', wrong_code: 'err.wrong_code_plain', wrong_otp: 'err.wrong_otp_plain' } as const;
    return `${t(plain[e.code])} ${t('err.blocked_now')}`;
  }
  switch (e.code) {
    case 'invalid_credentials':
      return n === undefined ? t('err.invalid_credentials_plain') : t('err.invalid_credentials', { n });
    case 'wrong_code':
      return n === undefined ? t('err.wrong_code_plain') : t('err.wrong_code', { n });
    case 'wrong_otp':
      return n === undefined ? t('err.wrong_otp_plain') : t('err.wrong_otp', { n });
    case 'blocked':
      return t('err.blocked');
    case 'already_migrated':
      return t('err.already_migrated');
    case 'not_open':
      return t('err.not_open');
    case 'first_access_unfinished':
      return t('err.first_access_unfinished');
    case 'password_change_required':
      return t('notice.password_change');
    case 'too_many_requests': {
      const s = e.retryAfter;
      if (s === undefined) return t('err.too_many_requests');
      const wait = s < 120 ? t('err.wait_seconds', { n: s }) : t('err.wait_minutes', { n: Math.ceil(s / 60) });
      return t('err.too_many_requests_wait', { wait });
    }
    case 'timeout':
      return t('err.timeout');
    case 'expired':
      return t('err.expired');
    case 'not_pending':
      return t('err.not_pending');
    case 'insufficient_funds':
      return t('err.insufficient_funds');
    case 'unknown_creditor':
      return t('err.unknown_creditor');
    case 'notice_paid':
      return t('err.notice_paid');
    case 'unknown_notice':
      return t('err.unknown_notice');
    case 'notice_amount':
      return t('err.notice_amount');
    case 'not_found':
      return t('err.not_found');
    case 'network':
      return t('err.network');
    case 'internal':
    case 'bad_server_answer':
      return t('err.internal');
    case 'unauthenticated':
    case 'session_expired':
      return t('err.session');
    case 'invalid_input': {
      const key = e.field ? FIELD_KEYS[e.field] : undefined;
      return t('err.invalid_input', { field: key ? t(key) : (e.field ?? '?') });
    }
    default:
      return t('err.generic', { code: e.code });
  }
}

/**
 * A failure of the first access of an acquired bank's customer (docs/api.md §12), which differs
 * from the rest in two ways: the legacy credential it blocks is unblocked at the branch only (the
 * customer has no security code yet), and each code takes 3 wrong answers, after which another
 * is asked for — so an `attempts_left` of 0 on a code says "ask for a new one", not "blocked"
 * (five wrong answers in a row do block, and the next answer says so with 423).
 */
export function firstAccessErrorMessage(e: unknown, lang: Lang): string {
  const t = (k: Key, p?: Record<string, string | number>) => translate(lang, k, p);
  if (!(e instanceof ApiError)) return errorMessage(e, lang);
  switch (e.code) {
    case 'blocked':
      return t('fa.err.blocked');
    case 'invalid_credentials':
      return e.attemptsLeft === 0 ? `${t('err.invalid_credentials_plain')} ${t('fa.err.blocked_now')}` : errorMessage(e, lang);
    case 'wrong_otp':
    case 'wrong_code': {
      const plain = e.code === 'wrong_otp' ? 'err.wrong_otp_plain' : 'err.wrong_code_plain';
      if (e.attemptsLeft === 0) return `${t(plain)} ${t('fa.err.code_used_up')}`;
      return e.attemptsLeft === undefined ? t(plain) : t('fa.err.wrong_code', { n: e.attemptsLeft });
    }
    case 'not_pending':
      return t('fa.err.code_spent');
    case 'expired':
      return t('fa.err.expired');
    case 'not_found':
      return t('fa.err.gone');
    default:
      return errorMessage(e, lang);
  }
}
