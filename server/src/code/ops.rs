//! The code operations of the control plane: repositories and their index runs, search,
//! symbols and the graph around them. Every method authorises its caller first; reads need
//! `ReadWorkspace`, changes `Develop`. A workspace's index holds only its own repositories,
//! and results are further limited to repositories the workspace still has.

use super::indexer::{IndexJob, IndexResult};
use super::{source, CodeEngine, INDEXER_POOL, INDEX_KIND};
use crate::control::{Control, ControlResult, Principal};
use crate::jobs::{JobObserver, NewJob};
use crate::store::{CodeRepoRecord, IndexOutcome, JobFilter, JobRecord, Store};
use codeintel::search::{Filters, Mode};
use codeintel::store::{CodeIndex, Reached};
use codeintel::{EdgeKind, Language, Symbol, SymbolKind};
use shared::code::{
    AddRepositoryRequest, CodeQuery, FileOutline, OutlineEntry, RelatedList, RelatedSymbol,
    RepositoryAccepted, RepositorySource, RepositoryStatus, RepositoryView, SearchResponse,
    SearchResult, SymbolDetail, SymbolView,
};
use shared::error::{ApiError, ErrorCode};
use shared::ids::TenantId;
use shared::jobs::{JobStatus, JobView};
use shared::roles::Permission;
use std::collections::HashMap;
use std::sync::Arc;
use workers::pools::PoolName;

/// Most results a search returns.
pub const MAX_SEARCH_LIMIT: usize = 100;
/// Deepest caller / callee walk.
pub const MAX_DEPTH: u32 = 5;

fn now_ms() -> i64 {
    workers::runtime::now_ms()
}

fn rfc3339_ms(ms: i64) -> String {
    crate::control::rfc3339(ms / 1000)
}

fn index_failure(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "code index failure");
    ApiError::new(ErrorCode::Unavailable, "the code index is not available")
}

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

fn related(reached: Reached, relation: EdgeKind) -> RelatedSymbol {
    RelatedSymbol {
        symbol: symbol_view(&reached.symbol),
        depth: reached.depth,
        confidence: reached.confidence,
        relation: relation.as_str().to_owned(),
        line: reached.line,
    }
}

fn repository_view(r: &CodeRepoRecord, job: Option<&JobRecord>) -> RepositoryView {
    let report: Option<serde_json::Value> = r
        .report
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok());
    let skipped = report
        .as_ref()
        .and_then(|v| v.get("skipped"))
        .and_then(|s| serde_json::from_value(s.clone()).ok())
        .unwrap_or_default();
    let status = RepositoryStatus::parse(&r.status).unwrap_or(RepositoryStatus::Failed);
    RepositoryView {
        id: r.id.clone(),
        name: r.name.clone(),
        source: RepositorySource::parse(&r.source).unwrap_or(RepositorySource::Git),
        url: match r.source.as_str() {
            "upload" => r.name.clone(),
            _ => r.location.clone(),
        },
        branch: r.branch.clone(),
        status,
        commit: r.commit_sha.clone(),
        files_indexed: r.files_indexed,
        files_skipped: r.files_skipped,
        skipped,
        symbols: r.symbols,
        chunks: r.chunks,
        error: r.error.clone(),
        job_id: r.job_id.clone(),
        progress: job
            .filter(|_| status.is_busy())
            .and_then(|j| j.progress.as_deref())
            .and_then(|p| serde_json::from_str(p).ok()),
        report,
        created_at: rfc3339_ms(r.created_at),
        indexed_at: r.indexed_at.map(rfc3339_ms),
    }
}

/// A repository record as registered: queued, nothing indexed yet.
fn new_repo(
    id: String,
    access: &crate::tenancy::Access,
    name: String,
    source: RepositorySource,
    location: String,
    branch: Option<String>,
) -> CodeRepoRecord {
    let now = now_ms();
    CodeRepoRecord {
        id,
        tenant_id: access.tenant(),
        name,
        source: source.as_str().to_owned(),
        location,
        branch,
        status: RepositoryStatus::Queued.as_str().to_owned(),
        commit_sha: None,
        files_indexed: 0,
        files_skipped: 0,
        symbols: 0,
        chunks: 0,
        report: None,
        error: None,
        job_id: None,
        created_by: access.acting_user.to_string(),
        created_at: now,
        updated_at: now,
        indexed_at: None,
    }
}

