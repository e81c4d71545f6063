// One line per code read from the screen, for the customer to pick one: what it is (the kind,
// or "pagoPA notice" / "invoice"), the amount, who is paid, and for an operation the profile
// (user) whose bank signed it, since two profiles of one bank both verify its codes. Pure.
import { formatMoney } from '../lib/amount';
import { translate, type Lang } from '../lib/i18n/index';
import type { ProfileView, ScreenItem } from '../lib/ipc';
import { fieldValue, kindLabel } from './fields';

export function screenItemLabel(item: ScreenItem, profiles: readonly ProfileView[], lang: Lang): string {
  const r = item.read;
  if (r.kind === 'bill') {
    const what = translate(lang, r.bill.kind === 'pagopa' ? 'auth.bill.pagopa_title' : 'auth.bill.epc_title');
    const amount = r.bill.amountCents === null ? '' : formatMoney(r.bill.amountCents, 'EUR', lang);
    return [what, amount, r.bill.payee].filter((p) => p !== '').join(' — ');
  }
  const op = r.operation;
  const field = (k: string) => op.fields.find((f) => f.key === k)?.value ?? '';
  const amount = field('A') ? fieldValue('A', field('A'), lang) : '';
  const to = field('B') || field('M');
  const profile = profiles.find((p) => p.id === item.profileId);
  const who = profile ? translate(lang, 'auth.screen.for_user', { user: profile.user }) : '';
  return [kindLabel(op.kind, lang), amount, to, who].filter((p) => p !== '').join(' — ');
}
