// The one module through which the pages talk to sca-server over HTTP (STYLE.md habit 7).
//
// Every call is same-origin with a relative URL (`/api/v1/...`), so the pages need nothing but
// `default-src 'self'`. Every failure — a problem+json answer, another HTTP error, a network
// fault, an answer that is not what the contract says — becomes one typed `ApiError`, so a page
// only ever switches on `error.code`. The session cookie is HttpOnly and sent by the browser;
// this module keeps the CSRF token given at login and sends it on every state-changing call —
// except the 3-D Secure calls (`acs`) and the first access of an acquired bank's customers
// (`firstAccess`), which belong to no session and send neither.

/** Stable codes of the server (docs/api.md §1 Errors, `error.rs`) plus the two this module adds. */
export type ErrorCode =
  | 'invalid_input'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'invalid_credentials'
  | 'wrong_code'
  | 'wrong_otp'
  | 'invalid_signature'
  | 'unauthenticated'
  | 'session_expired'
  | 'forbidden'
  | 'password_change_required'
  | 'not_found'
  | 'method_not_allowed'
  | 'not_pending'
  | 'conflict'
  | 'insufficient_funds'
  | 'expired'
  | 'blocked'
  /** A customer of an acquired bank who has moved already: the legacy credentials are over. */
  | 'already_migrated'
  /** An acquired bank's first access is not open (before its opening day or after its closing). */
  | 'not_open'
  /** A user code whose first access has not reached `done` does not log in yet. */
  | 'first_access_unfinished'
  /** pagoPA: no creditor with this fiscal code (404 on the lookup; 400 field creditor_fiscal_code on a payment). */
  | 'unknown_creditor'
  /** pagoPA: this notice has been paid already (409). */
  | 'notice_paid'
  | 'unknown_notice'
  | 'notice_amount'
  | 'too_many_requests'
  | 'timeout'
  | 'internal'
  /** The server could not be reached (or the request was aborted). */
  | 'network'
  /** The server answered something the contract does not allow. */
  | 'bad_server_answer';

const KNOWN_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'invalid_input',
  'payload_too_large',
  'unsupported_media_type',
  'invalid_credentials',
  'wrong_code',
  'wrong_otp',
  'invalid_signature',
  'unauthenticated',
  'session_expired',
  'forbidden',
  'password_change_required',
  'not_found',
  'method_not_allowed',
  'not_pending',
  'conflict',
  'insufficient_funds',
  'expired',
  'blocked',
  'already_migrated',
  'not_open',
  'first_access_unfinished',
  'unknown_creditor',
  'notice_paid',
  'too_many_requests',
  'timeout',
  'internal',
  'network',
  'bad_server_answer',
]);

/** The one error type of every call. */
export class ApiError extends Error {
  /** HTTP status; 0 when the server was not reached. */
  readonly status: number;
  readonly code: ErrorCode;
  /** The server's `detail` (English, for logs and developers; pages show their own text). */
  readonly detail: string;
  /** The input field at fault (400). */
  readonly field?: string;
  /** Attempts left before the credential is blocked, where an attempt was counted. */
  readonly attemptsLeft?: number;
  /** Seconds to wait before trying again (429: the SMS rate limits). */
  readonly retryAfter?: number;

