import { describe, expect, it } from 'vitest';
import { isPinForm, pinProblem } from './pin';

describe('pinProblem', () => {
  it('accepts PINs that follow the rules', () => {
    for (const pin of ['13579', '89012', '90123', '11112', '01235', '24680', '97531']) {
      expect(pinProblem(pin), pin).toBeNull();
    }
  });

  it('wants exactly five digits', () => {
    expect(pinProblem('')).toBe('length');
    expect(pinProblem('1357')).toBe('length');
    expect(pinProblem('135790')).toBe('length');
  });

  it('wants digits only', () => {
    expect(pinProblem('12a45')).toBe('not_digit');
    expect(pinProblem('1 357')).toBe('not_digit');
    expect(pinProblem('١٢٣٤٥')).toBe('not_digit');
  });

  it('refuses one digit repeated', () => {
    for (const d of '0123456789') expect(pinProblem(d.repeat(5))).toBe('all_equal');
  });

  it('refuses straight runs up or down, without wrapping', () => {
    for (const pin of ['01234', '12345', '56789', '43210', '98765', '76543']) expect(pinProblem(pin), pin).toBe('straight');
    expect(pinProblem('89012')).toBeNull();
    expect(pinProblem('10987')).toBeNull();
    expect(pinProblem('12346')).toBeNull();
  });

  it('isPinForm only checks the form', () => {
    expect(isPinForm('11111')).toBe(true);
    expect(isPinForm('1234')).toBe(false);
    expect(isPinForm('1234a')).toBe(false);
  });
});
