import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  acs,
  api,
  ApiError,
  codeForStatus,
  errorFromResponse,
  firstAccess,
  isFinalStatus,
  scaPolicyOf,
  setCsrfToken,
  setHooks,
} from './api';

const problem = (status: number, body: Record<string, unknown>) =>
  new Response(JSON.stringify({ type: 'about:blank', title: 'x', status, ...body }), {
    status,
    headers: { 'content-type': 'application/problem+json' },
  });

let fetchMock: ReturnType<typeof vi.fn>;

beforeEach(() => {
  fetchMock = vi.fn();
  vi.stubGlobal('fetch', fetchMock);
  setCsrfToken(null);
  setHooks({});
});

afterEach(() => {
  vi.unstubAllGlobals();
});

async function caught(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error('expected a failure');
}

describe('api.ts error mapping', () => {
  it('reads a counted wrong answer: code and attempts left', async () => {
    fetchMock.mockResolvedValue(
      problem(401, { code: 'invalid_credentials', detail: 'the credentials are not valid', attempts_left: 4 }),
    );
    const e = await caught(api.login('demo', '1'));
    expect(e.status).toBe(401);
    expect(e.code).toBe('invalid_credentials');
    expect(e.attemptsLeft).toBe(4);
    expect(e.detail).toBe('the credentials are not valid');
  });

  it('reads the wait of a 429', async () => {
    fetchMock.mockResolvedValue(problem(429, { code: 'too_many_requests', detail: 'try again', retry_after: 30 }));
    const e = await caught(api.login('demo', '1'));
    expect(e.code).toBe('too_many_requests');
    expect(e.retryAfter).toBe(30);
  });

  it('reads blocked, the field of a 400, and attempts_left 0', async () => {
    fetchMock.mockResolvedValueOnce(problem(423, { code: 'blocked', detail: 'blocked' }));
    expect((await caught(api.login('demo', '1'))).code).toBe('blocked');
    fetchMock.mockResolvedValueOnce(problem(400, { code: 'invalid_input', detail: 'payee_iban: checksum', field: 'payee_iban' }));
    const bad = await caught(api.createTransfer({ payee_name: 'a', payee_iban: 'x', amount: '1.00', currency: 'EUR' }));
    expect(bad.code).toBe('invalid_input');
    expect(bad.field).toBe('payee_iban');
    fetchMock.mockResolvedValueOnce(problem(401, { code: 'wrong_code', detail: 'x', attempts_left: 0 }));
    expect((await caught(api.authorize('57240006', '123456'))).attemptsLeft).toBe(0);
  });

  it('maps an error that is not a problem document by its status', async () => {
    fetchMock.mockResolvedValue(new Response('<html>bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } }));
    const e = await caught(api.accounts());
    expect(e.code).toBe('internal');
    expect(e.status).toBe(502);
    expect(codeForStatus(404)).toBe('not_found');
    expect(codeForStatus(423)).toBe('blocked');
    expect(codeForStatus(429)).toBe('too_many_requests');
    expect(codeForStatus(410)).toBe('expired');
    expect(codeForStatus(418)).toBe('bad_server_answer');
  });

  it('keeps unknown codes from the server out of the type, by status', async () => {
    const e = await errorFromResponse(problem(409, { code: 'something_new', detail: 'x' }));
    expect(e.code).toBe('conflict');
    const negative = await errorFromResponse(problem(401, { code: 'wrong_code', detail: 'x', attempts_left: -1 }));
    expect(negative.attemptsLeft).toBeUndefined();
  });

  it('turns a network failure into code network, status 0', async () => {
    fetchMock.mockRejectedValue(new TypeError('Failed to fetch'));
    const e = await caught(api.accounts());
    expect(e.status).toBe(0);
    expect(e.code).toBe('network');
  });

  it('turns a 2xx answer that is not JSON into bad_server_answer', async () => {
    fetchMock.mockResolvedValue(new Response('not json', { status: 200 }));
    expect((await caught(api.accounts())).code).toBe('bad_server_answer');
  });

  it('reports an ended session to the hook, for session calls only', async () => {
    const ended = vi.fn();
    const touched = vi.fn();
    setHooks({ onSessionEnded: ended, onServerTouch: touched });
    fetchMock.mockResolvedValue(problem(401, { code: 'session_expired', detail: 'the session has ended' }));
    const e = await caught(api.accounts());
    expect(e.sessionEnded).toBe(true);
    expect(ended).toHaveBeenCalledTimes(1);
    expect(touched).not.toHaveBeenCalled();
    fetchMock.mockResolvedValue(problem(401, { code: 'invalid_credentials', detail: 'x', attempts_left: 2 }));
    await caught(api.login('demo', '1'));
    expect(ended).toHaveBeenCalledTimes(1);
  });

  it('reports a bank-issued password that must change first to its hook', async () => {
    const required = vi.fn();
    const ended = vi.fn();
    setHooks({ onPasswordChangeRequired: required, onSessionEnded: ended });
    fetchMock.mockResolvedValue(problem(403, { code: 'password_change_required', detail: 'change it first' }));
    const e = await caught(api.accounts());
    expect(e.code).toBe('password_change_required');
    expect(e.sessionEnded).toBe(false);
    expect(required).toHaveBeenCalledTimes(1);
    expect(ended).not.toHaveBeenCalled();
  });

  it('tells the idle clock about every answer of a session call, errors included', async () => {
    const touched = vi.fn();
    setHooks({ onServerTouch: touched });
    fetchMock.mockResolvedValueOnce(new Response('[]', { status: 200, headers: { 'content-type': 'application/json' } }));
    await api.accounts();
    fetchMock.mockResolvedValueOnce(problem(400, { code: 'invalid_input', detail: 'x', field: 'amount' }));
    await caught(api.createTransfer({ payee_name: 'a', payee_iban: 'x', amount: '1', currency: 'EUR' }));
    expect(touched).toHaveBeenCalledTimes(2);
  });
});

describe('api.ts requests', () => {
  it('sends the CSRF token on state-changing calls only, JSON bodies, relative URLs', async () => {
    setCsrfToken('tok');
    fetchMock.mockImplementation(async () => new Response(null, { status: 204 }));
    await api.setAlias('mario');
    let [url, init] = fetchMock.mock.calls[0] as [string, RequestInit];
    expect(url).toBe('/api/v1/alias');
    expect(init.method).toBe('PUT');
    expect((init.headers as Record<string, string>)['x-csrf-token']).toBe('tok');
    expect((init.headers as Record<string, string>)['content-type']).toBe('application/json');
    expect(init.body).toBe('{"alias":"mario"}');
    expect(init.credentials).toBe('same-origin');

    fetchMock.mockImplementation(async () => new Response('[]', { status: 200 }));
    await api.devices();
    [url, init] = fetchMock.mock.calls[1] as [string, RequestInit];
    expect(url).toBe('/api/v1/devices');
    expect((init.headers as Record<string, string>)['x-csrf-token']).toBeUndefined();
  });

  it('escapes path parameters', async () => {
    fetchMock.mockImplementation(async () => new Response('[]', { status: 200 }));
    await api.movements('IT60 X/../');
    expect(fetchMock.mock.calls[0][0]).toBe('/api/v1/accounts/IT60%20X%2F..%2F/movements');
    expect(api.qrSvgUrl('57240006')).toBe('/api/v1/operations/57240006/qr.svg');
  });

  it('sends the login SCA answers in the contract shape', async () => {
    setCsrfToken('tok');
    fetchMock.mockImplementation(async () => new Response('{"status":"authenticated"}', { status: 200 }));
    await api.loginCode('L1', '123456');
    await api.loginSmsOtp('L1', '654321');
    expect(fetchMock.mock.calls[0][1].body).toBe('{"code":"123456"}');
    expect(fetchMock.mock.calls[1][1].body).toBe('{"sms_otp":"654321"}');
    expect(fetchMock.mock.calls[1][0]).toBe('/api/v1/login/L1/code');
  });
});

describe('api.ts cards and 3-D Secure', () => {
  it('sends the Key6 calls in the contract shape, with the session and the CSRF token', async () => {
    setCsrfToken('tok');
    const created = '{"op_id":"57240006","payload":"SCA1","expires":1}';
    fetchMock.mockImplementation(async () => new Response(created, { status: 201 }));
    await api.setKey6('c/1', '583920');
    await api.showKey6('c1');
    await api.unblockKey6('c1');
    await api.setSecurePhone('c1', '+393331234567');
    const calls = fetchMock.mock.calls as [string, RequestInit][];
    expect(calls.map(([u, i]) => `${i.method} ${u}`)).toEqual([
      'PUT /api/v1/cards/c%2F1/key6',
      'POST /api/v1/cards/c1/key6/show',
      'POST /api/v1/cards/c1/key6/unblock',
      'PUT /api/v1/cards/c1/secure-phone',
    ]);
    expect(calls[0][1].body).toBe('{"key6":"583920"}');
    expect(calls[3][1].body).toBe('{"phone":"+393331234567"}');
    for (const [, init] of calls) {
      expect((init.headers as Record<string, string>)['x-csrf-token']).toBe('tok');
      expect(init.credentials).toBe('same-origin');
    }
    fetchMock.mockImplementation(async () => new Response('{"key6":"583920","visible_until":10}', { status: 200 }));
    expect(await api.revealKey6('c1', '57240006')).toEqual({ key6: '583920', visible_until: 10 });
    expect(fetchMock.mock.calls[4][1].body).toBe('{"op_id":"57240006"}');
  });

  it('sends the ACS calls with neither the session cookie nor the CSRF token', async () => {
    setCsrfToken('tok');
    fetchMock.mockImplementation(async () => new Response('{"status":"approved"}', { status: 200 }));
    await acs.challengeCode('t-1', '123456');
    await acs.challengeOtp('t-1', '111111', '583920');
    await acs.challengeSms('t-1');
    await acs.challengeCancel('t-1');
    await acs.challenge('t-1');
    await acs.authentication('t-1');
    await acs.authenticate({
      pan: '4999991234567811',
      amount: '25.00',
      currency: 'EUR',
      merchant_name: 'Sigillo Demo Shop',
      merchant_url: 'http://x/shop.html',
      return_url: 'http://x/shop.html',
    });
    const calls = fetchMock.mock.calls as [string, RequestInit][];
    expect(calls.map(([u, i]) => `${i.method} ${u}`)).toEqual([
      'POST /api/v1/acs/challenges/t-1/code',
      'POST /api/v1/acs/challenges/t-1/otp',
      'POST /api/v1/acs/challenges/t-1/sms',
      'POST /api/v1/acs/challenges/t-1/cancel',
      'GET /api/v1/acs/challenges/t-1',
      'GET /api/v1/acs/authentications/t-1',
      'POST /api/v1/acs/authentications',
    ]);
    expect(calls[0][1].body).toBe('{"code":"123456"}');
    expect(calls[1][1].body).toBe('{"otp":"111111","key6":"583920"}');
    for (const [, init] of calls) {
      expect((init.headers as Record<string, string>)['x-csrf-token']).toBeUndefined();
      expect(init.credentials).toBe('omit');
    }
  });

  it('reads the attempts left of a wrong SMS code or Key6, and a blocked Key6', async () => {
    fetchMock.mockResolvedValueOnce(problem(401, { code: 'wrong_otp', detail: 'x', attempts_left: 2 }));
    const wrong = await caught(acs.challengeOtp('t', '111111', '583920'));
    expect([wrong.code, wrong.attemptsLeft]).toEqual(['wrong_otp', 2]);
    fetchMock.mockResolvedValueOnce(problem(423, { code: 'blocked', detail: 'x' }));
    expect((await caught(acs.challengeOtp('t', '111111', '583920'))).code).toBe('blocked');
  });

  it('knows the final statuses, a cancelled challenge included', () => {
    for (const s of ['approved', 'rejected', 'expired', 'failed', 'cancelled', 'authenticated']) expect(isFinalStatus(s)).toBe(true);
    expect(isFinalStatus('pending')).toBe(false);
  });
});

describe('api.ts first access and the SCA policy', () => {
  const state = JSON.stringify({
    first_access_id: 'fa1',
    bank: { code: 'ubi', name: 'UBI Banca' },
    step: 'sms',
    name: 'Giulia Verdi',
    auth: 'app',
    phone: '+39******0002',
    email: 'g***@example.invalid',
    expires: 1,
    code_to: '+39******0002',
  });

  it('sends every first-access call in the contract shape, with neither the cookie nor the CSRF token', async () => {
    setCsrfToken('tok');
    fetchMock.mockImplementation(async () => new Response(state, { status: 200 }));
    await firstAccess.banks();
    await firstAccess.start('ubi', 'U1234567', 'ubi12345');
    await firstAccess.state('fa/1');
    await firstAccess.smsCode('fa1', '123456');
    await firstAccess.resume('fa1', false);
    await firstAccess.credentials('fa1', '97531864');
    await firstAccess.credentials('fa1', '97531864', 'giulia');
    await firstAccess.phone('fa1');
    await firstAccess.phone('fa1', '+393331234567');
    await firstAccess.phoneCode('fa1', '222222');
    await firstAccess.email('fa1');
    await firstAccess.email('fa1', 'giulia@example.invalid');
    await firstAccess.emailCode('fa1', '333333');
    fetchMock.mockImplementation(async () => new Response(null, { status: 202 }));
    await firstAccess.resend('fa1');
    const calls = fetchMock.mock.calls as [string, RequestInit][];
    expect(calls.map(([u, i]) => `${i.method} ${u} ${i.body ?? ''}`.trim())).toEqual([
      'GET /api/v1/first-access/banks',
      'POST /api/v1/first-access {"bank":"ubi","legacy_code":"U1234567","password":"ubi12345"}',
      'GET /api/v1/first-access/fa%2F1',
      'POST /api/v1/first-access/fa1/sms-code {"sms_otp":"123456"}',
      'POST /api/v1/first-access/fa1/resume {"restart":false}',
      'POST /api/v1/first-access/fa1/credentials {"password":"97531864"}',
      'POST /api/v1/first-access/fa1/credentials {"password":"97531864","alias":"giulia"}',
      'POST /api/v1/first-access/fa1/phone {}',
      'POST /api/v1/first-access/fa1/phone {"phone":"+393331234567"}',
      'POST /api/v1/first-access/fa1/phone-code {"sms_otp":"222222"}',
      'POST /api/v1/first-access/fa1/email {}',
      'POST /api/v1/first-access/fa1/email {"email":"giulia@example.invalid"}',
      'POST /api/v1/first-access/fa1/email-code {"code":"333333"}',
      'POST /api/v1/first-access/fa1/resend',
    ]);
    for (const [, init] of calls) {
      expect((init.headers as Record<string, string>)['x-csrf-token']).toBeUndefined();
      expect(init.credentials).toBe('omit');
    }
  });

  it('reads the first-access refusals by their own codes', async () => {
    for (const code of ['already_migrated', 'not_open']) {
      fetchMock.mockResolvedValueOnce(problem(409, { code, detail: 'x' }));
      expect((await caught(firstAccess.start('ubi', 'U1', 'p'))).code).toBe(code);
    }
    fetchMock.mockResolvedValueOnce(problem(403, { code: 'first_access_unfinished', detail: 'x' }));
    expect((await caught(api.login('12345678', 'p'))).code).toBe('first_access_unfinished');
  });

  it('sends an operation\'s SMS code as sms_otp, after asking for it', async () => {
    setCsrfToken('tok');
    fetchMock.mockImplementationOnce(async () => new Response(null, { status: 202 }));
    await api.operationSendSms('57240006');
    fetchMock.mockImplementationOnce(async () => new Response('{"status":"approved"}', { status: 200 }));
    await api.authorizeSms('57240006', '123456');
    const calls = fetchMock.mock.calls as [string, RequestInit][];
    expect(calls.map(([u, i]) => `${i.method} ${u}`)).toEqual([
      'POST /api/v1/operations/57240006/sms',
      'POST /api/v1/operations/57240006/authorize',
    ]);
    expect(calls[1][1].body).toBe('{"sms_otp":"123456"}');
    expect((calls[0][1].headers as Record<string, string>)['x-csrf-token']).toBe('tok');
  });

  it('reads the SCA policy, push when a server or a saved session does not say', () => {
    expect(scaPolicyOf('sms')).toBe('sms');
    expect(scaPolicyOf('push')).toBe('push');
    expect(scaPolicyOf(undefined)).toBe('push');
    expect(scaPolicyOf('SMS')).toBe('push');
  });
});

describe('api.ts pagoPA (issue 16)', () => {
  it('looks a creditor up and sends a payment in the contract shape, with the CSRF token', async () => {
    setCsrfToken('tok');
    fetchMock.mockImplementationOnce(async () => new Response('{"fiscal_code":"80078750587","name":"INPS"}', { status: 200 }));
    expect(await api.pagopaCreditor('80078750587')).toEqual({ fiscal_code: '80078750587', name: 'INPS' });
    fetchMock.mockImplementationOnce(async () => new Response('{"op_id":"57240006","payload":"SCA1","expires":1}', { status: 201 }));
    const op = await api.createPagopaPayment({
      notice_code: '302000100000012345',
      creditor_fiscal_code: '80078750587',
      amount: '12.50',
      currency: 'EUR',
    });
    expect(op.op_id).toBe('57240006');
    const calls = fetchMock.mock.calls as [string, RequestInit][];
    expect(calls.map(([u, i]) => `${i.method} ${u}`)).toEqual([
      'GET /api/v1/pagopa/creditors/80078750587',
      'POST /api/v1/pagopa/payments',
    ]);
    expect((calls[0][1].headers as Record<string, string>)['x-csrf-token']).toBeUndefined();
    expect((calls[1][1].headers as Record<string, string>)['x-csrf-token']).toBe('tok');
    expect(calls[1][1].body).toBe(
      '{"notice_code":"302000100000012345","creditor_fiscal_code":"80078750587","amount":"12.50","currency":"EUR"}',
    );
  });

  it('reads the new refusals by their codes and fields', async () => {
    fetchMock.mockImplementationOnce(async () => problem(404, { code: 'unknown_creditor', detail: 'x' }));
    expect((await caught(api.pagopaCreditor('80078750588'))).code).toBe('unknown_creditor');
    fetchMock.mockImplementationOnce(async () => problem(409, { code: 'notice_paid', detail: 'x' }));
    const paid = await caught(
      api.createPagopaPayment({ notice_code: '3'.repeat(18), creditor_fiscal_code: '80078750587', amount: '1.00', currency: 'EUR' }),
    );
    expect([paid.status, paid.code]).toEqual([409, 'notice_paid']);
    fetchMock.mockImplementationOnce(async () =>
      problem(400, { code: 'unknown_creditor', detail: 'x', field: 'creditor_fiscal_code' }),
    );
    const unknown = await caught(
      api.createPagopaPayment({ notice_code: '3'.repeat(18), creditor_fiscal_code: '80078750587', amount: '1.00', currency: 'EUR' }),
    );
    expect([unknown.code, unknown.field]).toEqual(['unknown_creditor', 'creditor_fiscal_code']);
  });
});
