// Customers of acquired banks move here (issue 15), in Chromium against a real `sca-server
// --demo`, which seeds:
//   ubi    «UBI Banca»    U1234567 / ubi12345    auth app   +393330000002  giulia.verdi@example.invalid
//   carige «Banca Carige» C7654321 / carige2020  auth card  +393330000003  luca.neri@example.invalid
// SMS and e-mail codes are read from the sandbox outbox; the branch unblocks with its token; the
// opening day of a bank comes by moving the sandbox's clock (POST /dev/clock). The steps build
// on each other.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Authenticator, PIN, Server, axe, launchBrowser, newPage, shot, until } from './harness.mjs';

const BRANCH_TOKEN = 'e2e-branch-token';

const UBI = {
  bank: 'ubi',
  name: 'UBI Banca',
  legacyCode: 'U1234567',
  password: 'ubi12345',
  phone: '+393330000002',
  email: 'giulia.verdi@example.invalid',
  newPassword: '97531864',
  alias: 'giulia.verdi',
};
const CARIGE = {
  bank: 'carige',
  name: 'Banca Carige',
  legacyCode: 'C7654321',
  password: 'carige2020',
  phone: '+393330000003',
  email: 'luca.neri@example.invalid',
  newPassword: '86420975',
};
const PAYEE_IBAN = 'IT60 X054 2811 1010 0000 0123 456';

let server;
let browser;
let page;
const auths = {};
/** What the first accesses issued, by bank. */
const issued = {};

function step(name, fn) {
  test(name, async () => {
    try {
      await fn();
    } catch (e) {
      const slug = name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40);
      await shot(page, `FAILED-fa-${slug}`).catch(() => {});
      throw e;
    }
  });
}

async function accessible(name) {
  const v = await axe(page, name);
  assert.deepEqual(v, [], `axe on ${name}: ${JSON.stringify(v, null, 2)}`);
}

async function heading(p, name, level = 1, timeout = 10_000) {
  await p.getByRole('heading', { level, name }).waitFor({ timeout });
}

async function progress(n) {
  await until(async () => (await page.getByTestId('fa-progress').textContent()).includes(`Passo ${n} di 6`), 5_000, `step ${n} of 6`);
}

/** The code of the newest message to `to` after `before` messages (harness: newest first). */
async function codeFor(before, to) {
  return server.nextOtp(before, to);
}

async function startFirstAccess(c) {
  await page.goto(`${server.base}/#/login`);
  await heading(page, 'Accedi all’Area Clienti');
  await page.getByTestId(`first-access-link-${c.bank}`).click();
  await heading(page, `Ex clienti ${c.name} — attivazione Internet Banking`);
  await progress(1);
  await page.getByLabel(`Codice cliente ${c.name}`).fill(c.legacyCode);
  await page.getByLabel(`Password ${c.name}`).fill(c.password);
}

/** From the start form to done, confirming the certified phone and e-mail. */
async function walk(c, { alias } = {}) {
  const sms = await server.outboxCount(c.phone);
  await page.getByRole('button', { name: 'Prosegui' }).click();
  await heading(page, 'Codice via SMS', 2);
  await progress(2);
  await page.getByLabel('Codice ricevuto via SMS (6 cifre)').fill(await codeFor(sms, c.phone));
  await page.getByTestId('fa-code-submit').click();
  await heading(page, 'Scegli le nuove credenziali', 2);
  await progress(3);
  await page.getByLabel('Nuova password', { exact: true }).fill(c.newPassword);
  await page.getByLabel('Ripeti la nuova password').fill(c.newPassword);
  if (alias) await page.getByLabel('Alias (facoltativo)').fill(alias);
  await page.getByTestId('fa-credentials-submit').click();
  await page.getByTestId('fa-security-code').waitFor();
  const userCode = await page.getByTestId('fa-user-code').getAttribute('data-value');
  const securityCode = await page.getByTestId('fa-security-code').getAttribute('data-value');
  assert.match(userCode, /^[1-9]\d{7}$/);
  assert.match(securityCode, /^[0-9A-HJKMNP-TV-Z]{20}$/);
  issued[c.bank] = { userCode, securityCode };
  return { userCode, securityCode };
}

