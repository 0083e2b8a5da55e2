import type { NotifyKind } from "../domain/notification.js";

export interface SendResult {
  readonly ok: boolean;
  readonly tries: number;
  /** The last failure, when not ok. */
  readonly error?: string;
}

export interface Notifier {
  readonly on: ReadonlySet<NotifyKind>;
  /** The endpoint's host, for logs (the path of an incoming-webhook URL is a secret). */
  readonly host: string;
  /** Posts `{ "text": text }`, retrying a failure, within `budgetMs` all told. Never throws. */
  send(text: string, budgetMs: number): Promise<SendResult>;
}
