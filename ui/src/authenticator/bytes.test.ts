import { describe, expect, it } from 'vitest';
import { bytesToBase64, isImageType } from './bytes';

describe('bytesToBase64', () => {
  it('encodes like standard base64', () => {
    expect(bytesToBase64(new Uint8Array([]))).toBe('');
    expect(bytesToBase64(new TextEncoder().encode('Sigillo'))).toBe('U2lnaWxsbw==');
    expect(bytesToBase64(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0xff, 0x00]))).toBe('iVBOR/8A');
  });

  it('handles large files', () => {
    const big = new Uint8Array(200_000).map((_, i) => i % 256);
    expect(bytesToBase64(big)).toBe(Buffer.from(big).toString('base64'));
  });

  it('accepts PNG and JPEG only', () => {
    expect(isImageType('image/png')).toBe(true);
    expect(isImageType('image/jpeg')).toBe(true);
    expect(isImageType('image/gif')).toBe(false);
    expect(isImageType('')).toBe(false);
  });
});
