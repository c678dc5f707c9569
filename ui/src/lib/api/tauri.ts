// Tauri IPC transport: every command goes through the single `api_call` Tauri command.
import { invoke } from "@tauri-apps/api/core";
import { toApiError, type Backend, type CommandName, type RequestOf, type ResponseOf } from "./backend";

/** Whether the page runs inside the Tauri webview. */
export function inTauri(): boolean {
  return typeof window !== "undefined" && "__TAURI_INTERNALS__" in window;
}

export class TauriBackend implements Backend {
  async call<K extends CommandName>(command: K, request: RequestOf<K>): Promise<ResponseOf<K>> {
    try {
      return await invoke<ResponseOf<K>>("api_call", { command, args: request });
    } catch (reason) {
      throw toApiError(reason);
    }
  }
}
