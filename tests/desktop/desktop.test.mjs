// The desktop app as its users meet it: the real `sigillo` binary under Xvfb, driven through
// tauri-driver + WebKitWebDriver, inside a private D-Bus session with a real gnome-keyring and
// a notification daemon (dunst), whose Notify calls dbus-monitor writes to $SIGILLO_NOTIFY_LOG.
// Started by tests/desktop/run.sh. Screenshots of each screen go to artifacts/desktop/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { Session } from './webdriver.mjs';
import { freePort, sleep } from '../support.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '../..');
const TARGET = process.env.CARGO_TARGET_DIR ? path.resolve(process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target');
const APP = process.env.SIGILLO_BIN ?? path.join(TARGET, 'debug/sigillo');
const ARTIFACTS = path.join(ROOT, 'artifacts/desktop');
const NOTIFY_LOG = process.env.SIGILLO_NOTIFY_LOG;
const PIN = '24680';
const PAYEE_IBAN = 'IT60X0542811101000000123456';

/** One run of the app behind its own tauri-driver, with `env` on top of ours. */
async function launch(name, env) {
  // Marks the app and its WebKit processes (they inherit it) as this launch's.
  env = { ...env, SIGILLO_TEST_LAUNCH: name };
  const port = await freePort();
  const nativePort = await freePort();
  const log = fs.openSync(path.join(ARTIFACTS, `${name}.log`), 'w');
  const driver = spawn('tauri-driver', ['--port', String(port), '--native-port', String(nativePort)], {
    env: { ...process.env, NO_AT_BRIDGE: '1', ...env },
    stdio: ['ignore', log, log],
  });
  let session;
  try {
    session = await Session.create(`http://127.0.0.1:${port}`, {
      browserName: 'wry',
      'tauri:options': { application: APP },
    });
  } catch (e) {
    driver.kill('SIGTERM');
    fs.closeSync(log);
    throw new Error(`${e.message} (see artifacts/desktop/${name}.log)`);
  }
  let shot = 0;
  return {
    session,
    driver,
    // The whole X screen, both windows as the customer sees them. (WebDriver's own screenshot
    // never returns for a webview painted without GPU compositing, as the app's are.)
    async screenshot(what) {
      shot += 1;
      const file = path.join(ARTIFACTS, `${name}-${String(shot).padStart(2, '0')}-${what}.png`);
      execFileSync('import', ['-display', process.env.DISPLAY, '-window', 'root', file]);
    },
    auth: () => session.window((u) => u.includes('authenticator.html'), 'authenticator'),
    bank: () => session.window((u) => u.startsWith('http://127.0.0.1:'), 'Area Clienti'),
    /**
     * Ends the app as the desktop does at logout (SIGTERM), then the session. Whether the app
     * exited on its own within 10 s.
     */
    async quit() {
      let ended = true;
      for (const pid of appPids(name)) {
        process.kill(pid, 'SIGTERM');
        for (let i = 0; i < 100 && !exited(pid); i++) await sleep(100);
        ended &&= exited(pid);
      }
      // WebKitWebDriver may answer that its browser is gone.
      await this.stop().catch(() => {});
      return ended;
    },
    async stop() {
      try {
        await session.delete();
      } finally {
        driver.kill('SIGTERM');
        await Promise.race([once(driver, 'exit'), sleep(5000)]);
        fs.closeSync(log);
      }
    },
  };
}

/** Calls an authenticator command from the authenticator window (where IPC is allowed). */
async function invoke(session, command, args = {}) {
  const r = await session.executeAsync(
    `const done = arguments[arguments.length - 1];
     window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1])
       .then((v) => done({ ok: true, v }), (e) => done({ ok: false, e }));`,
    [command, args],
  );
  if (!r.ok) throw new Error(`${command}: ${JSON.stringify(r.e)}`);
  return r.v;
}

async function notifications() {
  return NOTIFY_LOG && fs.existsSync(NOTIFY_LOG) ? fs.readFileSync(NOTIFY_LOG, 'utf8') : '';
}

/**
 * Whether the notifications whose texts include `text` are off the screen, the last one
 * withdrawn by the app, as dbus-monitor saw them: for each Notify call, the id the server gave
 * it, then a NotificationClosed of that id; for the last, reason 3 (a CloseNotification call).
 * (dunst itself closes an earlier identical notification, reason 1, when a second app shows
 * the same one.)
 */
async function withdrawn(text) {
  const messages = (await notifications()).split(/\n(?=\S)/);
  const calls = messages.filter((m) => m.includes('member=Notify') && m.includes(text));
  if (calls.length === 0) return false;
  return calls.every((call, i) => {
    const [, sender, serial] = /sender=(\S+) .*? serial=(\d+)/.exec(call);
    const reply = messages.find((m) => m.startsWith('method return') && m.includes(`destination=${sender} `) && m.includes(`reply_serial=${serial}`));
    const id = reply && /uint32 (\d+)/.exec(reply)?.[1];
    const reason = i === calls.length - 1 ? '3' : '\\d+';
    return id && messages.some((m) => m.includes('member=NotificationClosed') && new RegExp(`uint32 ${id}\\s+uint32 ${reason}\\b`).test(m));
  });
}

/** Activates the demo customer in the authenticator window, reading the SMS on the simulated phone. */
async function activate(app) {
  const s = app.session;
  await app.auth();
  const info = await invoke(s, 'app_info');
  assert.equal(info.mode, 'demo');
  await s.find('[data-testid="demo-phone"]');
  // The acquired banks' demo customers, for their first access: in the app's info and on the panel.
  assert.deepEqual(
    info.demo.legacy.map((l) => [l.bank, l.legacyCode, l.auth]),
    [
      ['ubi', 'U1234567', 'app'],
      ['carige', 'C7654321', 'card'],
    ],
  );
  for (const l of info.demo.legacy) {
    const line = await (await s.find(`[data-testid="demo-legacy-${l.bank}"]`)).text();
    assert.ok(line.includes(l.legacyCode) && line.includes(l.password), `demo panel: ${line}`);
  }
  // No profile yet, so no bank to be online or offline with.
  assert.equal((await s.findAll('[data-testid="online-indicator"]')).length, 0, 'online indicator before any profile');
  await app.screenshot('activation');
  await s.type('[data-testid="activate-user"]', info.demo.userCode);
  await s.type('[data-testid="activate-password"]', info.demo.password);
  const earlier = (await s.findAll('[data-testid="demo-sms"]')).length;
  await s.click('[data-testid="activate-start"]');
  // The SMS arrives on the simulated phone of the demo bank, newest first.
  const otp = await s.until(async () => {
    const sms = await s.findAll('[data-testid="demo-sms"]');
    if (sms.length <= earlier) return null;
    const m = /\b(\d{6})\b/.exec(await sms[0].text());
    return m ? m[1] : null;
  }, 'the activation SMS on the simulated phone');
  await s.type('[data-testid="activate-sms"]', otp);
  await s.type('[data-testid="activate-pin"]', PIN);
  await s.type('[data-testid="activate-pin2"]', PIN);
  await s.click('[data-testid="activate-finish"]');
  await s.find('[data-testid="nav-pending"]', 20_000);
  const profiles = await invoke(s, 'profiles_list');
  assert.equal(profiles.length, 1);
  assert.equal(profiles[0].user, info.demo.userCode);
  await s.until(async () => (await (await s.find('[data-testid="online-indicator"]')).attr('data-online')) === 'true', 'online');
  await app.screenshot('activated');
  return info;
}

async function balance(s) {
  const el = await s.find('[data-testid="balance"]', 20_000);
  return Number(await el.attr('data-balance'));
}

let scratch;
before(() => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'sigillo-desktop-'));
});
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** Fills the transfer form in Area Clienti; returns the operation identifier shown. */
async function transfer(s, payee, amount) {
  await s.execute(`location.hash = '#/transfer'`);
  await s.type('#payee', payee);
  await s.type('#iban', PAYEE_IBAN);
  await s.type('#amount', amount);
  await s.type('#description', 'Prova desktop');
  await s.click('[data-testid="transfer-form"] button[type="submit"]');
  const opId = await (await s.find('[data-testid="op-id"]', 20_000)).attr('data-op-id');
  assert.match(opId, /^\d{8}$/);
  return opId;
}

