// The only module of the authenticator window that talks to the desktop app (Tauri IPC). Every
// command of src-tauri/src/commands/ has one function here, with the same names and shapes
// (Rust serializes camelCase); every failure becomes one `IpcError` with the app's stable
// `code`, the customer's `message`, and the `field` it is about. The banking window has no IPC
// at all: nothing in src/banking may import this module.
import { invoke as tauriInvoke } from '@tauri-apps/api/core';
import { listen as tauriListen, type UnlistenFn } from '@tauri-apps/api/event';

/** The app's error: `{code, message, field?, attemptsLeft?}` (src-tauri/src/error.rs). */
export class IpcError extends Error {
  readonly code: string;
  readonly field: string | null;
  readonly attemptsLeft: number | null;
  constructor(code: string, message: string, field: string | null = null, attemptsLeft: number | null = null) {
    super(message);
    this.name = 'IpcError';
    this.code = code;
    this.field = field;
    this.attemptsLeft = attemptsLeft;
  }
}

/** Turns whatever `invoke` rejected with into an `IpcError`. */
export function toIpcError(e: unknown): IpcError {
  if (e instanceof IpcError) return e;
  if (e && typeof e === 'object' && typeof (e as { code?: unknown }).code === 'string') {
    const o = e as { code: string; message?: unknown; field?: unknown; attemptsLeft?: unknown };
    return new IpcError(
      o.code,
      typeof o.message === 'string' ? o.message : o.code,
      typeof o.field === 'string' ? o.field : null,
      typeof o.attemptsLeft === 'number' ? o.attemptsLeft : null,
    );
  }
  // Tauri's own refusals (a command not allowed, a bad argument) come as plain strings.
  return new IpcError('ipc', typeof e === 'string' ? e : String(e));
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await tauriInvoke<T>(command, args);
  } catch (e) {
    throw toIpcError(e);
  }
}

export interface DemoInfo {
  userCode: string;
  alias: string;
  password: string;
  securityCode: string;
  phone: string;
  /** The acquired banks' customers the demo bank imported (issue 15); missing from older apps. */
  legacy?: LegacyDemo[];
}

/** A customer of an acquired bank in the demo, to try the first access from the login page. */
export interface LegacyDemo {
  /** The acquired bank's code (`ubi`). */
  bank: string;
  bankName: string;
  legacyCode: string;
  password: string;
  phone: string;
  /** How the customer authenticated at the old bank: an app, or a code card. */
  auth: 'app' | 'card';
}

/** The demo's legacy customers: none from an app older than them, and none half-described. */
export function demoLegacy(demo: DemoInfo | null | undefined): LegacyDemo[] {
  const list: unknown = demo?.legacy;
  if (!Array.isArray(list)) return [];
  return list.filter(
    (l): l is LegacyDemo =>
      !!l &&
      typeof l === 'object' &&
      ['bank', 'bankName', 'legacyCode', 'password', 'phone'].every((k) => typeof l[k] === 'string' && l[k] !== '') &&
      (l.auth === 'app' || l.auth === 'card'),
  );
}

export interface AppInfo {
  version: string;
  /** `demo`: the app started its own bank on loopback; `remote`: a client of `serverUrl`. */
  mode: 'demo' | 'remote';
  serverUrl: string;
  kiosk: boolean;
  /** The demo customer's credentials, in demo mode. */
  demo: DemoInfo | null;
}

export interface ProfileView {
  id: string;
  user: string;
  name: string;
  serverUrl: string;
  deviceId: string;
  main: boolean;
  createdAt: number;
}

/**
 * One field of the signed data: A amount, B payee (a pagoPA creditor), C card, D description,
 * F creditor fiscal code, I IBAN, M merchant, N pagoPA notice code, X date.
 */
export interface FieldView {
  key: string;
  value: string;
}

/** A payload the app has verified against the profile's bank key (docs/spec/sca1.md §6). */
export interface OperationView {
  opId: string;
  kind: 'TRANSFER' | 'LOGIN' | 'CARD_PAYMENT' | 'DEVICE' | 'GENERIC' | 'PAGOPA';
  fields: FieldView[];
  expires: number;
  /** The exact signed text: handed back to approve, reject and operation_code, which verify it again. */
  payload: string;
}