async function finish(c) {
  await page.getByTestId('fa-issued-continue').click();
  await heading(page, 'Conferma il cellulare', 2);
  await progress(4);
  await page.getByText(c.phone).waitFor(); // in full, now that the SMS code is proven
  await page.getByTestId('fa-phone-confirm').click();
  await heading(page, 'Conferma l’e-mail', 2);
  await progress(5);
  const mails = await server.outboxCount(c.email);
  await page.getByTestId('fa-email-send').click();
  await heading(page, 'Codice ricevuto via e-mail', 2);
  await page.getByLabel('Codice ricevuto via e-mail (6 cifre)').fill(await codeFor(mails, c.email));
  await page.getByTestId('fa-code-submit').click();
  await page.getByTestId('fa-done').waitFor();
  await progress(6);
  assert.equal(await page.getByTestId('fa-user-code').getAttribute('data-value'), issued[c.bank].userCode);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('sigillo.firstAccess')), null, 'forgotten at done');
}

async function loginPassword(user, pw) {
  await page.goto(`${server.base}/#/login`);
  await heading(page, 'Accedi all’Area Clienti');
  await page.getByLabel('Codice utente o alias').fill(user);
  await page.getByLabel('Password', { exact: true }).fill(pw);
  await page.getByRole('button', { name: 'Accedi' }).click();
}

async function logout() {
  await page.getByTestId('logout').click();
  await heading(page, 'Accedi all’Area Clienti');
}

before(async () => {
  server = await Server.start({ name: 'firstaccess', env: { SCA_ADMIN_TOKEN: BRANCH_TOKEN } });
  browser = await launchBrowser();
  page = await newPage(browser);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  for (const a of Object.values(auths)) a.cleanup();
});