impl Control {
    pub fn code(&self) -> &Arc<CodeEngine> {
        &self.code
    }

    async fn repo_of(&self, tenant: TenantId, id: &str) -> ControlResult<CodeRepoRecord> {
        Ok(self
            .store
            .code_repo(tenant, id)
            .await?
            .ok_or_else(|| ApiError::not_found("repository"))?)
    }

    async fn view_of(&self, repo: &CodeRepoRecord) -> ControlResult<RepositoryView> {
        let job = match repo.job_id.as_deref().and_then(|j| j.parse().ok()) {
            Some(job_id) => self.store.job(repo.tenant_id, job_id).await?,
            None => None,
        };
        Ok(repository_view(repo, job.as_ref()))
    }

    /// The workspace's repositories.
    pub async fn list_repositories(
        &self,
        p: &Principal,
        slug: &str,
    ) -> ControlResult<Vec<RepositoryView>> {
        let access = self.authorize(p, slug, Permission::ReadWorkspace).await?;
        let mut out = Vec::new();
        for repo in self.store.code_repos(access.tenant()).await? {
            out.push(self.view_of(&repo).await?);
        }
        Ok(out)
    }

    /// One repository.
    pub async fn get_repository(
        &self,
        p: &Principal,
        slug: &str,
        id: &str,
    ) -> ControlResult<RepositoryView> {
        let access = self.authorize(p, slug, Permission::ReadWorkspace).await?;
        let repo = self.repo_of(access.tenant(), id).await?;
        self.view_of(&repo).await
    }

