import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { App } from "./App.js";
import { createApiClient } from "./lib/api.js";
import "./styles.css";

// Vite forwards /api to the API in development (vite.config.ts).
const api = createApiClient("/api");

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <App api={api} />
  </StrictMode>,
);
