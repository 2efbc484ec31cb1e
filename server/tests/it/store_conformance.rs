//! The `Store` conformance suite: written once, run against SQLite and PostgreSQL.

use crate::common::TestDb;
use server::accounts::store::*;
use server::store::*;
use server::tenancy::store::*;
use shared::ids::{ApiKeyId, InvitationId, SessionId, TenantId, UserId};
use shared::roles::Role;

fn user(email: &str) -> UserRecord {
    UserRecord {
        id: UserId::new(),
        email: email.to_owned(),
        name: email.to_owned(),
        password_hash: Some("$argon2id$fake".to_owned()),
        created_at: 1_000,
        email_verified_at: Some(1_000),
    }
}

fn workspace(slug: &str) -> WorkspaceRecord {
    WorkspaceRecord {
        id: TenantId::new(),
        slug: slug.to_owned(),
        name: format!("{slug} name"),
        created_at: 1_000,
    }
}

fn invitation(
    tenant: TenantId,
    by: UserId,
    hash: &str,
    role: Role,
    expires_at: i64,
) -> InvitationRecord {
    InvitationRecord {
        id: InvitationId::new(),
        tenant_id: tenant,
        email: "invitee@example.com".to_owned(),
        role,
        token_hash: hash.to_owned(),
        invited_by: by,
        created_at: 1_000,
        expires_at,
        accepted_at: None,
        revoked_at: None,
    }
}

fn api_key(tenant: TenantId, by: UserId, hash: &str) -> ApiKeyRecord {
    ApiKeyRecord {
        id: ApiKeyId::new(),
        tenant_id: tenant,
        name: "ci".to_owned(),
        prefix: "sy_abcdefgh".to_owned(),
        key_hash: hash.to_owned(),
        role: Role::Developer,
        created_by: by,
        created_at: 1_000,
        last_used_at: None,
    }
}

async fn users_are_unique_by_email(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let ada = user("ada@example.com");
    store.create_user(&ada, None).await.unwrap();
    assert_eq!(
        store.user_by_email("ada@example.com").await.unwrap(),
        Some(ada.clone())
    );
    assert_eq!(store.user(ada.id).await.unwrap(), Some(ada.clone()));
    let session = SessionRecord {
        id: SessionId::new(),
        user_id: UserId::new(),
        created_at: 1,
        last_seen_at: 1,
        expires_at: 2,
        revoked_at: None,
        user_agent: String::new(),
    };
    let err = store
        .create_user(&user("ada@example.com"), Some(&session))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict("email")), "{err:?}");
    assert_eq!(
        store.session(session.id).await.unwrap(),
        None,
        "nothing half-written"
    );
    assert_eq!(
        store.user_by_email("nobody@example.com").await.unwrap(),
        None
    );
    store.close().await;
    db.drop_db().await;
}
on_both_backends!(users_are_unique_by_email, users_are_unique_by_email);

fn session_of(user: UserId) -> SessionRecord {
    SessionRecord {
        id: SessionId::new(),
        user_id: user,
        created_at: 10,
        last_seen_at: 10,
        expires_at: 1_000_000,
        revoked_at: None,
        user_agent: String::new(),
    }
}

fn token(hash: &str, purpose: EmailPurpose, email: &str, user: Option<UserId>) -> EmailTokenRecord {
    EmailTokenRecord {
        token_hash: hash.to_owned(),
        purpose,
        email: email.to_owned(),
        user_id: user,
        name: Some("Bea".to_owned()),
        password_hash: Some("$argon2id$pending".to_owned()),
        next_path: Some("/invitations/x".to_owned()),
        created_at: 10,
        expires_at: 100,
    }
}

