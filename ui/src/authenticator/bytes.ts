// An opened or dropped image, as the base64 text `image_scan` takes.

/** Standard base64 (with padding) of the bytes. */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  // In slices: String.fromCharCode with a whole photo's bytes as arguments overflows the stack.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Only PNG and JPEG are read (the app refuses anything else too). */
export function isImageType(type: string): boolean {
  return type === 'image/png' || type === 'image/jpeg';
}
