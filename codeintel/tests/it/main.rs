//! codeintel's integration tests, one binary: per-language graph fixtures, and index runs
//! with the real model, LanceDB and Tantivy.

mod graph_fixtures;
mod index;