/** The QR code Area Clienti shows for `opId`, as PNG bytes (fetched with the page's session). */
async function qrPng(s, opId) {
  const b64 = await s.executeAsync(
    `const done = arguments[arguments.length - 1];
     fetch('/api/v1/operations/' + arguments[0] + '/qr.png', { credentials: 'same-origin' })
       .then((r) => r.arrayBuffer())
       .then((b) => { let t = ''; for (const x of new Uint8Array(b)) t += String.fromCharCode(x); done(btoa(t)); })
       .catch((e) => done('ERR ' + e));`,
    [opId],
  );
  assert.ok(!b64.startsWith('ERR'), b64);
  return Buffer.from(b64, 'base64');
}

/** A white greyscale PNG of `w`×`h`: a frame with nothing on it. */
function whitePng(w, h) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 0, 0, 0, 0], 8);
  const rows = Buffer.alloc((w + 1) * h, 0xff);
  for (let y = 0; y < h; y++) rows[y * (w + 1)] = 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Types the authenticator's code into the authorization page and waits for the result. */
async function authorize(s, code) {
  await s.type('form input.code', code);
  await s.click('form:has(input.code) button[type="submit"]');
  await s.find('[data-testid="result"]', 20_000);
}

test('activate, log in by push approval, pay by operation identifier and by webcam QR, pay an EPC and a pagoPA bill shown to the webcam, read a QR code from the screen, see the balance change', async () => {
  const frames = path.join(scratch, 'frames');
  fs.mkdirSync(frames, { recursive: true });
  const app = await launch('flow', { SIGILLO_DATA_DIR: path.join(scratch, 'flow'), SIGILLO_CAMERA_FRAMES: frames });
  const s = app.session;
  try {
    const info = await activate(app);

    // Login in Area Clienti: the push reaches the authenticator and the desktop.
    await app.bank();
    await app.screenshot('bank-login');
    await s.type('#user', info.demo.userCode);
    await s.type('#password', info.demo.password);
    await s.click('form button[type="submit"]');
    const number = Number((await s.text('[data-testid="login-number"]', 20_000)).trim());
    assert.ok(number >= 10 && number <= 99, `number ${number}`);
    await app.screenshot('bank-login-number');
    const notify = await s.until(async () => {
      const log = await notifications();
      return /member=Notify/.test(log) && log.includes("conferma l'accesso") ? log : null;
    }, 'the login notification on D-Bus');
    // Every text the app sent (summary, body, action): none holds the number to pick.
    const calls = notify.split(/\n(?=\S)/).filter((m) => m.includes('member=Notify'));
    const texts = calls.flatMap((m) => [...m.matchAll(/^\s*string "(.*)"$/gm)].map((x) => x[1]));
    assert.ok(texts.some((t) => t.includes("conferma l'accesso")), texts.join(' | '));
    for (const t of texts) assert.doesNotMatch(t, new RegExp(`\\b0?${number}\\b`), 'the notification never shows the number');

    // A click on the notification (dunst's default action) brings up the approval, from
    // whichever screen the authenticator was on (Codes, after the activation).
    await app.auth();
    assert.equal((await s.findAll('[data-testid="pending-item"]')).length, 0);
    execFileSync('dunstctl', ['action', '0']);
    const item = await s.find('[data-testid="pending-item"]', 20_000);
    assert.ok((await item.text()).length > 0);
    await app.screenshot('pending-login');
    // The bank never tells the authenticator the number: the customer types the page's.
    assert.equal(await (await s.find('[data-testid="approve-button"]')).enabled(), false, 'no approval before a number is typed');
    await s.type('[data-testid="number-input"]', String(number));
    await s.type('[data-testid="approve-pin"]', PIN);
    await s.click('[data-testid="approve-button"]');
    await s.until(async () => /approv|autorizz|confermat/i.test(await s.text('[data-testid="approval-result"]')), 'approval result');
    await app.screenshot('login-approved');

    await app.bank();
    const before = await balance(s);
    await app.screenshot('bank-home');

    // A transfer, authorized by typing its identifier in the authenticator.
    const opId = await transfer(s, 'Luigi Bianchi', '25,50');
    await app.screenshot('bank-authorize');

    await app.auth();
    await s.click('[data-testid="nav-opid"]');
    await s.type('[data-testid="opid-input"]', `${opId.slice(0, 4)} ${opId.slice(4)}`);
    await s.until(async () => (await s.text('[data-testid="opid-feedback"]')).length > 0, 'check-digit feedback');
    await s.click('[data-testid="opid-lookup"]');
    const fields = await s.text('[data-testid="opid-fields"]', 20_000);
    assert.ok(fields.includes('Luigi Bianchi'), fields);
    assert.ok(fields.includes('25'), fields);
    await s.type('[data-testid="opid-pin"]', PIN);
    await s.click('[data-testid="opid-make-code"]');
    const code = await s.until(async () => (await (await s.find('[data-testid="opid-code"]')).attr('data-code')) || null, 'the code');
    assert.match(code, /^\d{6}$/);
    await app.screenshot('opid-code');

    await app.bank();
    await authorize(s, code);
    await app.screenshot('bank-result');
    // Authorized, so its notification is taken off the desktop.
    await s.until(() => withdrawn('Luigi Bianchi'), 'the notification of the authorized transfer withdrawn');

    // A second transfer, its QR code held up to the "webcam" (a folder of frames).
    const qrOpId = await transfer(s, 'Anna Verdi', '10,00');
    fs.writeFileSync(path.join(frames, 'frame-0001.png'), await qrPng(s, qrOpId));
    await app.auth();
    // The scanner starts the only camera by itself.
    await s.click('[data-testid="nav-scan"]');
    const scanned = await s.text('[data-testid="scan-fields"]', 20_000);
    assert.ok(scanned.includes('Anna Verdi'), scanned);
    await app.screenshot('scan-verified');
    await s.type('[data-testid="scan-pin"]', PIN);
    await s.click('[data-testid="scan-make-code"]');
    const qrCode = await s.until(async () => (await (await s.find('[data-testid="scan-code"]')).attr('data-code')) || null, 'the QR code\'s code');
    await app.bank();
    await authorize(s, qrCode);

    await s.execute(`location.hash = '#/home'`);
    const afterBalance = await s.until(async () => {
      const b = await balance(s);
      return Math.round((before - b) * 100) === 3550 ? b : null;
    }, 'the balance less both transfers');
    assert.ok(afterBalance < before);
    await app.screenshot('bank-balance');

    // Bills shown to the "webcam": an EPC invoice, then a pagoPA notice. Each opens the bank's
    // payment page prefilled in the banking window (by its address), is confirmed there, and is
    // authorized in the authenticator by push, the bank's signed details shown.
    const bills = [
      {
        text: `BCD\n002\n1\nSCT\n\nLuce e Gas S.p.A.\n${PAYEE_IBAN}\nEUR12.34\n\n\nBolletta novembre`,
        kind: 'epc',
        route: '#/transfer?',
        cents: 1234,
        shown: 'Luce e Gas S.p.A.',
        async confirm() {
          assert.equal(await (await s.find('#payee')).prop('value'), 'Luce e Gas S.p.A.');
          assert.match(String(await (await s.find('#amount')).prop('value')), /^12[,.]34$/);
          await s.click('[data-testid="transfer-form"] button[type="submit"]');
        },
      },
      {
        text: 'PAGOPA|002|302000100000012345|80078750587|2730',
        kind: 'pagopa',
        route: '#/pagopa?',
        cents: 2730,
        shown: 'INPS',
        async confirm() {
          assert.equal((await s.text('[data-testid="creditor-name"]', 20_000)).trim(), 'INPS');
          await s.click('[data-testid="pagopa-form"] button[type="submit"]');
        },
      },
    ];
    let expected = afterBalance;
    for (const bill of bills) {
      const textFile = path.join(scratch, `${bill.kind}.txt`);
      fs.writeFileSync(textFile, bill.text);
      const png = path.join(scratch, `${bill.kind}.png`);
      execFileSync(path.join(TARGET, 'debug/sca'), ['qr', 'render', textFile, '--out', png]);
      fs.renameSync(png, path.join(frames, 'frame-0001.png'));
      await app.auth();
      await s.click('[data-testid="nav-scan"]');
      if ((await s.findAll('[data-testid="scan-again"]')).length > 0) await s.click('[data-testid="scan-again"]');
      if ((await s.findAll('[data-testid="bill-again"]')).length > 0) await s.click('[data-testid="bill-again"]');
      const read = await s.find('[data-testid="bill-result"]', 20_000);
      assert.equal(await read.attr('data-kind'), bill.kind);
      await app.screenshot(`bill-${bill.kind}-read`);
      await app.bank();
      const hash = await s.until(async () => {
        const h = await s.execute('return location.hash');
        return h.startsWith(bill.route) ? h : null;
      }, `the ${bill.kind} page opened in the banking window`);
      assert.ok(hash.includes('amount='), hash);
      await s.find('[data-testid="bill-notice"]', 20_000);
      await app.screenshot(`bill-${bill.kind}-prefilled`);
      await bill.confirm();
      await s.find('[data-testid="op-id"]', 20_000);
      // Authorized by push: the authenticator shows what the bank signed.
      await app.auth();
      await s.click('[data-testid="nav-pending"]');
      const pending = await s.until(async () => {
        for (const el of await s.findAll('[data-testid="pending-item"]')) if ((await el.text()).includes(bill.shown)) return el;
        return null;
      }, `the ${bill.kind} payment among the pending`);
      assert.match(await pending.text(), new RegExp(`${Math.floor(bill.cents / 100)}[,.]${String(bill.cents % 100).padStart(2, '0')}`));
      await s.type('[data-testid="approve-pin"]', PIN);
      await s.click('[data-testid="approve-button"]');
      await s.until(async () => /approv|autorizz|confermat/i.test(await s.text('[data-testid="approval-result"]')), 'approval result');
      await app.bank();
      await s.find('[data-testid="result"]', 20_000);
      await app.screenshot(`bill-${bill.kind}-paid`);
      expected -= bill.cents / 100;
    }
    await s.execute(`location.hash = '#/home'`);
    await s.until(async () => (Math.round((await balance(s)) * 100) === Math.round(expected * 100) ? true : null), 'the balance less both bills');

    // The QR code on this very screen. The "webcam" now sees a blank sheet.
    fs.writeFileSync(path.join(scratch, 'blank.png'), whitePng(320, 240));
    fs.renameSync(path.join(scratch, 'blank.png'), path.join(frames, 'frame-0001.png'));
    const readScreen = async (what) => {
      await app.auth();
      await s.click('[data-testid="nav-scan"]');
      for (const again of ['scan-again', 'bill-again']) {
        if ((await s.findAll(`[data-testid="${again}"]`)).length > 0) await s.click(`[data-testid="${again}"]`);
      }
      await s.click('[data-testid="screen-read"]');
      await app.screenshot(`screen-${what}`);
    };
    const codeFromScreen = async (payee, what) => {
      await readScreen(what);
      const fields = await s.text('[data-testid="scan-fields"]', 20_000);
      assert.ok(fields.includes(payee), fields);
      await s.type('[data-testid="scan-pin"]', PIN);
      await s.click('[data-testid="scan-make-code"]');
      return s.until(async () => (await (await s.find('[data-testid="scan-code"]')).attr('data-code')) || null, `the code of the ${what} QR`);
    };
    // 1. In the banking window itself: the authorization page's QR code.
    await app.bank();
    await transfer(s, 'Marta Schermo', '7,00');
    const fromBank = await codeFromScreen('Marta Schermo', 'banking-window');
    await app.bank();
    await authorize(s, fromBank);
    // 2. In another program's window (an image viewer), the banking window showing no code.
    const viewedOpId = await transfer(s, 'Nino Visore', '3,00');
    const viewed = path.join(scratch, 'viewed.png');
    fs.writeFileSync(viewed, await qrPng(s, viewedOpId));
    await s.execute(`location.hash = '#/home'`);
    await balance(s);
    const viewer = spawn('display', ['-display', process.env.DISPLAY, '-geometry', '+40+120', '-title', 'viewer', viewed], { stdio: 'ignore' });
    try {
      await sleep(1500); // the viewer's window mapped and painted
      const fromViewer = await codeFromScreen('Nino Visore', 'image-viewer');
      await app.bank();
      await s.execute(`location.hash = '#/authorize/${viewedOpId}'`);
      await authorize(s, fromViewer);
    } finally {
      viewer.kill('SIGTERM');
    }
    await s.execute(`location.hash = '#/home'`);
    await s.until(async () => (Math.round((await balance(s)) * 100) === Math.round((expected - 10) * 100) ? true : null), 'the balance less both transfers read from the screen');
    // 3. No QR code on the screen: said so.
    await sleep(500);
    await readScreen('none');
    assert.match(await s.text('[data-testid="screen-error"]', 20_000), /Nessun codice QR sullo schermo/);
  } finally {
    await app.stop();
  }
});

