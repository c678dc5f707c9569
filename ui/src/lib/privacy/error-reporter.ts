// Offers errors the UI did not catch as crash reports (`telemetry_ui_error`). The backend only
// queues them when crash-report consent is given; nothing leaves before the user sees it in the
// Pending tab. The handler never throws, reports each error once, ignores failures of its own
// call (so a broken backend cannot start a loop) and caps how many it offers per minute.
import type { Api } from "../api/client";
import type { UiErrorReport } from "../api/bindings";

export interface ReporterOptions {
  /** At most this many reports per minute (default 10). */
  perMinute?: number;
  now?: () => number;
}

function describe(reason: unknown): { message: string; stack: string | null } {
  if (reason instanceof Error) return { message: `${reason.name}: ${reason.message}`, stack: reason.stack ?? null };
  if (typeof reason === "string") return { message: reason, stack: null };
  try {
    return { message: JSON.stringify(reason) ?? String(reason), stack: null };
  } catch {
    return { message: String(reason), stack: null };
  }
}

/** Installs `error` and `unhandledrejection` listeners on `target`; returns the uninstaller. */
export function installErrorReporter(api: Api, target: Window = window, options: ReporterOptions = {}): () => void {
  const perMinute = options.perMinute ?? 10;
  const now = options.now ?? (() => Date.now());
  const seen = new WeakSet<object>();
  const recent = new Map<string, number>();
  let windowStart = now();
  let count = 0;

  function offer(report: UiErrorReport, error: unknown): void {
    try {
      // One report per error object, however many events carry it.
      if (typeof error === "object" && error !== null) {
        if (seen.has(error)) return;
        seen.add(error);
      }
      // The same message from the same place within 5 s is the same error.
      const key = `${report.message}\u0000${report.source ?? ""}`;
      const t = now();
      const last = recent.get(key);
      if (last !== undefined && t - last < 5_000) return;
      recent.set(key, t);
      if (recent.size > 100) recent.delete(recent.keys().next().value as string);
      if (t - windowStart > 60_000) {
        windowStart = t;
        count = 0;
      }
      if (count >= perMinute) return;
      count += 1;
      api.telemetryUiError(report).catch(() => {
        // Reporting must never cause another report.
      });
    } catch {
      // Never throw from an error handler.
    }
  }

  const onError = (event: Event) => {
    // Resource-loading errors (an <img> that failed) are not script errors.
    if (!(event instanceof ErrorEvent)) return;
    const { message, stack } = describe(event.error ?? event.message);
    const source = event.filename ? `${event.filename}:${event.lineno}:${event.colno}` : null;
    offer({ message: event.message || message, source, stack }, event.error);
  };
  const onRejection = (event: PromiseRejectionEvent) => {
    const { message, stack } = describe(event.reason);
    offer({ message: `Unhandled rejection: ${message}`, source: null, stack }, event.reason);
  };

  target.addEventListener("error", onError);
  target.addEventListener("unhandledrejection", onRejection);
  return () => {
    target.removeEventListener("error", onError);
    target.removeEventListener("unhandledrejection", onRejection);
  };
}
