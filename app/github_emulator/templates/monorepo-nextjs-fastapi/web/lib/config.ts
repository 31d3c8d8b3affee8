// Where the browser finds the API: next.config.ts forwards this path to the backend.
export const API_BASE = "/api";
