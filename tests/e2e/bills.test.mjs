// Paying a bill from its QR code (issue 16), in Chromium against a real `sca-server --demo`: the
// desktop authenticator opens the bank's own page with the bill's values in the URL
// (`#/transfer?payee=…&iban=…&amount=…&description=…` for an EPC transfer,
// `#/pagopa?notice=…&creditor=…&amount=…` for a pagoPA notice); here the test opens those URLs
// itself. The customer logs in if needed, lands on the prefilled page, checks, confirms, and
// authorizes as for any transfer (the authenticator played by `sigillo-auth`). The steps build
// on each other.
//
// From the server it expects: `GET /api/v1/pagopa/creditors/80078750587` → 200 {"name":"INPS"};
// an unknown (well-formed) fiscal code → 404 `unknown_creditor`; `POST /api/v1/pagopa/payments`
// → 201 and an operation of kind PAGOPA (fields A, B, F, N) that sigillo-auth can approve; the
// same notice again → 409 `notice_paid`; the account debited by exactly the amount, once.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ARTIFACTS, Authenticator, PIN, Server, axe, launchBrowser, newPage, shot, sleep, until } from './harness.mjs';

const BILL = {
  payee: 'ACEA Energia S.p.A.',
  iban: 'IT60X0542811101000000123456',
  amount: '12.50',
  description: 'Bolletta luce 2026/11 n. 4411',
};
const NOTICE = {
  notice: '302000100000012345',
  grouped: '3020 0010 0000 0123 45',
  creditor: '80078750587', // INPS
  amount: '27.30',
};

let server;
let auth;
let browser;
let page;

function step(name, fn) {
  test(name, async () => {
    try {
      await fn();
    } catch (e) {
      const slug = name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40);
      await shot(page, `FAILED-bills-${slug}`).catch(() => {});
      throw e;
    }
  });
}

async function accessible(name) {
  const v = await axe(page, name);
  assert.deepEqual(v, [], `axe on ${name}: ${JSON.stringify(v, null, 2)}`);
}

async function heading(p, name, timeout = 10_000) {
  await p.getByRole('heading', { level: 1, name }).waitFor({ timeout });
}

function query(values) {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('&');
}

/** The first account's balance as the server has it now (a GET: the session cookie is enough). */
async function balance() {
  return page.evaluate(async () => {
    const res = await fetch('/api/v1/accounts', { headers: { accept: 'application/json' } });
    const list = await res.json();
    return Number(list[0].balance);
  });
}

const cents = (n) => Math.round(n * 100);

before(async () => {
  server = await Server.start({ name: 'bills' });
  auth = new Authenticator('bills');
  await auth.activate(server);
  browser = await launchBrowser();
  page = await newPage(browser);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  auth?.cleanup();
});