/** The branch API, with its token. */
async function branch(method, path, body) {
  const res = await fetch(`${server.api}${path}`, {
    method,
    headers: { authorization: `Bearer ${BRANCH_TOKEN}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: res.status === 204 ? null : await res.json() };
}

/** Activates an authenticator for the customer who moved from `c`'s bank, then logs in by push. */
async function activateAndLoginByPush(c, user) {
  const auth = new Authenticator(`fa-${c.bank}`);
  auths[c.bank] = auth;
  await auth.activate(server, { user, password: c.newPassword, phone: c.phone });
  await loginPassword(user, c.newPassword);
  await heading(page, 'Conferma l’accesso');
  const number = Number((await page.getByTestId('login-number').textContent()).trim());
  const opId = await page.getByTestId('op-id').getAttribute('data-op-id');
  const out = await auth.ok(['approve', opId, '--number', String(number)], [PIN]);
  assert.match(out, /approved/);
  await heading(page, 'I tuoi conti', 1, 10_000);
}

describe('First access of acquired banks’ customers', () => {
  step('the login page has a box per acquired bank, leading to its first access', async () => {
    await page.goto(`${server.base}/#/login`);
    await heading(page, 'Accedi all’Area Clienti');
    for (const c of [UBI, CARIGE]) {
      const box = page.getByTestId(`first-access-box-${c.bank}`);
      await box.waitFor();
      assert.match(await box.innerText(), new RegExp(`Ex clienti ${c.name} — attivazione Internet Banking`));
      assert.equal(await box.getAttribute('data-state'), 'open');
    }
    await shot(page, 'fa-login-boxes');
    await accessible('fa-login-boxes');
    await page.getByTestId('lang-en').click();
    await page.getByText('Former UBI Banca customers — Internet Banking activation').waitFor();
    await page.getByTestId('lang-it').click();
  });

  step('a wrong legacy password says the attempts left, never which element', async () => {
    await startFirstAccess({ ...UBI, password: 'sbagliata1' });
    await page.getByRole('button', { name: 'Prosegui' }).click();
    const err = page.getByTestId('error');
    await err.waitFor();
    assert.match(await err.innerText(), /Credenziali non valide\. Tentativi rimasti prima del blocco: 4\./);
    await accessible('fa-start-wrong');
  });

  step('five wrong legacy passwords block the first access: an alert goes out, only the branch unblocks', async () => {
    const alerts = await server.outboxCount(UBI.phone);
    for (const left of [3, 2, 1, 0]) {
      await page.getByLabel(`Password ${UBI.name}`).fill(`sbagliata${left}`);
      await page.getByTestId('fa-start-submit').click();
      const said = left > 0 ? new RegExp(`Tentativi rimasti prima del blocco: ${left}\\.`) : /bloccat/;
      await until(async () => said.test(await page.getByTestId('error').innerText()), 5_000, `${left} left`);
    }
    // Blocked: even the right password is refused, and the page sends the customer to the branch.
    await page.getByLabel(`Password ${UBI.name}`).fill(UBI.password);
    await page.getByTestId('fa-start-submit').click();
    await until(async () => /filiale/.test(await page.getByTestId('error').innerText()), 5_000, 'the blocked message');
    await shot(page, 'fa-blocked');
    await accessible('fa-blocked');
    const [alert] = await server.outbox(UBI.phone);
    assert.ok((await server.outboxCount(UBI.phone)) > alerts && /bloccato/.test(alert.body), 'the SMS alert');
    let banks = await branch('GET', '/api/v1/admin/acquired-banks');
    assert.equal(banks.body.find((b) => b.code === 'ubi').blocked, 1);
    const r = await branch('POST', `/api/v1/admin/acquired-banks/ubi/customers/${UBI.legacyCode}/unblock`);
    assert.equal(r.status, 204);
    banks = await branch('GET', '/api/v1/admin/acquired-banks');
    assert.equal(banks.body.find((b) => b.code === 'ubi').blocked, 0);
  });

  step('UBI: the SMS code, then a reload resumes the same first access at the credentials', async () => {
    await startFirstAccess(UBI);
    const sms = await server.outboxCount(UBI.phone);
    await page.getByRole('button', { name: 'Prosegui' }).click();
    await heading(page, 'Codice via SMS', 2);
    // Masked until the code is proven.
    assert.doesNotMatch(await page.getByTestId('fa-step').innerText(), new RegExp(UBI.phone.replace('+', '\\+')));
    await shot(page, 'fa-sms');
    await accessible('fa-sms');
    await page.getByLabel('Codice ricevuto via SMS (6 cifre)').fill('000000');
    await page.getByTestId('fa-code-submit').click();
    await page.getByTestId('fa-code-error').waitFor();
    await page.getByLabel('Codice ricevuto via SMS (6 cifre)').fill(await codeFor(sms, UBI.phone));
    await page.getByTestId('fa-code-submit').click();
    await heading(page, 'Scegli le nuove credenziali', 2);
    await page.reload();
    await heading(page, 'Scegli le nuove credenziali', 2);
    await progress(3);
  });

  step('UBI: weak passwords are refused as typed; the new user code and the security code are shown once', async () => {
    await page.getByLabel('Nuova password', { exact: true }).fill('12345678');
    await page.getByLabel('Ripeti la nuova password').fill('12345678');
    await page.getByTestId('fa-credentials-submit').click();
    await page.getByTestId('fa-password-error').waitFor();
    // The old bank's password is refused by the server, on the password field.
    await page.getByLabel('Nuova password', { exact: true }).fill('ubi12345');
    await page.getByTestId('fa-credentials-submit').click();
    await page.getByTestId('fa-password-error').waitFor();
    await shot(page, 'fa-credentials-refused');
    await accessible('fa-credentials');
    await page.getByLabel('Nuova password', { exact: true }).fill(UBI.newPassword);
    await page.getByLabel('Ripeti la nuova password').fill(UBI.newPassword);
    await page.getByLabel('Alias (facoltativo)').fill(UBI.alias);
    await page.getByTestId('fa-credentials-submit').click();
    await page.getByTestId('fa-security-code').waitFor();
    const userCode = await page.getByTestId('fa-user-code').getAttribute('data-value');
    const securityCode = await page.getByTestId('fa-security-code').getAttribute('data-value');
    assert.match(userCode, /^[1-9]\d{7}$/);
    assert.match(securityCode, /^[0-9A-HJKMNP-TV-Z]{20}$/);
    issued.ubi = { userCode, securityCode };
    const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage }));
    assert.ok(!stored.includes(securityCode) && !stored.includes(UBI.newPassword), 'no secret in sessionStorage');
    await shot(page, 'fa-issued');
    await accessible('fa-issued');
  });

  step('until done, the new user code does not log in (first_access_unfinished)', async () => {
    const other = await newPage(browser);
    await other.goto(`${server.base}/#/login`);
    await other.getByLabel('Codice utente o alias').fill(issued.ubi.userCode);
    await other.getByLabel('Password', { exact: true }).fill(UBI.newPassword);
    await other.getByRole('button', { name: 'Accedi' }).click();
    await other.getByText('Non hai ancora completato l’attivazione').waitFor();
    await other.context().close();
  });

  step('UBI: phone and e-mail confirmed, done; the next step is the authenticator', async () => {
    await finish(UBI);
    assert.equal(await page.getByTestId('fa-next').getAttribute('data-policy'), 'push');
    await shot(page, 'fa-done-ubi');
    await accessible('fa-done');
    const mail = await until(async () => {
      const list = await server.outbox(UBI.email);
      return list.find((m) => m.body.includes(issued.ubi.userCode)) ?? null;
    }, 10_000, 'the confirmation e-mail');
    assert.ok(!mail.body.includes(UBI.newPassword), 'the password in the confirmation e-mail');
  });

  step('the legacy credentials now say: already moved, with the user-code recovery', async () => {
    await startFirstAccess(UBI);
    await page.getByRole('button', { name: 'Prosegui' }).click();
    await page.getByTestId('fa-migrated').waitFor();
    assert.match(await page.getByTestId('error').innerText(), /Sei già passato al nuovo Internet Banking/);
    assert.equal(await page.getByRole('link', { name: /Recuperalo via SMS/ }).getAttribute('href'), '#/recovery/user-code');
    await accessible('fa-migrated');
  });

  step('UBI (app): the authenticator is activated and the first login is by push; the accounts came over', async () => {
    await activateAndLoginByPush(UBI, UBI.alias);
    await page.getByTestId('account').first().waitFor();
    const text = await page.getByTestId('account').first().innerText();
    assert.match(text, /3\.200,00/, 'the balance carried over');
    await shot(page, 'fa-ubi-home');
    await logout();
  });

  step('Carige (code card): a first access left half-way is resumed from a new one, with the same user code', async () => {
    await startFirstAccess(CARIGE);
    const { userCode } = await walk(CARIGE);
    // The customer leaves; later, in another browser, starts again.
    await page.context().close();
    page = await newPage(browser);
    await startFirstAccess(CARIGE);
    const sms = await server.outboxCount(CARIGE.phone);
    await page.getByRole('button', { name: 'Prosegui' }).click();
    await page.getByLabel('Codice ricevuto via SMS (6 cifre)').fill(await codeFor(sms, CARIGE.phone));
    await page.getByTestId('fa-code-submit').click();
    await page.getByTestId('fa-resume-continue').waitFor();
    await shot(page, 'fa-resume');
    await accessible('fa-resume');
    await page.getByTestId('fa-resume-continue').click();
    await heading(page, 'Conferma il cellulare', 2);
    assert.equal(issued.carige.userCode, userCode);
  });

  step('Carige: a new number mistyped is not certified; the old one is kept instead', async () => {
    await page.getByTestId('fa-phone-other').click();
    await page.getByLabel('Nuovo numero di cellulare').fill('+39 333 000 9999');
    await page.getByTestId('fa-phone-send').click();
    await heading(page, 'Codice per il nuovo cellulare', 2);
    assert.equal((await server.outbox('+393330009999')).length, 1, 'the code went to the new number');
    await shot(page, 'fa-phone-code');
    await accessible('fa-phone-code');
    await page.getByTestId('fa-phone-keep').click();
    await heading(page, 'Conferma l’e-mail', 2);
  });

  step('Carige: the first access ends with the SMS policy', async () => {
    await heading(page, 'Conferma l’e-mail', 2);
    const mails = await server.outboxCount(CARIGE.email);
    await page.getByTestId('fa-email-send').click();
    await page.getByLabel('Codice ricevuto via e-mail (6 cifre)').fill(await codeFor(mails, CARIGE.email));
    await page.getByTestId('fa-code-submit').click();
    await page.getByTestId('fa-done').waitFor();
    assert.equal(await page.getByTestId('fa-user-code').getAttribute('data-value'), issued.carige.userCode);
    assert.equal(await page.getByTestId('fa-next').getAttribute('data-policy'), 'sms');
    await shot(page, 'fa-done-carige');
  });

  step('Carige: the login sends the SMS at once and asks for its code first', async () => {
    const sms = await server.outboxCount(CARIGE.phone);
    await loginPassword(issued.carige.userCode, CARIGE.newPassword);
    await heading(page, 'Conferma l’accesso');
    const otp = await codeFor(sms, CARIGE.phone);
    assert.equal(await page.getByTestId('login-number').count(), 0, 'the push is behind «Ho un autenticatore»');
    await shot(page, 'fa-login-sms-first');
    await accessible('fa-login-sms-first');
    await page.getByLabel('Codice ricevuto via SMS (6 cifre)').fill(otp);
    await page.getByRole('button', { name: 'Conferma con SMS' }).click();
    await heading(page, 'I tuoi conti');
  });

  step('Carige: a transfer is authorized by an SMS that names it', async () => {
    await page.getByRole('link', { name: 'Bonifico', exact: true }).click();
    await heading(page, 'Nuovo bonifico');
    await page.getByLabel('Beneficiario', { exact: true }).fill('Luigi Bianchi');
    await page.getByLabel('IBAN del beneficiario').fill(PAYEE_IBAN);
    await page.getByLabel('Importo (EUR)').fill('1,00');
    const sms = await server.outboxCount(CARIGE.phone);
    await page.getByRole('button', { name: 'Prosegui' }).click();
    await heading(page, 'Autorizza il bonifico');
    await page.getByTestId('auth-sms-sent').waitFor();
    const otp = await codeFor(sms, CARIGE.phone);
    const [message] = await server.outbox(CARIGE.phone);
    assert.match(message.body, /Luigi Bianchi/, 'dynamic linking: the SMS names the payee');
    await shot(page, 'fa-authorize-sms');
    await accessible('fa-authorize-sms');
    await page.getByTestId('auth-sms-code').fill('000000');
    await page.getByTestId('auth-sms-submit').click();
    await page.getByText(/Tentativi rimasti/).waitFor();
    await page.getByTestId('auth-sms-code').fill(otp);
    await page.getByTestId('auth-sms-submit').click();
    await heading(page, 'Bonifico eseguito');
    await logout();
  });

  step('Carige: once the authenticator is active, the login is by push', async () => {
    await activateAndLoginByPush(CARIGE, issued.carige.userCode);
    await logout();
  });

  step('a bank whose first access opens tomorrow: its box says when; on the day it opens', async () => {
    const now = (await (await fetch(`${server.api}/dev/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"advance":1}' })).json()).now;
    const tomorrow = new Date((Math.floor(now / 86_400) + 1) * 86_400 * 1000).toISOString().slice(0, 10);
    const r = await branch('PUT', '/api/v1/admin/acquired-banks/bpm', { name: 'Banco BPM', opens: tomorrow });
    assert.equal(r.status, 200);
    await page.goto(`${server.base}/#/login`);
    await page.reload(); // the boxes are asked for when the page loads
    const box = page.getByTestId('first-access-box-bpm');
    await box.waitFor();
    assert.equal(await box.getAttribute('data-state'), 'upcoming');
    const day = new Intl.DateTimeFormat('it-IT', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${tomorrow}T00:00:00Z`));
    assert.match(await box.innerText(), new RegExp(day));
    assert.equal(await page.getByTestId('first-access-link-bpm').count(), 0, 'no way in before the day');
    await shot(page, 'fa-upcoming');
    await accessible('fa-upcoming');
    // The day comes.
    const moved = await fetch(`${server.api}/dev/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advance: 86_400 }) });
    assert.equal(moved.status, 200);
    await page.reload();
    await page.getByTestId('first-access-link-bpm').waitFor();
    assert.equal(await page.getByTestId('first-access-box-bpm').getAttribute('data-state'), 'open');
  });

  step('no script or style was refused by the CSP, no page error', async () => {
    const bad = page.problems.filter((p) => /Content Security Policy|pageerror/i.test(p));
    assert.deepEqual(bad, []);
  });
});
