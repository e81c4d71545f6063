// A QR code as one SVG path: no inline style and no data: URL, so a strict CSP allows it.
import qrcode from 'qrcode-generator';

export interface QrPath {
  /** Side of the square, in modules, with a quiet zone of 4 on each side. */
  size: number;
  /** The dark modules. */
  d: string;
}

function latin1OfUtf8(text: string): string {
  return Array.from(new TextEncoder().encode(text), (b) => String.fromCharCode(b)).join('');
}

/** Error-correction level M, byte mode over the UTF-8 bytes, as the server's own QR codes. */
export function qrPath(text: string): QrPath {
  const qr = qrcode(0, 'M');
  qr.addData(latin1OfUtf8(text), 'Byte');
  qr.make();
  const n = qr.getModuleCount();
  const quiet = 4;
  let d = '';
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (qr.isDark(r, c)) d += `M${c + quiet} ${r + quiet}h1v1h-1z`;
    }
  }
  return { size: n + 2 * quiet, d };
}
