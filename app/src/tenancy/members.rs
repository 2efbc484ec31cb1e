//! `/w/:slug/members`: members and their roles; invitations.

use super::api::{
    current_user, get_workspace, list_invitations, list_members, ChangeRole, InviteMember,
    RemoveMember,
};
use super::frame::use_slug;
use super::reveal::Reveal;
use super::roles::{RoleBadge, RoleSelect};
use crate::components::{
    checks, field_error, form_error, Card, ClearOnSuccess, ConfirmButton, DataTable, Field,
    FormError, Listing, Loaded, PageHead, Precision, Timestamp,
};
use crate::error::AppError;
use leptos::prelude::*;
use shared::api::Member;
use shared::ids::UserId;
use shared::roles::{Permission, Role};

/// Members of the workspace.
#[component]
pub fn MembersPage() -> impl IntoView {
    let slug = use_slug();
    let change = ServerAction::<ChangeRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    // Who is looking decides what they may change: their role here, and which row is theirs.
    let viewer = Resource::new(slug, |s| async move {
        let role = get_workspace(s).await?.role;
        let me = current_user().await?.user.id;
        Ok::<_, AppError>((role, me))
    });
    let members = Resource::new(
        move || (slug(), change.version().get(), remove.version().get()),
        |(s, _, _)| list_members(s),
    );
    let change_error = form_error(change.value());
    let remove_error = form_error(remove.value());
    let action_error = Signal::derive(move || change_error.get().or_else(|| remove_error.get()));
    view! {
        <PageHead title="Members">"Owners manage everything; admins manage members and keys; developers build; viewers read."</PageHead>
        <FormError message=action_error/>
        <Loaded resource=viewer let:viewer>
            {
                let (my_role, me) = viewer;
                let can_manage = my_role.allows(Permission::ManageMembers);
                view! {
                    <Listing items=members empty="No members" hint=|| "" let:list>
                        <DataTable label="Members" columns=&["Name", "E-mail", "Role", "Joined"] actions=true testid="members">
                            {list.into_iter().map(|m| {
                                let is_me = m.user_id == me;
                                let editable = can_manage && my_role.at_least(m.role);
                                view! { <MemberRow member=m slug=slug() is_me=is_me editable=editable change=change remove=remove/> }
                            }).collect_view()}
                        </DataTable>
                    </Listing>
                    <Show when=move || can_manage>
                        <InviteSection/>
                    </Show>
                }
            }
        </Loaded>
    }
    .into_any()
}

/// One member: role (a picker for those the viewer may change), joining date, and Remove
/// (or Leave, on the viewer's own row) behind a confirmation.
#[component]
fn MemberRow(
    member: Member,
    slug: String,
    is_me: bool,
    editable: bool,
    change: ServerAction<ChangeRole>,
    remove: ServerAction<RemoveMember>,
) -> impl IntoView {
    let user_id = member.user_id;
    let role_cell = if editable {
        view! { <RoleForm slug=slug.clone() user_id=user_id role=member.role change=change/> }
            .into_any()
    } else {
        view! { <RoleBadge role=member.role/> }.into_any()
    };
    let (label, question) = if is_me {
        ("Leave", "Leave this workspace?")
    } else {
        ("Remove", "Remove this member?")
    };
    view! {
        <tr>
            <td>{member.name.clone()} {is_me.then(|| view! { <span class="muted small">" (you)"</span> })}</td>
            <td>{member.email.clone()}</td>
            <td>{role_cell}</td>
            <td class="muted small"><Timestamp at=member.joined_at/></td>
            <td class="actions">
                {(editable || is_me).then(|| view! {
                    <ActionForm action=remove>
                        <input type="hidden" name="slug" value=slug/>
                        <input type="hidden" name="user_id" value=user_id.to_string()/>
                        <div class="row-actions">
                            <ConfirmButton label=label question=question/>
                        </div>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
    .into_any()
}

/// A member's role picker and its Save button.
#[component]
fn RoleForm(
    slug: String,
    user_id: UserId,
    role: Role,
    change: ServerAction<ChangeRole>,
) -> impl IntoView {
    view! {
        <ActionForm action=change>
            <input type="hidden" name="slug" value=slug/>
            <input type="hidden" name="user_id" value=user_id.to_string()/>
            <div class="inline-form">
                <RoleSelect selected=role aria_label="Role"/>
                <button type="submit" class="button small">"Save"</button>
            </div>
        </ActionForm>
    }
    .into_any()
}

/// Invite form (emptied after each invitation), the link of the latest invitation, and the
/// pending invitations.
#[component]
fn InviteSection() -> impl IntoView {
    let slug = use_slug();
    let invite = ServerAction::<InviteMember>::new();
    let value = invite.value();
    let pending = Resource::new(
        move || (slug(), invite.version().get()),
        |(s, _)| list_invitations(s),
    );
    view! {
        <Card id="invite-heading" title="Invite a teammate" about="Invitation links are single-use and expire. Send the link yourself; Switchyard does not e-mail it." error=form_error(value)>
            <ClearOnSuccess value=value>
                <ActionForm action=invite>
                    <input type="hidden" name="slug" value=slug()/>
                    <div class="inline-form">
                        <Field label="E-mail" name="email" kind="email" check=checks::email server_error=field_error(value, "email")/>
                        <div class="field">
                            <label for="invite-role">"Role"</label>
                            <RoleSelect id="invite-role"/>
                        </div>
                        <button type="submit" class="button primary">"Create invitation"</button>
                    </div>
                </ActionForm>
            </ClearOnSuccess>
            {move || value.get().and_then(Result::ok).map(|inv| view! {
                <Reveal value=inv.url.clone() testid="invitation-link">
                    <p>"Invitation for " <strong>{inv.email.clone()}</strong> " as " {inv.role.as_str()} ":"</p>
                </Reveal>
            })}
            <h3>"Pending invitations"</h3>
            <Listing items=pending empty="No pending invitations"
                hint=|| "Invitations you create appear here until they are used or expire." let:list>
                <ul class="plain-list">
                    {list.into_iter().map(|i| view! {
                        <li>
                            {i.email} " · " {i.role.as_str()}
                            <span class="muted small">" · expires " <Timestamp at=i.expires_at precision=Precision::Minute/></span>
                        </li>
                    }).collect_view()}
                </ul>
            </Listing>
        </Card>
    }
    .into_any()
}
