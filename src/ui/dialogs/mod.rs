//! The windows drawn over the tabs: the bulk dialog (with its status line and resume offer), the
//! import dialog (with the window's drop target), the confirmation of a single change, and the
//! results of find-everywhere (with its top-bar field). They
//! use `widgets` and `style`; they know nothing of the tabs or of each other.

pub mod bulk;
pub mod confirm;
pub mod find;
pub mod import;
