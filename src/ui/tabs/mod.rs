//! One module per tab: what the tab shows above and around the shared widgets it configures.
//! Tabs use `widgets` and `style`; they know nothing of each other, of the dialogs, or of the
//! window around them (`ui::draw` picks the tab).

pub mod audit;
pub mod cdn;
pub mod client;
pub mod iot;
pub mod kms;
pub mod overview;
pub mod settings;
