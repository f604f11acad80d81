//! SQLite persistence: inventory cache, job journal, audit log; migrations in one place.

pub mod journal;
