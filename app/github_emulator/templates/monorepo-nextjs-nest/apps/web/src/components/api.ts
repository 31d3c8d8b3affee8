import { createApiClient } from "@/lib/api";

// In the browser the API is reached through Next: next.config.ts forwards /api to it.
export const api = createApiClient("/api");
