// The rights commands' shapes (D6–D9) are the generated bindings' (awf-api rights.rs,
// awf-platform-api rights.rs, awf-core receipts.rs and shred.rs); this module adds the
// platform's limits and the category list the form offers.
import type { RequestCategory } from "../api/bindings";

export type {
  AttachmentInfo,
  AttachmentUpload,
  CancelAccountForm,
  CancellationStatus,
  DeletionEntry,
  DeletionLedgerView,
  DeletionReceipt,
  DeletionScope,
  NewRightsRequest,
  RequestCategory,
  RequestStatus,
  RightsRequest,
  ShredReport,
} from "../api/bindings";

export const REQUEST_CATEGORIES: readonly RequestCategory[] = [
  "access",
  "correction",
  "deletion",
  "portability",
  "withdrawal",
  "complaint",
];

/** At most this many attachments per request, each at most `MAX_ATTACHMENT_BYTES` (the platform's limits). */
export const MAX_ATTACHMENTS = 5;
export const MAX_ATTACHMENT_BYTES = 2 * 1024 * 1024;
