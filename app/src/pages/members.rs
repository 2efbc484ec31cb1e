//! `/w/:slug/members`: members and their roles, invitations.

use crate::api::{
    current_user, get_workspace, list_invitations, list_members, ChangeRole, InviteMember,
    RemoveMember,
};
use crate::forms::{checks, field_error, form_error, ErrorPanel, Field, FormError, RoleSelect};
use crate::frame::{use_slug, RoleBadge};
use crate::pages::api_keys::CopyButton;
use leptos::prelude::*;
use leptos_meta::Title;
use shared::roles::Permission;

/// Members of the workspace.
#[component]
pub fn MembersPage() -> impl IntoView {
    let slug = use_slug();
    let change = ServerAction::<ChangeRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let invite = ServerAction::<InviteMember>::new();
    let workspace = Resource::new(slug.clone(), get_workspace);
    let me = Resource::new(|| (), |_| current_user());
    let members = Resource::new(
        {
            let slug = slug.clone();
            move || (slug(), change.version().get(), remove.version().get())
        },
        |(s, _, _)| list_members(s),
    );
    let change_error = form_error(change.value());
    let remove_error = form_error(remove.value());
    let action_error = Signal::derive(move || change_error.get().or_else(|| remove_error.get()));
    view! {
        <Title text="Members"/>
        <div class="page-head">
            <h1>"Members"</h1>
            <p class="muted">"Owners manage everything; admins manage members and keys; developers build; viewers read."</p>
        </div>
        <FormError message=action_error/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let slug = slug();
                Suspend::new(async move {
                    let (ws, me, list) = (workspace.await, me.await, members.await);
                    match (ws, me, list) {
                        (Ok(ws), Ok(me), Ok(list)) => {
                            let can_manage = ws.role.allows(Permission::ManageMembers);
                            let my_role = ws.role;
                            view! {
                                <table class="table" data-testid="members">
                                    <thead><tr><th>"Name"</th><th>"E-mail"</th><th>"Role"</th><th>"Joined"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|m| {
                                            let is_me = m.user_id == me.user.id;
                                            let editable = can_manage && my_role.at_least(m.role);
                                            let slug_change = slug.clone();
                                            let slug_remove = slug.clone();
                                            view! {
                                                <tr>
                                                    <td>{m.name.clone()} {is_me.then(|| view! { <span class="muted small">" (you)"</span> })}</td>
                                                    <td>{m.email.clone()}</td>
                                                    <td>
                                                        {if editable {
                                                            view! {
                                                                <ActionForm action=change>
                                                                    <input type="hidden" name="slug" value=slug_change/>
                                                                    <input type="hidden" name="user_id" value=m.user_id.to_string()/>
                                                                    <div class="inline-form">
                                                                        <RoleSelect selected=m.role aria_label="Role"/>
                                                                        <button type="submit" class="button small">"Save"</button>
                                                                    </div>
                                                                </ActionForm>
                                                            }.into_any()
                                                        } else {
                                                            view! { <RoleBadge role=m.role/> }.into_any()
                                                        }}
                                                    </td>
                                                    <td class="muted small">{m.joined_at.get(..10).unwrap_or_default().to_owned()}</td>
                                                    <td class="actions">
                                                        {(editable || is_me).then(|| view! {
                                                            <ActionForm action=remove>
                                                                <input type="hidden" name="slug" value=slug_remove/>
                                                                <input type="hidden" name="user_id" value=m.user_id.to_string()/>
                                                                <button type="submit" class="button small danger">{if is_me { "Leave" } else { "Remove" }}</button>
                                                            </ActionForm>
                                                        })}
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                <Show when=move || can_manage>
                                    <InviteSection slug=slug.clone() invite=invite/>
                                </Show>
                            }.into_any()
                        }
                        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => view! { <ErrorPanel error=e/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// Invite form, the link of the latest invitation, and the pending invitations.
#[component]
fn InviteSection(slug: String, invite: ServerAction<InviteMember>) -> impl IntoView {
    let value = invite.value();
    let pending = Resource::new(
        {
            let slug = slug.clone();
            move || (slug.clone(), invite.version().get())
        },
        |(s, _)| list_invitations(s),
    );
    view! {
        <section class="card" aria-labelledby="invite-heading">
            <h2 id="invite-heading">"Invite a teammate"</h2>
            <p class="muted small">"Invitation links are single-use and expire. Send the link yourself; Switchyard does not e-mail it."</p>
            <FormError message=form_error(value)/>
            <ActionForm action=invite>
                <input type="hidden" name="slug" value=slug.clone()/>
                <div class="inline-form">
                    <Field label="E-mail" name="email" kind="email" check=checks::email server_error=field_error(value, "email")/>
                    <div class="field">
                        <label for="invite-role">"Role"</label>
                        <RoleSelect id="invite-role"/>
                    </div>
                    <button type="submit" class="button primary">"Create invitation"</button>
                </div>
            </ActionForm>
            {move || value.get().and_then(Result::ok).map(|inv| view! {
                <div class="reveal" data-testid="invitation-link">
                    <p>"Invitation for " <strong>{inv.email.clone()}</strong> " as " {inv.role.as_str()} ":"</p>
                    <div class="secret-row">
                        <code class="secret">{inv.url.clone()}</code>
                        <CopyButton text=inv.url.clone()/>
                    </div>
                </div>
            })}
            <h3>"Pending invitations"</h3>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match pending.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted small">"No pending invitations."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="plain-list">
                                {list.into_iter().map(|i| view! {
                                    <li>{i.email} " · " {i.role.as_str()} <span class="muted small">" · expires " {i.expires_at.get(..16).unwrap_or_default().replace('T', " ")}</span></li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