  constructor(
    status: number,
    code: ErrorCode,
    detail: string,
    field?: string,
    attemptsLeft?: number,
    retryAfter?: number,
  ) {
    super(`${code}: ${detail}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.field = field;
    this.attemptsLeft = attemptsLeft;
    this.retryAfter = retryAfter;
  }

  /** The session is gone (never made, idle timeout, absolute lifetime, server restart). */
  get sessionEnded(): boolean {
    return this.code === 'unauthenticated' || this.code === 'session_expired';
  }
}

/** The code for an HTTP error whose body is not a problem document. */
export function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'invalid_input';
    case 401:
      return 'unauthenticated';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 409:
      return 'conflict';
    case 410:
      return 'expired';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 423:
      return 'blocked';
    case 408:
      return 'timeout';
    case 429:
      return 'too_many_requests';
    default:
      return status >= 500 ? 'internal' : 'bad_server_answer';
  }
}

/** Turns a non-2xx answer into an `ApiError`, reading the problem document when there is one. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let body: unknown = undefined;
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      body = await res.json();
    } catch {
      body = undefined;
    }
  }
  if (body && typeof body === 'object') {
    const p = body as Record<string, unknown>;
    const code =
      typeof p.code === 'string' && KNOWN_CODES.has(p.code) ? (p.code as ErrorCode) : codeForStatus(res.status);
    const detail = typeof p.detail === 'string' ? p.detail : res.statusText || `HTTP ${res.status}`;
    const field = typeof p.field === 'string' ? p.field : undefined;
    const left =
      typeof p.attempts_left === 'number' && Number.isInteger(p.attempts_left) && p.attempts_left >= 0
        ? p.attempts_left
        : undefined;
    const wait =
      typeof p.retry_after === 'number' && Number.isInteger(p.retry_after) && p.retry_after > 0
        ? p.retry_after
        : undefined;
    return new ApiError(res.status, code, detail, field, left, wait);
  }
  return new ApiError(res.status, codeForStatus(res.status), res.statusText || `HTTP ${res.status}`);
}

// ---------------------------------------------------------------------------------------------
// Shapes of the contract (docs/api.md; sca-server src/api/*.rs)

/** `POST /api/v1/devices/activations`. */
export interface DeviceActivationStarted {
  activation_id: string;
  expires: number;
  op_id: string;
  payload: string;
  /** `SCA1-ACTIVATE:<activation_id>`: what the new device scans, once the operation is approved. */
  qr_text: string;
}

export interface PendingOperation {
  op_id: string;
  payload: string;
  expires: number;
}
/**
 * How a customer does SCA (docs/api.md §12 «The SCA policy»): `push` the authenticator, with the
 * SMS code as the fallback; `sms` a one-time PIN by SMS at each login and each operation.
 */
export type ScaPolicy = 'push' | 'sms';

/** The policy in an answer or in storage; a server (or a saved session) older than it means `push`. */
export function scaPolicyOf(value: unknown): ScaPolicy {
  return value === 'sms' ? 'sms' : 'push';
}

export interface LoginStarted {
  login_id: string;
  csrf_token: string;
  number: number;
  operation: PendingOperation;
  password_change_required?: boolean;
  /** Missing from servers before issue 15: read it with `scaPolicyOf`. */
  sca_policy?: ScaPolicy;
}
export type LoginStatus = 'pending' | 'authenticated' | 'rejected' | 'expired' | 'failed';
export type OperationStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'failed';
export interface Account {
  iban: string;
  name: string;
  balance: string;
  currency: string;
}
export interface Movement {
  at: number;
  amount: string;
  counterparty: string;
  description: string;
}
export interface TransferRequest {
  payee_name: string;
  payee_iban: string;
  amount: string;
  currency: string;
  description?: string;
}
/** `POST /api/v1/pagopa/payments`: a pagoPA notice to pay (issue 16). */
export interface PagopaPaymentRequest {
  /** 18 digits, no spaces. */
  notice_code: string;
  /** 11 digits. */
  creditor_fiscal_code: string;
  /** Decimal string, `12.50`. */
  amount: string;
  currency: 'EUR';
}
/** `GET /api/v1/pagopa/creditors/{fiscal_code}`. */
export interface PagopaCreditor {
  fiscal_code: string;
  name: string;
}
export interface Operation {
  op_id: string;
  kind: string;
  status: OperationStatus;
  payload: string;
  expires: number;
}
/** `GET /api/v1/cards`: a card, never its number. */
export interface Card {
  card_id: string;
  /** `**** 1234`. */
  masked: string;
  brand: 'visa' | 'mastercard';
  kind: 'debit' | 'credit' | 'prepaid';
  /** `MM/YY`. */
  expiry: string;
  /** IBAN of the account it charges. */
  account: string;
  /** Credit cards: the monthly limit, a decimal string. */
  credit_limit?: string;
  /** The 3-D Secure phone, masked. */
  secure_phone: string;
  /** The card's Key6 (the 3-D Secure secret for SMS challenges): not chosen yet, chosen, blocked. */
  key6: Key6State;
  /** What it can spend now: a credit card's limit less this month's purchases, else the balance. */
  available?: string;
}
export type Key6State = 'unset' | 'set' | 'blocked';
/** `POST /api/v1/cards/{card_id}/key6/reveal`: once per approved `show` operation. */
export interface Key6Revealed {
  key6: string;
  /** Unix seconds: the page hides the Key6 then (at most 30 s after the approval). */
  visible_until: number;
}
export interface Device {
  device_id: string;
  name: string;
  key_id: string;
  created_at: number;
}
export interface RecoveryStarted {
  recovery_id: string;
  expires: number;
}

// The first access of an acquired bank's customers (docs/api.md §12). No session: the
// first_access_id, which only its client knows, is the capability.

/** `GET /api/v1/first-access/banks`: a bank whose customers get a box on the login page. */
export interface AcquiredBank {
  /** `ubi`: 2–16 lower-case letters and digits. */
  code: string;
  /** `UBI Banca`. */
  name: string;
  /** Unix seconds, midnight UTC of the opening day. */
  opens_at: number;
  closes_at?: number;
  /** `upcoming`: the box says when it opens; `open`: the box leads to the first access. */
  state: 'upcoming' | 'open';
}

/** What comes next in a first access; the server says it in every answer. */
export type FirstAccessStep = 'sms' | 'resume' | 'credentials' | 'phone' | 'phone_code' | 'email' | 'email_code' | 'done';

/** The state of a first access: every step answers it. */
export interface FirstAccessState {
  first_access_id: string;
  bank: { code: string; name: string };
  step: FirstAccessStep;
  /** The customer's name as the old bank had it. */
  name: string;
  /** How the customer authenticated at the old bank: an app, or a code card. */
  auth: 'app' | 'card';
  /** Masked (`+39******4567`) until the SMS code is proven, in full after. */
  phone: string;
  /** Masked (`m***@example.com`) until the SMS code is proven, in full after. */
  email: string;
  /** Unix seconds; each step moves it 20 minutes on. */
  expires: number;
  /** Once the credentials are chosen. */
  user_code?: string;
  alias?: string;
  /** At `resume`: where the earlier first access stopped. */
  reached?: FirstAccessStep;
  /** Where the code of the current step went (masked at `sms`). */
  code_to?: string;
  /** Only in the answer of `/credentials`: 20 characters, shown once. */
  security_code?: string;
  /** At `done`. */
  sca_policy?: ScaPolicy;
}

// 3-D Secure (the bank's ACS). No session: the acsTransID is the capability.

/** `POST /api/v1/acs/authentications`: what a merchant's 3DS server asks. */
export interface AcsAuthenticationRequest {
  pan: string;
  /** `MM/YY`; optional. */
  expiry?: string;
  /** Decimal string, `25.00`. */
  amount: string;
  currency: string;
  merchant_name: string;
  merchant_url: string;
  return_url: string;
}
/** EMV 3DS transStatus: authenticated, challenge required, not authenticated, rejected. */
export type TransStatus = 'Y' | 'C' | 'N' | 'R';
export interface AcsResult {
  acsTransID: string;
  transStatus: TransStatus;
  /** EMV reason code: `01` not confirmed, `08` no such card, `12` not permitted, `14` expired. */
  transStatusReason?: string;
  /** The reason in words (English, for the merchant). */
  reasonText?: string;
  /** Absolute URL of the challenge page (transStatus C). */
  challengeURL?: string;
  eci?: string;
  authenticationValue?: string;
  /** With `Y`: whether an exemption let it through without a challenge. */
  frictionless?: boolean;
}
export type ChallengeStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'failed' | 'cancelled';
/** `GET /api/v1/acs/challenges/{acsTransID}`: what the challenge page shows. */
export interface Challenge {
  acsTransID: string;
  merchant_name: string;
  merchant_url: string;
  amount: string;
  currency: string;
  /** `**** 1234`. */
  card: string;
  brand: 'visa' | 'mastercard';
  /** Unix seconds. */
  expires: number;
  status: ChallengeStatus;
  op_id: string;
  /** The signed SCA1 payload, for the QR. */
  payload: string;
  return_url: string;
  key6_set: boolean;
  /** Too many wrong Key6 / SMS answers: only the authenticator can confirm. */
  key6_blocked?: boolean;
}
/** `POST …/sms`: where the OTP went (masked) and until when it holds. */
export interface ChallengeSmsSent {
  phone: string;
  expires: number;
}

// ---------------------------------------------------------------------------------------------
// The transport

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface Hooks {
  /** Every answer from the server (even an error) touched the session's idle clock. */
  onServerTouch?: () => void;
  /** A call that needed a session found none. */
  onSessionEnded?: (e: ApiError) => void;
  /** The server refused a banking call: the bank-issued password must be changed first. */
  onPasswordChangeRequired?: () => void;
}

let csrfToken: string | null = null;
let hooks: Hooks = {};

/** The CSRF token of this session (from the login answer), or null after logout. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function getCsrfToken(): string | null {
  return csrfToken;
}

/** What the app does when a call touches or loses the session. */
export function setHooks(h: Hooks): void {
  hooks = h;
}

interface CallOptions {
  body?: unknown;
  /** The call needs a session: losing it is reported to `onSessionEnded`. */
  session?: boolean;
  /**
   * The call belongs to no session (3-D Secure: the acsTransID is the capability): it sends
   * neither the session cookie nor the CSRF token, so a customer logged in to the Area Clienti
   * in the same browser lends the merchant's flow nothing.
   */
  anonymous?: boolean;
}

async function call(method: Method, path: string, opts: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken && !opts.anonymous) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: opts.anonymous ? 'omit' : 'same-origin',
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'network', e instanceof Error ? e.message : String(e));
  }
  if (opts.session && res.status !== 401) hooks.onServerTouch?.();
  if (!res.ok) {
    const err = await errorFromResponse(res);
    if (opts.session && err.sessionEnded) hooks.onSessionEnded?.(err);
    if (err.code === 'password_change_required') hooks.onPasswordChangeRequired?.();
    throw err;
  }
  return res;
}

async function json<T>(method: Method, path: string, opts: CallOptions = {}): Promise<T> {
  const res = await call(method, path, opts);
  try {
    return (await res.json()) as T;
  } catch {
    throw new ApiError(res.status, 'bad_server_answer', 'the answer is not JSON');
  }
}

async function empty(method: Method, path: string, opts: CallOptions = {}): Promise<void> {
  await call(method, path, opts);
}

const enc = encodeURIComponent;

// ---------------------------------------------------------------------------------------------
// Endpoints

export const api = {
  // Login
  login: (user: string, password: string) => json<LoginStarted>('POST', '/api/v1/login', { body: { user, password } }),
  loginStatus: (loginId: string) =>
    json<{ status: LoginStatus }>('GET', `/api/v1/login/${enc(loginId)}`, { session: true }),
  loginCode: (loginId: string, code: string) =>
    json<{ status: LoginStatus }>('POST', `/api/v1/login/${enc(loginId)}/code`, { body: { code }, session: true }),
  loginSmsOtp: (loginId: string, smsOtp: string) =>
    json<{ status: LoginStatus }>('POST', `/api/v1/login/${enc(loginId)}/code`, {
      body: { sms_otp: smsOtp },
      session: true,
    }),
  loginSendSms: (loginId: string) => empty('POST', `/api/v1/login/${enc(loginId)}/sms`, { session: true }),
  logout: () => empty('POST', '/api/v1/logout'),

  // Banking
  accounts: () => json<Account[]>('GET', '/api/v1/accounts', { session: true }),
  movements: (iban: string) => json<Movement[]>('GET', `/api/v1/accounts/${enc(iban)}/movements`, { session: true }),
  /** A card's purchases (its approved 3-D Secure payments), newest first. */
  cardMovements: (cardId: string) => json<Movement[]>('GET', `/api/v1/cards/${enc(cardId)}/movements`, { session: true }),
  createTransfer: (t: TransferRequest) =>
    json<PendingOperation>('POST', '/api/v1/transfers', { body: t, session: true }),
  /** The creditor of a pagoPA notice by its fiscal code (404 `unknown_creditor`). */
  pagopaCreditor: (fiscalCode: string) =>
    json<PagopaCreditor>('GET', `/api/v1/pagopa/creditors/${enc(fiscalCode)}`, { session: true }),
  /** A pagoPA notice to pay: a PAGOPA operation to authorize like a transfer. */
  createPagopaPayment: (p: PagopaPaymentRequest) =>
    json<PendingOperation>('POST', '/api/v1/pagopa/payments', { body: p, session: true }),
  operation: (opId: string) => json<Operation>('GET', `/api/v1/operations/${enc(opId)}`, { session: true }),
  authorize: (opId: string, code: string) =>
    json<{ status: OperationStatus }>('POST', `/api/v1/operations/${enc(opId)}/authorize`, {
      body: { code },
      session: true,
    }),
  /** An SMS code for this operation to the certified phone; the SMS says what it authorizes. */
  operationSendSms: (opId: string) => empty('POST', `/api/v1/operations/${enc(opId)}/sms`, { session: true }),
  authorizeSms: (opId: string, smsOtp: string) =>
    json<{ status: OperationStatus }>('POST', `/api/v1/operations/${enc(opId)}/authorize`, {
      body: { sms_otp: smsOtp },
      session: true,
    }),
  /** For an `<img src>`: the browser fetches it with the session cookie. */
  qrSvgUrl: (opId: string) => `/api/v1/operations/${enc(opId)}/qr.svg`,

  // Cards: each change is an operation to authorize like a transfer (kind GENERIC).
  cards: () => json<Card[]>('GET', '/api/v1/cards', { session: true }),
  /** Sets the Key6 if the card has none, changes it otherwise. */
  setKey6: (cardId: string, key6: string) =>
    json<PendingOperation>('PUT', `/api/v1/cards/${enc(cardId)}/key6`, { body: { key6 }, session: true }),
  showKey6: (cardId: string) =>
    json<PendingOperation>('POST', `/api/v1/cards/${enc(cardId)}/key6/show`, { session: true }),
  unblockKey6: (cardId: string) =>
    json<PendingOperation>('POST', `/api/v1/cards/${enc(cardId)}/key6/unblock`, { session: true }),
  /** The Key6, once, within 30 s of the approval of the `show` operation `opId`. */
  revealKey6: (cardId: string, opId: string) =>
    json<Key6Revealed>('POST', `/api/v1/cards/${enc(cardId)}/key6/reveal`, { body: { op_id: opId }, session: true }),
  setSecurePhone: (cardId: string, phone: string) =>
    json<PendingOperation>('PUT', `/api/v1/cards/${enc(cardId)}/secure-phone`, { body: { phone }, session: true }),

  // Devices
  devices: () => json<Device[]>('GET', '/api/v1/devices', { session: true }),
  renameDevice: (id: string, name: string) =>
    empty('PATCH', `/api/v1/devices/${enc(id)}`, { body: { name }, session: true }),
  removeDevice: (id: string) => empty('DELETE', `/api/v1/devices/${enc(id)}`, { session: true }),
  /** A second device: a DEVICE operation to approve on an active one, then the QR to show. */
  startDeviceActivation: () =>
    json<DeviceActivationStarted>('POST', '/api/v1/devices/activations', { body: {}, session: true }),

  // Security
  setAlias: (alias: string | null) => empty('PUT', '/api/v1/alias', { body: { alias }, session: true }),
  /** Strong authentication of the change: an «OTP dispositiva» from the authenticator, or an SMS code. */
  changePassword: (current: string, next: string, proof: { code: string } | { sms_otp: string }) =>
    empty('POST', '/api/v1/password', {
      body: { current_password: current, new_password: next, ...proof },
      session: true,
    }),
  passwordSms: () => empty('POST', '/api/v1/password/sms', { session: true }),

  // Recovery (no session)
  recoverUserCode: (phone: string) => empty('POST', '/api/v1/recovery/user-code', { body: { phone } }),
  unblockStart: (user: string, securityCode: string) =>
    json<RecoveryStarted>('POST', '/api/v1/recovery/unblock', { body: { user, security_code: securityCode } }),
  unblockFinish: (id: string, smsOtp: string) =>
    empty('POST', `/api/v1/recovery/unblock/${enc(id)}`, { body: { sms_otp: smsOtp } }),
  passwordResetStart: (user: string, securityCode: string) =>
    json<RecoveryStarted>('POST', '/api/v1/recovery/password', { body: { user, security_code: securityCode } }),
  passwordResetFinish: (id: string, smsOtp: string, newPassword: string) =>
    empty('POST', `/api/v1/recovery/password/${enc(id)}`, {
      body: { sms_otp: smsOtp, new_password: newPassword },
    }),
};

// ---------------------------------------------------------------------------------------------
// The first access of an acquired bank's customers: no session, so neither the cookie nor the
// CSRF token goes with it (a session of someone else in the same browser lends it nothing).

const fa = (id: string, rest = '') => `/api/v1/first-access/${enc(id)}${rest}`;

export const firstAccess = {
  /** The acquired banks the login page shows a box for (not closed yet). */
  banks: () => json<AcquiredBank[]>('GET', '/api/v1/first-access/banks', { anonymous: true }),
  /** The old bank's customer code and password: an SMS code goes to the mobile it certified. */
  start: (bank: string, legacyCode: string, password: string) =>
    json<FirstAccessState>('POST', '/api/v1/first-access', {
      body: { bank, legacy_code: legacyCode, password },
      anonymous: true,
    }),
  state: (id: string) => json<FirstAccessState>('GET', fa(id), { anonymous: true }),
  /** The current step's code again (a fresh one). */
  resend: (id: string) => empty('POST', fa(id, '/resend'), { anonymous: true }),
  smsCode: (id: string, smsOtp: string) =>
    json<FirstAccessState>('POST', fa(id, '/sms-code'), { body: { sms_otp: smsOtp }, anonymous: true }),
  /** An earlier first access stopped half-way: go on from where it stopped, or choose the credentials again. */
  resume: (id: string, restart: boolean) =>
    json<FirstAccessState>('POST', fa(id, '/resume'), { body: { restart }, anonymous: true }),
  credentials: (id: string, password: string, alias?: string) =>
    json<FirstAccessState>('POST', fa(id, '/credentials'), {
      body: alias ? { password, alias } : { password },
      anonymous: true,
    }),
  /** No number: the certified one is confirmed. A new one gets an SMS code. */
  phone: (id: string, phone?: string) =>
    json<FirstAccessState>('POST', fa(id, '/phone'), { body: phone ? { phone } : {}, anonymous: true }),
  phoneCode: (id: string, smsOtp: string) =>
    json<FirstAccessState>('POST', fa(id, '/phone-code'), { body: { sms_otp: smsOtp }, anonymous: true }),
  /** A code by e-mail to the address the old bank had, or to `email`. */
  email: (id: string, email?: string) =>
    json<FirstAccessState>('POST', fa(id, '/email'), { body: email ? { email } : {}, anonymous: true }),
  emailCode: (id: string, code: string) =>
    json<FirstAccessState>('POST', fa(id, '/email-code'), { body: { code }, anonymous: true }),
};

// ---------------------------------------------------------------------------------------------
// 3-D Secure (the bank's ACS): no session and no CSRF token — the acsTransID is the capability.

export const acs = {
  /** What a merchant's 3DS server asks the bank (the demo shop calls it from its page). */
  authenticate: (req: AcsAuthenticationRequest) =>
    json<AcsResult>('POST', '/api/v1/acs/authentications', { body: req, anonymous: true }),
  /** The outcome as it is now (`C` while the challenge waits). */
  authentication: (acsTransId: string) =>
    json<AcsResult>('GET', `/api/v1/acs/authentications/${enc(acsTransId)}`, { anonymous: true }),
  challenge: (acsTransId: string) =>
    json<Challenge>('GET', `/api/v1/acs/challenges/${enc(acsTransId)}`, { anonymous: true }),
  /** The live status of a challenge (server-sent events, polling as the fallback): see `watchStatus`. */
  challengeEvents: (acsTransId: string, onStatus: (status: string) => void, onError?: (e: ApiError) => void) =>
    watchStatus({ challenge: acsTransId }, onStatus, onError),
  /** A code from an offline authenticator (from the QR or the op id). */
  challengeCode: (acsTransId: string, code: string) =>
    json<{ status: ChallengeStatus }>('POST', `/api/v1/acs/challenges/${enc(acsTransId)}/code`, {
      body: { code },
      anonymous: true,
    }),
  /** Sends an SMS OTP to the card's 3-D Secure phone (409 when the card has no Key6). */
  challengeSms: (acsTransId: string) =>
    json<ChallengeSmsSent>('POST', `/api/v1/acs/challenges/${enc(acsTransId)}/sms`, { anonymous: true }),
  /** The SMS OTP and the card's Key6 together: a wrong one of either counts one attempt. */
  challengeOtp: (acsTransId: string, otp: string, key6: string) =>
    json<{ status: ChallengeStatus }>('POST', `/api/v1/acs/challenges/${enc(acsTransId)}/otp`, {
      body: { otp, key6 },
      anonymous: true,
    }),
  challengeCancel: (acsTransId: string) =>
    json<{ status: ChallengeStatus }>('POST', `/api/v1/acs/challenges/${enc(acsTransId)}/cancel`, { anonymous: true }),
};

// ---------------------------------------------------------------------------------------------
// Live status: server-sent events, with polling when the stream cannot be held

const FINAL = new Set(['authenticated', 'approved', 'rejected', 'expired', 'failed', 'cancelled']);

/** A status after which nothing changes any more (a login's, an operation's, a challenge's). */
export function isFinalStatus(status: string): boolean {
  return FINAL.has(status);
}

/** What `watchStatus` follows: a login, an operation (session), or a 3-D Secure challenge (none). */
export type Watched = { login: string } | { operation: string } | { challenge: string };

function watched(what: Watched): { base: string; read: () => Promise<{ status: string }> } {
  if ('login' in what) return { base: `/api/v1/login/${enc(what.login)}`, read: () => api.loginStatus(what.login) };
  if ('operation' in what) {
    return { base: `/api/v1/operations/${enc(what.operation)}`, read: () => api.operation(what.operation) };
  }
  return { base: `/api/v1/acs/challenges/${enc(what.challenge)}`, read: () => acs.challenge(what.challenge) };
}

export interface StatusWatch {
  stop(): void;
}

/**
 * Follows the status of a login, an operation or a 3-D Secure challenge: `GET …/events` (`status` events) while it works,
 * polling `GET …` every `pollMs` when it does not (a proxy that buffers, a dropped connection).
 * Calls `onStatus` for each new status and stops by itself at a final one. `onError` gets the
 * ApiError of a failed poll (for example the session ended).
 */
export function watchStatus(
  what: Watched,
  onStatus: (status: string) => void,
  onError: (e: ApiError) => void = () => {},
  pollMs = 2000,
): StatusWatch {
  const { base, read } = watched(what);
  let stopped = false;
  let last = '';
  let es: EventSource | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const stop = () => {
    stopped = true;
    es?.close();
    es = null;
    if (timer) clearTimeout(timer);
    timer = null;
  };
  const seen = (status: string) => {
    if (stopped || status === last) return;
    last = status;
    if (FINAL.has(status)) stop();
    onStatus(status);
  };
  const poll = async () => {
    timer = null;
    if (stopped) return;
    try {
      seen((await read()).status);
    } catch (e) {
      if (e instanceof ApiError) {
        onError(e);
        if (e.sessionEnded || e.code === 'not_found') return stop();
      }
    }
    if (!stopped) timer = setTimeout(poll, pollMs);
  };

  if (typeof EventSource === 'function') {
    es = new EventSource(`${base}/events`);
    es.addEventListener('status', (ev) => {
      try {
        const data = JSON.parse((ev as MessageEvent<string>).data) as { status?: unknown };
        if (typeof data.status === 'string') seen(data.status);
      } catch {
        /* a malformed event is ignored; polling catches up */
      }
    });
    es.onerror = () => {
      // The stream ended (a final status closes it) or failed. Either way, one read says where
      // things stand; if still pending, keep polling instead of a stream that does not hold.
      es?.close();
      es = null;
      if (!stopped && !timer) void poll();
    };
  } else {
    void poll();
  }
  return { stop };
}
