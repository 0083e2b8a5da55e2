import type { Action } from "../domain/types.js";

export interface ResponseBody {
  readonly status: number;
  readonly action: Action["type"];
  readonly reason: string;
  readonly delivery: string | null;
  readonly run: string | null;
}

export interface WebhookResponse {
  readonly status: number;
  readonly body: ResponseBody;
}