test('a card purchase at the demo shop: the notification names card, merchant and amount; a click opens its approval', async () => {
  const app = await launch('card', { SIGILLO_DATA_DIR: path.join(scratch, 'card') });
  const s = app.session;
  try {
    const info = await activate(app);
    // Nothing left on screen by the tests before: the click below must reach this purchase's.
    execFileSync('dunstctl', ['close-all']);
    // The demo bank's shop, in the banking window (the bank's own origin); no login needed.
    await app.bank();
    await s.execute(`location.href = '/shop.html'`);
    await s.type('[data-testid="shop-usercode"]', info.demo.userCode);
    await s.click('[data-testid="shop-fill"]');
    await s.until(async () => String(await (await s.find('[data-testid="shop-pan"]')).prop('value')).replace(/\s/g, '').length === 16, 'the sandbox card filled');
    await s.type('[data-testid="shop-amount"]', '45,00');
    await s.click('[data-testid="shop-pay"]');
    const card = await s.text('[data-testid="challenge-card"]', 20_000);
    const last4 = /(\d{4})\s*$/.exec(card)[1];
    await app.screenshot('challenge');
    const body = `Pagamento con carta **** ${last4} presso Sigillo Demo Shop: 45,00 EUR`;
    await s.until(async () => (await notifications()).includes(body), 'the card payment notification');

    // A click on it opens the approval, which shows card, merchant and amount.
    await app.auth();
    execFileSync('dunstctl', ['action', '0']);
    const item = await s.until(async () => {
      for (const el of await s.findAll('[data-testid="pending-item"]')) if ((await el.text()).includes('Sigillo Demo Shop')) return el;
      return null;
    }, 'the card payment among the pending');
    const shown = await item.text();
    assert.ok(shown.includes(last4) && /45[,.]00/.test(shown), shown);
    await app.screenshot('pending-card-payment');
    await s.type('[data-testid="approve-pin"]', PIN);
    await s.click('[data-testid="approve-button"]');
    await s.until(async () => /approv|autorizz|confermat/i.test(await s.text('[data-testid="approval-result"]')), 'approval result');
    // (The click itself closed its notification.)

    // The challenge page saw it and sent the buyer back to the shop: authenticated.
    await app.bank();
    const outcome = await s.find('[data-testid="shop-outcome"]', 20_000);
    assert.equal(await outcome.attr('data-trans-status'), 'Y');
    await app.screenshot('shop-paid');
  } finally {
    await app.stop();
  }
});

