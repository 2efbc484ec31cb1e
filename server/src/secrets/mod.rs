//! Workspace secrets: named values admins set and replace, encrypted at rest
//! (`cipher.rs`), never returned by the API or the console once set; private clones (and
//! later pipeline nodes and route handlers) use them by name. The operations (`ops.rs`), their
//! routes (`http.rs`), the console's calls (`console.rs`) and the table (`store.rs`).

pub mod cipher;
mod console;
pub mod http;
mod ops;
pub mod store;

use crate::store::Store;
use crate::tenancy::Tenancy;
use cipher::Keyring;
use std::sync::Arc;

/// The secrets service: the store, the authorisation gate and the keys.
pub struct Secrets {
    store: Store,
    tenancy: Arc<Tenancy>,
    keyring: Arc<Keyring>,
}

impl Secrets {
    /// Secrets over `store`, sealed with `keyring`.
    pub fn new(store: Store, tenancy: Arc<Tenancy>, keyring: Arc<Keyring>) -> Secrets {
        Secrets {
            store,
            tenancy,
            keyring,
        }
    }
}
