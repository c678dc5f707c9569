// `account_locked`: while an account cancellation is pending, every command but the status and
// export answers this code. `watchLocked` wraps the app's backend so that such an answer (from any
// command) flips `lock.locked`, which the app-wide banner shows instead of failing silently.
import type { Backend, CommandName, RequestOf, ResponseOf } from "../api/backend";

export const lock = $state({ locked: false });

/** Whether `reason` is the `account_locked` error. */
export function isLocked(reason: unknown): boolean {
  return typeof reason === "object" && reason !== null && (reason as { code?: unknown }).code === "account_locked";
}

/** `backend`, with `account_locked` answers (and cancellation states) reflected in `lock`. */
export function watchLocked(backend: Backend): Backend {
  return {
    async call<K extends CommandName>(command: K, request: RequestOf<K>): Promise<ResponseOf<K>> {
      try {
        const answer = await backend.call(command, request);
        if (command === "account_cancellation" && (answer as { state?: unknown } | null)?.state === "none") lock.locked = false;
        return answer;
      } catch (reason) {
        if (isLocked(reason)) lock.locked = true;
        throw reason;
      }
    },
  };
}
