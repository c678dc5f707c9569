// The rights commands (export, deletion, cancellation, requests) over the app's `Backend`.
import type { CommandName } from "../api/backend";
import type { Api } from "../api/client";
import type { AppStatus, ExportStatus, VerifyReport, LocalCategory, HeldData } from "../api/bindings";
import type { CancelAccountForm, CancellationStatus, DeletionEntry, DeletionLedgerView, NewRightsRequest, RightsRequest } from "./types";

export class RightsApi {
  constructor(private readonly api: Api) {}

  private call<T>(command: string, request: unknown): Promise<T> {
    // The generated `Commands` map does not name these commands' types yet: call untyped.
    const backend = this.api.backend as unknown as { call(command: CommandName, request: unknown): Promise<unknown> };
    return backend.call(command as CommandName, request) as Promise<T>;
  }

  exportStart(path: string, includePlatform = true): Promise<{ job: string }> {
    return this.call("export_start", { path, include_platform: includePlatform });
  }
  exportStatus(job: string): Promise<ExportStatus> {
    return this.call("export_status", { job });
  }
  exportCancel(job: string): Promise<boolean> {
    return this.call("export_cancel", { job });
  }
  exportVerify(path: string): Promise<VerifyReport> {
    return this.call("export_verify", { path });
  }
  platformDataErase(): Promise<DeletionEntry> {
    return this.call("platform_data_erase", null);
  }
  deletions(): Promise<DeletionLedgerView> {
    return this.call("deletions", null);
  }
  requestNew(request: NewRightsRequest): Promise<RightsRequest> {
    return this.call("rights_request_new", request);
  }
  requests(): Promise<RightsRequest[]> {
    return this.call("rights_requests", null);
  }
  cancel(form: CancelAccountForm): Promise<CancellationStatus> {
    return this.call("account_cancel", form);
  }
  cancellation(): Promise<CancellationStatus> {
    return this.call("account_cancellation", null);
  }
  retry(): Promise<AppStatus> {
    return this.api.profileRetry();
  }
  appStatus(): Promise<AppStatus> {
    return this.api.appStatus();
  }
  inventory(): Promise<LocalCategory[]> {
    return this.api.inventoryLocal();
  }
  held(): Promise<HeldData> {
    return this.api.dataHeld();
  }
  accountName(): Promise<string> {
    return this.api.accountProfile().then((p) => p.account_name);
  }
}
