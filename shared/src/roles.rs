//! Roles and the permission table. Every authorisation check in the product asks
//! [`Role::allows`]; nothing else decides who may do what.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A member's role in a workspace, from most to least powerful.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Full control, including deleting the workspace. Every workspace keeps at least one.
    Owner,
    /// Manages members, invitations and API keys, but cannot delete the workspace.
    Admin,
    /// Builds and deploys what the workspace runs.
    Developer,
    /// Reads everything, changes nothing.
    Viewer,
}

/// Something a caller may be allowed to do in a workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// See the workspace, its members and its resources.
    ReadWorkspace,
    /// Change the workspace's display name.
    RenameWorkspace,
    /// Delete the workspace and everything in it.
    DeleteWorkspace,
    /// Invite people and change or remove members.
    ManageMembers,
    /// List, create and revoke API keys.
    ManageApiKeys,
    /// Set, replace and delete the workspace's secrets.
    ManageSecrets,
    /// Create and change what the workspace runs (routes, pipelines, content, entities).
    Develop,
    /// Decide who may call a route (its auth setting).
    ManageRouteAuth,
}

impl Permission {
    /// Every permission, for exhaustive tests and documentation tables.
    pub const ALL: [Permission; 8] = [
        Permission::ReadWorkspace,
        Permission::RenameWorkspace,
        Permission::DeleteWorkspace,
        Permission::ManageMembers,
        Permission::ManageApiKeys,
        Permission::ManageSecrets,
        Permission::Develop,
        Permission::ManageRouteAuth,
    ];
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Developer, Role::Viewer];

    /// Higher is more powerful.
    fn rank(self) -> u8 {
        match self {
            Role::Owner => 3,
            Role::Admin => 2,
            Role::Developer => 1,
            Role::Viewer => 0,
        }
    }

    /// The least powerful role that holds `permission`.
    pub fn minimum_for(permission: Permission) -> Role {
        match permission {
            Permission::ReadWorkspace => Role::Viewer,
            Permission::Develop => Role::Developer,
            Permission::RenameWorkspace
            | Permission::ManageMembers
            | Permission::ManageApiKeys
            | Permission::ManageSecrets
            | Permission::ManageRouteAuth => Role::Admin,
            Permission::DeleteWorkspace => Role::Owner,
        }
    }

    /// Whether this role holds `permission`.
    pub fn allows(self, permission: Permission) -> bool {
        self.at_least(Role::minimum_for(permission))
    }

    /// Whether this role is `other` or more powerful.
    pub fn at_least(self, other: Role) -> bool {
        self.rank() >= other.rank()
    }

    /// The less powerful of two roles.
    pub fn lower(self, other: Role) -> Role {
        if self.at_least(other) {
            other
        } else {
            self
        }
    }

    /// Whether a member with this role may hand out `granted` (to an invitee, a member or an
    /// API key). Nobody grants more than they hold; only owners make owners.
    pub fn may_grant(self, granted: Role) -> bool {
        self.allows(Permission::ManageMembers) && self.at_least(granted)
    }

    /// The lowercase name the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Developer => "developer",
            Role::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = crate::error::FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                crate::error::FieldError::new(
                    "role",
                    "must be one of owner, admin, developer, viewer",
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_table_matches_the_documented_matrix() {
        use Permission::*;
        // (permission, owner, admin, developer, viewer)
        let table = [
            (ReadWorkspace, true, true, true, true),
            (Develop, true, true, true, false),
            (RenameWorkspace, true, true, false, false),
            (ManageMembers, true, true, false, false),
            (ManageApiKeys, true, true, false, false),
            (ManageSecrets, true, true, false, false),
            (ManageRouteAuth, true, true, false, false),
            (DeleteWorkspace, true, false, false, false),
        ];
        assert_eq!(table.len(), Permission::ALL.len());
        for (p, owner, admin, dev, viewer) in table {
            assert_eq!(Role::Owner.allows(p), owner, "owner {p:?}");
            assert_eq!(Role::Admin.allows(p), admin, "admin {p:?}");
            assert_eq!(Role::Developer.allows(p), dev, "developer {p:?}");
            assert_eq!(Role::Viewer.allows(p), viewer, "viewer {p:?}");
        }
    }

    #[test]
    fn nobody_grants_more_than_they_hold() {
        for granter in Role::ALL {
            for granted in Role::ALL {
                let expected =
                    granter.allows(Permission::ManageMembers) && granter.at_least(granted);
                assert_eq!(
                    granter.may_grant(granted),
                    expected,
                    "{granter} -> {granted}"
                );
            }
        }
        assert!(Role::Owner.may_grant(Role::Owner));
        assert!(!Role::Admin.may_grant(Role::Owner));
        assert!(Role::Admin.may_grant(Role::Admin));
        assert!(!Role::Developer.may_grant(Role::Viewer));
    }

    #[test]
    fn lower_picks_the_weaker_role() {
        assert_eq!(Role::Owner.lower(Role::Viewer), Role::Viewer);
        assert_eq!(Role::Developer.lower(Role::Admin), Role::Developer);
        assert_eq!(Role::Admin.lower(Role::Admin), Role::Admin);
    }

    #[test]
    fn roles_parse_from_their_names_only() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().ok(), Some(r));
        }
        let err = "root".parse::<Role>().unwrap_err();
        assert_eq!(err.field, "role");
        assert!("Owner".parse::<Role>().is_err());
    }
}
