//! Routes, topics and deploys: the workspace's draft routes (with "send a request" to the
//! live deploy, and each route's last hour from its log), its topics with their subscribers, messages and dead letters, and the plan,
//! deploy and history with rollback.

mod activity;
pub mod api;
mod deploys;
mod fields;
mod list;
mod route;
mod send;
mod topics;

pub use deploys::DeploysPage;
pub use list::RoutesPage;
pub use route::RoutePage;
pub use topics::TopicsPage;

lazy_routes!(routes_pages {
    /// `/w/:slug/routes`.
    RoutesRoute => RoutesPage,
    /// `/w/:slug/routes/:id`.
    RouteRoute => RoutePage,
    /// `/w/:slug/topics`.
    TopicsRoute => TopicsPage,
    /// `/w/:slug/deploys`.
    DeploysRoute => DeploysPage,
});
