//! Crash reports from Rust panics. [`watch`] installs (once per process) a panic hook that
//! offers the panic's message and location to the open profile's telemetry queue under the
//! crash-reports purpose — so, like every item, it is kept only with that consent, sealed in the
//! store, previewable, and sent by the egress gate. The previous hook still runs afterwards.

use std::sync::{Arc, Mutex, Once, Weak};

use crate::consent::Purpose;
use crate::profile::Profile;

static HOOK: Once = Once::new();
static WATCHED: Mutex<Option<Weak<Profile>>> = Mutex::new(None);

/// Routes this process's panics to `profile`'s crash-report queue from now on.
pub fn watch(profile: &Arc<Profile>) {
    if let Ok(mut w) = WATCHED.lock() {
        *w = Some(Arc::downgrade(profile));
    }
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            report(info);
            previous(info);
        }));
    });
}

fn report(info: &std::panic::PanicHookInfo<'_>) {
    // try_lock: a panic while the lock is held must not deadlock the hook.
    let Some(profile) = WATCHED.try_lock().ok().and_then(|w| w.as_ref().and_then(Weak::upgrade)) else { return };
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into());
    let data = serde_json::json!({
        "message": message.chars().take(2_000).collect::<String>(),
        "location": info.location().map(|l| format!("{}:{}", l.file(), l.line())),
        "thread": std::thread::current().name().unwrap_or("unnamed").to_string(),
        "app_version": env!("CARGO_PKG_VERSION"),
    });
    let _ = profile.telemetry().offer(Purpose::CrashReports, "panic", data);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::ConsentMethod;
    use crate::keys::MemoryVault;
    use crate::profile::OpenOptions;

    #[test]
    fn a_panic_becomes_a_crash_report_only_with_consent() {
        let dir = tempfile::tempdir().unwrap();
        let p = Arc::new(Profile::open(OpenOptions::new(dir.path()).vault(Arc::new(MemoryVault::default()))).unwrap());
        watch(&p);
        let _ = std::panic::catch_unwind(|| panic!("first boom without consent"));
        assert!(p.telemetry().pending(Some(Purpose::CrashReports)).unwrap().is_empty());
        p.consents().set(Purpose::CrashReports, true, 1, ConsentMethod::ConsentCentre).unwrap();
        let _ = std::panic::catch_unwind(|| panic!("second boom {}", 42));
        let items = p.telemetry().pending(Some(Purpose::CrashReports)).unwrap();
        let ours: Vec<_> = items.iter().filter(|i| i.data["message"] == "second boom 42").collect();
        assert_eq!(ours.len(), 1, "{items:?}");
        assert_eq!(ours[0].kind, "panic");
        assert!(ours[0].data["location"].as_str().unwrap().contains("crash.rs"));
    }
}
