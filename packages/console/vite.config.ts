import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is served by core at `/`; in development `vite` proxies the API to a core
// on LEENGINE_CORE (default http://127.0.0.1:7070).
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1500 },
  server: {
    proxy: { '/api': process.env.LEENGINE_CORE ?? 'http://127.0.0.1:7070' },
  },
});
