import { defineConfig } from 'vite';

// Served by the API under /ui/ (apps/api/src/routes/ui.ts); `npm run dev` proxies API calls to PORT.
const api = `http://127.0.0.1:${process.env.PORT ?? 3000}`;

export default defineConfig({
  base: '/ui/',
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  server: { proxy: { '^/(jobs|runs|modules|modularizations|artifacts|docs|healthz)': api } },
});
