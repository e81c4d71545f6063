// Area Clienti end to end, as a customer uses it: Chromium on the pages that sca-server serves,
// the authenticator played by `sigillo-auth`. The steps run in order and build on each other
// (one customer's day), so a failure early makes the later ones fail too; read the first one.
//
// Run through tests/e2e/run.sh (builds everything, starts a private keyring for sigillo-auth).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ARTIFACTS,
  Authenticator,
  PIN,
  Server,
  axe,
  launchBrowser,
  newPage,
  shot,
  sleep,
  until,
} from './harness.mjs';

const NEW_PASSWORD = '97531864';
const BRANCH_TOKEN = 'e2e-branch-token';
const RESET_PASSWORD = '86420975';
const ALIAS = 'mario.rossi';
const PAYEE_IBAN = 'IT60 X054 2811 1010 0000 0123 456';

let server;
let auth;
let browser;
let page;
let password; // the demo customer's current password

/** A sandbox customer's test card number: prefix, user code, kind digit, Luhn check digit. */
function sandboxPan(prefix, userCode, kindDigit) {
  const body = `${prefix}${userCode}${kindDigit}`;
  for (let d = 0; d < 10; d++) {
    const digits = `${body}${d}`;
    const sum = [...digits].reverse().reduce((acc, c, i) => {
      const n = Number(c) * (i % 2 === 1 ? 2 : 1);
      return acc + (n > 9 ? n - 9 : n);
    }, 0);
    if (sum % 10 === 0) return digits;
  }
  throw new Error('no check digit');
}

/** A test whose failure leaves a screenshot of the page as it was. */
function step(name, fn) {
  test(name, async () => {
    try {
      await fn();
    } catch (e) {
      const slug = name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40);
      await shot(page, `FAILED-${slug}`).catch(() => {});
      throw e;
    }
  });
}

/** No serious or critical axe violation on the page as it is now. */
async function accessible(name) {
  const v = await axe(page, name);
  assert.deepEqual(v, [], `axe on ${name}: ${JSON.stringify(v, null, 2)}`);
}

async function heading(p, name, timeout = 10_000) {
  await p.getByRole('heading', { level: 1, name }).waitFor({ timeout });
}

async function open(p, srv, hash) {
  await p.goto(`${srv.base}/#/${hash}`);
}

async function passwordStep(p, srv, user, pw) {
  await open(p, srv, 'login');
  await heading(p, 'Accedi all’Area Clienti');
  await p.getByLabel('Codice utente o alias').fill(user);
  await p.getByLabel('Password', { exact: true }).fill(pw);
  await p.getByRole('button', { name: 'Accedi' }).click();
}

async function scaShown(p) {
  await heading(p, 'Conferma l’accesso');
  const number = Number((await p.getByTestId('login-number').textContent()).trim());
  const opId = await p.getByTestId('op-id').getAttribute('data-op-id');
  assert.ok(number >= 0 && number <= 99, `number ${number}`);
  assert.match(opId, /^\d{8}$/);
  return { number, opId };
}

async function firstBalance(p) {
  const el = p.getByTestId('balance').first();
  await el.waitFor();
  return Number(await el.getAttribute('data-balance'));
}

async function logout(p) {
  await p.getByTestId('logout').click();
  await heading(p, 'Accedi all’Area Clienti');
  await p.getByTestId('notice').waitFor();
}

async function startTransfer(p, amountText, payee = 'Luigi Bianchi') {
  await p.getByRole('link', { name: 'Bonifico', exact: true }).click();
  await heading(p, 'Nuovo bonifico');
  await p.getByLabel('Beneficiario', { exact: true }).fill(payee);
  await p.getByLabel('IBAN del beneficiario').fill(PAYEE_IBAN);
  await p.getByLabel('Importo (EUR)').fill(amountText);
  await p.getByLabel('Causale').fill('Prova e2e');
  await p.getByRole('button', { name: 'Prosegui' }).click();
  await heading(p, 'Autorizza il bonifico');
  await p.getByTestId('op-id').waitFor();
  return p.getByTestId('op-id').getAttribute('data-op-id');
}

async function qrImage(p, name, testid = 'qr') {
  const qr = p.getByTestId(testid);
  await until(
    () =>
      qr.evaluate((el) => {
        const img = el.querySelector('img');
        return (img && img.complete && img.naturalWidth > 0) || !!el.querySelector('svg path');
      }),
    10_000,
    'the QR code to render',
  );
  const file = path.join(ARTIFACTS, `${name}.png`);
  await qr.screenshot({ path: file });
  return file;
}

before(async () => {
  server = await Server.start({ name: 'main', env: { SCA_ADMIN_TOKEN: BRANCH_TOKEN } });
  password = server.creds.password;
  auth = new Authenticator('main');
  await auth.activate(server);
  browser = await launchBrowser();
  page = await newPage(browser);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  auth?.cleanup();
});

