import { createApp } from "./app.js";

const port = Number(process.env.PORT ?? 3001);
const app = await createApp(["log", "warn", "error"]);
await app.listen(port, "127.0.0.1");
console.log(`Kitty API on http://127.0.0.1:${port}`);
