//! What every page repeats: form fields and their errors, the states of something loading
//! from the server (loading, empty, loaded, failed), tables, a confirmation step for
//! destructive buttons, timestamps, redirects and periodic refreshes.

mod confirm;
mod forms;
mod redirect;
mod refresh;
mod states;
mod table;
mod time;

pub use confirm::ConfirmButton;
pub use forms::{
    checks, field_error, form_error, Check, ClearOnSuccess, Field, FormError, FormReset,
};
pub use redirect::RedirectTo;
pub use refresh::every;
pub use states::{EmptyState, ErrorPanel, Listing, Loaded, Loading};
pub use table::DataTable;
pub use time::{Precision, Timestamp};
