import type { NextConfig } from "next";

// The browser calls /api/...; Next forwards it to the API (apps/api), without the prefix.
const API_URL = process.env.API_URL ?? "http://127.0.0.1:3001";

const config: NextConfig = {
  async rewrites() {
    return [{ source: "/api/:path*", destination: `${API_URL}/:path*` }];
  },
  // `next dev` would otherwise write an AGENTS.md of its own into the app.
  agentRules: false,
  experimental: { agentUpgrade: false },
};

export default config;