describe('Paying a bill from its QR code', () => {
  let startBalance;

  step('a prefilled transfer link opened logged out: the login leads back to it after SCA', async () => {
    const hash = `#/transfer?${query(BILL)}`;
    await page.goto(`${server.base}/${hash}`);
    await heading(page, 'Accedi all’Area Clienti');
    await page.getByLabel('Codice utente o alias').fill(server.creds.alias);
    await page.getByLabel('Password', { exact: true }).fill(server.creds.password);
    await page.getByRole('button', { name: 'Accedi' }).click();
    await heading(page, 'Conferma l’accesso');
    const number = Number((await page.getByTestId('login-number').textContent()).trim());
    const opId = await page.getByTestId('op-id').getAttribute('data-op-id');
    await auth.ok(['approve', opId, '--number', String(number)], [PIN]);

    await heading(page, 'Nuovo bonifico');
    assert.equal(new URL(page.url()).hash, hash, 'the destination keeps its query');
    assert.equal(await page.getByLabel('Beneficiario', { exact: true }).inputValue(), BILL.payee);
    assert.equal(await page.getByLabel('IBAN del beneficiario').inputValue(), 'IT60 X054 2811 1010 0000 0123 456');
    assert.equal(await page.getByTestId('iban-check').getAttribute('data-state'), 'ok');
    assert.equal(await page.getByLabel('Importo (EUR)').inputValue(), '12,50');
    assert.equal(await page.getByLabel('Causale').inputValue(), BILL.description);
    assert.match(await page.getByTestId('bill-notice').textContent(), /Dati letti da un bollettino\/fattura: controllali prima di confermare/);
    // Nothing went by itself: no operation is waiting.
    await sleep(500);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Nuovo bonifico');
    startBalance = await balance();
    await shot(page, 'bill-transfer');
    await accessible('bill-transfer');
  });

  step('the prefilled transfer is confirmed and authorized by a code from the scanned QR; the balance goes down once', async () => {
    await page.getByRole('button', { name: 'Prosegui' }).click();
    await heading(page, 'Autorizza il bonifico');
    await page.getByTestId('op-status').waitFor();
    assert.equal((await page.getByTestId('payee').textContent()).trim(), BILL.payee);
    const qr = page.getByTestId('qr');
    await until(
      () =>
        qr.evaluate((el) => {
          const img = el.querySelector('img');
          return (img && img.complete && img.naturalWidth > 0) || !!el.querySelector('svg path');
        }),
      10_000,
      'the QR code to render',
    );
    const file = path.join(ARTIFACTS, 'bill-transfer-qr.png');
    await qr.screenshot({ path: file });
    const scanned = await auth.ok(['scan', file], [PIN]);
    assert.match(scanned, /ACEA Energia/);
    assert.match(scanned, /12\.50/);
    await page.getByLabel('Codice dell’autenticatore (6 cifre)').fill(Authenticator.code(scanned));
    await page.getByRole('button', { name: 'Autorizza' }).click();
    await heading(page, 'Bonifico eseguito');
    await page.getByTestId('result').waitFor();
    assert.equal(cents(await balance()), cents(startBalance) - 1250);
    // The same link opened again (the authenticator scanned the bill twice): the page is
    // prefilled again, and nothing is sent by itself.
    await page.goto(`${server.base}/#/transfer?${query(BILL)}`);
    await heading(page, 'Nuovo bonifico');
    assert.equal(await page.getByLabel('Importo (EUR)').inputValue(), '12,50');
    await sleep(1000);
    assert.equal(cents(await balance()), cents(startBalance) - 1250);
  });

  step('a link\'s bad values are shown as typed ones, cut or refused visibly, never sent', async () => {
    const long = 'Fornitore con un nome davvero molto lungo che supera i settanta caratteri ammessi';
    await page.goto(
      `${server.base}/#/transfer?${query({ payee: long, iban: 'IT60X0542811101000000123457', amount: '1.500' })}`,
    );
    await heading(page, 'Nuovo bonifico');
    assert.equal(await page.getByTestId('iban-check').getAttribute('data-state'), 'checksum');
    assert.match(await page.getByTestId('iban-check').textContent(), /non è valido/);
    assert.equal(await page.getByLabel('IBAN del beneficiario').getAttribute('aria-invalid'), 'true');
    assert.equal((await page.getByLabel('Beneficiario', { exact: true }).inputValue()).length, 70);
    assert.equal(await page.getByLabel('Importo (EUR)').inputValue(), '');
    const notes = page.getByTestId('bill-notes');
    assert.match(await notes.locator('[data-field="payee"]').textContent(), /accorciato/);
    assert.match(await notes.locator('[data-field="amount"]').textContent(), /ignorato/);
    await page.getByRole('button', { name: 'Prosegui' }).click();
    await page.getByTestId('error').waitFor();
    assert.match(await page.getByTestId('error').textContent(), /Correggi i campi segnalati/);
    // The focus goes to the first field in error.
    await until(async () => (await page.evaluate(() => document.activeElement?.id)) === 'iban', 2_000, 'the focus on the IBAN');
    await shot(page, 'bill-transfer-bad');
    await accessible('bill-transfer-bad');
  });

  step('the home page leads to an empty pagoPA page; the fiscal code is checked as typed', async () => {
    await page.goto(`${server.base}/#/home`);
    await heading(page, 'I tuoi conti');
    await page.getByRole('link', { name: 'Paga un avviso pagoPA' }).click();
    await heading(page, 'Paga un avviso pagoPA');
    assert.equal(await page.getByLabel('Codice avviso').inputValue(), '');
    assert.equal(await page.getByLabel('Codice fiscale ente creditore').inputValue(), '');
    const cf = page.getByLabel('Codice fiscale ente creditore');
    const check = page.getByTestId('creditor-check');
    await cf.pressSequentially('80078750588');
    assert.equal(await check.getAttribute('data-state'), 'checksum');
    assert.match(await check.textContent(), /Codice fiscale non valido/);
    await cf.fill('');
    await cf.pressSequentially('00000000000');
    await until(async () => (await check.getAttribute('data-state')) === 'unknown', 5_000, 'an unknown creditor');
    assert.match(await check.textContent(), /Ente creditore sconosciuto/);
    await page.getByLabel('Codice avviso').pressSequentially('9020 0010');
    assert.match(await page.getByTestId('notice-error').textContent(), /inizia con 0, 1, 2 o 3/);
    await shot(page, 'pagopa-empty');
    await accessible('pagopa-empty');
  });

  step('a pagoPA notice by link: the creditor is named, the payment authorized by push', async () => {
    const before = await balance();
    await page.goto(`${server.base}/#/pagopa?${query({ notice: NOTICE.notice, creditor: NOTICE.creditor, amount: NOTICE.amount })}`);
    await heading(page, 'Paga un avviso pagoPA');
    await until(async () => (await page.getByTestId('creditor-name').count()) === 1, 10_000, 'the creditor’s name');
    assert.equal((await page.getByTestId('creditor-name').textContent()).trim(), 'INPS');
    assert.equal(await page.getByLabel('Codice avviso').inputValue(), NOTICE.grouped);
    assert.equal(await page.getByLabel('Importo (EUR)').inputValue(), '27,30');
    assert.match(await page.getByTestId('bill-notice').textContent(), /controllali prima di confermare/);
    await shot(page, 'pagopa');
    await accessible('pagopa');

    await page.getByRole('button', { name: 'Prosegui' }).click();
    await heading(page, 'Autorizza il pagamento pagoPA');
    await page.getByTestId('op-status').waitFor();
    assert.equal((await page.getByTestId('payee').textContent()).trim(), 'INPS');
    assert.equal((await page.getByTestId('op-creditor-cf').textContent()).trim(), NOTICE.creditor);
    assert.equal((await page.getByTestId('op-notice').textContent()).trim(), NOTICE.grouped);
    assert.match((await page.getByTestId('amount').textContent()).replace(/\s/g, ' '), /27,30/);
    await accessible('pagopa-authorize');
    const opId = await page.getByTestId('op-id').getAttribute('data-op-id');
    await auth.ok(['approve', opId], [PIN]);
    await heading(page, 'Pagamento pagoPA eseguito');
    assert.match(await page.getByTestId('result').textContent(), /INPS/);
    assert.equal(cents(await balance()), cents(before) - 2730);
    await shot(page, 'pagopa-result');
    await accessible('pagopa-result');
  });

  step('the same notice again: the bank says it has been paid already', async () => {
    const before = await balance();
    await page.goto(`${server.base}/#/pagopa?${query({ notice: NOTICE.notice, creditor: NOTICE.creditor, amount: NOTICE.amount })}`);
    await heading(page, 'Paga un avviso pagoPA');
    await until(async () => (await page.getByTestId('creditor-name').count()) === 1, 10_000, 'the creditor’s name');
    await page.getByRole('button', { name: 'Prosegui' }).click();
    await page.getByTestId('error').waitFor();
    assert.match(await page.getByTestId('error').textContent(), /Questo avviso risulta già pagato/);
    assert.match(await page.getByTestId('notice-error').textContent(), /già pagato/);
    assert.equal(await page.getByLabel('Codice avviso').getAttribute('aria-invalid'), 'true');
    assert.equal(cents(await balance()), cents(before));
    await shot(page, 'pagopa-paid');
    await accessible('pagopa-paid');
    assert.deepEqual(page.problems.filter((p) => !/40[49]|Failed to load resource/.test(p)), []);
  });
});
