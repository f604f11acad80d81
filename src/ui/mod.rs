//! egui drawing only: reads `app` state and returns actions.
