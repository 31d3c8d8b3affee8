import type { NextConfig } from "next";

// The browser calls /api/...; Next forwards it to the FastAPI backend, so the two need no
// CORS between them.
const backendUrl = process.env.KITTY_API_URL ?? "http://127.0.0.1:8000";

const nextConfig: NextConfig = {
  async rewrites() {
    return [{ source: "/api/:path*", destination: `${backendUrl}/:path*` }];
  },
};

export default nextConfig;
