//! Widgets more than one tab or dialog draws: the certificate table, the detail panel.
//! Configured by their callers through arguments; they know nothing of tabs or dialogs.

pub mod cert_table;
pub mod detail_panel;
