// 3-D Secure challenges that end without an approval, in Chromium against their own server:
// one whose 5 minutes run out (here 8 seconds, SCA_OPERATION_TTL) and the buyer is sent back to
// the shop with "not authenticated, timed out" (the main run checks that money moves only on
// approval).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Server, axe, launchBrowser, newPage, shot, until } from './harness.mjs';

let server;
let browser;
let page;

before(async () => {
  server = await Server.start({ name: 'threeds', env: { SCA_OPERATION_TTL: '8', SCA_EXEMPT_COUNT: '0' } });
  browser = await launchBrowser();
  page = await newPage(browser);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('an expired challenge sends the buyer back to the shop, not authenticated (14)', async () => {
  await page.goto(`${server.base}/shop.html`);
  await page.getByTestId('shop-usercode').fill(server.creds.user_code);
  await page.getByTestId('shop-fill').click();
  await page.getByTestId('shop-amount').fill('10,00');
  await page.getByTestId('shop-pay').click();
  await page.waitForURL(/\/challenge\.html#/, { timeout: 10_000 });
  const status = page.getByTestId('challenge-status');
  await status.waitFor();
  assert.equal(await status.getAttribute('data-status'), 'pending');
  assert.deepEqual(await axe(page, 'challenge-pending'), []);
  await until(async () => page.url().includes('/shop.html?'), 30_000, 'back at the shop after the expiry');
  const outcome = page.getByTestId('shop-outcome');
  await outcome.waitFor();
  assert.equal(await outcome.getAttribute('data-trans-status'), 'N');
  assert.equal(await page.getByTestId('shop-reason').getAttribute('data-reason'), '14');
  await shot(page, 'shop-expired');
  // The server says the same to the merchant.
  const id = new URL(page.url()).searchParams.get('acsTransID');
  const result = await (await fetch(`${server.api}/api/v1/acs/authentications/${id}`)).json();
  assert.equal(result.transStatus, 'N');
  assert.equal(result.transStatusReason, '14');

  // The challenge's link opened again, now that it is over, goes nowhere by itself: it names
  // where its link leads (an old link must not become a redirect from the bank's origin).
  await page.goto(`${server.base}/challenge.html#${id}`);
  const host = page.getByTestId('challenge-return-host');
  await host.waitFor();
  assert.ok((await host.textContent()).includes(new URL(server.base).host), await host.textContent());
  await new Promise((r) => setTimeout(r, 2500));
  assert.match(page.url(), /\/challenge\.html#/, 'the page sent the browser away by itself');
});
