//! `/w/:slug/topics`: the workspace's draft topics and their subscribers; developers add
//! them, publish a message to a live topic, and replay dead letters. Delivery is at least
//! once, in no promised order; each message has an id for idempotent consumers.

use super::api::{
    list_dead_letters, list_messages, list_topics, AddSubscriber, CreateTopic, DeleteSubscriber,
    DeleteTopic, Publish, Replay,
};
use super::fields::TextArea;
use crate::components::{
    field_error, form_error, Card, ClearOnSuccess, ConfirmButton, DataTable, Field, FormError,
    Listing, Loaded, PageHead, Precision, Timestamp,
};
use crate::pipelines::api::list_pipelines;
use crate::tenancy::api::get_workspace;
use crate::tenancy::use_slug;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::roles::Permission;
use shared::routes::views::{DeadLetterView, MessageView, SubscriberView, TopicView};
use shared::routes::SubscriberHandler;

/// The actions every topic card uses, made once for the page.
#[derive(Clone, Copy)]
struct Actions {
    delete_topic: ServerAction<DeleteTopic>,
    add: ServerAction<AddSubscriber>,
    remove: ServerAction<DeleteSubscriber>,
    publish: ServerAction<Publish>,
    replay: ServerAction<Replay>,
}

/// The topics of the workspace.
#[component]
pub fn TopicsPage() -> impl IntoView {
    let slug = use_slug();
    let create = ServerAction::<CreateTopic>::new();
    let actions = Actions {
        delete_topic: ServerAction::new(),
        add: ServerAction::new(),
        remove: ServerAction::new(),
        publish: ServerAction::new(),
        replay: ServerAction::new(),
    };
    let workspace = Resource::new(slug, get_workspace);
    let pipelines = Resource::new(slug, list_pipelines);
    let topics = Resource::new(
        move || {
            (
                slug(),
                create.version().get(),
                actions.delete_topic.version().get(),
                actions.add.version().get(),
                actions.remove.version().get(),
            )
        },
        |(s, ..)| list_topics(s),
    );
    view! {
        <PageHead title="Topics">"Publish a message once; every subscriber receives it at least once, retried with backoff, in no promised order. A message whose attempts are spent becomes a dead letter you can replay. Edits are drafts until " <A href=move || format!("/w/{}/deploys", slug())>"deployed"</A> "."</PageHead>
        <Loaded resource=workspace let:ws>
            {
                let developer = ws.role.allows(Permission::Develop);
                view! {
                    <Show when=move || developer>
                        <NewTopicForm create=create/>
                    </Show>
                    <FormError message=form_error(actions.delete_topic.value())/>
                    <FormError message=form_error(actions.remove.value())/>
                    <Loaded resource=pipelines let:ps>
                        {
                            let ps: Vec<(String, String)> = ps.into_iter().map(|p| (p.id, p.name)).collect();
                            view! {
                                <Listing items=topics empty="No topics yet" hint=|| "A developer adds one with the form above." let:list>
                                    <ul class="card-list" data-testid="topics">
                                        {list.into_iter().map(|t| view! { <TopicCard topic=t developer=developer actions=actions pipelines=ps.clone()/> }).collect_view()}
                                    </ul>
                                </Listing>
                            }
                        }
                    </Loaded>
                }
            }
        </Loaded>
    }
    .into_any()
}

#[component]
fn NewTopicForm(create: ServerAction<CreateTopic>) -> impl IntoView {
    let slug = use_slug();
    let value = create.value();
    view! {
        <Card id="new-topic" title="Add a topic" error=form_error(value)>
            <ClearOnSuccess value=value>
                <ActionForm action=create>
                    <input type="hidden" name="slug" value=slug()/>
                    <div class="inline-form">
                        <Field label="Name" name="name" placeholder="orders" hint="Lowercase letters, digits, . _ -"
                            server_error=field_error(value, "name")/>
                        <Field label="Keep messages (hours)" name="retention_hours" kind="number" min="1" max="720" placeholder="72" class="narrow"
                            server_error=field_error(value, "retention_hours")/>
                        <button type="submit" class="button primary">"Add topic"</button>
                    </div>
                </ActionForm>
            </ClearOnSuccess>
        </Card>
    }
    .into_any()
}

