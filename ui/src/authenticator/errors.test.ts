import { describe, expect, it } from 'vitest';
import { IpcError, toIpcError } from '../lib/ipc';
import { attemptsText, ipcErrorMessage, isAbout, isOffline } from './errors';

describe('toIpcError', () => {
  it('reads the app’s {code, message, field, attemptsLeft}', () => {
    const e = toIpcError({ code: 'wrong_code', message: 'the code is not valid', attemptsLeft: 3 });
    expect(e).toBeInstanceOf(IpcError);
    expect([e.code, e.message, e.field, e.attemptsLeft]).toEqual(['wrong_code', 'the code is not valid', null, 3]);
    const f = toIpcError({ code: 'invalid_input', message: 'check digit', field: 'op_id' });
    expect([f.code, f.field, f.attemptsLeft]).toEqual(['invalid_input', 'op_id', null]);
  });

  it('keeps an IpcError as it is', () => {
    const e = new IpcError('offline', 'no network');
    expect(toIpcError(e)).toBe(e);
  });

  it('uses the code when the message is missing, and ignores fields of the wrong type', () => {
    const e = toIpcError({ code: 'storage', message: 42, field: 7, attemptsLeft: '3' });
    expect([e.message, e.field, e.attemptsLeft]).toEqual(['storage', null, null]);
  });

  it('turns Tauri’s plain-string refusals and anything else into code "ipc"', () => {
    expect(toIpcError('command approve not allowed').code).toBe('ipc');
    expect(toIpcError('command approve not allowed').message).toBe('command approve not allowed');
    expect(toIpcError(new Error('boom')).message).toBe('Error: boom');
    expect(toIpcError(null).code).toBe('ipc');
    expect(toIpcError({ message: 'no code' }).code).toBe('ipc');
  });
});

describe('ipcErrorMessage', () => {
  it('says how many attempts are left', () => {
    expect(ipcErrorMessage(new IpcError('wrong_code', 'x', null, 3), 'it')).toBe(
      'Codice non valido: forse il PIN è sbagliato. 3 tentativi rimasti.',
    );
    expect(ipcErrorMessage(new IpcError('wrong_code', 'x', null, 1), 'en')).toBe('The code is not valid: perhaps the PIN is wrong. 1 attempt left.');
    expect(ipcErrorMessage(new IpcError('wrong_code', 'x'), 'en')).toBe('The code is not valid: perhaps the PIN is wrong.');
    expect(ipcErrorMessage(new IpcError('wrong_code', 'x', null, 0), 'it')).toContain('bloccata');
    expect(attemptsText(2, 'it')).toBe('2 tentativi rimasti.');
  });

  it('has words for the app’s codes in both languages', () => {
    expect(ipcErrorMessage(new IpcError('offline', 'cannot reach'), 'it')).toContain('banca');
    expect(ipcErrorMessage(new IpcError('pin_straight', 'PIN: …', 'pin'), 'en')).toContain('consecutive');
    expect(ipcErrorMessage(new IpcError('payload_signature', 'sig'), 'it')).toContain('firma');
    expect(ipcErrorMessage(new IpcError('invalid_input', 'sms_otp: the SMS code is 6 digits', 'sms_otp'), 'it')).toBe(
      'Il codice SMS è di 6 cifre.',
    );
  });

  it('falls back to the app’s message for codes it does not know', () => {
    expect(ipcErrorMessage(new IpcError('something_new', 'Something new happened'), 'it')).toBe('Something new happened');
    expect(ipcErrorMessage(new IpcError('invalid_input', 'device_name: too long', 'device_name'), 'en')).toBe('device_name: too long');
    expect(ipcErrorMessage(new Error('x'), 'en')).toBe('That did not work. Please try again.');
    expect(ipcErrorMessage('Testo già pronto', 'en')).toBe('Testo già pronto');
  });

  it('tells which input an error is about', () => {
    expect(isAbout(new IpcError('invalid_input', 'x', 'sms_otp'), 'sms_otp')).toBe(true);
    expect(isAbout(new IpcError('invalid_input', 'x', 'sms_otp'), 'pin')).toBe(false);
    expect(isAbout(new IpcError('pin_all_equal', 'x'), 'pin')).toBe(true);
    expect(isAbout('text', 'pin')).toBe(false);
    expect(isOffline(new IpcError('offline', 'x'))).toBe(true);
    expect(isOffline(new IpcError('wrong_code', 'x'))).toBe(false);
  });
});
