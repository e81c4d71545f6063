import { describe, expect, it } from 'vitest';
import { ApiError } from './api';
import { errorMessage, firstAccessErrorMessage, isBlocking } from './errors';

describe('what the customer reads', () => {
  it('says the credentials are wrong and how many attempts are left, never which one', () => {
    const text = errorMessage(new ApiError(401, 'invalid_credentials', 'x', undefined, 3), 'it');
    expect(text).toBe('Credenziali non valide. Tentativi rimasti prima del blocco: 3.');
    expect(text.toLowerCase()).not.toMatch(/password|codice utente|alias/);
    const en = errorMessage(new ApiError(401, 'invalid_credentials', 'x', undefined, 3), 'en');
    expect(en.toLowerCase()).not.toMatch(/password|user code|alias/);
  });

  it('says blocked plainly, with the way out', () => {
    expect(errorMessage(new ApiError(423, 'blocked', 'x'), 'it')).toContain('codice di sicurezza');
    expect(errorMessage(new ApiError(423, 'blocked', 'x'), 'en')).toContain('security code');
  });

  it('says blocked at once when the answer used up the last attempt', () => {
    const e = new ApiError(401, 'wrong_code', 'x', undefined, 0);
    expect(errorMessage(e, 'it')).toBe(
      'Codice non valido. Hai esaurito i tentativi: l’utenza è bloccata. Sbloccala con il codice di sicurezza e un SMS, oppure rivolgiti alla tua filiale.',
    );
    expect(isBlocking(e)).toBe(true);
    expect(isBlocking(new ApiError(423, 'blocked', 'x'))).toBe(true);
    expect(isBlocking(new ApiError(401, 'wrong_code', 'x', undefined, 1))).toBe(false);
  });

  it('says how long to wait when the bank holds an SMS back', () => {
    expect(errorMessage(new ApiError(429, 'too_many_requests', 'x', undefined, undefined, 25), 'it')).toBe(
      'Troppe richieste ravvicinate: riprova tra 25 secondi.',
    );
    expect(errorMessage(new ApiError(429, 'too_many_requests', 'x', undefined, undefined, 3300), 'en')).toBe(
      'Too many requests in a short time: try again in 55 minutes.',
    );
  });

  it('names the field of a 400 in the page language', () => {
    expect(errorMessage(new ApiError(400, 'invalid_input', 'x', 'payee_iban'), 'it')).toBe('Dato non valido: IBAN.');
    expect(errorMessage(new ApiError(400, 'invalid_input', 'x', 'amount'), 'en')).toBe('Invalid data: amount.');
    expect(errorMessage(new ApiError(400, 'invalid_input', 'all the same digit', 'key6'), 'it')).toBe('Dato non valido: Key6.');
    expect(errorMessage(new ApiError(400, 'invalid_input', 'x', 'pan'), 'en')).toBe('Invalid data: card number.');
  });

  it('covers network and server failures without leaking details', () => {
    expect(errorMessage(new ApiError(0, 'network', 'Failed to fetch'), 'en')).toMatch(/cannot be reached/);
    expect(errorMessage(new ApiError(500, 'internal', 'database: disk I/O error'), 'en')).not.toMatch(/database/);
    expect(errorMessage(new Error('boom'), 'en')).not.toMatch(/boom/);
  });
});

describe('what the customer of an acquired bank reads', () => {
  it('says who has moved already, when the activation is closed, and an unfinished one at login', () => {
    expect(errorMessage(new ApiError(409, 'already_migrated', 'x'), 'it')).toMatch(/già passato al nuovo Internet Banking/);
    expect(errorMessage(new ApiError(409, 'already_migrated', 'x'), 'en')).toMatch(/new user code/);
    expect(errorMessage(new ApiError(409, 'not_open', 'x'), 'en')).toMatch(/not open/);
    expect(errorMessage(new ApiError(403, 'first_access_unfinished', 'x'), 'it')).toMatch(/non hai ancora completato/i);
  });

  it('names the first-access fields of a 400', () => {
    expect(errorMessage(new ApiError(400, 'invalid_input', 'x', 'legacy_code'), 'it')).toBe(
      'Dato non valido: codice cliente della banca di provenienza.',
    );
    expect(errorMessage(new ApiError(400, 'invalid_input', 'x', 'email'), 'en')).toBe('Invalid data: e-mail address.');
  });

  it('sends a blocked legacy credential to the branch, never to the security code the customer has not got', () => {
    for (const e of [new ApiError(423, 'blocked', 'x'), new ApiError(401, 'invalid_credentials', 'x', undefined, 0)]) {
      const it = firstAccessErrorMessage(e, 'it');
      expect(it).toMatch(/filiale/);
      expect(it).not.toMatch(/codice di sicurezza/);
      expect(firstAccessErrorMessage(e, 'en')).toMatch(/branch/);
    }
    expect(firstAccessErrorMessage(new ApiError(401, 'invalid_credentials', 'x', undefined, 2), 'it')).toBe(
      'Credenziali non valide. Tentativi rimasti prima del blocco: 2.',
    );
  });

  it('asks for a new code when one code has taken its wrong answers', () => {
    expect(firstAccessErrorMessage(new ApiError(401, 'wrong_otp', 'x', undefined, 0), 'it')).toBe(
      'Codice SMS non valido. Hai esaurito i tentativi per questo codice: chiedine uno nuovo.',
    );
    expect(firstAccessErrorMessage(new ApiError(401, 'wrong_code', 'x', undefined, 2), 'en')).toBe('The code is not valid. Attempts left: 2.');
    expect(firstAccessErrorMessage(new ApiError(409, 'not_pending', 'x'), 'en')).toMatch(/new one/);
  });

  it('says an expired or replaced first access must start again', () => {
    expect(firstAccessErrorMessage(new ApiError(410, 'expired', 'x'), 'it')).toMatch(/20 minuti/);
    expect(firstAccessErrorMessage(new ApiError(404, 'not_found', 'x'), 'en')).toMatch(/start again/);
    expect(firstAccessErrorMessage(new ApiError(429, 'too_many_requests', 'x', undefined, undefined, 20), 'it')).toBe(
      'Troppe richieste ravvicinate: riprova tra 20 secondi.',
    );
  });
});

describe('pagoPA refusals (issue 16)', () => {
  it('says an unknown creditor and a notice paid already, in both languages', () => {
    expect(errorMessage(new ApiError(409, 'notice_paid', 'x'), 'it')).toBe('Questo avviso risulta già pagato.');
    expect(errorMessage(new ApiError(409, 'notice_paid', 'x'), 'en')).toBe('This notice has already been paid.');
    expect(errorMessage(new ApiError(404, 'unknown_creditor', 'x'), 'it')).toBe('Ente creditore sconosciuto.');
    expect(errorMessage(new ApiError(400, 'invalid_input', 'x', 'notice_code'), 'it')).toBe('Dato non valido: codice avviso.');
    expect(errorMessage(new ApiError(400, 'invalid_input', 'x', 'creditor_fiscal_code'), 'en')).toBe(
      'Invalid data: creditor fiscal code.',
    );
  });
});