#[component]
fn TopicCard(
    topic: TopicView,
    developer: bool,
    actions: Actions,
    pipelines: Vec<(String, String)>,
) -> impl IntoView {
    let slug = use_slug();
    let name = topic.name.clone();
    let letters = Resource::new(
        {
            let name = name.clone();
            move || {
                (
                    slug(),
                    name.clone(),
                    actions.replay.version().get(),
                    actions.publish.version().get(),
                )
            }
        },
        |(s, t, _, _)| list_dead_letters(s, t),
    );
    let subscribers = topic.subscribers.clone();
    // Copy, so every closure below can read it.
    let stored = StoredValue::new(name.clone());
    view! {
        <li class="card" data-testid=format!("topic-{name}")>
            <div class="topic-head">
                <h2><code>{name.clone()}</code></h2>
                <span class="muted small">{format!("messages kept {} h", topic.retention_hours)}</span>
                {developer.then(|| view! {
                    <ActionForm action=actions.delete_topic>
                        <input type="hidden" name="slug" value=slug()/>
                        <input type="hidden" name="name" value=topic.name.clone()/>
                        <ConfirmButton label="Delete topic" question="Delete this topic and its subscribers (on the next deploy)?"/>
                    </ActionForm>
                })}
            </div>
            {if subscribers.is_empty() {
                view! { <p class="muted small">"No subscribers: messages are kept, and delivered to nobody."</p> }.into_any()
            } else {
                view! {
                    <DataTable label="Subscribers" columns=&["Subscriber", "Handler", "Attempts", "Timeout"] actions=developer>
                        {subscribers.into_iter().map(|s| view! { <SubscriberRow subscriber=s topic=stored.get_value() developer=developer remove=actions.remove/> }).collect_view()}
                    </DataTable>
                }.into_any()
            }}
            {developer.then(|| view! {
                <AddSubscriberForm topic=stored.get_value() add=actions.add pipelines=pipelines.clone()/>
                <PublishForm topic=stored.get_value() publish=actions.publish/>
            })}
            <Tail topic=stored.get_value() publish=actions.publish replay=actions.replay/>
            <h3>"Dead letters"</h3>
            <FormError message=form_error(actions.replay.value())/>
            <Listing items=letters empty="No dead letters" hint=|| "A message lands here when a subscriber's attempts are spent." let:list>
                <DataTable label="Dead letters" columns=&["Message", "Subscriber", "Attempts", "Last error", "Failed"] actions=developer testid="dead-letters">
                    {list.into_iter().map(|d| view! { <DeadLetterRow letter=d topic=stored.get_value() developer=developer replay=actions.replay/> }).collect_view()}
                </DataTable>
            </Listing>
        </li>
    }
    .into_any()
}

#[component]
fn SubscriberRow(
    subscriber: SubscriberView,
    topic: String,
    developer: bool,
    remove: ServerAction<DeleteSubscriber>,
) -> impl IntoView {
    let slug = use_slug();
    let handler = match &subscriber.handler {
        SubscriberHandler::Script { .. } => "script".to_owned(),
        SubscriberHandler::Pipeline { pipeline_id } => format!("pipeline {pipeline_id}"),
    };
    view! {
        <tr>
            <td><code>{subscriber.name.clone()}</code></td>
            <td>{handler}</td>
            <td>{subscriber.max_attempts}</td>
            <td>{format!("{} ms", subscriber.timeout_ms)}</td>
            {developer.then(|| view! {
                <td class="actions">
                    <ActionForm action=remove>
                        <input type="hidden" name="slug" value=slug()/>
                        <input type="hidden" name="topic" value=topic.clone()/>
                        <input type="hidden" name="id" value=subscriber.id.clone()/>
                        <ConfirmButton label="Remove" question="Remove this subscriber?"/>
                    </ActionForm>
                </td>
            })}
        </tr>
    }
    .into_any()
}

