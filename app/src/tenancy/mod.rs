//! Tenancy: the caller's workspaces, and inside one its overview, members and invitations,
//! API keys and settings; the invitation landing page; the frames around signed-in pages.

pub mod api;
mod api_keys;
mod frame;
mod invitation;
mod members;
mod overview;
mod reveal;
mod roles;
mod settings;
mod workspaces;

pub use api_keys::ApiKeysPage;
pub use frame::{use_slug, AppFrame, WorkspaceChanged, WorkspaceFrame};
pub use invitation::InvitationPage;
pub use members::MembersPage;
pub use overview::OverviewPage;
pub use roles::{RoleBadge, RoleSelect};
pub use settings::SettingsPage;
pub use workspaces::WorkspacesPage;

// Every workspace page sits in the frame: it is a chunk of its own, so a jobs or code page
// does not fetch the tenancy pages.
lazy_routes!(workspace_frame {
    /// The frame of `/w/:slug/...`.
    WorkspaceFrameRoute => WorkspaceFrame,
});

lazy_routes!(tenancy_pages {
    /// `/workspaces`.
    WorkspacesRoute => WorkspacesPage,
    /// `/invitations/:token`.
    InvitationRoute => InvitationPage,
    /// `/w/:slug`.
    OverviewRoute => OverviewPage,
    /// `/w/:slug/members`.
    MembersRoute => MembersPage,
    /// `/w/:slug/api-keys`.
    ApiKeysRoute => ApiKeysPage,
    /// `/w/:slug/settings`.
    SettingsRoute => SettingsPage,
});
