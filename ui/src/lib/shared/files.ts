// Files in and out of the UI: the native open and save dialogs in the desktop app, a file input
// and Blob downloads in the browser, and turning a dropped or chosen `File` into a `FileInput`.
//
// The desktop app hands the command surface a path (the shell's `dialog_open`/`dialog_save`
// return one; reading and writing stay in Rust). A `File` from a drop or a file input is read
// here and sent inline (base64), which the bridge and IPC carry up to a few megabytes only:
// larger files go through the native dialog, by path.
import { invoke } from "@tauri-apps/api/core";
import type { FileInput } from "../api/bindings";
import { inTauri } from "../api/tauri";

/** A file-type filter of the native dialogs (and the `accept` of the file input). */
export interface FileFilter {
  name: string;
  extensions: string[];
}

/**
 * The largest file sent inline (base64); beyond it, the desktop dialog sends a path. Its base64
 * (4/3 of it) plus the request's JSON stays under the HTTP bridge's 8 MiB body limit.
 */
export const MAX_INLINE_BYTES = 6_000_000;

/** Raised when a dropped or chosen file is too large to send inline. */
export class InlineTooLarge extends Error {
  constructor(
    readonly fileName: string,
    readonly bytes: number,
  ) {
    super(`${fileName} is ${bytes} bytes; at most ${MAX_INLINE_BYTES} bytes can be sent without a path.`);
  }
}

/** Whether the native dialogs exist (the desktop app). */
export function hasNativeDialogs(): boolean {
  return inTauri();
}

/** The last component of a path, on any platform. */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/** `.csv,.tsv` for an `<input accept>` from filters. */
export function acceptOf(filters: readonly FileFilter[]): string {
  return filters.flatMap((f) => f.extensions.map((e) => `.${e}`)).join(",");
}

/** Bytes as base64 (chunked, so large arrays do not overflow the argument list). */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

/** Base64 as bytes. */
export function base64ToBytes(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The bytes of a `File` (FileReader: `Blob.arrayBuffer` is missing in some test DOMs). */
function readBytes(file: Blob): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(new Uint8Array(reader.result as ArrayBuffer));
    reader.onerror = () => reject(reader.error ?? new Error("the file could not be read"));
    reader.readAsArrayBuffer(file);
  });
}

/** A dropped or chosen file as a `FileInput` with its bytes in base64. */
export async function fileToInput(file: File): Promise<FileInput> {
  if (file.size > MAX_INLINE_BYTES) throw new InlineTooLarge(file.name, file.size);
  return { name: file.name, base64: bytesToBase64(await readBytes(file)) };
}

/**
 * Shows the native open dialog; the chosen file as `{name, path}`, or null when cancelled.
 * Only in the desktop app (`hasNativeDialogs()`).
 */
export async function openWithDialog(title: string, filters: readonly FileFilter[]): Promise<FileInput | null> {
  const path = await invoke<string | null>("dialog_open", { title, filters });
  return path ? { name: baseName(path), path } : null;
}

/** Shows the native save dialog; the chosen path, or null. Only in the desktop app. */
export function saveWithDialog(title: string, fileName: string, filters: readonly FileFilter[]): Promise<string | null> {
  return invoke<string | null>("dialog_save", { title, fileName, filters });
}

/** Offers bytes (base64) as a download in the browser. */
export function downloadBase64(fileName: string, base64: string, type = "application/octet-stream"): void {
  const bytes = base64ToBytes(base64);
  const blob = new Blob([bytes.buffer as ArrayBuffer], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = fileName;
  a.rel = "noopener";
  a.style.display = "none";
  document.body.appendChild(a);
  a.click();
  a.remove();
  // Revoked later: some browsers start the download after the click handler returns.
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

/** The first file of a drop, if any. */
export function droppedFile(event: DragEvent): File | null {
  const files = event.dataTransfer?.files;
  return files && files.length > 0 ? (files[0] ?? null) : null;
}

/** Whether a drag carries files (so the drop zone may light up). */
export function dragHasFiles(event: DragEvent): boolean {
  return event.dataTransfer?.types ? [...event.dataTransfer.types].includes("Files") : false;
}
