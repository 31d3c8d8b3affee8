import { Calendar, createApp } from "./app.js";

// A few rooms to book, so that the web app has something to show.
const calendar = new Calendar();
calendar.addRoom("Atlas", 4);
calendar.addRoom("Borealis", 8);
calendar.addRoom("Cosmos", 16);

const port = Number(process.env.PORT ?? 3000);
createApp(calendar).listen(port, () => {
  console.log(`Meeting Rooms API on http://127.0.0.1:${port}`);
});
