// The e2e harness: a real `sca-server --demo` on a free loopback port with a throwaway data dir,
// the customer's authenticator played by the `sigillo-auth` CLI, Debian's Chromium driven by
// playwright-core, screenshots and axe-core reports under artifacts/e2e/.
//
// The server serves ui/dist itself (SCA_UI_DIR). If the running build does not (the static route
// is not in sca-server yet), a small same-origin proxy serves ui/dist and forwards every other
// request to the server — and says so on stderr, so nobody mistakes one for the other.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../..');
export const UI_DIST = path.join(ROOT, 'ui/dist');
export const ARTIFACTS = path.join(ROOT, 'artifacts/e2e');
const TARGET = process.env.CARGO_TARGET_DIR ? path.resolve(process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target');
export const SERVER_BIN = process.env.SCA_SERVER_BIN ?? path.join(TARGET, 'debug/sca-server');
export const AUTH_BIN = process.env.SIGILLO_AUTH_BIN ?? path.join(TARGET, 'debug/sigillo-auth');
export const PIN = '24680';
const require = createRequire(import.meta.url);

export { sleep, freePort, until } from '../support.mjs';
import { freePort, sleep, until } from '../support.mjs';

// ------------------------------------------------------------------------------------------
// sca-server

export class Server {
  /** @param {{ name: string, env?: Record<string,string> }} opts */
  static async start({ name, env = {} }) {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const s = new Server();
    s.name = name;
    s.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `sigillo-e2e-${name}-`));
    s.port = await freePort();
    s.api = `http://127.0.0.1:${s.port}`;
    s.log = fs.createWriteStream(path.join(ARTIFACTS, `server-${name}.log`));
    s.proc = spawn(SERVER_BIN, ['--listen', `127.0.0.1:${s.port}`, '--data-dir', s.dataDir, '--demo'], {
      env: { ...process.env, SCA_UI_DIR: UI_DIST, RUST_LOG: 'info,sqlx=warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    s.proc.stdout.pipe(s.log);
    s.proc.stderr.pipe(s.log);
    let out = '';
    s.proc.stdout.on('data', (d) => (out += d));
    await until(() => out.includes('listening on'), 30_000, `sca-server ${name} to listen`);
    s.creds = JSON.parse(fs.readFileSync(path.join(s.dataDir, 'demo-credentials.json'), 'utf8'));
    // Does the server serve the pages itself?
    const res = await fetch(`${s.api}/`);
    const body = await res.text();
    s.servesUi = res.ok && (res.headers.get('content-type') ?? '').includes('text/html') && body.includes('id="app"');
    if (s.servesUi) {
      s.base = s.api;
    } else {
      s.proxy = await startUiProxy(s.api);
      s.base = s.proxy.url;
      console.error(
        `[e2e] sca-server does not serve ui/dist at / (GET / → ${res.status}); using the test proxy ${s.base} (ui/dist + API forwarded)`,
      );
    }
    return s;
  }

  /** Messages sent to `to` (newest first). */
  async outbox(to = this.creds.phone) {
    const res = await fetch(`${this.api}/dev/outbox?to=${encodeURIComponent(to)}`);
    if (!res.ok) throw new Error(`outbox: ${res.status}`);
    return res.json();
  }

  /** Waits for a message newer than the `before` count and returns its 6-digit code. */
  async nextOtp(before, to = this.creds.phone) {
    const msg = await until(async () => {
      const list = await this.outbox(to);
      // Newest first: among the messages that came after `before`, the newest with a code (an
      // alert, for example "blocked", may arrive at the same time and carries none).
      return list.slice(0, Math.max(0, list.length - before)).find((m) => /\b\d{6}\b/.test(m.body)) ?? null;
    }, 10_000, 'an SMS with a code');
    return /\b(\d{6})\b/.exec(msg.body)[1];
  }

  async outboxCount(to = this.creds.phone) {
    return (await this.outbox(to)).length;
  }

  async stop() {
    this.proxy?.close();
    if (this.proc.exitCode === null) {
      this.proc.kill('SIGTERM');
      await Promise.race([once(this.proc, 'exit'), sleep(5000)]);
      if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
    }
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

/**
 * Until sca-server serves ui/dist: the pages from disk with the strict CSP the brief asks for,
 * and every other path forwarded to the server unchanged (streams included).
 */
async function startUiProxy(target) {
  const port = await freePort();
  const t = new URL(target);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const isApi = url.pathname.startsWith('/api/') || url.pathname.startsWith('/dev/');
    if (!isApi && (req.method === 'GET' || req.method === 'HEAD')) {
      const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '');
      const file = path.resolve(UI_DIST, rel);
      if (file.startsWith(UI_DIST + path.sep) && fs.existsSync(file) && fs.statSync(file).isFile()) {
        res.writeHead(200, {
          'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
          'content-security-policy': "default-src 'self'; frame-ancestors 'none'",
          'x-content-type-options': 'nosniff',
          'cache-control': 'no-store',
        });
        if (req.method === 'HEAD') return res.end();
        return fs.createReadStream(file).pipe(res);
      }
    }
    const fwd = http.request(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: { ...req.headers, host: t.host } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    fwd.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(fwd);
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections?.();
      server.close();
    },
  };
}

// ------------------------------------------------------------------------------------------
// sigillo-auth: the customer's authenticator

export class Authenticator {
  constructor(name) {
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `sigillo-e2e-auth-${name}-`));
  }

  /** Runs `sigillo-auth --data-dir D --pin-stdin ...args`, feeding `lines` on stdin. */
  run(args, lines = [], { timeoutMs = 20_000 } = {}) {
    return new Promise((resolve, reject) => {
      const p = spawn(AUTH_BIN, ['--data-dir', this.dataDir, '--pin-stdin', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => {
        p.kill('SIGKILL');
        reject(new Error(`sigillo-auth ${args.join(' ')}: timed out\n${stderr}`));
      }, timeoutMs);
      p.on('error', reject);
      p.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
      if (typeof lines === 'function') {
        lines(p.stdin).catch((e) => {
          p.kill('SIGKILL');
          reject(e);
        });
      } else {
        p.stdin.end(lines.map((l) => `${l}\n`).join(''));
      }
    });
  }

  async ok(args, lines = []) {
    const r = await this.run(args, lines);
    if (r.code !== 0) throw new Error(`sigillo-auth ${args.join(' ')} → exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  /**
   * First device: password, then the SMS code read from the sandbox outbox, then the PIN twice.
   * `who` is the demo customer unless given (`{ user, password, phone }`).
   */
  async activate(server, who = { user: server.creds.user_code, password: server.creds.password, phone: server.creds.phone }) {
    const before = await server.outboxCount(who.phone);
    const r = await this.run(['activate', '--server', server.api, '--user', who.user, '--name', 'Sigillo CLI'], async (stdin) => {
      stdin.write(`${who.password}\n`);
      const otp = await server.nextOtp(before, who.phone);
      stdin.end(`${otp}\n${PIN}\n${PIN}\n`);
    });
    if (r.code !== 0) throw new Error(`activate → exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  /** The last line of output that is exactly 6 digits. */
  static code(stdout) {
    const m = stdout.trim().split('\n').reverse().find((l) => /^\d{6}$/.test(l.trim()));
    if (!m) throw new Error(`no code in: ${stdout}`);
    return m.trim();
  }

  cleanup() {
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------------------
// Chromium

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchBrowser() {
  // playwright-core gives every launch a fresh temporary profile (its own --user-data-dir).
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_FLAGS,
  });
}

/** A page that records console errors and CSP violations. */
export async function newPage(browser, { width = 1280, height = 800, locale = 'it-IT' } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, locale });
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') page.problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  return page;
}

let shotIndex = 0;
/** Saves a full-page screenshot as artifacts/e2e/NN-name.png. */
export async function shot(page, name) {
  shotIndex += 1;
  const file = path.join(ARTIFACTS, `${String(shotIndex).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core in the page (evaluated through the DevTools protocol, so the page's CSP stays
 * strict) and returns the serious and critical violations. The full report goes to artifacts.
 */
export async function axe(page, name) {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5),
    }));
  });
  fs.writeFileSync(path.join(ARTIFACTS, `axe-${name}.json`), JSON.stringify(result, null, 2));
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