async fn email_tokens_work_once_for_their_purpose_until_they_expire(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    // A pending sign-up: following it makes the verified account, with the sign-up's
    // password and next path, and its session, in one step.
    store
        .create_email_token(&token(
            "h-signup",
            EmailPurpose::SignUp,
            "bea@example.com",
            None,
        ))
        .await
        .unwrap();
    assert!(
        matches!(
            store
                .reset_password("h-signup", "$x", 20, session_of)
                .await
                .unwrap(),
            EmailOutcome::Invalid
        ),
        "a sign-up link is no reset link"
    );
    assert!(
        matches!(
            store
                .verify_email("h-signup", 100, session_of)
                .await
                .unwrap(),
            EmailOutcome::Invalid
        ),
        "expired at its expiry"
    );
    let EmailOutcome::Done(done) = store
        .verify_email("h-signup", 20, session_of)
        .await
        .unwrap()
    else {
        panic!("the sign-up completes");
    };
    let FollowedLink {
        user,
        session,
        next,
    } = *done;
    assert_eq!(user.email, "bea@example.com");
    assert_eq!(user.email_verified_at, Some(20));
    assert_eq!(user.password_hash.as_deref(), Some("$argon2id$pending"));
    assert_eq!(next.as_deref(), Some("/invitations/x"));
    assert_eq!(
        store.user_by_email("bea@example.com").await.unwrap(),
        Some(user.clone())
    );
    assert_eq!(
        store.session(session.id).await.unwrap().map(|s| s.user_id),
        Some(user.id)
    );
    assert!(
        matches!(
            store
                .verify_email("h-signup", 21, session_of)
                .await
                .unwrap(),
            EmailOutcome::Invalid
        ),
        "once"
    );

    // A second pending sign-up for the same address, followed after the first: the address
    // is taken, and nothing is written but the spent token.
    store
        .create_email_token(&token(
            "h-late",
            EmailPurpose::SignUp,
            "bea@example.com",
            None,
        ))
        .await
        .unwrap();
    assert!(matches!(
        store.verify_email("h-late", 30, session_of).await.unwrap(),
        EmailOutcome::Taken
    ));
    assert!(matches!(
        store.verify_email("h-late", 31, session_of).await.unwrap(),
        EmailOutcome::Invalid
    ));

    // A reset: only the newest link works; it sets the password and ends the sessions.
    store
        .create_email_token(&token(
            "h-reset-1",
            EmailPurpose::Reset,
            "bea@example.com",
            Some(user.id),
        ))
        .await
        .unwrap();
    store
        .create_email_token(&token(
            "h-reset-2",
            EmailPurpose::Reset,
            "bea@example.com",
            Some(user.id),
        ))
        .await
        .unwrap();
    assert!(
        matches!(
            store
                .reset_password("h-reset-1", "$new", 40, session_of)
                .await
                .unwrap(),
            EmailOutcome::Invalid
        ),
        "replaced by the newer link"
    );
    let EmailOutcome::Done(fresh) = store
        .reset_password("h-reset-2", "$new", 40, session_of)
        .await
        .unwrap()
    else {
        panic!("the reset completes");
    };
    assert_eq!(
        store
            .user(user.id)
            .await
            .unwrap()
            .and_then(|u| u.password_hash)
            .as_deref(),
        Some("$new")
    );
    assert!(store
        .session(session.id)
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some());
    assert!(store
        .session(fresh.session.id)
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_none());
    store.close().await;
    db.drop_db().await;
}
on_both_backends!(
    email_tokens_work_once_for_their_purpose_until_they_expire,
    email_tokens_work_once_for_their_purpose_until_they_expire
);

