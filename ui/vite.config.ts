import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The dev server forwards the API (and the sandbox outbox) to a running sca-server, so the pages
// are same-origin in development exactly as when sca-server serves ui/dist itself.
const server = process.env.SCA_SERVER ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [svelte()],
  // Relative asset URLs: the pages work wherever the server mounts ui/dist.
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No asset is inlined as a data: URL, so a strict CSP (default-src 'self') needs no exception.
    assetsInlineLimit: 0,
    rollupOptions: {
      input: {
        banking: 'index.html',
        authenticator: 'authenticator.html',
        // 3-D Secure: the bank's challenge page and the sandbox's demo shop (a merchant).
        challenge: 'challenge.html',
        shop: 'shop.html',
      },
      // The code the pages share (Svelte's runtime, src/lib) gets a name that says so.
      output: {
        chunkFileNames: 'assets/shared-[hash].js',
        assetFileNames: (asset) =>
          asset.names.some((n) => n.endsWith('.css')) ? 'assets/style-[hash][extname]' : 'assets/[name]-[hash][extname]',
      },
    },
  },
  server: {
    proxy: {
      '/api': { target: server, changeOrigin: false },
      '/dev': { target: server, changeOrigin: false },
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
