//! One module per page (or pair of closely related pages).

pub mod account;
pub mod api_keys;
pub mod auth;
pub mod code;
pub mod home;
pub mod invitation;
pub mod jobs;
pub mod members;
pub mod not_found;
pub mod overview;
pub mod settings;
pub mod workers;
pub mod workspaces;
