//! What every page repeats: its heading, titled cards, form fields and their errors, the states of something loading
//! from the server (loading, empty, loaded, failed), tables, a confirmation step for
//! destructive buttons, timestamps, redirects, periodic refreshes and live views' WebSockets.

mod card;
mod confirm;
mod forms;
mod page;
mod redirect;
mod refresh;
mod socket;
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
pub use socket::open_socket;
pub use states::{EmptyState, ErrorPanel, Listing, Loaded, Loading};
pub use table::DataTable;
pub use time::{Precision, Timestamp};
