import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// In development the API runs beside Vite: /api/... is forwarded to it, without the prefix.
const API_URL = process.env.API_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      "/api": { target: API_URL, rewrite: (path) => path.replace(/^\/api/, "") },
    },
  },
  // dist/ also holds the compiled tests; the production bundle goes beside them.
  build: { outDir: "dist/app", emptyOutDir: true },
});