async fn sessions_end_by_revocation_and_password_change(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let ada = user("ada@example.com");
    store.create_user(&ada, None).await.unwrap();
    let mk = |created| SessionRecord {
        id: SessionId::new(),
        user_id: ada.id,
        created_at: created,
        last_seen_at: created,
        expires_at: created + 100,
        revoked_at: None,
        user_agent: "test".to_owned(),
    };
    let (a, b, c) = (mk(1_000), mk(1_001), mk(1_002));
    for s in [&a, &b, &c] {
        store.create_session(s).await.unwrap();
    }
    store.touch_session(a.id, 1_050).await.unwrap();
    assert_eq!(
        store.session(a.id).await.unwrap().unwrap().last_seen_at,
        1_050
    );
    store.revoke_session(ada.id, b.id, 1_060).await.unwrap();
    assert!(matches!(
        store.revoke_session(ada.id, b.id, 1_061).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.revoke_session(UserId::new(), a.id, 1_061).await,
        Err(StoreError::NotFound)
    ));
    let active: Vec<SessionId> = store
        .active_sessions(ada.id, 1_070)
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(active, vec![a.id, c.id]);
    assert!(
        store
            .active_sessions(ada.id, 5_000)
            .await
            .unwrap()
            .is_empty(),
        "expired sessions are not active"
    );

    let fresh = mk(1_080);
    store
        .change_password(ada.id, "$argon2id$new", 1_080, &fresh)
        .await
        .unwrap();
    assert_eq!(
        store
            .user(ada.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .as_deref(),
        Some("$argon2id$new")
    );
    let left: Vec<SessionId> = store
        .active_sessions(ada.id, 1_090)
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(left, vec![fresh.id], "only the session the change started");
    assert_eq!(
        store.session(c.id).await.unwrap().unwrap().revoked_at,
        Some(1_080)
    );
    store.close().await;
    db.drop_db().await;
}
on_both_backends!(
    sessions_end_by_revocation_and_password_change,
    sessions_end_by_revocation_and_password_change
);

async fn workspaces_have_unique_slugs_and_an_owner(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let ada = user("ada@example.com");
    let bob = user("bob@example.com");
    store.create_user(&ada, None).await.unwrap();
    store.create_user(&bob, None).await.unwrap();
    let acme = workspace("acme");
    store.create_workspace(&acme, ada.id).await.unwrap();

    let dup = workspace("acme");
    let err = store.create_workspace(&dup, bob.id).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict("slug")), "{err:?}");
    // Nothing half-written: bob got no membership and the duplicate id does not exist.
    assert!(store.workspaces_of(bob.id).await.unwrap().is_empty());
    assert_eq!(store.workspace(dup.id).await.unwrap(), None);

    let m = store
        .membership_by_slug(ada.id, "acme")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (m.workspace.clone(), m.role, m.member_count),
        (acme.clone(), Role::Owner, 1)
    );
    assert_eq!(
        store.membership_by_slug(bob.id, "acme").await.unwrap(),
        None
    );
    assert_eq!(
        store.membership_by_slug(ada.id, "nope").await.unwrap(),
        None
    );

    let zeta = workspace("zeta");
    store.create_workspace(&zeta, ada.id).await.unwrap();
    let mine: Vec<String> = store
        .workspaces_of(ada.id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.workspace.slug)
        .collect();
    assert_eq!(mine, vec!["acme", "zeta"]);

    store.rename_workspace(acme.id, "Acme Corp").await.unwrap();
    assert_eq!(
        store.workspace(acme.id).await.unwrap().unwrap().name,
        "Acme Corp"
    );
    assert!(matches!(
        store.rename_workspace(TenantId::new(), "x").await,
        Err(StoreError::NotFound)
    ));
    store.close().await;
    db.drop_db().await;
}
on_both_backends!(
    workspaces_have_unique_slugs_and_an_owner,
    workspaces_have_unique_slugs_and_an_owner
);

async fn the_last_owner_stays(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let ada = user("ada@example.com");
    let bob = user("bob@example.com");
    store.create_user(&ada, None).await.unwrap();
    store.create_user(&bob, None).await.unwrap();
    let acme = workspace("acme");
    store.create_workspace(&acme, ada.id).await.unwrap();
    assert!(matches!(
        store.set_member_role(acme.id, ada.id, Role::Admin).await,
        Err(StoreError::LastOwner)
    ));
    assert!(matches!(
        store.remove_member(acme.id, ada.id, 1_500).await,
        Err(StoreError::LastOwner)
    ));

    store
        .create_invitation(&invitation(
            acme.id,
            ada.id,
            "h1",
            Role::Viewer,
            9_999_999_999,
        ))
        .await
        .unwrap();
    store.accept_invitation("h1", bob.id, 2_000).await.unwrap();
    let promoted = store
        .set_member_role(acme.id, bob.id, Role::Owner)
        .await
        .unwrap();
    assert_eq!(promoted.role, Role::Owner);
    // With two owners, one may step down.
    assert_eq!(
        store
            .set_member_role(acme.id, ada.id, Role::Developer)
            .await
            .unwrap()
            .role,
        Role::Developer
    );
    assert!(matches!(
        store.remove_member(acme.id, bob.id, 1_500).await,
        Err(StoreError::LastOwner)
    ));
    // A removed member's keys are revoked with the membership.
    store
        .create_api_key(&api_key(acme.id, ada.id, "ada-key"))
        .await
        .unwrap();
    store
        .create_api_key(&api_key(acme.id, bob.id, "bob-key"))
        .await
        .unwrap();
    assert_eq!(
        store.remove_member(acme.id, ada.id, 1_500).await.unwrap(),
        1
    );
    let left: Vec<String> = store
        .api_keys(acme.id)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.key_hash)
        .collect();
    assert_eq!(left, vec!["bob-key".to_owned()]);
    let members: Vec<(UserId, Role)> = store
        .members(acme.id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.user_id, m.role))
        .collect();
    assert_eq!(members, vec![(bob.id, Role::Owner)]);
    assert!(matches!(
        store.set_member_role(acme.id, ada.id, Role::Viewer).await,
        Err(StoreError::NotFound)
    ));
    store.close().await;
    db.drop_db().await;
}
on_both_backends!(the_last_owner_stays, the_last_owner_stays);