/** A bill read from a QR code, and the bank's page that pays it (opened in the banking window). */
export interface BillPage {
  kind: 'pagopa' | 'epc';
  /** The beneficiary (EPC), or the creditor's fiscal code (pagoPA). */
  payee: string;
  iban: string | null;
  noticeCode: string | null;
  amountCents: number | null;
  description: string | null;
  url: string;
}

/** What a QR code turned out to be: an operation of the profile's bank, or a bill. */
export type ReadView = { kind: 'operation'; operation: OperationView } | { kind: 'bill'; bill: BillPage; text: string };

/** One code read from the screen: an operation (with the profile that verified it) or a bill. */
export interface ScreenItem {
  profileId: string | null;
  read: ReadView;
}
/** The screen's codes the customer can go on with (never empty: none is an error). */
export interface ScreenView {
  codes: number;
  items: ScreenItem[];
}

/** An operation pushed by the bank and waiting for the customer. */
export interface PendingView {
  profileId: string;
  profileName: string;
  operation: OperationView;
  /** For a login: three numbers, one of them the one Area Clienti shows. */
  /** A login: the customer types the number Area Clienti shows (the bank never sends it). */
  needsNumber: boolean;
  receivedAt: number;
}

export interface TimeCode {
  code: string;
  secondsLeft: number;
  period: number;
}

export type Lookup = { online: true; operation: OperationView } | { online: false; reason: string };

export interface CameraView {
  index: number;
  name: string;
  description: string;
}

export interface OutboxMessage {
  to: string;
  channel: 'sms' | 'email';
  body: string;
  at: number;
}

export interface DeviceQr {
  qrText: string;
  /** The QR code as an SVG document. */
  qrSvg: string;
}

// Events from the app to this window.
export interface ConnectionEvent {
  profileId: string;
  online: boolean;
  reason: string | null;
}
export interface ResolvedEvent {
  profileId: string;
  opId: string;
  status: string;
}
export interface PreviewFrame {
  /** A small JPEG of the newest camera frame, as a data: URL. */
  dataUrl: string;
  width: number;
  height: number;
  seq: number;
}
export interface ScanRefused {
  code: string;
  message: string;
}
export interface ScanFinished {
  reason: 'stopped' | 'source_ended' | 'source_failed';
  message: string | null;
}
export interface OpenApproval {
  profileId: string;
  opId: string;
}

export const EVENTS = {
  pending: 'push:pending',
  resolved: 'push:resolved',
  connection: 'push:connection',
  scanPreview: 'scan:preview',
  scanOperation: 'scan:operation',
  scanBill: 'scan:bill',
  scanActivation: 'scan:activation',
  scanRefused: 'scan:refused',
  scanFinished: 'scan:finished',
  openApproval: 'nav:open-approval',
  kioskReset: 'kiosk:reset',
} as const;

export function on<T>(event: (typeof EVENTS)[keyof typeof EVENTS], handler: (payload: T) => void): Promise<UnlistenFn> {
  return tauriListen<T>(event, (e) => handler(e.payload));
}

/**
 * `on` for a component's or a store's lifetime: returns at once a function that stops listening,
 * which works even before Tauri has finished registering the listener (and does nothing outside
 * Tauri, where `listen` fails).
 */
export function subscribe<T>(event: (typeof EVENTS)[keyof typeof EVENTS], handler: (payload: T) => void): () => void {
  let unlisten: UnlistenFn | null = null;
  let stopped = false;
  on<T>(event, handler).then(
    (u) => {
      if (stopped) u();
      else unlisten = u;
    },
    () => {},
  );
  return () => {
    stopped = true;
    unlisten?.();
    unlisten = null;
  };
}

