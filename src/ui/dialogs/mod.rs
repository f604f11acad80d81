//! The windows drawn over the tabs: the bulk dialog (with its status line and resume offer), the
//! import dialog (with the window's drop target) and the confirmation of a single change. They
//! use `widgets` and `style`; they know nothing of the tabs or of each other.

pub mod bulk;
pub mod confirm;
pub mod import;
