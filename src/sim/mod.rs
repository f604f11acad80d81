//! The embedded cloud simulator: a real HTTP server on loopback that verifies signatures and
//! behaves like the documented services. Knows only `signing` and `model`.
