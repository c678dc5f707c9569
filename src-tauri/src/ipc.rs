//! The one IPC command: it forwards to the command surface, which owns every command, its
//! types and its errors. Blocking store work runs off the main thread.

use std::sync::Arc;

use awf_api::{Api, ApiError, ErrorCode};

/// Calls command `command` of the command surface with JSON `args`.
#[tauri::command]
pub async fn api_call(
    api: tauri::State<'_, Arc<Api>>,
    command: String,
    args: serde_json::Value,
) -> Result<serde_json::Value, ApiError> {
    let api = api.inner().clone();
    tauri::async_runtime::spawn_blocking(move || api.call(&command, args))
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("the command failed to run: {e}")))?
}
