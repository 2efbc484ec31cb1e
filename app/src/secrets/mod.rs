//! Secrets: the workspace's named secret values — listed by name, set and deleted by admins,
//! never shown once set.

pub mod api;
mod page;

pub use page::SecretsPage;

lazy_routes!(secrets_pages {
    /// `/w/:slug/secrets`.
    SecretsRoute => SecretsPage,
});
