import { describe, expect, it } from 'vitest';
import { demoLegacy, type DemoInfo } from './ipc';

const demo: DemoInfo = {
  userCode: '12345674',
  alias: 'mario.rossi',
  password: '12345678',
  securityCode: 'ABCDEFGHJKMNPQRSTVWX',
  phone: '+393330000001',
};
const ubi = { bank: 'ubi', bankName: 'UBI Banca', legacyCode: 'U1234567', password: 'ubi12345', phone: '+393330000002', auth: 'app' as const };
const carige = { bank: 'carige', bankName: 'Banca Carige', legacyCode: 'C7654321', password: 'carige2020', phone: '+393330000003', auth: 'card' as const };

describe('the demo panel\'s customers of acquired banks', () => {
  it('are the ones the app gives, in its order', () => {
    expect(demoLegacy({ ...demo, legacy: [ubi, carige] })).toEqual([ubi, carige]);
  });

  it('are none from an app older than them, or with no demo at all', () => {
    expect(demoLegacy(demo)).toEqual([]);
    expect(demoLegacy({ ...demo, legacy: [] })).toEqual([]);
    expect(demoLegacy(null)).toEqual([]);
    expect(demoLegacy(undefined)).toEqual([]);
  });

  it('leave out one half described', () => {
    const broken = [{ ...ubi, auth: 'token' }, { ...carige, legacyCode: '' }, null, { bank: 'x' }];
    expect(demoLegacy({ ...demo, legacy: [...broken, ubi] as unknown as DemoInfo['legacy'] })).toEqual([ubi]);
  });
});
