// Routing an error to the field it names, and the client-side checks' errors.
import type { ApiError } from "../api/bindings";

/** A client-side problem with one field, shaped like the backend's errors. */
export function localError(field: string, message: string, hint: string | null = null): ApiError {
  return { code: "invalid_input", message, hint, field };
}

/**
 * Which of `fields` shows the error: the field it names, or the nearest named parent
 * (`guardian.attestation` → `guardian`), or null when none of them (then the form shows it).
 */
export function placeFieldError(error: ApiError | null, fields: readonly string[]): string | null {
  let name = error?.field ?? null;
  while (name) {
    if (fields.includes(name)) return name;
    const cut = Math.max(name.lastIndexOf("."), name.lastIndexOf("["));
    name = cut > 0 ? name.slice(0, cut) : null;
  }
  return null;
}
