import { createApp } from "./app.js";

const port = Number(process.env.PORT ?? 3000);
const app = await createApp({ logLevels: ["log", "error", "warn"] });
await app.listen(port);
console.log(`Meeting Rooms API on http://127.0.0.1:${port}`);