#[component]
fn AddSubscriberForm(
    topic: String,
    add: ServerAction<AddSubscriber>,
    pipelines: Vec<(String, String)>,
) -> impl IntoView {
    let slug = use_slug();
    let value = add.value();
    let options = pipelines
        .into_iter()
        .map(|(id, name)| view! { <option value=id>{format!("Pipeline: {name}")}</option> })
        .collect_view();
    view! {
        <details class="settings">
            <summary>"Add a subscriber"</summary>
            <FormError message=form_error(value)/>
            <ActionForm action=add>
                <input type="hidden" name="slug" value=slug()/>
                <input type="hidden" name="topic" value=topic.clone()/>
                <div class="inline-form">
                    <div class="field">
                        <label for=format!("sub-name-{topic}")>"Subscriber name"</label>
                        <input id=format!("sub-name-{topic}") name="name" placeholder="made from the kind when empty"/>
                        <p class="field-message error">{field_error(value, "name")}</p>
                    </div>
                    <div class="field">
                        <label for=format!("sub-handler-{topic}")>"Receives messages"</label>
                        <select id=format!("sub-handler-{topic}") name="pipeline_id">
                            <option value="">"The script below"</option>
                            {options}
                        </select>
                        <p class="field-message error">{field_error(value, "handler.pipeline_id")}</p>
                    </div>
                    <div class="field narrow">
                        <label for=format!("sub-attempts-{topic}")>"Attempts"</label>
                        <input id=format!("sub-attempts-{topic}") name="max_attempts" type="number" min="1" max="20" placeholder="5"/>
                        <p class="field-message error">{field_error(value, "max_attempts")}</p>
                    </div>
                </div>
                <TextArea label="Script" name="source" id=format!("sub-source-{topic}") value="export default (message, ctx) => {\n  ctx.log(`got ${message.id}`)\n}" rows=6
                    hint="Receives {id, topic, body, published_at, attempt}; a throw is a failed delivery, retried. A pipeline gets the same as its run's input."
                    server_error=field_error(value, "handler.source")/>
                <button type="submit" class="button">"Add subscriber"</button>
            </ActionForm>
        </details>
    }
    .into_any()
}

#[component]
fn PublishForm(topic: String, publish: ServerAction<Publish>) -> impl IntoView {
    let slug = use_slug();
    let value = publish.value();
    view! {
        <details class="settings">
            <summary>"Publish a message"</summary>
            <FormError message=form_error(value)/>
            <ActionForm action=publish>
                <input type="hidden" name="slug" value=slug()/>
                <input type="hidden" name="topic" value=topic.clone()/>
                <TextArea label="Message (JSON)" name="body" id=format!("publish-{topic}") value="{}" rows=4
                    hint="Published to what is live: deploy the topic first." server_error=field_error(value, "body")/>
                <button type="submit" class="button">"Publish"</button>
            </ActionForm>
            {move || value.get().and_then(Result::ok).map(|p| view! {
                <p class="banner success" role="status" data-testid="published">
                    "Published " <code>{p.id}</code> {format!(" to {} subscriber(s).", p.deliveries)}
                </p>
            })}
        </details>
    }
    .into_any()
}

