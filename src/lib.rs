//! certdesk: one desktop window for the certificates that live in Alibaba Cloud (KMS, private CA,
//! ESA, VOD) and Huawei Cloud (IoTDA).
//!
//! Dependencies point one way: `ui → app → jobs → cloud → signing`; everything may use `model`;
//! the simulator (`sim`) knows only `signing` and `model`; `store` serves `app` and `jobs`.

pub mod app;
pub mod certs;
pub mod cli;
pub mod cloud;
pub mod credentials;
pub mod csv_export;
pub mod files;
pub mod import;
pub mod jobs;
pub mod model;
pub mod profiles;
pub mod signing;
pub mod sim;
pub mod store;
pub mod ui;

// glibc's malloc/free (with malloc_consolidate) were ~20 % of a bulk job's CPU in `perf`; every
// binary that links certdesk — the app, the tests, the benches — gets the same allocator. Not in
// the library's own unit-test build: that binary also links the library as its `testing`
// dev-dependency (the fake source), whose copy brings the allocator.
#[cfg(not(test))]
#[global_allocator]
static GLOBAL_ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
