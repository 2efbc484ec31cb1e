//! What every page repeats: its heading, titled cards, form fields and their errors, the states of something loading
//! from the server (loading, empty, loaded, failed), tables, a confirmation step for
//! destructive buttons, timestamps, redirects and periodic refreshes.

mod card;
mod confirm;
mod forms;
mod page;
mod redirect;
mod refresh;
mod states;
mod table;
mod time;

pub use card::Card;
pub use confirm::ConfirmButton;
pub use forms::{
    checks, field_error, form_error, Check, ClearOnSuccess, Field, FormError, FormReset,
};
pub use page::PageHead;
pub use redirect::RedirectTo;
pub use refresh::every;
pub use states::{EmptyState, ErrorPanel, Listing, Loaded, Loading};
pub use table::DataTable;
pub use time::{Precision, Timestamp};
