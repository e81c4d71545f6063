// Time-outs without waiting for them. The 5-minute idle timeout: a second sca-server runs with
// SCA_SESSION_IDLE=10, and the page is told the same length through localStorage
// `sigillo.sessionIdle` (its only knob; the server's own clock always decides). The customer logs
// in with an SMS code, so this server needs no authenticator.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Server, axe, launchBrowser, newPage, shot, sleep } from './harness.mjs';

const IDLE_SECONDS = 10;
// Operations expire quickly here too, to see an expiry arrive live on the authorization page.
const OPERATION_TTL = 8;
let server;
let browser;

before(async () => {
  server = await Server.start({ name: 'idle', env: { SCA_SESSION_IDLE: String(IDLE_SECONDS), SCA_OPERATION_TTL: String(OPERATION_TTL) } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function pageWithIdle(seconds) {
  const page = await newPage(browser);
  await page.context().addInitScript((s) => localStorage.setItem('sigillo.sessionIdle', s), String(seconds));
  return page;
}

async function loginBySms(page) {
  await page.goto(`${server.base}/#/login`);
  await page.getByLabel('Codice utente o alias').fill(server.creds.user_code);
  await page.getByLabel('Password', { exact: true }).fill(server.creds.password);
  await page.getByRole('button', { name: 'Accedi' }).click();
  await page.getByRole('heading', { level: 1, name: 'Conferma l’accesso' }).waitFor();
  const before = await server.outboxCount();
  await page.getByRole('button', { name: 'Inviami un SMS' }).click();
  const otp = await server.nextOtp(before);
  await page.getByLabel('Codice ricevuto via SMS (6 cifre)').fill(otp);
  await page.getByRole('button', { name: 'Conferma con SMS' }).click();
  await page.getByRole('heading', { level: 1, name: 'I tuoi conti' }).waitFor();
}

describe('idle timeout', () => {
  test('the page warns before the end, "stay" extends, then the session ends and says why', async () => {
    const page = await pageWithIdle(IDLE_SECONDS);
    await loginBySms(page);
    const t0 = performance.now();
    const dialog = page.getByRole('dialog', { name: 'Sessione in scadenza' });
    await dialog.waitFor({ timeout: 9_000 });
    const warnedAfter = (performance.now() - t0) / 1000;
    assert.ok(warnedAfter >= 3 && warnedAfter < 8, `warned after ${warnedAfter}s`);
    await dialog.getByText(/Tempo rimasto: \d+ secondi/).waitFor();
    await shot(page, 'idle-warning');
    const v = (await axe(page, 'idle-warning'));
    assert.deepEqual(v, []);
    // Focus is inside the modal dialog: keyboard users answer it first.
    assert.equal(await page.evaluate(() => !!document.activeElement?.closest('dialog')), true);
    await dialog.getByRole('button', { name: 'Resta collegato' }).click();
    await dialog.waitFor({ state: 'hidden' });
    // The server's clock restarted too: a request still works after the original deadline.
    await sleep(Math.max(0, t0 + IDLE_SECONDS * 1000 + 500 - performance.now()));
    const status = await page.evaluate(async () => (await fetch('/api/v1/accounts')).status);
    assert.equal(status, 200);
    // Nothing more: the page ends the session by itself and says why.
    await page.getByRole('heading', { level: 1, name: 'Accedi all’Area Clienti' }).waitFor({ timeout: 15_000 });
    await page.getByText('La sessione è terminata dopo 5 minuti di inattività').waitFor();
    await shot(page, 'idle-ended');
    const after = await page.evaluate(async () => (await fetch('/api/v1/accounts')).json());
    assert.equal(after.status, 401);
    await page.context().close();
  });

  test('the server ends the session on its own clock; the page follows at the next click', async () => {
    // The page believes in a longer session than the server gives.
    const page = await pageWithIdle(120);
    await loginBySms(page);
    await sleep(IDLE_SECONDS * 1000 + 1500);
    await page.getByRole('link', { name: 'Bonifico', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Accedi all’Area Clienti' }).waitFor({ timeout: 10_000 });
    await page.getByText('La sessione è terminata dopo 5 minuti di inattività').waitFor();
    await page.context().close();
  });

  test('an operation that expires while the page waits: the status says so, live', async () => {
    const page = await pageWithIdle(120);
    await loginBySms(page);
    await page.getByRole('link', { name: 'Bonifico', exact: true }).click();
    await page.getByLabel('Beneficiario', { exact: true }).fill('Luigi Bianchi');
    await page.getByLabel('IBAN del beneficiario').fill('IT60X0542811101000000123456');
    await page.getByLabel('Importo (EUR)').fill('5');
    await page.getByRole('button', { name: 'Prosegui' }).click();
    const status = page.getByTestId('op-status');
    await status.waitFor();
    await page.getByText('Tempo scaduto. Il bonifico non è stato eseguito').waitFor({ timeout: (OPERATION_TTL + 4) * 1000 });
    assert.equal(await status.getAttribute('data-status'), 'expired');
    await shot(page, 'authorize-expired');
    await page.context().close();
  });
});
