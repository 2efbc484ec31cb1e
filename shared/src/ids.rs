//! Typed identifiers. Each wraps a UUID so that a user id can never be passed where a
//! workspace id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random identifier.
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

typed_id!(
    /// A person with an account.
    UserId
);
typed_id!(
    /// A workspace, the unit of tenancy: every tenant-owned row carries one.
    TenantId
);
typed_id!(
    /// A login session of one user in one browser.
    SessionId
);
typed_id!(
    /// An API key of a workspace.
    ApiKeyId
);
typed_id!(
    /// A pending invitation to join a workspace.
    InvitationId
);
typed_id!(
    /// A durable job.
    JobId
);
typed_id!(
    /// A code repository registered in a workspace.
    RepositoryId
);
typed_id!(
    /// A pipeline of a workspace.
    PipelineId
);
typed_id!(
    /// A pipeline's webhook trigger (its URL names it).
    HookId
);
typed_id!(
    /// A route of a workspace (a draft until deployed).
    RouteId
);
typed_id!(
    /// A topic of a workspace.
    TopicId
);
typed_id!(
    /// A topic's subscriber.
    SubscriberId
);
typed_id!(
    /// A deploy: one applied manifest.
    DeployId
);
typed_id!(
    /// A message published to a topic (consumers use it to stay idempotent).
    MessageId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_their_text_form() {
        let id = TenantId::new();
        assert_eq!(id.to_string().parse::<TenantId>().ok(), Some(id));
        assert!("not-a-uuid".parse::<UserId>().is_err());
    }
}
