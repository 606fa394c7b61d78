// Vite build of the dashboard (`npm run build` runs it through scripts/build.mjs; `npx vite --config web/vite.config.mts`
// serves it for development, proxying /api to the server on :3000). Output: dist/web/ (index.html + hashed
// assets/), beside the server's build, which src/http/routes/web-ui.ts serves at `/`.
// JSX: Vite 8's built-in Oxc transform with the automatic runtime (no @vitejs/plugin-react, so no fast refresh).
import { join } from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: join(import.meta.dirname, '..', 'dist', 'web'),
    emptyOutDir: true,
    // Hashed file names under assets/ get a year-long immutable cache from the server.
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 600,
    rolldownOptions: {
      // Mantine marks its modules "use client" (a React Server Components hint); meaningless in a client bundle.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  server: {
    proxy: { '/api': { target: process.env.API_ORIGIN ?? 'http://127.0.0.1:3000', changeOrigin: false } },
  },
});
