import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { devTokenEndpoint } from './src/dev-server/token-endpoint.ts';

const port = Number(process.env.STOREFRONT_PORT ?? 5173);

export default defineConfig({
  plugins: [react(), devTokenEndpoint()],
  server: { host: '127.0.0.1', port, strictPort: true },
  preview: { host: '127.0.0.1', port, strictPort: true },
  build: { outDir: 'dist', sourcemap: true },
});
