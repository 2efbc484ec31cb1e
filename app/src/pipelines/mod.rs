//! Pipelines: the list, the editor (palette, canvas, inspector, problems, versions, import
//! and export, run), and a run painted live on its graph.

pub mod api;
mod canvas;
mod editor;
mod list;
mod live;
mod model;
mod run;

pub use editor::EditorPage;
pub use list::PipelinesPage;
pub use run::RunPage;

lazy_routes!(pipelines_pages {
    /// `/w/:slug/pipelines`.
    PipelinesRoute => PipelinesPage,
    /// `/w/:slug/pipelines/:id`.
    PipelineRoute => EditorPage,
    /// `/w/:slug/pipelines/:id/runs/:run`.
    RunRoute => RunPage,
});
