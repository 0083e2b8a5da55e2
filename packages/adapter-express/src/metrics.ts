import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Observer } from "@job-rerunner/core";

export interface Metrics {
  /** Feeds the counters; give it to createRerunner (and to a sweep). */
  readonly observer: Observer;
  readonly registry: Registry;
  /** The Prometheus text exposition of every metric. */
  text(): Promise<string>;
  readonly contentType: string;
}

/**
 * The server's Prometheus metrics, on a registry of its own (not prom-client's global one), so
 * several servers in one process never share or clash over counters.
 */
export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const deliveries = new Counter({
    name: "job_rerunner_deliveries_total",
    help: "Webhook deliveries (and sweep events) answered, by event and HTTP status.",
    labelNames: ["event", "status"] as const,
    registers,
  });
  const decisionSeconds = new Histogram({
    name: "job_rerunner_decision_duration_seconds",
    help: "Time from receiving a delivery to its answer.",
    labelNames: ["event"] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const reruns = new Counter({
    name: "job_rerunner_reruns_total",
    help: "Rerun calls by outcome: requested (GitHub accepted), already_done, refused, pending (retried later), dry_run (DRY_RUN: GitHub not called).",
    labelNames: ["outcome"] as const,
    registers,
  });
  const githubCalls = new Counter({
    name: "job_rerunner_github_requests_total",
    help: "HTTP requests to the GitHub API by endpoint (route template) and status (none: no answer).",
    labelNames: ["endpoint", "status"] as const,
    registers,
  });
  // Created with GitHub's first answer that has the header: before it (after a restart, or for
  // ever under DRY_RUN) the series is absent, neither 0 (an alert on a low budget would fire) nor
  // NaN (which prom-client writes as "Nan").
  let rateLimit: Gauge | undefined;
  const rateLimitRemaining = (remaining: number): void => {
    rateLimit ??= new Gauge({
      name: "job_rerunner_github_rate_limit_remaining",
      help: "x-ratelimit-remaining of the latest GitHub answer that had one (absent until one had).",
      registers,
    });
    rateLimit.set(remaining);
  };
  const conflicts = new Counter({
    name: "job_rerunner_store_conflicts_total",
    help: "Compare-and-set writes lost to another writer (then read and decided again), by operation.",
    labelNames: ["operation"] as const,
    registers,
  });
  const sweeps = new Counter({ name: "job_rerunner_sweep_runs_total", help: "Sweep passes over pending reruns.", registers });
  const sweepErrors = new Counter({ name: "job_rerunner_sweep_errors_total", help: "Sweep passes that failed.", registers });
  const redeliveries = new Counter({
    name: "job_rerunner_redeliveries_total",
    help: "Lost deliveries redelivered from the GitHub App's delivery log: requested (202), failed.",
    labelNames: ["outcome"] as const,
    registers,
  });
  const notifications = new Counter({
    name: "job_rerunner_notifications_total",
    help: "Notifications by kind and outcome: sent, failed (after retries), duplicate (already claimed by another delivery).",
    labelNames: ["kind", "outcome"] as const,
    registers,
  });
  // Every label combination starts at 0 where the set is known, so rate() works from the first scrape.
  for (const outcome of ["requested", "already_done", "refused", "pending", "dry_run"]) reruns.labels(outcome).inc(0);
  for (const operation of ["decide", "settle", "claim"]) conflicts.labels(operation).inc(0);
  for (const outcome of ["requested", "failed"]) redeliveries.labels(outcome).inc(0);

  const observer: Observer = (o) => {
    switch (o.type) {
      case "delivery":
        deliveries.labels(o.event ?? "none", String(o.status)).inc();
        if (Number.isFinite(o.durationMs)) decisionSeconds.labels(o.event ?? "none").observe(o.durationMs / 1000);
        return;
      case "rerun":
        reruns.labels(o.outcome).inc();
        return;
      case "store-conflict":
        conflicts.labels(o.operation).inc();
        return;
      case "github-call":
        githubCalls.labels(o.endpoint, o.status === null ? "none" : String(o.status)).inc();
        if (o.rateLimitRemaining !== null) rateLimitRemaining(o.rateLimitRemaining);
        return;
      case "sweep":
        sweeps.inc();
        if (o.outcome === "error") sweepErrors.inc();
        return;
      case "redelivery":
        redeliveries.labels(o.outcome).inc();
        return;
      case "notification":
        notifications.labels(o.kind, o.outcome).inc();
        return;
    }
  };
  return { observer, registry, text: () => registry.metrics(), contentType: registry.contentType };
}