async fn invitations_are_single_use_and_expire(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let ada = user("ada@example.com");
    let bob = user("bob@example.com");
    let cy = user("cy@example.com");
    for u in [&ada, &bob, &cy] {
        store.create_user(u, None).await.unwrap();
    }
    let acme = workspace("acme");
    store.create_workspace(&acme, ada.id).await.unwrap();
    let live = invitation(acme.id, ada.id, "live", Role::Developer, 5_000);
    let expired = invitation(acme.id, ada.id, "old", Role::Admin, 1_500);
    let withdrawn = invitation(acme.id, ada.id, "gone", Role::Admin, 5_000);
    for i in [&live, &expired, &withdrawn] {
        store.create_invitation(i).await.unwrap();
    }
    store
        .revoke_invitation(acme.id, withdrawn.id, 1_200)
        .await
        .unwrap();
    let pending: Vec<InvitationId> = store
        .pending_invitations(acme.id, 2_000)
        .await
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(pending, vec![live.id]);

    let (found, ws) = store.invitation_by_token("live").await.unwrap().unwrap();
    assert_eq!((found.id, ws.id), (live.id, acme.id));
    assert_eq!(store.invitation_by_token("nope").await.unwrap(), None);

    let joined = store
        .accept_invitation("live", bob.id, 2_000)
        .await
        .unwrap();
    assert_eq!(
        (joined.workspace.id, joined.role, joined.member_count),
        (acme.id, Role::Developer, 2)
    );
    assert!(
        matches!(
            store.accept_invitation("live", cy.id, 2_001).await,
            Err(StoreError::NotFound)
        ),
        "single use"
    );
    assert!(
        matches!(
            store.accept_invitation("old", cy.id, 2_001).await,
            Err(StoreError::NotFound)
        ),
        "expired"
    );
    assert!(
        matches!(
            store.accept_invitation("gone", cy.id, 2_001).await,
            Err(StoreError::NotFound)
        ),
        "withdrawn"
    );
    assert_eq!(store.membership_by_slug(cy.id, "acme").await.unwrap(), None);
    assert!(store
        .pending_invitations(acme.id, 2_002)
        .await
        .unwrap()
        .is_empty());

    // An existing member accepting keeps their role.
    store
        .create_invitation(&invitation(acme.id, ada.id, "again", Role::Viewer, 5_000))
        .await
        .unwrap();
    assert_eq!(
        store
            .accept_invitation("again", bob.id, 2_100)
            .await
            .unwrap()
            .role,
        Role::Developer
    );
    store.close().await;
    db.drop_db().await;
}
on_both_backends!(
    invitations_are_single_use_and_expire,
    invitations_are_single_use_and_expire
);

