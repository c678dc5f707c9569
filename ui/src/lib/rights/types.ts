// Shapes of the rights commands (D6–D9), mirrored from the Rust command surface
// (awf-api rights.rs, awf-platform-api rights.rs, awf-core receipts.rs and shred.rs) until the
// generated bindings export them by name.

export type RequestCategory = "access" | "correction" | "deletion" | "portability" | "withdrawal" | "complaint";
export const REQUEST_CATEGORIES: readonly RequestCategory[] = [
  "access",
  "correction",
  "deletion",
  "portability",
  "withdrawal",
  "complaint",
];
export type RequestStatus = "open" | "answered" | "closed";

export type DeletionScope =
  | "account"
  | "all_data"
  | { item: { kind: string; id: string } }
  | { purpose_data: { purpose: string } };

export interface DeletionReceipt {
  receipt_id: string;
  account_id: string;
  scope: DeletionScope;
  deleted: Record<string, number>;
  completed_at: string;
  key_id: string;
  signature: string;
}

export interface DeletionEntry {
  seq: number;
  at: string;
  what: string;
  local: Record<string, number>;
  platform: DeletionReceipt | null;
  prev_hash: string;
  hash: string;
}

export interface DeletionLedgerView {
  entries: DeletionEntry[];
  problem: string | null;
}

export interface ShredReport {
  profile_id: string;
  key_destroyed_after_us: number;
  total_us: number;
  keyring_entries_deleted: number;
  files_removed: number;
  bytes_removed: number;
}

export type CancellationStatus =
  | { state: "none" }
  | {
      state: "pending";
      account_name: string;
      requested_at: string;
      attempts: number;
      last_attempt_at: string | null;
      last_error: string | null;
    }
  | {
      state: "completed";
      receipt: DeletionReceipt;
      receipt_verified: boolean;
      verify_error: string | null;
      shred: ShredReport;
    };

export interface CancelAccountForm {
  password: string;
  account_name: string;
  confirm_irreversible: boolean;
}

export interface AttachmentUpload {
  name: string;
  media_type: string;
  content_base64: string;
}

export interface NewRightsRequest {
  category: RequestCategory;
  text: string;
  attachments: AttachmentUpload[];
}

export interface AttachmentInfo {
  name: string;
  media_type: string;
  size: number;
  sha256: string;
}

export interface RightsRequest {
  id: string;
  category: RequestCategory;
  text: string;
  attachments: AttachmentInfo[];
  status: RequestStatus;
  answer: string | null;
  created_at: string;
  answered_at: string | null;
}

/** At most this many attachments per request, each at most `MAX_ATTACHMENT_BYTES` (the platform's limits). */
export const MAX_ATTACHMENTS = 5;
export const MAX_ATTACHMENT_BYTES = 2 * 1024 * 1024;
