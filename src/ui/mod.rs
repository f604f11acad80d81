//! egui drawing only: reads `app` state and returns actions.

/// Opens the desktop window. `profile` selects an account; without one (and without any profile
/// configured) the app opens its demo workspace over the in-process simulator.
// TODO(gui): the real window; this placeholder only keeps the CLI compiling until the GUI lands.
pub fn run(profile: Option<String>) -> Result<(), String> {
    let _ = profile;
    Err("the desktop window is not built yet".to_string())
}