    /// Registers a repository by git URL or server path and queues its first index run.
    pub async fn add_repository(
        &self,
        p: &Principal,
        slug: &str,
        req: AddRepositoryRequest,
    ) -> ControlResult<RepositoryAccepted> {
        let access = self.authorize(p, slug, Permission::Develop).await?;
        let allowed_root = self.code.config().allowed_root.clone();
        let (source, location) = match (req.url.as_deref(), req.path.as_deref()) {
            (Some(url), None) => (
                RepositorySource::Git,
                source::check_git_url(url, allowed_root.as_deref())
                    .map_err(|m| ApiError::field("url", m))?,
            ),
            (None, Some(path)) => {
                let resolved = source::check_under_root(
                    std::path::Path::new(path.trim()),
                    allowed_root.as_deref(),
                )
                .map_err(|m| ApiError::field("path", m))?;
                (
                    RepositorySource::Path,
                    resolved.to_string_lossy().into_owned(),
                )
            }
            (Some(_), Some(_)) => {
                return Err(ApiError::field("url", "give either url or path, not both").into())
            }
            (None, None) => return Err(ApiError::field("url", "url (or path) is required").into()),
        };
        let branch = match req.branch.as_deref().filter(|b| !b.trim().is_empty()) {
            Some(b) => Some(source::check_branch(b).map_err(|m| ApiError::field("branch", m))?),
            None => None,
        };
        let name = match req.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) if n.chars().count() > 100 => {
                return Err(ApiError::field("name", "name must be at most 100 characters").into())
            }
            Some(n) => n.to_owned(),
            None => source::default_name(&location),
        };
        let repo = new_repo(
            uuid::Uuid::new_v4().to_string(),
            &access,
            name,
            source,
            location,
            branch,
        );
        self.store.insert_code_repo(&repo).await?;
        self.queue_index(&repo).await
    }

    /// Registers an uploaded .tar.gz or .zip and queues its index run.
    pub async fn upload_repository(
        &self,
        p: &Principal,
        slug: &str,
        name: &str,
        bytes: &[u8],
    ) -> ControlResult<RepositoryAccepted> {
        let access = self.authorize(p, slug, Permission::Develop).await?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(ApiError::field("name", "name must be 1 to 100 characters").into());
        }
        if bytes.len() as u64 > self.code.config().upload_max_bytes {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                "the archive is larger than the upload limit",
            )
            .into());
        }
        if source::archive_kind(bytes).is_none() {
            return Err(
                ApiError::field("body", "the upload must be a .tar.gz or .zip archive").into(),
            );
        }
        let id = uuid::Uuid::new_v4().to_string();
        let dir = self.code.upload_dir(&id);
        let max_unpacked = self.code.config().upload_max_bytes.saturating_mul(10);
        let data = bytes.to_vec();
        let unpack_dir = dir.clone();
        tokio::task::spawn_blocking(move || source::unpack(&data, &unpack_dir, max_unpacked))
            .await
            .map_err(|_| ApiError::internal())?
            .map_err(|m| ApiError::field("body", m))?;
        let location = format!("upload:{id}");
        let repo = new_repo(
            id.clone(),
            &access,
            name.to_owned(),
            RepositorySource::Upload,
            location,
            None,
        );
        if let Err(e) = self.store.insert_code_repo(&repo).await {
            self.code.remove_files_of(&id).await;
            return Err(e.into());
        }
        self.queue_index(&repo).await
    }

    async fn queue_index(&self, repo: &CodeRepoRecord) -> ControlResult<RepositoryAccepted> {
        let payload = IndexJob {
            tenant_id: repo.tenant_id.to_string(),
            repo_id: repo.id.clone(),
            source: RepositorySource::parse(&repo.source).unwrap_or(RepositorySource::Git),
            location: repo.location.clone(),
            branch: repo.branch.clone(),
        };
        let pool = PoolName::parse(INDEXER_POOL).map_err(|_| ApiError::internal())?;
        let job = self
            .jobs
            .submit(NewJob {
                tenant: repo.tenant_id,
                kind: INDEX_KIND.to_owned(),
                pool,
                payload: serde_json::to_value(&payload).map_err(|_| ApiError::internal())?,
                max_attempts: 3,
            })
            .await?;
        self.store
            .queue_code_repo(repo.tenant_id, &repo.id, &job.id.to_string(), now_ms())
            .await?;
        Ok(RepositoryAccepted {
            id: repo.id.clone(),
            status: RepositoryStatus::Queued,
            job_id: job.id.to_string(),
        })
    }

    /// Queues a new index run (only what changed is re-parsed and re-embedded).
    pub async fn reindex_repository(
        &self,
        p: &Principal,
        slug: &str,
        id: &str,
    ) -> ControlResult<RepositoryAccepted> {
        let access = self.authorize(p, slug, Permission::Develop).await?;
        let repo = self.repo_of(access.tenant(), id).await?;
        if RepositoryStatus::parse(&repo.status).is_some_and(RepositoryStatus::is_busy) {
            return Err(ApiError::conflict(
                None,
                "an index run of this repository is already under way",
            )
            .into());
        }
        self.queue_index(&repo).await
    }

    /// Removes a repository, its index and its files; a run under way is cancelled.
    pub async fn delete_repository(
        &self,
        p: &Principal,
        slug: &str,
        id: &str,
    ) -> ControlResult<()> {
        let access = self.authorize(p, slug, Permission::Develop).await?;
        let repo = self.repo_of(access.tenant(), id).await?;
        if let Some(job_id) = repo.job_id.as_deref().and_then(|j| j.parse().ok()) {
            if let Some(job) = self
                .store
                .request_cancel(access.tenant(), job_id, now_ms())
                .await?
            {
                self.jobs.announce(&job).await;
                if job.status == JobStatus::Running {
                    let subject = workers::bus::subjects::job_cancel(
                        &job.tenant_id.to_string(),
                        &job.id.to_string(),
                    );
                    let _ = self.jobs.bus().publish(&subject, bytes::Bytes::new()).await;
                }
            }
        }
        self.store.delete_code_repo(access.tenant(), id).await?;
        // A run that still finishes afterwards is cleaned up by the observer.
        let index = self
            .code
            .index(&access.tenant().to_string())
            .await
            .map_err(index_failure)?;
        index.delete_repo(id).await.map_err(index_failure)?;
        self.code.remove_files_of(id).await;
        Ok(())
    }

    /// Index runs of a repository (jobs of kind `code.index`), newest first.
    pub async fn repository_runs(
        &self,
        p: &Principal,
        slug: &str,
        id: &str,
    ) -> ControlResult<Vec<JobView>> {
        let access = self.authorize(p, slug, Permission::ReadWorkspace).await?;
        self.repo_of(access.tenant(), id).await?;
        let filter = JobFilter {
            status: None,
            pool: Some(INDEXER_POOL.to_owned()),
            limit: 500,
        };
        let jobs = self.store.jobs(access.tenant(), &filter).await?;
        Ok(jobs
            .into_iter()
            .filter(|j| {
                j.kind == INDEX_KIND
                    && serde_json::from_str::<IndexJob>(&j.payload)
                        .is_ok_and(|job| job.repo_id == id)
            })
            .map(crate::jobs::job_view)
            .collect())
    }

    /// The workspace's index, and the ids of the repositories it may show.
    async fn readable(&self, p: &Principal, slug: &str) -> ControlResult<(CodeIndex, Vec<String>)> {
        let access = self.authorize(p, slug, Permission::ReadWorkspace).await?;
        let repos: Vec<String> = self
            .store
            .code_repos(access.tenant())
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect();
        let index = self
            .code
            .index(&access.tenant().to_string())
            .await
            .map_err(index_failure)?;
        Ok((index, repos))
    }

    /// Hybrid search (BM25 + vectors fused by reciprocal rank) over the workspace's code.
    pub async fn search_code(
        &self,
        p: &Principal,
        slug: &str,
        params: CodeQuery,
    ) -> ControlResult<SearchResponse> {
        let q = params.q.trim();
        if q.is_empty() {
            return Err(ApiError::field("q", "q must not be empty").into());
        }
        if q.chars().count() > 1000 {
            return Err(ApiError::field("q", "q must be at most 1000 characters").into());
        }
        let limit = params.limit.unwrap_or(20);
        if limit == 0 || limit > MAX_SEARCH_LIMIT {
            return Err(ApiError::field(
                "limit",
                format!("limit must be from 1 to {MAX_SEARCH_LIMIT}"),
            )
            .into());
        }
        let mut mode = match params.mode.as_deref().unwrap_or("hybrid") {
            "hybrid" => Mode::Hybrid,
            "keyword" => Mode::Keyword,
            "vector" => Mode::Vector,
            _ => {
                return Err(
                    ApiError::field("mode", "mode must be hybrid, keyword or vector").into(),
                )
            }
        };
        let language = match params.lang.as_deref().filter(|l| !l.is_empty()) {
            Some(l) => Some(
                Language::parse(l)
                    .ok_or_else(|| {
                        ApiError::field(
                            "lang",
                            "lang must be rust, python, javascript, typescript, tsx, go or java",
                        )
                    })?
                    .to_string(),
            ),
            None => None,
        };
        let kind = match params.kind.as_deref().filter(|k| !k.is_empty()) {
            Some(k) => Some(
                SymbolKind::parse(k)
                    .ok_or_else(|| {
                        ApiError::field(
                            "kind",
                            "kind must be a symbol kind (function, method, class, ...)",
                        )
                    })?
                    .to_string(),
            ),
            None => None,
        };
        let path_glob = params.path.filter(|p| !p.trim().is_empty());
        if path_glob.as_ref().is_some_and(|g| g.len() > 300) {
            return Err(ApiError::field("path", "path must be at most 300 characters").into());
        }
        let (index, repos) = self.readable(p, slug).await?;
        let repo_id = params.repo.filter(|r| !r.is_empty());
        if let Some(repo) = &repo_id {
            if !repos.contains(repo) {
                return Err(ApiError::not_found("repository").into());
            }
        }
        if repos.is_empty() {
            return Ok(SearchResponse {
                results: Vec::new(),
                mode: "hybrid".into(),
            });
        }
        let vector = match mode {
            Mode::Keyword => None,
            _ => match self.code.embedder().await {
                Ok(embedder) => {
                    let v = embedder
                        .embed(vec![q.to_owned()])
                        .await
                        .map_err(index_failure)?;
                    v.into_iter().next()
                }
                Err(message) if mode == Mode::Hybrid => {
                    tracing::warn!(%message, "searching by keyword only");
                    mode = Mode::Keyword;
                    None
                }
                Err(message) => return Err(ApiError::new(ErrorCode::Unavailable, message).into()),
            },
        };
        let filters = Filters {
            repo_id,
            repo_ids: repos,
            language,
            kind,
            path_glob,
        };
        let hits = index
            .search(q, vector.as_deref(), &filters, mode, limit)
            .await
            .map_err(index_failure)?;
        Ok(SearchResponse {
            results: hits
                .into_iter()
                .map(|h| SearchResult {
                    repo_id: h.repo_id,
                    path: h.path,
                    symbol: h.symbol,
                    symbol_id: h.symbol_id,
                    kind: h.kind,
                    language: h.language,
                    line_start: h.line_start,
                    line_end: h.line_end,
                    score: h.score,
                    keyword_rank: h.keyword_rank,
                    vector_rank: h.vector_rank,
                    snippet: h.snippet,
                    snippet_line_start: h.snippet_line_start,
                    matched_lines: h.matched_lines,
                })
                .collect(),
            mode: match mode {
                Mode::Hybrid => "hybrid",
                Mode::Keyword => "keyword",
                Mode::Vector => "vector",
            }
            .into(),
        })
    }

    async fn find_symbol(
        &self,
        p: &Principal,
        slug: &str,
        id: &str,
    ) -> ControlResult<(CodeIndex, Vec<String>, Symbol)> {
        let (index, repos) = self.readable(p, slug).await?;
        if id.len() > 64 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(ApiError::not_found("symbol").into());
        }
        let symbol = index
            .symbol(id)
            .await
            .map_err(index_failure)?
            .filter(|s| repos.contains(&s.repo_id))
            .ok_or_else(|| ApiError::not_found("symbol"))?;
        Ok((index, repos, symbol))
    }

    /// A symbol with its code, its container, and its direct callers, callees and uses.
    pub async fn symbol_detail(
        &self,
        p: &Principal,
        slug: &str,
        id: &str,
    ) -> ControlResult<SymbolDetail> {
        let (index, repos, symbol) = self.find_symbol(p, slug, id).await?;
        let visible = |r: &Reached| repos.contains(&r.symbol.repo_id);
        let code = index.code_of(&symbol.id).await.map_err(index_failure)?;
        let parent = match &symbol.parent_id {
            Some(parent) => index.symbol(parent).await.map_err(index_failure)?,
            None => None,
        };
        let callers = index.callers(&symbol.id, 1).await.map_err(index_failure)?;
        let callees = index.callees(&symbol.id, 1).await.map_err(index_failure)?;
        let mut references = Vec::new();
        for (kind, reached) in index.references(&symbol.id).await.map_err(index_failure)? {
            if kind != EdgeKind::Calls && visible(&reached) {
                references.push(related(reached, kind));
            }
        }
        let mut uses = Vec::new();
        for kind in [
            EdgeKind::Implements,
            EdgeKind::Extends,
            EdgeKind::References,
        ] {
            for reached in index
                .walk(&symbol.id, &[kind], false, 1)
                .await
                .map_err(index_failure)?
            {
                if visible(&reached) {
                    uses.push(related(reached, kind));
                }
            }
        }
        let (code_line_start, code) = match code {
            Some((start, code)) => (start, Some(code)),
            None => (symbol.line_start, None),
        };
        Ok(SymbolDetail {
            symbol: symbol_view(&symbol),
            code,
            code_line_start,
            parent: parent.as_ref().map(symbol_view),
            callers: callers
                .into_iter()
                .filter(visible)
                .map(|r| related(r, EdgeKind::Calls))
                .collect(),
            callees: callees
                .into_iter()
                .filter(visible)
                .map(|r| related(r, EdgeKind::Calls))
                .collect(),
            references,
            uses,
        })
    }

    /// Callers (`incoming`) or callees of a symbol, to `depth` steps.
    pub async fn call_graph(
        &self,
        p: &Principal,
        slug: &str,
        id: &str,
        incoming: bool,
        depth: Option<u32>,
    ) -> ControlResult<RelatedList> {
        let depth = depth.unwrap_or(1);
        if depth == 0 || depth > MAX_DEPTH {
            return Err(
                ApiError::field("depth", format!("depth must be from 1 to {MAX_DEPTH}")).into(),
            );
        }
        let (index, repos, symbol) = self.find_symbol(p, slug, id).await?;
        let reached = index
            .walk(&symbol.id, &[EdgeKind::Calls], incoming, depth)
            .await
            .map_err(index_failure)?;
        Ok(RelatedList {
            symbol: symbol_view(&symbol),
            results: reached
                .into_iter()
                .filter(|r| repos.contains(&r.symbol.repo_id))
                .map(|r| related(r, EdgeKind::Calls))
                .collect(),
        })
    }

    /// Definitions named `name` (exact name or qualified name).
    pub async fn find_definitions(
        &self,
        p: &Principal,
        slug: &str,
        name: &str,
    ) -> ControlResult<Vec<SymbolView>> {
        let name = name.trim();
        if name.is_empty() || name.len() > 300 {
            return Err(ApiError::field("name", "name must be 1 to 300 characters").into());
        }
        let (index, repos) = self.readable(p, slug).await?;
        if repos.is_empty() {
            return Ok(Vec::new());
        }
        let found = index
            .definitions(name, &repos, 50)
            .await
            .map_err(index_failure)?;
        Ok(found.iter().map(symbol_view).collect())
    }

    /// The symbols of one file of a repository.
    pub async fn file_outline(
        &self,
        p: &Principal,
        slug: &str,
        repo_id: &str,
        path: &str,
    ) -> ControlResult<FileOutline> {
        if path.trim().is_empty() {
            return Err(ApiError::field("path", "path is required").into());
        }
        let (index, repos) = self.readable(p, slug).await?;
        if !repos.iter().any(|r| r == repo_id) {
            return Err(ApiError::not_found("repository").into());
        }
        let symbols = index.outline(repo_id, path).await.map_err(index_failure)?;
        if symbols.is_empty()
            && index
                .symbol(&codeintel::resolve::file_id(repo_id, path))
                .await
                .map_err(index_failure)?
                .is_none()
        {
            return Err(ApiError::not_found("file").into());
        }
        let mut depth_of: HashMap<String, u32> = HashMap::new();
        let mut entries = Vec::new();
        for s in &symbols {
            let depth = s
                .parent_id
                .as_ref()
                .and_then(|p| depth_of.get(p))
                .map(|d| d + 1)
                .unwrap_or(0);
            depth_of.insert(s.id.clone(), depth);
            entries.push(OutlineEntry {
                symbol: symbol_view(s),
                depth,
            });
        }
        Ok(FileOutline {
            repo_id: repo_id.to_owned(),
            path: path.to_owned(),
            symbols: entries,
        })
    }
}

