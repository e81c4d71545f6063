import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

export default {
  preprocess: vitePreprocess(),
  compilerOptions: {
    // Styles go to a .css file in the build, never into inline <style> tags (strict CSP).
    css: 'external',
  },
};
