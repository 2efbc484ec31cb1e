//! The code operations of the control plane: repositories and their index runs, search,
//! symbols and the graph around them. Every method authorises its caller first; reads need
//! `ReadWorkspace`, changes `Develop`. A workspace's index holds only its own repositories,
//! and results are further limited to repositories the workspace still has.

use super::indexer::{Credential, IndexJob};
use super::store::CodeRepoRecord;
use super::views::{related, repository_view, symbol_view};
use super::{source, CodeEngine, INDEX_KIND};
use crate::accounts::Principal;
use crate::clock::now_ms;
use crate::jobs::{JobFilter, Jobs, NewJob};
use crate::store::Store;
use crate::tenancy::Tenancy;
use codeintel::search::{Filters, Mode};
use codeintel::store::{CodeIndex, Reached};
use codeintel::{EdgeKind, Symbol};
use shared::code::{
    AddRepositoryRequest, CodeQuery, FileOutline, OutlineEntry, RelatedList, RepositoryAccepted,
    RepositorySource, RepositoryStatus, RepositoryView, SearchMode, SearchResponse, SearchResult,
    SymbolDetail, SymbolView,
};
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::ids::{RepositoryId, TenantId};
use shared::jobs::JobView;
use shared::roles::Permission;
use shared::secrets::check_secret_name;
use std::collections::HashMap;
use std::sync::Arc;
use workers::pools::PoolName;
use workers::pools::INDEXER_POOL;

/// Deepest caller / callee walk.
pub const MAX_DEPTH: u32 = 5;

fn index_failure(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "code index failure");
    ApiError::new(ErrorCode::Unavailable, "the code index is not available")
}

/// A repository record as registered: queued, nothing indexed yet.
fn new_repo(
    id: RepositoryId,
    access: &crate::tenancy::Access,
    name: String,
    source: RepositorySource,
    location: String,
    branch: Option<String>,
    credential: Option<String>,
) -> CodeRepoRecord {
    let now = now_ms();
    CodeRepoRecord {
        id,
        tenant_id: access.tenant(),
        name,
        source,
        location,
        branch,
        credential,
        status: RepositoryStatus::Queued,
        commit_sha: None,
        files_indexed: 0,
        files_skipped: 0,
        symbols: 0,
        chunks: 0,
        report: None,
        error: None,
        job_id: None,
        created_by: access.acting_user,
        created_at: now,
        updated_at: now,
        indexed_at: None,
    }
}

/// The code operations.
pub struct CodeOps {
    store: Store,
    pub(super) tenancy: Arc<Tenancy>,
    jobs: Arc<Jobs>,
    engine: Arc<CodeEngine>,
}

impl CodeOps {
    /// Operations over `engine`, running index jobs on `jobs`, authorised by `tenancy`.
    pub fn new(
        store: Store,
        tenancy: Arc<Tenancy>,
        jobs: Arc<Jobs>,
        engine: Arc<CodeEngine>,
    ) -> CodeOps {
        CodeOps {
            store,
            tenancy,
            jobs,
            engine,
        }
    }

    /// The indexes and the embedding model of this process.
    pub fn engine(&self) -> &Arc<CodeEngine> {
        &self.engine
    }

    /// The workspace's repository `id`; a malformed id names nothing, so it is a 404 too.
    async fn repo_of(&self, tenant: TenantId, id: &str) -> ApiResult<CodeRepoRecord> {
        let id: RepositoryId = id.parse().map_err(|_| ApiError::not_found("repository"))?;
        self.store
            .code_repo(tenant, id)
            .await?
            .ok_or_else(|| ApiError::not_found("repository"))
    }

