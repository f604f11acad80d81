//! Application state and the actions that change it. Owns the tokio runtime handle; testable
//! without a window.
