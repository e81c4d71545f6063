import { describe, expect, it } from 'vitest';
import {
  compactOpId,
  fieldLabel,
  fieldValue,
  formatDate,
  formatDuration,
  groupCode,
  kindLabel,
  opIdProblem,
  secondsLeft,
  showFields,
} from './fields';

// Intl puts narrow no-break spaces in some places; compare with plain spaces.
const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');

describe('showFields', () => {
  it('labels every known key in both languages', () => {
    expect(['A', 'B', 'C', 'D', 'I', 'M', 'X'].map((k) => fieldLabel(k, 'it'))).toEqual([
      'Importo',
      'Beneficiario',
      'Carta',
      'Causale',
      'IBAN del beneficiario',
      'Esercente',
      'Data di esecuzione',
    ]);
    expect(fieldLabel('B', 'en')).toBe('Payee');
    expect(fieldLabel('A', 'en')).toBe('Amount');
  });

  it('shows every field, in order, unknown keys raw', () => {
    const shown = showFields(
      [
        { key: 'A', value: '1250.00EUR' },
        { key: 'B', value: 'Mario Rossi' },
        { key: 'D', value: 'Affitto *marzo*' },
        { key: 'I', value: 'IT60X0542811101000000123456' },
        { key: 'Q', value: 'qualcosa' },
        { key: 'X', value: '2025-03-01' },
      ],
      'it',
    );
    expect(shown.map((f) => f.key)).toEqual(['A', 'B', 'D', 'I', 'Q', 'X']);
    expect(plain(shown[0].value)).toBe('1.250,00 €');
    expect(shown[1].value).toBe('Mario Rossi');
    expect(shown[2].value).toBe('Affitto *marzo*');
    expect(shown[3]).toEqual({ key: 'I', label: 'IBAN del beneficiario', value: 'IT60 X054 2811 1010 0000 0123 456', mono: true });
    expect(shown[4]).toEqual({ key: 'Q', label: 'Q', value: 'qualcosa', mono: false });
    expect(shown[5].value).toBe('1 marzo 2025');
  });

  it('formats amounts with their currency in the language', () => {
    expect(plain(fieldValue('A', '0.50EUR', 'en'))).toBe('€0.50');
    expect(plain(fieldValue('A', '1234567.89EUR', 'en'))).toBe('€1,234,567.89');
    expect(plain(fieldValue('A', '10.00USD', 'it'))).toBe('10,00 USD');
    // Not of the form: shown exactly as signed.
    expect(fieldValue('A', '12EUR', 'it')).toBe('12EUR');
  });

  it('groups the IBAN by four', () => {
    expect(fieldValue('I', 'DE89370400440532013000', 'en')).toBe('DE89 3704 0044 0532 0130 00');
    expect(fieldValue('I', 'NO9386011117947', 'it')).toBe('NO93 8601 1117 947');
  });

  it('keeps the card as signed', () => {
    expect(fieldValue('C', '****1234', 'it')).toBe('****1234');
    expect(showFields([{ key: 'C', value: '****1234' }], 'en')[0].mono).toBe(true);
  });
});

describe('formatDate', () => {
  it('shows a calendar day in the language, whatever the time zone', () => {
    expect(formatDate('2025-12-31', 'it')).toBe('31 dicembre 2025');
    expect(formatDate('2024-02-29', 'en')).toBe('29 February 2024');
  });
  it('leaves a date that is not one as it is', () => {
    expect(formatDate('2025-02-30', 'it')).toBe('2025-02-30');
    expect(formatDate('tomorrow', 'en')).toBe('tomorrow');
  });
});

describe('kinds, time, codes, identifiers', () => {
  it('names the kinds', () => {
    expect(kindLabel('TRANSFER', 'it')).toBe('Bonifico');
    expect(kindLabel('LOGIN', 'en')).toBe('Customer Area login');
    expect(kindLabel('SOMETHING', 'en')).toBe('SOMETHING');
    expect(kindLabel('PAGOPA', 'it')).toBe('Pagamento pagoPA');
    expect(kindLabel('PAGOPA', 'en')).toBe('pagoPA payment');
  });

  it('counts the seconds left, never below zero', () => {
    expect(secondsLeft(1000, 700)).toBe(300);
    expect(secondsLeft(1000, 999.4)).toBe(0);
    expect(secondsLeft(1000, 1200)).toBe(0);
  });

  it('formats durations', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(65)).toBe('1:05');
    expect(formatDuration(300)).toBe('5:00');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(-3)).toBe('0:00');
  });

  it('groups a code in threes', () => {
    expect(groupCode('012345')).toBe('012 345');
    expect(groupCode('12345')).toBe('12345');
  });

  it('reads a typed identifier', () => {
    expect(compactOpId(' 6112 3611 ')).toBe('61123611');
    expect(opIdProblem('6112 361')).toBe('length');
    expect(opIdProblem('6112 36a1')).toBe('not_digit');
    expect(opIdProblem('6112 3612')).toBe('check_digit');
  });
});

describe('a pagoPA payment (issue 16)', () => {
  it('labels the creditor fiscal code and the notice code, the code grouped as on the paper notice', () => {
    const shown = showFields(
      [
        { key: 'A', value: '12.50EUR' },
        { key: 'B', value: 'INPS' },
        { key: 'F', value: '80078750587' },
        { key: 'N', value: '302000100000012345' },
      ],
      'it',
    );
    expect(shown.map((f) => [f.label, f.mono])).toEqual([
      ['Importo', false],
      ['Beneficiario', false],
      ['Codice fiscale ente creditore', true],
      ['Codice avviso', true],
    ]);
    expect(shown[2].value).toBe('80078750587');
    expect(shown[3].value).toBe('3020 0010 0000 0123 45');
    expect(fieldLabel('F', 'en')).toBe('Creditor fiscal code');
    expect(fieldLabel('N', 'en')).toBe('Notice code');
    // Not a notice code: shown exactly as signed.
    expect(fieldValue('N', '30200010', 'it')).toBe('30200010');
  });
});
