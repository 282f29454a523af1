// Build and test configuration for the web UI that Tauri serves from `ui/dist`.
// JSX goes through Vite's built-in esbuild transform: no React plugin is needed for a
// production build, and the app does not rely on Fast Refresh.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Tauri serves `ui/dist` from the root of its custom protocol, so absolute paths resolve.
  base: '/',
  clearScreen: false,
  esbuild: { jsx: 'automatic' },
  // The Tauri convention for `devUrl`; strict so that a busy port fails loudly instead of
  // silently serving on another one the desktop shell does not know about.
  server: { port: 1420, strictPort: true },
  envPrefix: ['VITE_', 'TAURI_ENV_'],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // WebView2 (Chromium) on Windows, WKWebView on macOS, WebKitGTK on Linux.
    target: ['es2021', 'chrome105', 'safari15'],
    // The polyfill is only for browsers without modulepreload; every target webview has it.
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    restoreMocks: true,
    css: false,
  },
});