test('change the PIN, log in with a code made with the new one, reject a transfer, activate a second app from the DEVICE QR', async () => {
  const app = await launch('profile', { SIGILLO_DATA_DIR: path.join(scratch, 'profile') });
  const s = app.session;
  const NEW_PIN = '13579';
  try {
    const info = await activate(app);
    // The bank checks a code made with the old PIN before the new one is set.
    await s.click('[data-testid="nav-profiles"]');
    await s.find('[data-testid="profile-item"]');
    await s.type('[data-testid="pin-old"]', PIN);
    await s.type('[data-testid="pin-new"]', NEW_PIN);
    await s.type('[data-testid="pin-new2"]', NEW_PIN);
    await s.click('[data-testid="pin-change-submit"]');
    await s.until(async () => (await s.text('[data-testid="pin-change-result"]')).length > 0, 'the PIN change result');
    await app.screenshot('pin-changed');
    await s.click('[data-testid="nav-codes"]');
    await s.type('[data-testid="code-pin"]', NEW_PIN);
    await s.click('[data-testid="code-login-btn"]');
    const code = await s.until(async () => (await (await s.find('[data-testid="code-value"]')).attr('data-code')) || null, 'a LOGIN code');

    // Area Clienti takes it: the new PIN is the one the bank knows.
    await app.bank();
    await s.type('#user', info.demo.userCode);
    await s.type('#password', info.demo.password);
    await s.click('form button[type="submit"]');
    await s.type('#login-code', code);
    await s.click('form:has(#login-code) button[type="submit"]');
    const before = await balance(s);

    // The customer switches the authenticator to English: the notifications follow.
    await app.auth();
    await s.click('[data-testid="lang-en"]');
    await app.bank();
    // "Non sono io": the transfer pushed to the authenticator is rejected; no money moves.
    await transfer(s, 'Truffatore', '99,00');
    await s.until(async () => (await notifications()).includes('99.00 EUR to Truffatore — check the details'), 'the notification in English');
    await app.auth();
    await s.click('[data-testid="nav-pending"]');
    await s.until(async () => {
      for (const el of await s.findAll('[data-testid="pending-item"]')) if ((await el.text()).includes('Truffatore')) return true;
      return false;
    }, 'the transfer among the pending');
    await s.click('[data-testid="reject-button"]');
    await app.screenshot('rejected');
    await app.bank();
    await s.until(async () => (await (await s.find('[data-testid="op-status"]')).attr('data-status')) === 'rejected', 'rejected on the page');
    await s.until(() => withdrawn('Truffatore'), 'the notification of the rejected transfer withdrawn');
    await s.execute(`location.hash = '#/home'`);
    await s.until(async () => (await balance(s)) === before, 'the balance unchanged');

    // No webcam on this machine: the scanner says so, and reads the QR code from an image file.
    const fileOpId = await transfer(s, 'Carla Neri', '5,00');
    const image = path.join(scratch, 'transfer-qr.png');
    fs.writeFileSync(image, await qrPng(s, fileOpId));
    await app.auth();
    await s.click('[data-testid="nav-scan"]');
    await s.find('[data-testid="no-camera"]');
    await (await s.find('[data-testid="scan-file"]')).type(image);
    const fromFile = await s.text('[data-testid="scan-fields"]', 20_000);
    assert.ok(fromFile.includes('Carla Neri'), fromFile);
    await app.screenshot('scan-from-file');
    // The same image dropped on the drop zone (the DOM events a drop from the file manager
    // makes; the app leaves drops to the page).
    await s.click('[data-testid="scan-again"]');
    await s.find('[data-testid="scan-drop"]');
    await s.execute(
      `const bytes = Uint8Array.from(atob(arguments[0]), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'bonifico.png', { type: 'image/png' }));
      const zone = document.querySelector('[data-testid="scan-drop"]');
      for (const type of ['dragenter', 'dragover', 'drop']) zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));`,
      [fs.readFileSync(image).toString('base64')],
    );
    const fromDrop = await s.text('[data-testid="scan-fields"]', 20_000);
    assert.ok(fromDrop.includes('Carla Neri'), fromDrop);

    // Another device: the DEVICE operation is approved here with the PIN, then the QR is shown.
    await app.auth();
    await s.click('[data-testid="nav-profiles"]');
    await s.click('[data-testid="device-qr-start"]');
    await s.find('[data-testid="device-qr-fields"]', 20_000);
    await s.type('[data-testid="device-qr-pin"]', NEW_PIN);
    await s.click('[data-testid="device-qr-approve"]');
    await s.find('[data-testid="device-qr-img"]', 20_000);
    const deviceQr = await s.text('[data-testid="device-qr-text"]');
    assert.match(deviceQr, /^SCA1-ACTIVATE:[A-Za-z0-9_-]{22}$/);
    await app.screenshot('device-qr');

    // The second device: another app, a client of this one's bank, activated from that QR (pasted,
    // as a customer does who has no camera), then logging in to Area Clienti with its own code.
    const second = await launch('second', { SIGILLO_DATA_DIR: path.join(scratch, 'second'), SIGILLO_SERVER: info.serverUrl });
    const b = second.session;
    try {
      await second.auth();
      assert.equal((await invoke(b, 'app_info')).mode, 'remote');
      await b.click('[data-testid="activate-method-qr"]');
      assert.equal(await (await b.find('[data-testid="activate-server"]')).prop('value'), info.serverUrl);
      await b.type('[data-testid="activate-qr-text"]', deviceQr);
      await b.type('[data-testid="activate-user"]', info.demo.userCode);
      await b.type('[data-testid="activate-pin"]', PIN);
      await b.type('[data-testid="activate-pin2"]', PIN);
      await second.screenshot('activation-from-qr');
      await b.click('[data-testid="activate-finish"]');
      await b.find('[data-testid="nav-pending"]', 20_000);
      const [profile] = await invoke(b, 'profiles_list');
      assert.equal(profile.user, info.demo.userCode);
      await b.click('[data-testid="nav-codes"]');
      await b.type('[data-testid="code-pin"]', PIN);
      await b.click('[data-testid="code-login-btn"]');
      const secondCode = await b.until(async () => (await (await b.find('[data-testid="code-value"]')).attr('data-code')) || null, 'a LOGIN code on the second app');
      await second.bank();
      await b.type('#user', info.demo.userCode);
      await b.type('#password', info.demo.password);
      await b.click('form button[type="submit"]');
      await b.type('#login-code', secondCode);
      await b.click('form:has(#login-code) button[type="submit"]');
      // The same account, seen from the second app: the transfer read from the image was not authorized.
      assert.equal(await balance(b), before);
      await second.screenshot('second-device-logged-in');
    } finally {
      await second.quit();
    }
  } finally {
    await app.quit();
  }
  // The transfer read from the image was still waiting when the apps closed: its notifications
  // (payee, amount; one from each app) went with them.
  for (let i = 0; i < 50 && !(await withdrawn('Carla Neri')); i++) await sleep(100);
  assert.ok(await withdrawn('Carla Neri'), 'a notification outlived the app');
});