/// How often a topic's tail is read again.
const TAIL_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// A topic's latest messages, each with how its deliveries stand, read again every
/// [`TAIL_EVERY`] (and at once after a publish or a replay from this page).
#[component]
fn Tail(
    topic: String,
    publish: ServerAction<Publish>,
    replay: ServerAction<Replay>,
) -> impl IntoView {
    let slug = use_slug();
    let (tick, set_tick) = signal(0u64);
    crate::components::every(TAIL_EVERY, move || set_tick.update(|n| *n += 1));
    let messages = Resource::new(
        move || {
            (
                slug(),
                topic.clone(),
                tick.get(),
                publish.version().get(),
                replay.version().get(),
            )
        },
        |(s, t, ..)| list_messages(s, t),
    );
    view! {
        <h3>"Latest messages"</h3>
        <Listing items=messages empty="No messages yet" hint=|| "Messages published to the deployed topic show here as they come, with each delivery's progress." let:list>
            <DataTable label="Latest messages" columns=&["Message", "Published", "Body", "Deliveries"] testid="messages">
                {list.into_iter().rev().map(|m| view! { <MessageRow message=m/> }).collect_view()}
            </DataTable>
        </Listing>
    }
    .into_any()
}

#[component]
fn MessageRow(message: MessageView) -> impl IntoView {
    let slug = use_slug();
    let mut body = message.body.to_string();
    if body.len() > 120 {
        let cut = (0..=117)
            .rev()
            .find(|i| body.is_char_boundary(*i))
            .unwrap_or(0);
        body.truncate(cut);
        body.push('…');
    }
    let quiet = message.deliveries.is_empty() && message.runs.is_empty();
    let runs = message
        .runs
        .into_iter()
        .map(|r| {
            let href = format!("/w/{}/pipelines/{}/runs/{}", slug(), r.pipeline_id, r.run_id);
            let title = r.error.clone().unwrap_or_default();
            view! {
                <A href=href attr:class="delivery run" attr:title=title attr:data-testid="message-run">
                    "▸ "<code>{r.pipeline}</code>" "
                    <span class=format!("badge status-{}", r.status.as_str())>{r.status.as_str()}</span>
                </A>
            }
        })
        .collect_view();
    let deliveries = if quiet {
        view! { <span class="muted small">"no subscribers"</span> }.into_any()
    } else {
        message
            .deliveries
            .into_iter()
            .map(|d| {
                let job = format!("/w/{}/jobs/{}", slug(), d.job_id);
                let title = d.error.clone().unwrap_or_default();
                let attempts = if d.attempts > 1 { format!(" ×{}", d.attempts) } else { String::new() };
                let replay = if d.replay_of.is_some() { " (replay)" } else { "" };
                view! {
                    <A href=job attr:class="delivery" attr:title=title>
                        <code>{d.subscriber}</code>{replay}" "
                        <span class=format!("badge status-{}", d.status.as_str())>{d.status.as_str()}</span>
                        {attempts}
                    </A>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <tr data-testid="message">
            <td><code>{message.id.clone()}</code></td>
            <td class="muted small"><Timestamp at=message.published_at.clone() precision=Precision::Second/></td>
            <td class="small"><code>{body}</code></td>
            <td class="deliveries">{deliveries}{runs}</td>
        </tr>
    }
    .into_any()
}

#[component]
fn DeadLetterRow(
    letter: DeadLetterView,
    topic: String,
    developer: bool,
    replay: ServerAction<Replay>,
) -> impl IntoView {
    let slug = use_slug();
    let job = format!("/w/{}/jobs/{}", slug(), letter.job_id);
    view! {
        <tr>
            <td><A href=job><code>{letter.message_id.clone()}</code></A></td>
            <td><code>{letter.subscriber.clone()}</code></td>
            <td>{letter.attempts}</td>
            <td class="small">{letter.error.clone().unwrap_or_default()}</td>
            <td class="muted small">{letter.failed_at.clone().map(|at| view! { <Timestamp at=at precision=Precision::Minute/> })}</td>
            {developer.then(|| view! {
                <td class="actions">
                    <ActionForm action=replay>
                        <input type="hidden" name="slug" value=slug()/>
                        <input type="hidden" name="topic" value=topic.clone()/>
                        <input type="hidden" name="job" value=letter.job_id.clone()/>
                        <button type="submit" class="button small">"Replay"</button>
                    </ActionForm>
                </td>
            })}
        </tr>
    }
    .into_any()
}
