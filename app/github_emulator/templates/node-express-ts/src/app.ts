import express, { type NextFunction, type Request, type Response } from "express";

import { Library, LibraryError } from "./library.js";

const MEMBER_ID = /^[a-z0-9-]{1,40}$/;

function positiveInt(value: unknown): number | undefined {
  const number = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(number) && number > 0 ? number : undefined;
}

export function createApp(library = new Library()): express.Express {
  const app = express();
  app.use(express.json({ limit: "16kb" }));

  app.get("/health", (_req, res) => {
    res.json({ status: "ok" });
  });

  app.post("/books", (req, res) => {
    const { title, copies } = req.body ?? {};
    if (typeof title !== "string" || title.trim() === "" || title.length > 200) {
      res.status(422).json({ error: "title must be 1-200 characters" });
      return;
    }
    if (!Number.isInteger(copies) || copies < 1 || copies > 100) {
      res.status(422).json({ error: "copies must be an integer from 1 to 100" });
      return;
    }
    res.status(201).json(library.addBook(title.trim(), copies));
  });

  app.get("/books/:id", (req, res) => {
    const id = positiveInt(req.params.id);
    if (id === undefined) {
      res.status(404).json({ error: "book not found" });
      return;
    }
    res.json({ id, available: library.available(id) });
  });

  app.post("/loans", (req, res) => {
    const { bookId, memberId } = req.body ?? {};
    if (!Number.isInteger(bookId) || typeof memberId !== "string" || !MEMBER_ID.test(memberId)) {
      res.status(422).json({ error: "bookId (integer) and memberId (a-z, 0-9, -) are required" });
      return;
    }
    res.status(201).json(library.borrow(bookId, memberId));
  });

  app.post("/loans/:id/return", (req, res) => {
    const id = positiveInt(req.params.id);
    if (id === undefined) {
      res.status(404).json({ error: "loan not found" });
      return;
    }
    res.json(library.giveBack(id));
  });

  app.get("/members/:memberId/loans", (req, res) => {
    res.json(library.memberLoans(req.params.memberId));
  });

  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (err instanceof LibraryError) {
      res.status(err.status).json({ error: err.message });
    } else if (err instanceof SyntaxError) {
      res.status(400).json({ error: "malformed JSON" });
    } else {
      next(err);
    }
  });
  return app;
}