/** The processes of the launch `launch` whose program's path holds `name`. */
function processesWith(launch, name) {
  const found = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0].includes(name)) continue;
      const env = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      if (env.includes(`SIGILLO_TEST_LAUNCH=${launch}`)) found.push({ pid: Number(pid), env });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** The app's own process (not its WebKit helpers). */
function appPids(launch) {
  return processesWith(launch, path.basename(APP)).map((p) => p.pid);
}

/** Gone, or a zombie waiting for its parent. */
function exited(pid) {
  try {
    return /^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}

/** The environments of the WebKit web processes of the launch `launch`. */
function webProcessEnvs(launch) {
  return processesWith(launch, 'WebKitWebProcess').map((p) => p.env);
}

test('the banking window cannot reach any authenticator command; both web processes run without JIT', async () => {
  const dataDir = path.join(scratch, 'ipc');
  const app = await launch('ipc', { SIGILLO_DATA_DIR: dataDir });
  const s = app.session;
  try {
    await app.auth();
    // The authenticator window may.
    assert.ok(Array.isArray(await invoke(s, 'profiles_list')));
    // A language the app does not speak is refused, naming the field.
    await assert.rejects(invoke(s, 'language_set', { lang: 'fr' }), /"code":"invalid_input".*"field":"lang"|"field":"lang".*"code":"invalid_input"/);
    await app.bank();
    // One web process per window, each with the hardening the app re-executed itself with.
    let envs = webProcessEnvs('ipc');
    for (let i = 0; i < 50 && envs.length < 2; i++) {
      await sleep(100);
      envs = webProcessEnvs('ipc');
    }
    assert.equal(envs.length, 2, 'one web process per window');
    for (const env of envs) {
      for (const v of ['JSC_useJIT=0', 'WEBKIT_DISABLE_COMPOSITING_MODE=1', 'MALLOC_MMAP_THRESHOLD_=1048576']) {
        assert.ok(env.includes(v), `web process without ${v}`);
      }
    }
    const tries = await s.executeAsync(`
      const done = arguments[arguments.length - 1];
      const i = window.__TAURI_INTERNALS__;
      if (!i || typeof i.invoke !== 'function') { done({ internals: false }); return; }
      const commands = ${JSON.stringify(['profiles_list', 'app_info', 'time_code', 'approve', 'demo_outbox', 'plugin:event|listen'])};
      Promise.all(commands.map((c) => i.invoke(c, { profileId: 'x', pin: '13579', kind: 'login', payload: '', event: 'push:pending', target: { kind: 'Any' }, handler: 0 })
        .then((v) => ({ c, ok: true, v }), (e) => ({ c, ok: false, e: String(e) }))))
        .then((r) => done({ internals: true, r }));`);
    if (tries.internals) {
      for (const t of tries.r) {
        assert.equal(t.ok, false, `${t.c} answered the banking window: ${JSON.stringify(t.v)}`);
        assert.match(t.e, /not allowed|not found|denied/i, `${t.c}: ${t.e}`);
      }
    }
    await app.screenshot('bank-no-ipc');
  } finally {
    await app.stop();
  }
});

test('kiosk mode keeps nothing on disk, nor a notification on screen, after a session', async () => {
  const home = path.join(scratch, 'kiosk-home');
  const tmp = path.join(scratch, 'kiosk-tmp');
  for (const d of [home, tmp]) fs.mkdirSync(d, { recursive: true });
  const app = await launch('kiosk', {
    SIGILLO_KIOSK: '1',
    SIGILLO_KIOSK_IDLE: '20',
    HOME: home,
    XDG_DATA_HOME: path.join(home, '.local/share'),
    XDG_CONFIG_HOME: path.join(home, '.config'),
    // WebKitWebDriver itself (GLib) writes dconf's cache: that is the test rig, not the app,
    // which points XDG_CACHE_HOME into its scratch folder on its own.
    XDG_CACHE_HOME: path.join(scratch, 'driver-cache'),
    TMPDIR: tmp,
  });
  const s = app.session;
  let ended;
  try {
    const info = await activate(app);
    assert.equal((await invoke(s, 'app_info')).kiosk, true);
    await s.find('[data-testid="kiosk-badge"]');
    // A code works, from memory only.
    await s.click('[data-testid="nav-codes"]');
    await s.type('[data-testid="code-pin"]', PIN);
    await s.click('[data-testid="code-login-btn"]');
    const code = await s.until(async () => (await (await s.find('[data-testid="code-value"]')).attr('data-code')) || null, 'a LOGIN code');
    assert.match(code, /^\d{6}$/);
    await app.screenshot('kiosk-code');
    // A login started in Area Clienti pushes a notification; on a shared screen it names no
    // user code.
    await app.bank();
    await s.type('#user', info.demo.userCode);
    await s.type('#password', info.demo.password);
    await s.click('form button[type="submit"]');
    await s.text('[data-testid="login-number"]', 20_000);
    const pushText = 'Accesso ad Area Clienti: scrivi il numero';
    await s.until(async () => (await notifications()).includes(pushText), 'the kiosk login notification');
    // Its Notify call names no user code, and asks for normal urgency: a critical one never
    // expires, and would stay on the screen for the next customer.
    const calls = (await notifications()).split(/\n(?=\S)/).filter((m) => m.includes('member=Notify') && m.includes(pushText));
    assert.ok(calls.length > 0);
    for (const call of calls) {
      assert.ok(!call.includes(info.demo.userCode), `a kiosk notification names no user code: ${call}`);
      assert.match(call, /"urgency"\s*variant\s+byte 1\b/, 'a kiosk notification is of normal urgency');
    }
    // Ending the session forgets the profile, and takes the notification off the screen
    // before the next customer comes.
    await app.auth();
    await s.click('[data-testid="kiosk-end"]');
    await s.until(async () => (await invoke(s, 'profiles_list')).length === 0, 'profiles forgotten');
    await s.until(() => withdrawn(pushText), "the kiosk's notification withdrawn");
    await s.find('[data-testid="activate-user"]');
    await app.screenshot('kiosk-after-reset');
    // The next customer walks away after activating: with both windows idle for the kiosk's
    // idle time, the session is reset by itself and Area Clienti is back at its start page.
    await activate(app);
    await app.bank();
    await s.execute(`location.hash = '#/recovery/unblock'`);
    await app.auth();
    await s.until(async () => (await invoke(s, 'profiles_list')).length === 0, 'the idle reset', 60_000);
    await app.bank();
    await s.until(async () => !(await s.url()).includes('recovery'), 'Area Clienti back at its start page');
    await app.auth();
    await s.find('[data-testid="activate-user"]');
  } finally {
    // The branch's staff close the app (SIGTERM, as a session manager does): it ends the normal
    // way and deletes its scratch folder.
    ended = await app.quit();
  }
  assert.ok(ended, 'the app to exit on SIGTERM');
  await sleep(1000);
  const left = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else left.push(path.relative(scratch, p));
    }
  };
  walk(home);
  walk(tmp);
  assert.deepEqual(left, [], `kiosk mode left files behind: ${left.join(', ')}`);
});