/// Keeps repositories in step with their index runs.
pub struct RepositoryObserver {
    pub store: Store,
    pub engine: Arc<CodeEngine>,
}

#[async_trait::async_trait]
impl JobObserver for RepositoryObserver {
    async fn changed(&self, job: &JobRecord) {
        if job.kind != INDEX_KIND {
            return;
        }
        let tenant = job.tenant_id;
        let job_id = job.id.to_string();
        let now = now_ms();
        let result = match job.status {
            JobStatus::Queued => {
                self.store
                    .mark_code_run(tenant, &job_id, "queued", None, now)
                    .await
            }
            JobStatus::Running => {
                self.store
                    .mark_code_run(tenant, &job_id, "indexing", None, now)
                    .await
            }
            JobStatus::Succeeded => {
                let Some(result) = job
                    .result
                    .as_deref()
                    .and_then(|r| serde_json::from_str::<IndexResult>(r).ok())
                else {
                    return;
                };
                let outcome = IndexOutcome {
                    commit_sha: result.commit,
                    files_indexed: result.report.files_indexed as i64,
                    files_skipped: result.report.files_skipped as i64,
                    symbols: result.report.symbols as i64,
                    chunks: result.report.chunks as i64,
                    report: serde_json::to_string(&result.report).unwrap_or_default(),
                };
                let done = self
                    .store
                    .finish_code_run(tenant, &job_id, &outcome, now)
                    .await;
                self.forget_if_removed(job).await;
                done
            }
            JobStatus::Failed | JobStatus::Dead | JobStatus::Cancelled => {
                let error = match job.status {
                    JobStatus::Cancelled => "the index run was cancelled".to_owned(),
                    _ => job
                        .error
                        .clone()
                        .unwrap_or_else(|| "the index run failed".to_owned()),
                };
                self.store
                    .mark_code_run(tenant, &job_id, "failed", Some(&error), now)
                    .await
            }
        };
        if let Err(e) = result {
            tracing::warn!(job = %job.id, error = %e, "cannot update the repository of an index run");
        }
    }
}

impl RepositoryObserver {
    /// A repository removed while its run went on: drop what the run wrote.
    async fn forget_if_removed(&self, job: &JobRecord) {
        let Ok(payload) = serde_json::from_str::<IndexJob>(&job.payload) else {
            return;
        };
        if let Ok(None) = self.store.code_repo(job.tenant_id, &payload.repo_id).await {
            if let Ok(index) = self.engine.index(&payload.tenant_id).await {
                if let Err(e) = index.delete_repo(&payload.repo_id).await {
                    tracing::warn!(error = %e, "cannot drop the index of a removed repository");
                }
            }
            self.engine.remove_files_of(&payload.repo_id).await;
        }
    }
}
