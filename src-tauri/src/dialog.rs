//! Native open and save dialogs. They run on the main thread and hand back a path only: reading
//! and writing stay in the command surface.
//!
//! On Linux the GTK 3 file chooser is built here with the `gtk` crate, on the main thread that
//! Tauri's event loop already runs GTK on, and shown modal over the window. rfd's GTK backend is
//! not used there: it runs its dialogs on a GTK thread of its own and blocks the caller until that
//! thread has shown them, which deadlocks when the caller is the main thread (the one iterating
//! GTK's main context), and races Tauri's loop for the context from any other thread. Other
//! systems use rfd (Windows, macOS), whose dialogs run on the calling main thread.

use serde::Deserialize;

/// A file-type filter shown in the dialog.
#[derive(Debug, Deserialize)]
pub struct Filter {
    pub name: String,
    pub extensions: Vec<String>,
}

#[cfg(not(target_os = "linux"))]
fn dialog(title: &str, filters: &[Filter]) -> rfd::FileDialog {
    let mut d = rfd::FileDialog::new().set_title(title);
    for f in filters {
        let exts: Vec<&str> = f.extensions.iter().map(String::as_str).collect();
        d = d.add_filter(&f.name, &exts);
    }
    d
}

/// The GTK file chooser, modal over `parent`; the chosen path, or `None` when cancelled.
#[cfg(target_os = "linux")]
fn gtk_choose(
    parent: Option<gtk::ApplicationWindow>,
    action: gtk::FileChooserAction,
    title: &str,
    file_name: Option<&str>,
    filters: &[Filter],
) -> Option<std::path::PathBuf> {
    use gtk::prelude::*;
    let accept = if action == gtk::FileChooserAction::Save { "_Save" } else { "_Open" };
    let dialog = gtk::FileChooserDialog::with_buttons(
        Some(title),
        parent.as_ref(),
        action,
        &[("_Cancel", gtk::ResponseType::Cancel), (accept, gtk::ResponseType::Accept)],
    );
    dialog.set_modal(true);
    dialog.set_default_response(gtk::ResponseType::Accept);
    dialog.set_local_only(true);
    if action == gtk::FileChooserAction::Save {
        dialog.set_do_overwrite_confirmation(true);
    }
    if let Some(name) = file_name {
        dialog.set_current_name(name);
    }
    for f in filters {
        let filter = gtk::FileFilter::new();
        filter.set_name(Some(&f.name));
        for ext in &f.extensions {
            filter.add_pattern(&format!("*.{ext}"));
            filter.add_pattern(&format!("*.{}", ext.to_uppercase()));
        }
        dialog.add_filter(filter);
    }
    let path = if dialog.run() == gtk::ResponseType::Accept { dialog.filename() } else { None };
    // SAFETY: the dialog is ours alone; nothing refers to it after this.
    unsafe { dialog.destroy() };
    path
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
    #[cfg(target_os = "linux")]
    let path =
        on_main(&window, move || gtk_choose(w.gtk_window().ok(), gtk::FileChooserAction::Open, &title, None, &filters))
            .await;
    #[cfg(not(target_os = "linux"))]
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
    #[cfg(target_os = "linux")]
    let path = on_main(&window, move || {
        gtk_choose(w.gtk_window().ok(), gtk::FileChooserAction::Save, &title, Some(&file_name), &filters)
    })
    .await;
    #[cfg(not(target_os = "linux"))]
    let path =
        on_main(&window, move || dialog(&title, &filters).set_file_name(&file_name).set_parent(&w).save_file()).await;
    Ok(path.map(|p| p.display().to_string()))
}
