//! The windows drawn over the tabs: the bulk dialog (with its status line and resume offer) and
//! the import dialog (with the window's drop target). They use `widgets` and `style`; they know
//! nothing of the tabs.

pub mod bulk;
pub mod import;
