//! Code intelligence: the workspace's repositories and their index runs (with live
//! progress), hybrid code search, and a symbol's page with its code, callers and callees;
//! the highlighter that colours the code.
//!
//! Its pages are lazy routes (see `lazy_routes!` in the crate root): their code and the
//! highlighter's are a WASM chunk the browser fetches when one of them is first shown, so
//! signing in does not download them.

pub mod api;
mod code_block;
mod highlight;
mod index_progress;
mod repositories;
mod search;
mod symbol;

pub use repositories::RepositoriesPage;
pub use search::SearchPage;
pub use symbol::SymbolPage;

lazy_routes!(code_pages {
    /// `/w/:slug/code`.
    RepositoriesRoute => RepositoriesPage,
    /// `/w/:slug/code/search`.
    SearchRoute => SearchPage,
    /// `/w/:slug/code/symbols/:id`.
    SymbolRoute => SymbolPage,
});
