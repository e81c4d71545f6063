import { describe, expect, it } from 'vitest';
import type { ProfileView, ScreenItem } from '../lib/ipc';
import { screenItemLabel } from './screen';

const profiles: ProfileView[] = [
  { id: 'p1', user: '12345678', name: 'Banca', serverUrl: 'http://b', deviceId: 'd', main: true, createdAt: 0 },
];

describe('screenItemLabel', () => {
  it('names an operation by kind, amount, payee and the user whose bank signed it', () => {
    const item: ScreenItem = {
      profileId: 'p1',
      read: {
        kind: 'operation',
        operation: {
          opId: '57240006',
          kind: 'TRANSFER',
          fields: [
            { key: 'A', value: '12.50EUR' },
            { key: 'B', value: 'Luigi Bianchi' },
          ],
          expires: 0,
          payload: '',
        },
      },
    };
    const label = screenItemLabel(item, profiles, 'it');
    expect(label).toContain('Bonifico');
    expect(label).toContain('12,50');
    expect(label).toContain('Luigi Bianchi');
    expect(label).toContain('12345678');
  });

  it('names a bill by its kind, amount and payee', () => {
    const item: ScreenItem = {
      profileId: null,
      read: {
        kind: 'bill',
        text: 'PAGOPA|002|…',
        bill: { kind: 'pagopa', payee: '80078750587', iban: null, noticeCode: '302000100000012345', amountCents: 2730, description: null, url: 'u' },
      },
    };
    expect(screenItemLabel(item, profiles, 'en')).toBe('pagoPA notice read — €27.30 — 80078750587');
  });
});
