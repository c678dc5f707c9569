// The transport-agnostic backend: the one way the UI reaches the command surface.
//
// Two transports implement `Backend`: Tauri IPC inside the desktop app (`tauri.ts`) and the
// loopback HTTP bridge for browser tests and web mode (`http.ts`). Both reject with an
// `ApiError`, so components branch on `error.code` whatever the transport.
import { ERROR_CODES } from "./bindings";
import type { ApiError, Commands, ErrorCode } from "./bindings";

export type CommandName = keyof Commands;
export type RequestOf<K extends CommandName> = Commands[K]["request"];
export type ResponseOf<K extends CommandName> = Commands[K]["response"];

/** Calls one command of the command surface. Rejects with an `ApiError`, never anything else. */
export interface Backend {
  call<K extends CommandName>(command: K, request: RequestOf<K>): Promise<ResponseOf<K>>;
}

const KNOWN_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(ERROR_CODES);

/** Whether `value` has the shape of an `ApiError` with a known code. */
export function isApiError(value: unknown): value is ApiError {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.code === "string" &&
    KNOWN_CODES.has(v.code as ErrorCode) &&
    typeof v.message === "string" &&
    (v.hint === null || v.hint === undefined || typeof v.hint === "string") &&
    (v.field === null || v.field === undefined || typeof v.field === "string")
  );
}

/** Copies an `ApiError`, keeping `retry_after_secs` (as a number) when it is there. */
export function normaliseApiError(e: ApiError): ApiError {
  const out: ApiError = { code: e.code, message: e.message, hint: e.hint ?? null, field: e.field ?? null };
  const retry: unknown = (e as { retry_after_secs?: unknown }).retry_after_secs;
  if (typeof retry === "number") out.retry_after_secs = retry;
  return out;
}

/** Seconds to wait from a `rate_limited` error, or null. */
export function retryAfterSecs(e: ApiError): number | null {
  const retry: unknown = (e as { retry_after_secs?: unknown }).retry_after_secs;
  if (typeof retry === "number" || typeof retry === "bigint") return Number(retry);
  return null;
}

/** Builds an `ApiError` for failures that did not come from the command surface itself. */
export function internalError(message: string, hint: string | null = null): ApiError {
  return { code: "internal", message, hint, field: null };
}

/** Normalises anything a transport rejected with into an `ApiError`. */
export function toApiError(reason: unknown): ApiError {
  if (isApiError(reason)) return normaliseApiError(reason);
  if (reason instanceof Error) return internalError(reason.message);
  if (typeof reason === "string") return internalError(reason);
  return internalError("Unexpected error from the backend.");
}
