import express from "express";
import { createWebhookHandler } from "@job-rerunner/adapter-express";
import type { Rerunner } from "@job-rerunner/core";

interface Todo {
  readonly id: number;
  readonly title: string;
}

/**
 * An app that already exists: its own JSON API with a global express.json(), and the
 * re-runner added at /github/webhook.
 */
export function createApp(options: { rerunner: Rerunner }): express.Express {
  const app = express();
  app.disable("x-powered-by");

  // Mounted BEFORE express.json(): the handler reads the raw body itself, because the webhook
  // signature is an HMAC over the exact bytes GitHub sent. (If your parser must come first,
  // use `express.json({ verify: keepRawBody })` from @job-rerunner/adapter-express instead.)
  app.use("/github/webhook", createWebhookHandler({ rerunner: options.rerunner }));

  // The app's own, global body parser and routes, untouched by the re-runner.
  app.use(express.json());
  const todos: Todo[] = [];
  app.get("/api/health", (_req, res) => {
    res.json({ ok: true });
  });
  app.get("/api/todos", (_req, res) => {
    res.json(todos);
  });
  app.post("/api/todos", (req, res) => {
    const title: unknown = (req.body as { title?: unknown } | undefined)?.title;
    if (typeof title !== "string" || title.trim() === "") {
      res.status(400).json({ error: "title must be a non-empty string" });
      return;
    }
    const todo = { id: todos.length + 1, title };
    todos.push(todo);
    res.status(201).json(todo);
  });
  return app;
}