export const ipc = {
  appInfo: () => call<AppInfo>('app_info'),

  profilesList: () => call<ProfileView[]>('profiles_list'),
  profileSetMain: (profileId: string) => call<void>('profile_set_main', { profileId }),
  /** `localOnly`: forget the keys here only (the bank is unreachable or already removed the device). */
  profileRemove: (profileId: string, localOnly: boolean) => call<void>('profile_remove', { profileId, localOnly }),

  /** First device, step 1: the bank sends an SMS OTP. `serverUrl` null: the app's bank. */
  activationStart: (serverUrl: string | null, user: string, password: string) =>
    call<{ pendingId: string }>('activation_start', { serverUrl, user, password }),
  activationFinish: (pendingId: string, smsOtp: string, pin: string, pinConfirm: string, deviceName: string) =>
    call<ProfileView>('activation_finish', { pendingId, smsOtp, pin, pinConfirm, deviceName }),
  /** A second device from the `SCA1-ACTIVATE:` QR code an active device shows. */
  activationFromQr: (serverUrl: string | null, qrText: string, user: string, pin: string, pinConfirm: string, deviceName: string) =>
    call<ProfileView>('activation_from_qr', { serverUrl, qrText, user, pin, pinConfirm, deviceName }),
  /** The bank must accept a code made with the old PIN first. */
  pinChange: (profileId: string, oldPin: string, newPin: string, newPinConfirm: string) =>
    call<void>('pin_change', { profileId, oldPin, newPin, newPinConfirm }),

  timeCode: (profileId: string, pin: string, kind: 'login' | 'transaction') =>
    call<TimeCode>('time_code', { profileId, pin, kind }),

  /** Verifies pasted or scanned payload text against the profile's bank key; a bill's text opens its page. */
  payloadVerify: (profileId: string, text: string) => call<ReadView>('payload_verify', { profileId, text }),
  /** Reads a QR code from an image file (opened or dropped), base64 of its bytes; a bill opens its page. */
  imageScan: (profileId: string, imageBase64: string) => call<ReadView>('image_scan', { profileId, imageBase64 }),
  /** Opens a bill's payment page in the banking window (a bill picked among the codes on the screen). */
  billOpen: (text: string) => call<BillPage>('bill_open', { text }),
  /** Captures the screen and reads every QR code on it; a bill alone opens its page. */
  screenRead: () => call<ScreenView>('screen_read'),

  /** Checks a typed identifier: length, digits, check digit (error field `op_id`). */
  opIdParse: (text: string) => call<{ opId: string }>('op_id_parse', { text }),
  /** Online: the signed payload of the identifier, verified; offline: why not. */
  opIdLookup: (profileId: string, opId: string) => call<Lookup>('op_id_lookup', { profileId, opId }),
  /** OPERATION code for a verified payload (offline, dynamic linking). */
  operationCode: (profileId: string, payload: string, pin: string) =>
    call<{ code: string }>('operation_code', { profileId, payload, pin }),
  /** OPERATION_ID code for a typed identifier (offline). */
  opIdCode: (profileId: string, opId: string, pin: string) => call<{ code: string }>('op_id_code', { profileId, opId, pin }),

  /** `number`: as the customer typed it (a login's number matching); the app checks it. */
  approve: (profileId: string, payload: string, pin: string, number: string | null) =>
    call<{ status: string }>('approve', { profileId, payload, pin, number }),
  reject: (profileId: string, payload: string) => call<{ status: string }>('reject', { profileId, payload }),
  pendingList: () => call<PendingView[]>('pending_list'),

  camerasList: () => call<CameraView[]>('cameras_list'),
  /** Starts the webcam (or the configured frame source); results come as `scan:*` events. */
  scanStart: (profileId: string | null, camera: number | null) => call<{ source: string }>('scan_start', { profileId, camera }),
  scanStop: () => call<void>('scan_stop'),

  /** From an active profile: the DEVICE operation to approve before the QR for a new device is shown. */
  deviceQrStart: (profileId: string) => call<OperationView>('device_qr_start', { profileId }),
  deviceQrApprove: (profileId: string, pin: string) => call<DeviceQr>('device_qr_approve', { profileId, pin }),

  /** Demo mode: the simulated phone's messages (the embedded bank's outbox). */
  demoOutbox: () => call<OutboxMessage[]>('demo_outbox'),
  /** Kiosk mode: the customer is still here (keeps the idle reset away). */
  kioskActivity: () => call<void>('kiosk_activity'),
  /** Kiosk mode: end the session now (forget every profile, reset both windows). */
  kioskEndSession: () => call<void>('kiosk_end_session'),
  connectionStatus: () => call<ConnectionEvent[]>('connection_status'),
  /** The language picked in this window, which the desktop notifications follow. */
  languageSet: (lang: 'it' | 'en') => call<void>('language_set', { lang }),
};
