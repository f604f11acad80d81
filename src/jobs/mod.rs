//! The bulk engine: rate limits, retries, cancellation, progress, the durable journal. No egui.