describe('Area Clienti', () => {
  step('the pages come from the server origin (or the test proxy) under a strict CSP', async () => {
    const res = await page.goto(`${server.base}/`);
    assert.equal(res.status(), 200);
    const csp = res.headers()['content-security-policy'] ?? '';
    console.log(`pages served by ${server.servesUi ? 'sca-server (SCA_UI_DIR)' : 'the test proxy'}; CSP: ${csp}`);
    await heading(page, 'Accedi all’Area Clienti');
  });

  step('login page: a wrong password says attempts left, never which element', async () => {
    await passwordStep(page, server, server.creds.alias, '11112222');
    const err = page.getByTestId('error');
    await err.waitFor();
    const text = await err.textContent();
    assert.match(text, /Credenziali non valide\. Tentativi rimasti prima del blocco: 4\./);
    assert.doesNotMatch(text, /password|codice utente|alias/i);
    await shot(page, 'login-wrong-password');
    await accessible('login');
  });

  step('login by push: the page shows the number, the authenticator picks it, the page moves on', async () => {
    await passwordStep(page, server, server.creds.alias, password);
    const { number, opId } = await scaShown(page);
    await qrImage(page, 'login-qr');
    await shot(page, 'login-sca');
    await accessible('login-sca');
    const out = await auth.ok(['approve', opId, '--number', String(number)], [PIN]);
    assert.match(out, /approved/);
    await heading(page, 'I tuoi conti', 10_000);
  });

  step('home: accounts, balances, latest movements', async () => {
    const accounts = page.getByTestId('account');
    await until(async () => (await accounts.count()) === 2, 10_000, 'two accounts');
    assert.ok(Number.isFinite(await firstBalance(page)));
    await page.getByRole('table').first().waitFor();
    assert.ok((await page.getByRole('row').count()) > 3);
    await page.getByText('Stipendio novembre').waitFor();
    // A reload keeps the session (cookie + the CSRF token in sessionStorage).
    await page.reload();
    await heading(page, 'I tuoi conti');
    await page.getByText('Stipendio novembre').waitFor();
    await shot(page, 'home');
    await accessible('home');
  });

  step('English on request, Italian back', async () => {
    await page.getByRole('button', { name: 'English' }).click();
    await heading(page, 'Your accounts');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    await shot(page, 'home-en');
    await accessible('home-en');
    await page.getByRole('button', { name: 'Italiano' }).click();
    await heading(page, 'I tuoi conti');
  });

  step('transfer: the IBAN is checked as typed; authorized by a code from the scanned QR', async () => {
    const before = await firstBalance(page);
    await page.getByRole('link', { name: 'Bonifico', exact: true }).click();
    await heading(page, 'Nuovo bonifico');
    const iban = page.getByLabel('IBAN del beneficiario');
    const check = page.getByTestId('iban-check');
    await iban.pressSequentially('IT60 X054 2811 1010 0000 0123 457');
    assert.equal(await check.getAttribute('data-state'), 'checksum');
    assert.match(await check.textContent(), /non è valido/);
    assert.equal(await iban.getAttribute('aria-invalid'), 'true');
    await iban.fill('');
    await iban.pressSequentially('IT60 X054 2811');
    assert.equal(await check.getAttribute('data-state'), 'incomplete');
    await iban.pressSequentially(' 1010 0000 0123 456');
    assert.equal(await check.getAttribute('data-state'), 'ok');
    assert.match(await check.textContent(), /IBAN corretto/);
    await page.getByLabel('Beneficiario', { exact: true }).fill('Luigi Bianchi');
    await page.getByLabel('Importo (EUR)').fill('125,5');
    await page.getByText('Importo: 125,50').waitFor();
    await page.getByLabel('Causale').fill('Cena di sabato');
    await shot(page, 'transfer');
    await accessible('transfer');
    await page.getByRole('button', { name: 'Prosegui' }).click();

    await heading(page, 'Autorizza il bonifico');
    await page.getByTestId('op-status').waitFor();
    assert.equal(await page.getByTestId('op-status').getAttribute('data-status'), 'pending');
    assert.equal((await page.getByTestId('payee').textContent()).trim(), 'Luigi Bianchi');
    const qr = await qrImage(page, 'transfer-qr');
    await shot(page, 'authorize');
    await accessible('authorize');

    const scanned = await auth.ok(['scan', qr], [PIN]);
    assert.match(scanned, /Luigi Bianchi/);
    assert.match(scanned, /125\.50/);
    const code = Authenticator.code(scanned);
    await page.getByLabel('Codice dell’autenticatore (6 cifre)').fill(code);
    await page.getByRole('button', { name: 'Autorizza' }).click();
    await heading(page, 'Bonifico eseguito');
    await page.getByTestId('result').waitFor();
    assert.equal(await firstBalance(page), Math.round((before - 125.5) * 100) / 100);
    await shot(page, 'result');
    await accessible('result');
  });

  step('transfer by push: approved in the authenticator, the page updates by itself', async () => {
    const before = await firstBalance(page);
    const opId = await startTransfer(page, '40');
    const t0 = performance.now();
    await auth.ok(['approve', opId], [PIN]);
    await heading(page, 'Bonifico eseguito', 5_000);
    const lag = performance.now() - t0;
    console.log(`push approval → result page in ${lag} ms (sigillo-auth included)`);
    assert.equal(await firstBalance(page), Math.round((before - 40) * 100) / 100);
  });

  step('transfer rejected in the authenticator: the page says so at once, no money moves', async () => {
    const before = await firstBalance(page);
    const opId = await startTransfer(page, '15');
    await auth.ok(['reject', opId]);
    const status = page.getByTestId('op-status');
    await until(async () => (await status.getAttribute('data-status')) === 'rejected', 5_000, 'rejected status');
    await page.getByText('Rifiutato nell’autenticatore. Il bonifico non è stato eseguito.').waitFor();
    await shot(page, 'authorize-rejected');
    await page.getByRole('link', { name: 'Torna ai conti' }).click();
    await heading(page, 'I tuoi conti');
    assert.equal(await firstBalance(page), before);
  });

  step('cards: the demo customer\'s debit and credit card, named by their last digits only', async () => {
    await page.getByRole('link', { name: 'Carte', exact: true }).click();
    await heading(page, 'Le tue carte');
    await page.getByTestId('card').first().waitFor();
    assert.equal(await page.getByTestId('card').count(), 2);
    // The sandbox numbers follow from the user code (docs/api.md §10); the page shows neither.
    const visa = sandboxPan('499999', server.creds.user_code, '1');
    const mastercard = sandboxPan('559999', server.creds.user_code, '2');
    await page.getByRole('heading', { level: 2, name: `Carta di debito Visa **** ${visa.slice(-4)}` }).waitFor();
    await page.getByRole('heading', { level: 2, name: `Carta di credito Mastercard **** ${mastercard.slice(-4)}` }).waitFor();
    await page.getByText('1.500,00').first().waitFor();
    const text = await page.locator('body').innerText();
    for (const pan of [visa, mastercard]) assert.ok(!text.includes(pan.slice(0, 12)), 'a card number on the page');
    await shot(page, 'cards');
    await accessible('cards');
  });

  // --- 3-D Secure (issue 14): Key6 in Area Clienti, purchases at the demo shop.

  /** Starts a Key6 action on the first card (the Visa debit card) and approves it by push. */
  async function cardAction(button, fill) {
    const card = page.getByTestId('card').first();
    await card.getByTestId(button).click();
    if (fill) await fill(card);
    await heading(page, 'Autorizza l’operazione');
    const opId = await page.getByTestId('op-id').getAttribute('data-op-id');
    await page.getByTestId('op-description').waitFor();
    await auth.ok(['approve', opId], [PIN]);
    await heading(page, 'Le tue carte');
    return card;
  }

  async function typeKey6(card, key6, again = key6) {
    await card.getByTestId('key6-new').fill(key6);
    await card.getByTestId('key6-again').fill(again);
    await card.getByTestId('key6-submit').click();
  }

  async function key6State() {
    const el = page.getByTestId('card').first().getByTestId('key6-state');
    return el.getAttribute('data-state');
  }

  step('Key6: refused when weak, set with SCA, shown once with a countdown, changed', async () => {
    const card = page.getByTestId('card').first();
    assert.equal(await key6State(), 'unset');
    await card.getByTestId('key6-set').click();
    await typeKey6(card, '123456');
    await card.getByTestId('key6-new-error').waitFor();
    await typeKey6(card, '583920', '583921');
    await card.getByTestId('key6-again-error').waitFor();
    await shot(page, 'key6-form-errors');
    await accessible('key6-form');
    await cardAction('key6-submit', (c) => typeKey6(c, '583920'));
    await page.getByTestId('card-notice').first().waitFor();
    await until(async () => (await key6State()) === 'set', 5_000, 'the Key6 set');

    await cardAction('key6-show');
    const value = page.getByTestId('key6-value');
    await value.waitFor();
    assert.equal((await value.textContent()).trim(), '583920');
    const seconds = Number(await page.getByTestId('key6-countdown').getAttribute('data-seconds'));
    assert.ok(seconds > 20 && seconds <= 30, `countdown ${seconds}`);
    await shot(page, 'key6-shown');
    await accessible('key6-shown');
    await page.getByTestId('key6-hide').click();
    assert.equal(await page.getByTestId('key6-value').count(), 0);

    await cardAction('key6-change', (c) => typeKey6(c, '402719'));
    await cardAction('key6-show');
    assert.equal((await page.getByTestId('key6-value').textContent()).trim(), '402719');
    await page.getByTestId('key6-hide').click();
  });

  const shopSeen = []; // every API answer the shop and challenge pages got, to look for the PAN
  let shopPage;

  async function shopBuy(amount) {
    await shopPage.goto(`${server.base}/shop.html`);
    await shopPage.getByTestId('shop-usercode').fill(server.creds.user_code);
    await shopPage.getByTestId('shop-fill').click();
    await until(async () => (await shopPage.getByTestId('shop-pan').inputValue()).replace(/\s/g, '').length === 16, 5_000, 'the PAN filled');
    await shopPage.getByTestId('shop-amount').fill(amount);
    await shopPage.getByTestId('shop-pay').click();
  }

  async function outcome() {
    const o = shopPage.getByTestId('shop-outcome');
    await o.waitFor({ timeout: 15_000 });
    return o.getAttribute('data-trans-status');
  }

  async function challenged(amountText) {
    await shopPage.waitForURL(/\/challenge\.html#/, { timeout: 10_000 });
    await shopPage.getByTestId('challenge-merchant').waitFor();
    assert.match(await shopPage.getByTestId('challenge-merchant').textContent(), /Sigillo Demo Shop/);
    assert.match(await shopPage.getByTestId('challenge-amount').textContent(), new RegExp(amountText));
    const visa = sandboxPan('499999', server.creds.user_code, '1');
    assert.match(await shopPage.getByTestId('challenge-card').textContent(), new RegExp(`\\*\\*\\*\\* ${visa.slice(-4)}`));
    return shopPage.getByTestId('op-id').getAttribute('data-op-id');
  }

  step('demo shop: five 20 EUR purchases pass frictionless, the sixth is challenged and approved by push', async () => {
    await open(page, server, 'home');
    await heading(page, 'I tuoi conti');
    const before = await firstBalance(page);
    shopPage = await newPage(browser);
    shopPage.on('response', async (r) => {
      if (r.url().includes('/api/')) shopSeen.push(await r.text().catch(() => ''));
    });
    for (let i = 0; i < 5; i++) {
      await shopBuy('20,00');
      assert.equal(await outcome(), 'Y', `purchase ${i + 1}`);
    }
    await shot(shopPage, 'shop-frictionless');
    // The shop leads back to the bank's Area Clienti (the desktop app's window has no address bar;
    // this browser has no session there, so it is the login page).
    await shopPage.getByTestId('shop-bank-link').click();
    await heading(shopPage, 'Accedi all’Area Clienti');
    await shopBuy('20,00');
    const opId = await challenged('20,00');
    await shot(shopPage, 'challenge');
    assert.deepEqual(await axe(shopPage, 'challenge'), []);
    const out = await auth.ok(['approve', opId], [PIN]);
    assert.match(out, /Sigillo Demo Shop/);
    await shopPage.waitForURL(/\/shop\.html\?.*acsTransID=/, { timeout: 10_000 });
    assert.equal(await outcome(), 'Y');
    await shopPage.getByTestId('shop-eci').waitFor();
    await shot(shopPage, 'shop-paid');
    assert.deepEqual(await axe(shopPage, 'shop'), []);
    await page.reload();
    await heading(page, 'I tuoi conti');
    assert.equal(await firstBalance(page), Math.round((before - 120) * 100) / 100, 'six purchases, each booked once');
  });

  step('demo shop: a purchase confirmed with the SMS code and the Key6', async () => {
    const before = await firstBalance(page);
    await shopBuy('45,00');
    await challenged('45,00');
    const count = await server.outboxCount();
    await shopPage.getByTestId('sms-send').click();
    await shopPage.getByTestId('sms-sent').waitFor();
    const otp = await server.nextOtp(count);
    await shopPage.getByTestId('otp').fill(otp);
    await shopPage.getByTestId('key6').fill('402719');
    await shopPage.getByTestId('otp-submit').click();
    await shopPage.waitForURL(/\/shop\.html\?.*acsTransID=/, { timeout: 10_000 });
    assert.equal(await outcome(), 'Y');
    await page.reload();
    await heading(page, 'I tuoi conti');
    assert.equal(await firstBalance(page), Math.round((before - 45) * 100) / 100);
  });

  step('Key6: five wrong answers block it, with an alert; the purchase cancelled; unblocked with SCA', async () => {
    const before = await firstBalance(page);
    await shopBuy('35,00');
    await challenged('35,00');
    const count = await server.outboxCount();
    await shopPage.getByTestId('sms-send').click();
    const otp = await server.nextOtp(count);
    for (let i = 0; i < 5; i++) {
      await shopPage.getByTestId('otp').fill(otp);
      await shopPage.getByTestId('key6').fill(`11112${i}`);
      const [answer] = await Promise.all([
        shopPage.waitForResponse((r) => r.url().endsWith('/otp')),
        shopPage.getByTestId('otp-submit').click(),
      ]);
      assert.equal(answer.status(), 401, `answer ${i + 1}`);
      assert.equal((await answer.json()).attempts_left, 4 - i);
    }
    await shopPage.getByTestId('challenge-key6-blocked').waitFor();
    await shot(shopPage, 'challenge-key6-blocked');
    const alerts = await server.outbox();
    assert.ok(alerts.some((m) => /Key6 della carta \*\*\*\* \d{4} è stata bloccata/.test(m.body)), 'the SMS alert');
    const mail = await server.outbox(server.creds.email);
    assert.ok(mail.some((m) => m.body.includes('has been blocked after 5 wrong codes')), 'the e-mail alert');
    await shopPage.getByTestId('challenge-cancel').click();
    await shopPage.waitForURL(/\/shop\.html\?.*acsTransID=/, { timeout: 10_000 });
    assert.equal(await outcome(), 'N');

    await page.getByRole('link', { name: 'Carte', exact: true }).click();
    await heading(page, 'Le tue carte');
    await until(async () => (await key6State()) === 'blocked', 5_000, 'the Key6 shown blocked');
    await cardAction('key6-unblock');
    await until(async () => (await key6State()) === 'set', 5_000, 'the Key6 unblocked');
    await open(page, server, 'home');
    await heading(page, 'I tuoi conti');
    assert.equal(await firstBalance(page), before, 'nothing moved');
  });

  step('3-D Secure: no answer, page or log line carries a card number', async () => {
    const pans = [sandboxPan('499999', server.creds.user_code, '1'), sandboxPan('559999', server.creds.user_code, '2')];
    for (const text of shopSeen) for (const pan of pans) assert.ok(!text.includes(pan), 'a PAN in an API answer');
    const log = fs.readFileSync(path.join(ARTIFACTS, 'server-main.log'), 'utf8');
    for (const pan of pans) assert.ok(!log.includes(pan), 'a PAN in the server log');
    await shopPage.close();
    await page.getByRole('link', { name: 'Carte', exact: true }).click();
    await heading(page, 'Le tue carte');
    // The debit card lists its latest purchases (7 were approved: the 5 newest shown); the credit
    // card bought nothing and has its whole limit.
    const [debit, credit] = [page.getByTestId('card').first(), page.getByTestId('card').nth(1)];
    await debit.getByTestId('card-purchase').first().waitFor();
    assert.equal(await debit.getByTestId('card-purchase').count(), 5);
    assert.match(await debit.getByTestId('card-purchase').first().innerText(), /Sigillo Demo Shop/);
    assert.equal(await credit.getByTestId('card-available').getAttribute('data-available'), '1500.00');
    await shot(page, 'cards-purchases');
    await accessible('cards-purchases');
  });

  step('devices: list, rename, remove asks first', async () => {
    await page.getByRole('link', { name: 'Dispositivi' }).click();
    await heading(page, 'I tuoi dispositivi');
    const device = page.getByTestId('device');
    await device.first().waitFor();
    assert.equal(await device.count(), 1);
    await page.getByRole('heading', { level: 2, name: 'Sigillo CLI' }).waitFor();
    await page.getByRole('button', { name: 'Rinomina Sigillo CLI' }).click();
    const field = page.getByLabel('Nuovo nome per Sigillo CLI');
    await field.fill('Portatile di Mario');
    await page.getByRole('button', { name: 'Salva nome' }).click();
    await page.getByRole('heading', { level: 2, name: 'Portatile di Mario' }).waitFor();
    await page.getByRole('button', { name: 'Rimuovi Portatile di Mario' }).click();
    await page.getByText('Rimuovere «Portatile di Mario»?').waitFor();
    await shot(page, 'devices-remove-confirm');
    await page.getByRole('button', { name: 'No, mantieni' }).click();
    await page.getByTestId('add-device').waitFor();
    await shot(page, 'devices');
    await accessible('devices');
    const profiles = await auth.ok(['profiles']);
    assert.match(profiles, /Sigillo CLI/); // the local name stays; the bank's list has the new one
  });

  step('devices: a second device from the QR shown here, once the active one approves', async () => {
    await page.getByRole('button', { name: 'Mostra il codice QR per un nuovo dispositivo' }).click();
    const pending = page.getByTestId('add-pending');
    await pending.waitFor();
    const opId = await pending.getAttribute('data-op-id');
    await shot(page, 'devices-add-pending');
    // The active authenticator sees the DEVICE operation and approves it with its PIN.
    const approved = await auth.ok(['approve', opId], [PIN]);
    assert.match(approved, /activate a new device/);
    const file = await qrImage(page, 'device-qr', 'device-qr');
    await shot(page, 'devices-add-qr');
    await accessible('devices-add-qr');
    const tablet = new Authenticator('tablet');
    const out = await tablet.ok(
      ['activate', '--server', server.api, '--user', server.creds.user_code, '--qr-image', file, '--name', 'Tablet'],
      [PIN, PIN],
    );
    assert.match(out, /^activated: profile /);
    await page.reload();
    await heading(page, 'I tuoi dispositivi');
    await page.getByRole('heading', { level: 2, name: 'Tablet' }).waitFor();
    // Removing the profile in the new authenticator removes the device at the bank too.
    await tablet.ok(['remove']);
    await page.reload();
    await heading(page, 'I tuoi dispositivi');
    await page.getByRole('heading', { level: 2, name: 'Portatile di Mario' }).waitFor();
    assert.equal(await page.getByTestId('device').count(), 1);
  });

  step('security: alias and password change', async () => {
    await page.getByRole('link', { name: 'Sicurezza' }).click();
    await heading(page, 'Sicurezza');
    await page.getByRole('textbox', { name: 'Alias' }).fill(ALIAS);
    await page.getByRole('button', { name: 'Salva alias' }).click();
    await page.getByText('Alias salvato.').waitFor();
    await page.getByLabel('Password attuale').fill(password);
    await page.getByLabel('Nuova password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Ripeti la nuova password').fill(NEW_PASSWORD);
    // Strong authentication of the change: an «OTP dispositiva» from the authenticator.
    const otp = Authenticator.code(await auth.ok(['otp', 'transaction'], [PIN]));
    await page.getByLabel('Codice «OTP dispositiva» dell’autenticatore (6 cifre)').fill(otp);
    await page.getByRole('button', { name: 'Cambia password' }).click();
    await page.getByText('Password cambiata.').waitFor();
    password = NEW_PASSWORD;
    await shot(page, 'security');
    await accessible('security');
  });

  step('a narrow window: no sideways scrolling, everything reachable', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    for (const [hash, title, name] of [
      ['home', 'I tuoi conti', 'narrow-home'],
      ['transfer', 'Nuovo bonifico', 'narrow-transfer'],
      ['devices', 'I tuoi dispositivi', 'narrow-devices'],
      ['cards', 'Le tue carte', 'narrow-cards'],
    ]) {
      await open(page, server, hash);
      await heading(page, title);
      await sleep(300);
      const overflow = await page.evaluate(() => {
        const wide = [...document.querySelectorAll('body *')]
          .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1 && !el.closest('.table-wrap'))
          .map((el) => `${el.tagName.toLowerCase()}.${el.className}`)
          .slice(0, 5);
        return { px: document.documentElement.scrollWidth - window.innerWidth, wide };
      });
      assert.ok(overflow.px <= 0, `${hash}: ${overflow.px}px of sideways scroll: ${overflow.wide.join(', ')}`);
      await shot(page, name);
      await accessible(name);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  step('keyboard only: tab order reaches the transfer form in reading order', async () => {
    await open(page, server, 'transfer');
    await heading(page, 'Nuovo bonifico');
    await page.getByLabel('Beneficiario', { exact: true }).focus();
    const order = [];
    for (let i = 0; i < 5; i++) {
      order.push(await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName));
      await page.keyboard.press('Tab');
    }
    assert.deepEqual(order, ['payee', 'iban', 'amount', 'description', 'BUTTON']);
  });

  step('wrong code 5 times on a transfer: attempts left, then the blocked message', async () => {
    const opId = await startTransfer(page, '10');
    const codeField = page.getByLabel('Codice dell’autenticatore (6 cifre)');
    for (let left = 4; left >= 1; left--) {
      await codeField.fill('000000');
      await page.getByRole('button', { name: 'Autorizza' }).click();
      await page.getByText(`Codice non valido. Tentativi rimasti prima del blocco: ${left}.`).waitFor();
    }
    // The 5th wrong code uses up the attempts (401, attempts_left 0): blocked, said at once.
    await codeField.fill('000000');
    await page.getByRole('button', { name: 'Autorizza' }).click();
    await page.getByText('Hai esaurito i tentativi: l’utenza è bloccata.').waitFor();
    await page.getByRole('link', { name: 'Sblocca l’utenza' }).waitFor();
    // Any further code, even a right one, gets 423 blocked.
    await codeField.fill(Authenticator.code(await auth.ok(['sign', '--op-id', opId], [PIN])));
    await page.getByRole('button', { name: 'Autorizza' }).click();
    await page.getByText('Utenza bloccata dopo troppi tentativi errati').waitFor();
    await shot(page, 'authorize-blocked');
    await accessible('authorize-blocked');
    await logout(page);
  });

  step('unblock with the security code and an SMS code', async () => {
    await open(page, server, 'recovery/unblock');
    await heading(page, 'Recupero credenziali');
    await page.getByLabel('Codice utente o alias').fill(ALIAS);
    await page.getByLabel('Codice di sicurezza (20 caratteri)').fill(server.creds.security_code);
    const before = await server.outboxCount();
    await page.getByRole('button', { name: 'Invia il codice SMS' }).click();
    const otp = await server.nextOtp(before);
    await page.getByLabel('Codice ricevuto via SMS (6 cifre)').fill(otp);
    await page.getByRole('button', { name: 'Sblocca' }).click();
    await page.getByText('Utenza sbloccata. Ora puoi accedere.').waitFor();
    await shot(page, 'recovery-unblock');
    await accessible('recovery-unblock');
  });

  step('login rejected in the authenticator ("non sono io"): the page says so', async () => {
    await passwordStep(page, server, ALIAS, password);
    const { opId } = await scaShown(page);
    await auth.ok(['reject', opId]);
    await page.getByText('Hai rifiutato l’accesso nell’autenticatore.').waitFor();
    await heading(page, 'Accedi all’Area Clienti');
  });

  step('number matching: another number picked in the authenticator cancels the login', async () => {
    await passwordStep(page, server, ALIAS, password);
    const { number, opId } = await scaShown(page);
    // Another number the page could have shown (10–99): 99 + 1 would be 100, which the
    // authenticator refuses itself without asking the bank.
    const other = number === 99 ? 98 : number + 1;
    const r = await auth.run(['approve', opId, '--number', String(other)], [PIN]);
    assert.notEqual(r.code, 0, r.stdout);
    await page.getByText('Accesso annullato: nell’autenticatore è stato scelto un numero diverso').waitFor();
    await shot(page, 'login-number-mismatch');
  });

  step('keyboard only: log in by LOGIN code with Tab, typing and Enter', async () => {
    await open(page, server, 'login');
    await heading(page, 'Accedi all’Area Clienti');
    await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
    const active = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);
    const seen = [];
    for (let i = 0; i < 10 && (await active()) !== 'user'; i++) {
      await page.keyboard.press('Tab');
      seen.push(await active());
    }
    assert.equal(await active(), 'user', `tab order from the top: ${seen.join(' → ')}`);
    await page.keyboard.type(ALIAS);
    await page.keyboard.press('Tab');
    assert.equal(await active(), 'password');
    await page.keyboard.type(password);
    await page.keyboard.press('Enter');
    await heading(page, 'Conferma l’accesso');
    // The SCA step's heading has the focus; the code field is the next stop.
    assert.equal(await active(), 'sca-title');
    await page.keyboard.press('Tab');
    assert.equal(await active(), 'login-code');
    const code = Authenticator.code(await auth.ok(['otp', 'login'], [PIN]));
    await page.keyboard.type(code);
    await page.keyboard.press('Enter');
    await heading(page, 'I tuoi conti');
    assert.equal(await active(), 'page-title');
    await logout(page);
  });

  step('login by the login QR scanned offline (drawn on the page when qr.svg is refused)', async () => {
    await passwordStep(page, server, server.creds.user_code, password);
    await scaShown(page);
    const qr = await qrImage(page, 'login-qr-scan');
    const drawn = await page.getByTestId('qr').locator('svg path').count();
    console.log(`login QR: ${drawn ? 'drawn in the page from the payload (qr.svg refused)' : 'the server’s qr.svg'}`);
    const code = Authenticator.code(await auth.ok(['scan', qr], [PIN]));
    await page.getByLabel('Codice dell’autenticatore (6 cifre)').fill(code);
    await page.getByRole('button', { name: 'Conferma', exact: true }).click();
    await heading(page, 'I tuoi conti');
    await logout(page);
    await shot(page, 'logged-out');
  });

  step('recover the user code by SMS', async () => {
    await open(page, server, 'recovery/user-code');
    await page.getByRole('heading', { level: 2, name: 'Recupera il codice utente' }).waitFor();
    const before = await server.outboxCount();
    await page.getByLabel('Numero di cellulare').fill(server.creds.phone);
    await page.getByRole('button', { name: 'Inviami il codice utente' }).click();
    await page.getByText('Se il numero è registrato').waitFor();
    const sms = await until(async () => {
      const list = await server.outbox();
      return list.length > before ? list[0].body : null;
    });
    assert.match(sms, new RegExp(server.creds.user_code));
    await shot(page, 'recovery-user-code');
    await accessible('recovery-user-code');
  });

  step('a blocked user: five wrong passwords, then the blocked message at login', async () => {
    for (let left = 4; left >= 1; left--) {
      await passwordStep(page, server, ALIAS, '12121212');
      await page.getByText(`Tentativi rimasti prima del blocco: ${left}.`).waitFor();
    }
    await passwordStep(page, server, ALIAS, '12121212');
    await page.getByText('Hai esaurito i tentativi: l’utenza è bloccata.').waitFor();
    // Even the right password now gets the same answer.
    await passwordStep(page, server, ALIAS, password);
    await page.getByText('Utenza bloccata dopo troppi tentativi errati').waitFor();
    await shot(page, 'login-blocked');
    await accessible('login-blocked');
  });

  step('reset the password (security code + SMS), then log in with an SMS code', async () => {
    await open(page, server, 'recovery/password');
    await page.getByRole('heading', { level: 2, name: 'Reimposta la password' }).waitFor();
    await page.getByLabel('Codice utente o alias').fill(server.creds.user_code);
    await page.getByLabel('Codice di sicurezza (20 caratteri)').fill(server.creds.security_code);
    let before = await server.outboxCount();
    await page.getByRole('button', { name: 'Invia il codice SMS' }).click();
    const otp = await server.nextOtp(before);
    await page.getByLabel('Codice ricevuto via SMS (6 cifre)').fill(otp);
    await page.getByLabel('Nuova password', { exact: true }).fill(RESET_PASSWORD);
    await page.getByLabel('Ripeti la nuova password').fill(RESET_PASSWORD);
    await page.getByRole('button', { name: 'Imposta la nuova password' }).click();
    await page.getByText('Password reimpostata.').waitFor();
    password = RESET_PASSWORD;
    await shot(page, 'recovery-password');
    await accessible('recovery-password');

    await passwordStep(page, server, ALIAS, password);
    await scaShown(page);
    before = await server.outboxCount();
    await page.getByRole('button', { name: 'Inviami un SMS' }).click();
    const loginOtp = await server.nextOtp(before);
    await page.getByLabel('Codice ricevuto via SMS (6 cifre)').fill(loginOtp);
    await shot(page, 'login-sms');
    await accessible('login-sms');
    await page.getByRole('button', { name: 'Conferma con SMS' }).click();
    await heading(page, 'I tuoi conti');
  });

  step('devices: remove the authenticator; it no longer counts', async () => {
    await page.getByRole('link', { name: 'Dispositivi' }).click();
    await heading(page, 'I tuoi dispositivi');
    await page.getByRole('button', { name: 'Rimuovi Portatile di Mario' }).click();
    await page.getByRole('button', { name: 'Sì, rimuovi' }).click();
    await page.getByText('Dispositivo rimosso.').waitFor();
    await page.getByText('Nessun autenticatore attivo.').waitFor();
    const r = await auth.run(['pending']);
    assert.notEqual(r.code, 0, `a removed device still reads its pushes: ${r.stdout}`);
    await logout(page);
  });

  step('a new customer: the password the branch issued opens only its own change', async () => {
    const phone = '+393330000777';
    const res = await fetch(`${server.api}/api/v1/admin/customers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BRANCH_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Giulia Neri', phone, email: 'giulia.neri@example.invalid' }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    const issued = await res.json();
    await passwordStep(page, server, issued.user_code, issued.password);
    await scaShown(page);
    let before = await server.outboxCount(phone);
    await page.getByRole('button', { name: 'Inviami un SMS' }).click();
    await page.getByLabel('Codice ricevuto via SMS (6 cifre)').fill(await server.nextOtp(before, phone));
    await page.getByRole('button', { name: 'Conferma con SMS' }).click();
    // Strong authentication done, yet only the password change opens: no menu, no accounts.
    await heading(page, 'Sicurezza');
    await page.getByTestId('password-change-required').waitFor();
    assert.equal(await page.getByRole('link', { name: 'Bonifico', exact: true }).count(), 0);
    assert.equal(await page.getByTestId('alias').count(), 0);
    await open(page, server, 'transfer');
    await heading(page, 'Sicurezza');
    await shot(page, 'first-access-password');
    await accessible('first-access-password');

    const chosen = issued.password === '24680135' ? '35791246' : '24680135';
    await page.getByLabel('Password attuale').fill(issued.password);
    await page.getByLabel('Nuova password', { exact: true }).fill(chosen);
    await page.getByLabel('Ripeti la nuova password').fill(chosen);
    before = await server.outboxCount(phone);
    await page.getByRole('button', { name: 'Non ho l’autenticatore: inviami un SMS' }).click();
    await page.getByLabel('Codice ricevuto via SMS (6 cifre)').fill(await server.nextOtp(before, phone));
    await page.getByRole('button', { name: 'Cambia password' }).click();
    await page.getByText('Password cambiata.').waitFor();
    // Now the accounts open, in the same session.
    await page.getByRole('link', { name: 'Conti', exact: true }).click();
    await heading(page, 'I tuoi conti');
    assert.ok((await firstBalance(page)) > 0);
    await logout(page);
  });

  step('no script or style was refused by the CSP, no page error', async () => {
    const bad = page.problems.filter((p) => /Content Security Policy|pageerror/i.test(p));
    assert.deepEqual(bad, []);
  });
});