async fn api_keys_are_scoped_to_their_workspace(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let ada = user("ada@example.com");
    store.create_user(&ada, None).await.unwrap();
    let (acme, globex) = (workspace("acme"), workspace("globex"));
    store.create_workspace(&acme, ada.id).await.unwrap();
    store.create_workspace(&globex, ada.id).await.unwrap();
    let k1 = api_key(acme.id, ada.id, "hash-1");
    let k2 = api_key(globex.id, ada.id, "hash-2");
    store.create_api_key(&k1).await.unwrap();
    store.create_api_key(&k2).await.unwrap();

    assert_eq!(store.api_keys(acme.id).await.unwrap(), vec![k1.clone()]);
    let used = store.use_api_key("hash-1", 3_000).await.unwrap().unwrap();
    assert_eq!((used.id, used.last_used_at), (k1.id, Some(3_000)));
    assert_eq!(
        store.api_keys(acme.id).await.unwrap()[0].last_used_at,
        Some(3_000)
    );
    assert_eq!(store.use_api_key("unknown", 3_000).await.unwrap(), None);
    // Within a minute a use is not written again; after it, it is.
    let soon = store.use_api_key("hash-1", 3_059).await.unwrap().unwrap();
    assert_eq!(soon.last_used_at, Some(3_000));
    let later = store.use_api_key("hash-1", 3_060).await.unwrap().unwrap();
    assert_eq!(later.last_used_at, Some(3_060));
    assert_eq!(
        store.api_keys(acme.id).await.unwrap()[0].last_used_at,
        Some(3_060)
    );

    // Another workspace cannot revoke it, even knowing its id.
    assert!(matches!(
        store.revoke_api_key(globex.id, k1.id, 3_100).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.use_api_key("hash-1", 3_200).await.unwrap().is_some());
    store.revoke_api_key(acme.id, k1.id, 3_300).await.unwrap();
    assert_eq!(store.use_api_key("hash-1", 3_400).await.unwrap(), None);
    assert!(store.api_keys(acme.id).await.unwrap().is_empty());
    assert_eq!(store.api_keys(globex.id).await.unwrap(), vec![k2]);
    store.close().await;
    db.drop_db().await;
}
on_both_backends!(
    api_keys_are_scoped_to_their_workspace,
    api_keys_are_scoped_to_their_workspace
);

async fn deleting_a_workspace_removes_what_it_owns(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let ada = user("ada@example.com");
    store.create_user(&ada, None).await.unwrap();
    let (acme, globex) = (workspace("acme"), workspace("globex"));
    store.create_workspace(&acme, ada.id).await.unwrap();
    store.create_workspace(&globex, ada.id).await.unwrap();
    store
        .create_api_key(&api_key(acme.id, ada.id, "k-acme"))
        .await
        .unwrap();
    store
        .create_api_key(&api_key(globex.id, ada.id, "k-globex"))
        .await
        .unwrap();
    store
        .create_invitation(&invitation(acme.id, ada.id, "i-acme", Role::Viewer, 9_000))
        .await
        .unwrap();

    store.delete_workspace(acme.id).await.unwrap();
    assert_eq!(store.workspace(acme.id).await.unwrap(), None);
    assert_eq!(store.use_api_key("k-acme", 2_000).await.unwrap(), None);
    assert_eq!(store.invitation_by_token("i-acme").await.unwrap(), None);
    assert!(store.members(acme.id).await.unwrap().is_empty());
    let left: Vec<String> = store
        .workspaces_of(ada.id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.workspace.slug)
        .collect();
    assert_eq!(left, vec!["globex"]);
    assert!(store
        .use_api_key("k-globex", 2_000)
        .await
        .unwrap()
        .is_some());
    assert!(matches!(
        store.delete_workspace(acme.id).await,
        Err(StoreError::NotFound)
    ));
    store.close().await;
    db.drop_db().await;
}
on_both_backends!(
    deleting_a_workspace_removes_what_it_owns,
    deleting_a_workspace_removes_what_it_owns
);

/// On PostgreSQL, row-level security hides other tenants' rows even from a query that
/// forgets its `tenant_id` filter.
#[tokio::test]
async fn postgres_row_level_security_enforces_the_tenant() {
    use sqlx::{Connection, Executor, Row};
    let db = TestDb::new(Backend::Postgres).await;
    let store = db.store().await;
    let ada = user("ada@example.com");
    let bob = user("bob@example.com");
    store.create_user(&ada, None).await.unwrap();
    store.create_user(&bob, None).await.unwrap();
    let (acme, globex) = (workspace("acme"), workspace("globex"));
    store.create_workspace(&acme, ada.id).await.unwrap();
    store.create_workspace(&globex, ada.id).await.unwrap();
    store
        .create_api_key(&api_key(acme.id, ada.id, "k-acme"))
        .await
        .unwrap();
    store
        .create_api_key(&api_key(globex.id, ada.id, "k-globex"))
        .await
        .unwrap();

    let mut conn = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    conn.execute("SET ROLE switchyard_app").await.unwrap();
    let count = |sql: &'static str| sqlx::query(sql);
    let mut tx = conn.begin().await.unwrap();
    let none: i64 = count("SELECT COUNT(*) AS n FROM api_keys")
        .fetch_one(&mut *tx)
        .await
        .unwrap()
        .get("n");
    assert_eq!(none, 0, "no scope, no rows");
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(acme.id.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let rows = sqlx::query("SELECT key_hash FROM api_keys")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    let hashes: Vec<String> = rows.iter().map(|r| r.get("key_hash")).collect();
    assert_eq!(hashes, vec!["k-acme"]);
    let ws: i64 = count("SELECT COUNT(*) AS n FROM workspaces")
        .fetch_one(&mut *tx)
        .await
        .unwrap()
        .get("n");
    assert_eq!(ws, 1);
    // Writing into another tenant is refused by the policy.
    let insert = sqlx::query(
        "INSERT INTO memberships (tenant_id, user_id, role, joined_at) VALUES ($1, $2, 'owner', 1)",
    )
    .bind(globex.id.to_string())
    .bind(bob.id.to_string())
    .execute(&mut *tx)
    .await;
    assert!(insert.is_err(), "RLS must refuse a row of another tenant");
    drop(tx);
    conn.close().await.ok();
    store.close().await;
    db.drop_db().await;
}
