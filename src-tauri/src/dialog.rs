//! Native open and save dialogs (rfd; GTK 3 on Linux). They run on the main thread, as GTK
//! requires, and hand back a path only: reading and writing stay in the command surface.

use serde::Deserialize;

/// A file-type filter shown in the dialog.
#[derive(Debug, Deserialize)]
pub struct Filter {
    pub name: String,
    pub extensions: Vec<String>,
}

fn dialog(title: &str, filters: &[Filter]) -> rfd::FileDialog {
    let mut d = rfd::FileDialog::new().set_title(title);
    for f in filters {
        let exts: Vec<&str> = f.extensions.iter().map(String::as_str).collect();
        d = d.add_filter(&f.name, &exts);
    }
    d
}

async fn on_main<R: tauri::Runtime, T: Send + 'static>(
    window: &tauri::WebviewWindow<R>,
    f: impl FnOnce() -> Option<T> + Send + 'static,
) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    window
        .run_on_main_thread(move || {
            let _ = tx.send(f());
        })
        .ok()?;
    tauri::async_runtime::spawn_blocking(move || rx.recv().ok().flatten()).await.ok().flatten()
}

/// Shows the open dialog; the chosen path, or `null` when cancelled.
#[tauri::command]
pub async fn dialog_open<R: tauri::Runtime>(
    window: tauri::WebviewWindow<R>,
    title: String,
    filters: Vec<Filter>,
) -> Result<Option<String>, String> {
    let w = window.clone();
    let path = on_main(&window, move || dialog(&title, &filters).set_parent(&w).pick_file()).await;
    Ok(path.map(|p| p.display().to_string()))
}

/// Shows the save dialog with a suggested file name; the chosen path, or `null`.
#[tauri::command]
pub async fn dialog_save<R: tauri::Runtime>(
    window: tauri::WebviewWindow<R>,
    title: String,
    file_name: String,
    filters: Vec<Filter>,
) -> Result<Option<String>, String> {
    let w = window.clone();
    let path =
        on_main(&window, move || dialog(&title, &filters).set_file_name(&file_name).set_parent(&w).save_file()).await;
    Ok(path.map(|p| p.display().to_string()))
}
