//! Generates `ui/src/lib/api/bindings.ts`: every boundary type and the command map.
//! `cargo xtask codegen` writes it; the `bindings_are_fresh` test fails when it is stale.

use ts_rs::TS;

use crate::commands;
use crate::dto::*;
use crate::error::{ApiError, ErrorCode};
use crate::export::*;
use crate::library::*;
use crate::rights::*;
use awf_core::shred::ShredReport;
use awf_platform_api::{
    AttachmentInfo, AttachmentUpload, DeletionReceipt, DeletionScope, RequestCategory, RequestStatus,
};

/// Path of the generated file, relative to the repository root.
pub const BINDINGS_PATH: &str = "ui/src/lib/api/bindings.ts";

fn decl<T: TS>() -> String {
    let mut out = String::new();
    if let Some(docs) = T::docs() {
        out.push_str(&docs);
        if !docs.ends_with('\n') {
            out.push('\n');
        }
    }
    out.push_str("export ");
    // ts-rs declares 64-bit integers as `bigint`, but JSON carries them as numbers (and every
    // such value here — sequence numbers, byte counts, seconds — stays far below 2^53).
    out.push_str(&T::decl().replace("bigint", "number"));
    out.push('\n');
    out
}

/// The full text of the bindings file.
pub fn generate() -> String {
    let mut out = String::from(
        "// Generated from crates/awf-api by `cargo xtask codegen`. Do not edit by hand.\n/* eslint-disable */\n\n",
    );
    let decls = [
        decl::<ErrorCode>(),
        decl::<ApiError>(),
        decl::<AppStatus>(),
        decl::<KeyMode>(),
        decl::<UnlockRequest>(),
        decl::<AgentRef>(),
        decl::<RevisionRef>(),
        decl::<UpdateAgentRequest>(),
        decl::<DiffRequest>(),
        decl::<ArchiveRequest>(),
        decl::<ListQuery>(),
        decl::<Agent>(),
        decl::<AgentDraft>(),
        decl::<AgentSummary>(),
        decl::<ModelSettings>(),
        decl::<ResponseFormat>(),
        decl::<Variable>(),
        decl::<Revision>(),
        decl::<RevisionSummary>(),
        decl::<DiffLine>(),
        decl::<DiffKind>(),
        decl::<PlatformStatus>(),
        decl::<PlatformInfo>(),
        decl::<PolicyText>(),
        decl::<AcceptPolicyRequest>(),
        decl::<PhoneRequest>(),
        decl::<RegisterForm>(),
        decl::<LoginForm>(),
        decl::<SettingsView>(),
        decl::<SetPlatformUrl>(),
        decl::<ConsentRecord>(),
        decl::<ConsentMethod>(),
        decl::<Purpose>(),
        decl::<TransmissionRecord>(),
        decl::<LogQuery>(),
        decl::<Outcome>(),
        decl::<AccountProfile>(),
        decl::<AgeBand>(),
        decl::<GuardianConsent>(),
        decl::<GuardianRecord>(),
        decl::<ProfilePatch>(),
        decl::<Region>(),
        decl::<SmsCodeSent>(),
        decl::<PurposeView>(),
        decl::<PurposeInfo>(),
        decl::<Bilingual>(),
        decl::<ConsentSetRequest>(),
        decl::<ConsentChange>(),
        decl::<LedgerView>(),
        decl::<LedgerEntry>(),
        decl::<LedgerReport>(),
        decl::<LedgerProblem>(),
        decl::<TelemetryQuery>(),
        decl::<TelemetryItem>(),
        decl::<FlushReport>(),
        decl::<PurposeCount>(),
        decl::<UiErrorReport>(),
        decl::<HeldData>(),
        decl::<HeldCategory>(),
        decl::<CookieView>(),
        decl::<CookiesView>(),
        decl::<CookieDelete>(),
        decl::<RefuseCookies>(),
        decl::<LocalCategory>(),
        decl::<Retention>(),
        decl::<PurgeReport>(),
        decl::<PolicyDiffLine>(),
        decl::<PolicyStatus>(),
        decl::<PolicyAcceptRequest>(),
        decl::<FileInput>(),
        decl::<ItemRef>(),
        decl::<UpdatePluginRequest>(),
        decl::<PluginSecretRequest>(),
        decl::<DatasetImportRequest>(),
        decl::<PageRequest>(),
        decl::<UpdateDatasetRequest>(),
        decl::<CreateTableRequest>(),
        decl::<TableImportRequest>(),
        decl::<ReplaceRowsRequest>(),
        decl::<UpdateTableRequest>(),
        decl::<CsvPreview>(),
        decl::<TextRequest>(),
        decl::<SearchRequest>(),
        decl::<BundleExportRequest>(),
        decl::<BundleExported>(),
        decl::<BundleCheck>(),
        decl::<JobRef>(),
        decl::<JobProgress>(),
        decl::<Plugin>(),
        decl::<PluginAuth>(),
        decl::<PluginDraft>(),
        decl::<PluginSpec>(),
        decl::<PluginSummary>(),
        decl::<ThirdParty>(),
        decl::<ImportedApi>(),
        decl::<SpecVersion>(),
        decl::<Tool>(),
        decl::<ToolParameter>(),
        decl::<ParamLocation>(),
        decl::<RequestBody>(),
        decl::<AuthScheme>(),
        decl::<KeyLocation>(),
        decl::<Dataset>(),
        decl::<DatasetFormat>(),
        decl::<ChunkOptions>(),
        decl::<ChunkPage>(),
        decl::<Chunk>(),
        decl::<SourceEncoding>(),
        decl::<PiiSummary>(),
        decl::<StoredFinding>(),
        decl::<PiiKind>(),
        decl::<Table>(),
        decl::<Column>(),
        decl::<ColumnType>(),
        decl::<RowPage>(),
        decl::<RaggedRow>(),
        decl::<CellError>(),
        decl::<SearchHit>(),
        decl::<HitKind>(),
        decl::<HistoryEntry>(),
        decl::<BundleSummary>(),
        decl::<BundleProblem>(),
        decl::<ImportReport>(),
        decl::<ExportStartRequest>(),
        decl::<ExportStarted>(),
        decl::<ExportJobRef>(),
        decl::<ExportVerifyRequest>(),
        decl::<ExportState>(),
        decl::<ExportStatus>(),
        decl::<ExportProgress>(),
        decl::<ExportSummary>(),
        decl::<CategoryRecord>(),
        decl::<CategoryInfo>(),
        decl::<VerifyReport>(),
        decl::<VerifyProblem>(),
        decl::<ProblemKind>(),
        decl::<CancelAccountForm>(),
        decl::<CancellationStatus>(),
        decl::<ShredReport>(),
        decl::<DeletionEntry>(),
        decl::<DeletionLedgerView>(),
        decl::<DeletionReceipt>(),
        decl::<DeletionScope>(),
        decl::<NewRightsRequest>(),
        decl::<AttachmentUpload>(),
        decl::<RightsRequest>(),
        decl::<RequestCategory>(),
        decl::<RequestStatus>(),
        decl::<AttachmentInfo>(),
        decl::<crate::sync::SyncReport>(),
        decl::<crate::sync::SyncStatus>(),
        decl::<crate::sync::ItemView>(),
        decl::<crate::sync::ConflictView>(),
        decl::<crate::sync::Resolution>(),
        decl::<crate::sync::SyncResolveRequest>(),
        decl::<crate::sync::SyncAgentRequest>(),
        decl::<crate::sync::SyncItemRequest>(),
        decl::<crate::uploads::UploadView>(),
        decl::<crate::uploads::CancelUploadRequest>(),
        decl::<crate::sync::SyncAttestRequest>(),
        decl::<awf_core::sync::Overview>(),
        decl::<awf_core::sync::SyncEvent>(),
        decl::<awf_core::sync::ItemStatus>(),
        decl::<awf_platform_api::ItemKind>(),
    ];
    for d in decls {
        out.push_str(&d);
        out.push('\n');
    }
    out.push_str("/** Every error code, for runtime checks of what a transport returned. */\nexport const ERROR_CODES: readonly ErrorCode[] = [\n");
    for c in ErrorCode::ALL {
        out.push_str(&format!("  \"{}\",\n", c.as_str()));
    }
    out.push_str("];\n\n");
    out.push_str("/** Every command: its request and response types. */\nexport interface Commands {\n");
    for c in commands::table() {
        for line in c.doc.lines() {
            out.push_str(&format!("  /** {} */\n", line.trim()));
        }
        out.push_str(&format!("  {}: {{ request: {}; response: {} }};\n", c.name, c.request, c.response));
    }
    out.push_str("}\n\n/** Every command name. */\nexport const COMMAND_NAMES = [\n");
    for c in commands::table() {
        out.push_str(&format!("  \"{}\",\n", c.name));
    }
    out.push_str("] as const;\n");
    out
}
