/// <reference types="vitest/config" />
// Vite builds the UI into `ui/dist`, which the Tauri shell and the HTTP bridge both serve.
// The app runs under a strict CSP (no inline scripts, no eval, no remote content), so the
// build must not inline anything: no module-preload polyfill and no data: URIs for assets.
import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  // `npm run dev` against a running bridge: AWF_BRIDGE_ORIGIN=http://127.0.0.1:<port> npm run dev,
  // then open http://localhost:5173/#token=<token> (the token `awf bridge` printed).
  server: {
    port: 5173,
    strictPort: true,
    proxy: process.env.AWF_BRIDGE_ORIGIN
      ? { "/api": { target: process.env.AWF_BRIDGE_ORIGIN, changeOrigin: true } }
      : undefined,
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    sourcemap: false,
  },
  resolve: process.env.VITEST ? { conditions: ["browser"] } : undefined,
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
    setupFiles: ["src/test-setup.ts"],
    restoreMocks: true,
  },
});
