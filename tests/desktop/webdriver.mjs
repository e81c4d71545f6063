// A small W3C WebDriver client for tauri-driver (which fronts WebKitWebDriver): just what the
// desktop tests use. tauri-driver drops connections now and then ("connection reset by peer"),
// so every request is retried on a network error — never on a WebDriver error answer.

import { sleep, until } from '../support.mjs';
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

export class WebDriverError extends Error {
  constructor(status, value) {
    super(`${value?.error ?? status}: ${value?.message ?? ''}`.trim());
    this.status = status;
    this.error = value?.error;
  }
}

async function request(base, method, path, body, { retries = 8 } = {}) {
  let last;
  for (let attempt = 0; attempt <= retries; attempt++) {
    try {
      const res = await fetch(base + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      const json = text ? JSON.parse(text) : {};
      if (!res.ok) throw new WebDriverError(res.status, json.value);
      return json.value;
    } catch (e) {
      if (e instanceof WebDriverError) throw e;
      last = e;
      await sleep(250 * (attempt + 1));
    }
  }
  throw new Error(`${method} ${path}: ${last?.cause?.code ?? last?.message}`);
}

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  static async create(base, capabilities, { timeout = 60_000 } = {}) {
    const end = performance.now() + timeout;
    let last;
    while (performance.now() < end) {
      try {
        const v = await request(base, 'POST', '/session', { capabilities: { alwaysMatch: capabilities } }, { retries: 2 });
        return new Session(base, v.sessionId);
      } catch (e) {
        last = e;
        await sleep(500);
      }
    }
    throw new Error(`no WebDriver session: ${last?.message}`);
  }

  cmd(method, path, body) {
    return request(this.base, method, `/session/${this.id}${path}`, body);
  }

  async delete() {
    try {
      await request(this.base, 'DELETE', `/session/${this.id}`, undefined, { retries: 1 });
    } catch {
      /* the app may already be gone */
    }
  }

  handles() {
    return this.cmd('GET', '/window/handles');
  }
  switchTo(handle) {
    return this.cmd('POST', '/window', { handle });
  }
  url() {
    return this.cmd('GET', '/url');
  }
  title() {
    return this.cmd('GET', '/title');
  }
  execute(script, args = []) {
    return this.cmd('POST', '/execute/sync', { script, args });
  }
  executeAsync(script, args = []) {
    return this.cmd('POST', '/execute/async', { script, args });
  }
  async screenshot() {
    return Buffer.from(await this.cmd('GET', '/screenshot'), 'base64');
  }

  /** Switches to the window whose URL satisfies `pred`, waiting for it to exist. */
  async window(pred, what, timeout = 30_000) {
    const end = performance.now() + timeout;
    while (performance.now() < end) {
      for (const h of await this.handles()) {
        await this.switchTo(h);
        const u = await this.url().catch(() => '');
        if (pred(u)) return h;
      }
      await sleep(300);
    }
    throw new Error(`no window ${what}`);
  }

  async find(css, timeout = 15_000) {
    const end = performance.now() + timeout;
    let last;
    while (performance.now() < end) {
      try {
        const v = await this.cmd('POST', '/element', { using: 'css selector', value: css });
        return new Element(this, v[ELEMENT]);
      } catch (e) {
        last = e;
        await sleep(200);
      }
    }
    throw new Error(`no element ${css}: ${last?.message}`);
  }

  async findAll(css) {
    const v = await this.cmd('POST', '/elements', { using: 'css selector', value: css });
    return v.map((e) => new Element(this, e[ELEMENT]));
  }

  /** Polls `fn` (async) until it returns a truthy value (20 s unless told). */
  until(fn, what, timeout = 20_000) {
    return until(fn, timeout, what);
  }

  /** Clicks the first visible element matching `css`. */
  async click(css, timeout) {
    const el = await this.find(css, timeout);
    await this.until(async () => (await el.enabled()) && (await el.displayed()), `${css} clickable`);
    await el.click();
    return el;
  }

  async type(css, text, timeout) {
    const el = await this.find(css, timeout);
    await el.clear().catch(() => {});
    await el.type(text);
    return el;
  }

  async text(css, timeout) {
    return (await this.find(css, timeout)).text();
  }
}

export class Element {
  constructor(session, id) {
    this.s = session;
    this.id = id;
  }
  click() {
    return this.s.cmd('POST', `/element/${this.id}/click`, {});
  }
  clear() {
    return this.s.cmd('POST', `/element/${this.id}/clear`, {});
  }
  type(text) {
    return this.s.cmd('POST', `/element/${this.id}/value`, { text, value: [...text] });
  }
  text() {
    return this.s.cmd('GET', `/element/${this.id}/text`);
  }
  attr(name) {
    return this.s.cmd('GET', `/element/${this.id}/attribute/${name}`);
  }
  /** A DOM property (an input's current `value`, not its attribute). */
  prop(name) {
    return this.s.cmd('GET', `/element/${this.id}/property/${name}`);
  }
  enabled() {
    return this.s.cmd('GET', `/element/${this.id}/enabled`);
  }
  displayed() {
    return this.s.cmd('GET', `/element/${this.id}/displayed`);
  }
}