    async fn view_of(&self, repo: &CodeRepoRecord) -> ApiResult<RepositoryView> {
        let job = match repo.job_id {
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
    ) -> ApiResult<Vec<RepositoryView>> {
        let access = self
            .tenancy
            .authorize(p, slug, Permission::ReadWorkspace)
            .await?;
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
    ) -> ApiResult<RepositoryView> {
        let access = self
            .tenancy
            .authorize(p, slug, Permission::ReadWorkspace)
            .await?;
        let repo = self.repo_of(access.tenant(), id).await?;
        self.view_of(&repo).await
    }

    /// Registers a repository by git URL or server path and queues its first index run.
    pub async fn add_repository(
        &self,
        p: &Principal,
        slug: &str,
        req: AddRepositoryRequest,
    ) -> ApiResult<RepositoryAccepted> {
        let access = self.tenancy.authorize(p, slug, Permission::Develop).await?;
        let server_paths = &self.engine.config().server_paths;
        let (source, location) = match (req.url.as_deref(), req.path.as_deref()) {
            (Some(url), None) => (
                RepositorySource::Git,
                source::check_git_url(url, server_paths, &self.engine.config().egress)
                    .map_err(|m| ApiError::field("url", m))?,
            ),
            (None, Some(path)) => {
                let resolved = server_paths
                    .check(std::path::Path::new(path.trim()))
                    .map_err(|m| ApiError::field("path", m))?;
                (
                    RepositorySource::Path,
                    resolved.to_string_lossy().into_owned(),
                )
            }
            (Some(_), Some(_)) => {
                return Err(ApiError::field("url", "give either url or path, not both"))
            }
            (None, None) => return Err(ApiError::field("url", "url (or path) is required")),
        };
        let branch = match req.branch.as_deref().filter(|b| !b.trim().is_empty()) {
            Some(b) => Some(source::check_branch(b).map_err(|m| ApiError::field("branch", m))?),
            None => None,
        };
        let name = match req.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) if n.chars().count() > 100 => {
                return Err(ApiError::field(
                    "name",
                    "name must be at most 100 characters",
                ))
            }
            Some(n) => n.to_owned(),
            None => source::default_name(&location),
        };
        let credential = match req
            .credential
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            None => None,
            Some(_) if !location.starts_with("http") => {
                return Err(ApiError::field(
                    "credential",
                    "a credential is only sent to an https:// (or http://) repository",
                ))
            }
            Some(name) => {
                check_secret_name(name).map_err(|e| ApiError::field("credential", e.message))?;
                if self.store.secret(access.tenant(), name).await?.is_none() {
                    return Err(ApiError::field(
                        "credential",
                        format!(
                            "the workspace has no secret named {name}; add it under Secrets first"
                        ),
                    ));
                }
                Some(name.to_owned())
            }
        };
        let repo = new_repo(
            RepositoryId::new(),
            &access,
            name,
            source,
            location,
            branch,
            credential,
        );
        self.store.insert_code_repo(&repo).await?;
        self.queue_index(&repo).await
    }

    /// Whether the caller may upload a repository into the workspace (checked before the
    /// upload is read).
    pub async fn may_upload(&self, p: &Principal, slug: &str) -> ApiResult<()> {
        self.tenancy.authorize(p, slug, Permission::Develop).await?;
        Ok(())
    }

    /// Registers an uploaded .tar.gz or .zip and queues its index run.
    pub async fn upload_repository(
        &self,
        p: &Principal,
        slug: &str,
        name: &str,
        bytes: &[u8],
    ) -> ApiResult<RepositoryAccepted> {
        let access = self.tenancy.authorize(p, slug, Permission::Develop).await?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(ApiError::field("name", "name must be 1 to 100 characters"));
        }
        if bytes.len() as u64 > self.engine.config().upload_max_bytes {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                "the archive is larger than the upload limit",
            ));
        }
        if source::archive_kind(bytes).is_none() {
            return Err(ApiError::field(
                "body",
                "the upload must be a .tar.gz or .zip archive",
            ));
        }
        let id = RepositoryId::new();
        let dir = self.engine.upload_dir(&id.to_string());
        let limits = source::UnpackLimits {
            bytes: self.engine.config().upload_max_bytes.saturating_mul(10),
            entries: self.engine.config().max_files,
        };
        let data = bytes.to_vec();
        let unpack_dir = dir.clone();
        tokio::task::spawn_blocking(move || source::unpack(&data, &unpack_dir, limits))
            .await
            .map_err(|_| ApiError::internal())?
            .map_err(|m| ApiError::field("body", m))?;
        let location = format!("upload:{id}");
        let repo = new_repo(
            id,
            &access,
            name.to_owned(),
            RepositorySource::Upload,
            location,
            None,
            None,
        );
        if let Err(e) = self.store.insert_code_repo(&repo).await {
            self.engine.remove_files_of(&id.to_string()).await;
            return Err(e.into());
        }
        self.queue_index(&repo).await
    }

    async fn queue_index(&self, repo: &CodeRepoRecord) -> ApiResult<RepositoryAccepted> {
        // The credential travels sealed; the worker opens it with the same key.
        let credential = match &repo.credential {
            None => None,
            Some(name) => Some(Credential {
                name: name.clone(),
                sealed: self
                    .store
                    .secret(repo.tenant_id, name)
                    .await?
                    .map(|s| s.sealed)
                    .ok_or_else(|| {
                        ApiError::field(
                            "credential",
                            format!("the workspace has no secret named {name} any more; set it again, or register the repository without it"),
                        )
                    })?,
            }),
        };
        let payload = IndexJob {
            tenant_id: repo.tenant_id.to_string(),
            repo_id: repo.id.to_string(),
            source: repo.source,
            location: repo.location.clone(),
            branch: repo.branch.clone(),
            credential,
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
            .queue_code_repo(repo.tenant_id, repo.id, job.id, now_ms())
            .await?;
        Ok(RepositoryAccepted {
            id: repo.id.to_string(),
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
    ) -> ApiResult<RepositoryAccepted> {
        let access = self.tenancy.authorize(p, slug, Permission::Develop).await?;
        let repo = self.repo_of(access.tenant(), id).await?;
        if repo.status.is_busy() {
            return Err(ApiError::conflict(
                None,
                "an index run of this repository is already under way",
            ));
        }
        self.queue_index(&repo).await
    }

    /// Removes a repository, its index and its files; a run under way is cancelled.
    pub async fn delete_repository(&self, p: &Principal, slug: &str, id: &str) -> ApiResult<()> {
        let access = self.tenancy.authorize(p, slug, Permission::Develop).await?;
        let repo = self.repo_of(access.tenant(), id).await?;
        if let Some(job_id) = repo.job_id {
            self.jobs.cancel(access.tenant(), job_id).await?;
        }
        self.store
            .delete_code_repo(access.tenant(), repo.id)
            .await?;
        // A run that still finishes afterwards is cleaned up by the observer.
        let index = self
            .engine
            .index(&access.tenant().to_string())
            .await
            .map_err(index_failure)?;
        let id = repo.id.to_string();
        index.delete_repo(&id).await.map_err(index_failure)?;
        self.engine.remove_files_of(&id).await;
        Ok(())
    }

    /// Index runs of a repository (jobs of kind `code.index`), newest first.
    pub async fn repository_runs(
        &self,
        p: &Principal,
        slug: &str,
        id: &str,
    ) -> ApiResult<Vec<JobView>> {
        let access = self
            .tenancy
            .authorize(p, slug, Permission::ReadWorkspace)
            .await?;
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
    async fn readable(&self, p: &Principal, slug: &str) -> ApiResult<(CodeIndex, Vec<String>)> {
        self.readable_in(p, slug)
            .await
            .map(|(index, repos, _)| (index, repos))
    }

    /// [`CodeOps::readable`], with the workspace's id.
    async fn readable_in(
        &self,
        p: &Principal,
        slug: &str,
    ) -> ApiResult<(CodeIndex, Vec<String>, String)> {
        let access = self
            .tenancy
            .authorize(p, slug, Permission::ReadWorkspace)
            .await?;
        let repos: Vec<String> = self
            .store
            .code_repos(access.tenant())
            .await?
            .into_iter()
            .map(|r| r.id.to_string())
            .collect();
        let tenant = access.tenant().to_string();
        let index = self.engine.index(&tenant).await.map_err(index_failure)?;
        Ok((index, repos, tenant))
    }

    /// Hybrid search (BM25 + vectors fused by reciprocal rank) over the workspace's code.
    pub async fn search_code(
        &self,
        p: &Principal,
        slug: &str,
        params: CodeQuery,
    ) -> ApiResult<SearchResponse> {
        let query = params.validate()?;
        let mut mode = match query.mode {
            SearchMode::Hybrid => Mode::Hybrid,
            SearchMode::Keyword => Mode::Keyword,
            SearchMode::Vector => Mode::Vector,
        };
        let (q, limit) = (query.q.as_str(), query.limit);
        let (index, repos, index_tenant) = self.readable_in(p, slug).await?;
        let repo_id = query.repo.clone();
        if let Some(repo) = &repo_id {
            if !repos.contains(repo) {
                return Err(ApiError::not_found("repository"));
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
            _ => match self.engine.embedder().await {
                Ok(embedder) => Some(
                    self.engine
                        .query_vector(&embedder, &index_tenant, q)
                        .await
                        .map_err(index_failure)?,
                ),
                Err(message) if mode == Mode::Hybrid => {
                    tracing::warn!(%message, "searching by keyword only");
                    mode = Mode::Keyword;
                    None
                }
                Err(message) => return Err(ApiError::new(ErrorCode::Unavailable, message)),
            },
        };
        let filters = Filters {
            repo_id,
            repo_ids: repos,
            language: query.lang.clone(),
            kind: query.kind.clone(),
            path_glob: query.path.clone(),
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
    ) -> ApiResult<(CodeIndex, Vec<String>, Symbol)> {
        let (index, repos) = self.readable(p, slug).await?;
        if id.len() > 64 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(ApiError::not_found("symbol"));
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
    ) -> ApiResult<SymbolDetail> {
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
    ) -> ApiResult<RelatedList> {
        let depth = depth.unwrap_or(1);
        if depth == 0 || depth > MAX_DEPTH {
            return Err(ApiError::field(
                "depth",
                format!("depth must be from 1 to {MAX_DEPTH}"),
            ));
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
    ) -> ApiResult<Vec<SymbolView>> {
        let name = name.trim();
        if name.is_empty() || name.len() > 300 {
            return Err(ApiError::field("name", "name must be 1 to 300 characters"));
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
    ) -> ApiResult<FileOutline> {
        if path.trim().is_empty() {
            return Err(ApiError::field("path", "path is required"));
        }
        let (index, repos) = self.readable(p, slug).await?;
        if !repos.iter().any(|r| r == repo_id) {
            return Err(ApiError::not_found("repository"));
        }
        let symbols = index.outline(repo_id, path).await.map_err(index_failure)?;
        if symbols.is_empty()
            && index
                .symbol(&codeintel::resolve::file_id(repo_id, path))
                .await
                .map_err(index_failure)?
                .is_none()
        {
            return Err(ApiError::not_found("file"));
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
