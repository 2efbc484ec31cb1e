//! How code records and index results are shown to callers.

use super::store::CodeRepoRecord;
use crate::clock::rfc3339;
use crate::jobs::JobRecord;
use codeintel::store::Reached;
use codeintel::{EdgeKind, Symbol};
use shared::code::{RelatedSymbol, RepositorySource, RepositoryView, SymbolView};

fn rfc3339_ms(ms: i64) -> String {
    rfc3339(ms / 1000)
}

/// A symbol of the code graph as the API shows it.
pub fn symbol_view(s: &Symbol) -> SymbolView {
    SymbolView {
        id: s.id.clone(),
        repo_id: s.repo_id.clone(),
        path: s.path.clone(),
        name: s.name.clone(),
        qualified: s.qualified.clone(),
        kind: s.kind.to_string(),
        language: s.language.to_string(),
        line_start: s.line_start,
        line_end: s.line_end,
        signature: s.signature.clone(),
        doc: s.doc.clone(),
        visibility: s.visibility.clone(),
    }
}

pub(super) fn related(reached: Reached, relation: EdgeKind) -> RelatedSymbol {
    RelatedSymbol {
        symbol: symbol_view(&reached.symbol),
        depth: reached.depth,
        confidence: reached.confidence,
        relation: relation.as_str().to_owned(),
        line: reached.line,
    }
}

pub(super) fn repository_view(r: &CodeRepoRecord, job: Option<&JobRecord>) -> RepositoryView {
    let report: Option<serde_json::Value> = r
        .report
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok());
    let skipped = report
        .as_ref()
        .and_then(|v| v.get("skipped"))
        .and_then(|s| serde_json::from_value(s.clone()).ok())
        .unwrap_or_default();
    let status = r.status;
    RepositoryView {
        id: r.id.to_string(),
        name: r.name.clone(),
        source: r.source,
        url: match r.source {
            RepositorySource::Upload => r.name.clone(),
            RepositorySource::Git | RepositorySource::Path => r.location.clone(),
        },
        branch: r.branch.clone(),
        credential: r.credential.clone(),
        status,
        commit: r.commit_sha.clone(),
        files_indexed: r.files_indexed,
        files_skipped: r.files_skipped,
        skipped,
        symbols: r.symbols,
        chunks: r.chunks,
        error: r.error.clone(),
        job_id: r.job_id.map(|j| j.to_string()),
        progress: job
            .filter(|_| status.is_busy())
            .and_then(|j| j.progress.as_deref())
            .and_then(|p| serde_json::from_str(p).ok()),
        report,
        created_at: rfc3339_ms(r.created_at),
        indexed_at: r.indexed_at.map(rfc3339_ms),
    }
}
