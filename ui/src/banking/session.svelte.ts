// The web-banking session as the page knows it: anonymous, waiting for SCA, or authenticated.
// The server holds the truth (HttpOnly cookie, 5 minutes idle); the page keeps only what it needs
// to go on after a reload — the phase, the pending login, the CSRF token and the customer's SCA
// policy — in sessionStorage, which the browser drops with the tab, and which logout clears.
import { api, scaPolicyOf, setCsrfToken, setHooks, type ApiError, type LoginStarted, type ScaPolicy } from '../lib/api';
import { IdleTimer, idleSettings } from '../lib/idle';
import { navigate } from '../lib/router.svelte';
import { forgetAllCardActions } from './cardActions';
import { forgetDestination, rememberDestination, takeDestination } from './returnTo';

export type Phase = 'anonymous' | 'sca' | 'authenticated';
export type Notice = '' | 'logged_out' | 'idle' | 'ended';

interface Saved {
  phase: Phase;
  login: LoginStarted | null;
  passwordChangeRequired: boolean;
  /**
   * How this customer does SCA, from the login answer: `sms` customers get the SMS code first at
   * login and when authorizing. A session saved before the policy existed reads as `push`.
   */
  scaPolicy: ScaPolicy;
}

const STORAGE_KEY = 'sigillo.session';

function load(): Saved {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (raw) {
      const s = JSON.parse(raw) as Partial<Saved>;
      if (s && (s.phase === 'sca' || s.phase === 'authenticated') && s.login?.csrf_token) {
        setCsrfToken(s.login.csrf_token);
        return {
          phase: s.phase,
          login: s.login,
          passwordChangeRequired: !!s.passwordChangeRequired,
          scaPolicy: scaPolicyOf(s.scaPolicy ?? s.login.sca_policy),
        };
      }
    }
  } catch {
    /* storage disabled or garbage: start anonymous */
  }
  return { phase: 'anonymous', login: null, passwordChangeRequired: false, scaPolicy: 'push' };
}

export const session = $state<Saved & { notice: Notice; idleWarning: boolean }>({
  ...load(),
  notice: '',
  idleWarning: false,
});

function save(): void {
  try {
    if (session.phase === 'anonymous') {
      sessionStorage.removeItem(STORAGE_KEY);
    } else {
      const saved: Saved = {
        phase: session.phase,
        login: session.login,
        passwordChangeRequired: session.passwordChangeRequired,
        scaPolicy: session.scaPolicy,
      };
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify(saved));
    }
  } catch {
    /* storage disabled: the session lives until reload */
  }
}

function storedIdle(): string | null {
  try {
    return localStorage.getItem('sigillo.sessionIdle');
  } catch {
    return null;
  }
}

export const idleConfig = idleSettings(storedIdle());

export const idle = new IdleTimer({
  ...idleConfig,
  onWarn: () => {
    session.idleWarning = true;
  },
  onResume: () => {
    session.idleWarning = false;
  },
  onExpire: () => {
    session.idleWarning = false;
    void api.logout().catch(() => {});
    end('idle');
  },
  keepalive: () => {
    void api.accounts().catch(() => {});
  },
});

setHooks({
  onServerTouch: () => idle.touched(),
  onSessionEnded: (e: ApiError) => {
    if (session.phase !== 'anonymous') end(e.code === 'session_expired' ? 'idle' : 'ended');
  },
  onPasswordChangeRequired: () => {
    if (session.phase !== 'authenticated' || session.passwordChangeRequired) return;
    session.passwordChangeRequired = true;
    save();
    navigate('#/security');
  },
});

if (session.phase === 'authenticated') idle.start();

/** The password step passed: SCA is pending. */
export function beginSca(login: LoginStarted): void {
  setCsrfToken(login.csrf_token);
  session.login = login;
  session.phase = 'sca';
  session.notice = '';
  session.passwordChangeRequired = !!login.password_change_required;
  session.scaPolicy = scaPolicyOf(login.sca_policy);
  save();
}

/**
 * SCA completed: to the page a link opened before the login (a scanned bill's, returnTo.ts), or
 * home. A password the bank issued is changed first, and the destination is dropped.
 */
export function authenticated(): void {
  session.phase = 'authenticated';
  save();
  idle.start();
  const destination = takeDestination();
  navigate(session.passwordChangeRequired ? '#/security' : destination ?? '#/home');
}

/** When the current page's address last changed (a link opened into the window, or a click). */
let pageArrivedAt = Date.now();
const JUST_ARRIVED_MS = 15_000;
window.addEventListener('hashchange', () => {
  pageArrivedAt = Date.now();
});

/**
 * The session is over, for `notice`'s reason; back to the login page. Unless the customer logged
 * out, a prefilled transfer or pagoPA page that has just arrived (a link with a query, from the
 * desktop authenticator into a window whose session had ended meanwhile) is where the next login
 * leads back to.
 */
export function end(notice: Notice): void {
  // Only a page that has just arrived (a link the authenticator opened into a window whose
  // session had ended meanwhile): a prefilled page left open until the session timed out is
  // not handed to whoever logs in next (a kiosk, a shared computer).
  const justArrived = Date.now() - pageArrivedAt < JUST_ARRIVED_MS;
  if (notice !== 'logged_out' && justArrived && location.hash.includes('?')) rememberDestination(location.hash);
  idle.stop();
  setCsrfToken(null);
  session.phase = 'anonymous';
  session.login = null;
  session.passwordChangeRequired = false;
  session.scaPolicy = 'push';
  session.idleWarning = false;
  session.notice = notice;
  save();
  forgetAllCardActions();
  navigate('#/login');
}

export async function logout(): Promise<void> {
  try {
    await api.logout();
  } catch {
    /* the session may be gone already: the page forgets it either way */
  }
  forgetDestination();
  end('logged_out');
}

export function passwordChanged(): void {
  session.passwordChangeRequired = false;
  save();
}

/** Page activity (keys, pointer) counts as the customer being there. */
export function activity(): void {
  idle.activity();
}
