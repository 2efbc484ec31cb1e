//! Graph queries: symbols by id, name or file, walks along edges (callers, callees,
//! references, neighbourhood), and the code of a symbol.

use super::schema::{collect, read_edges, read_symbols, strings, u32s};
use super::{in_list, lit, CodeIndex, Result};
use crate::model::{Edge, EdgeKind, Symbol};
use lancedb::query::{ExecutableQuery, QueryBase, Select};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// A symbol reached by walking the graph, with how it was reached.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reached {
    /// The symbol reached.
    pub symbol: Symbol,
    /// Steps from the start symbol (1 = direct).
    pub depth: u32,
    /// The confidence of the edge that reached it.
    pub confidence: f32,
    /// The symbol on the other end of that edge.
    pub via: String,
    /// The line of that edge in its source file (the call, reference or import).
    pub line: u32,
}

impl CodeIndex {
    /// Symbols matching an SQL filter over the `symbols` table.
    pub async fn symbols_where(&self, filter: &str, limit: usize) -> Result<Vec<Symbol>> {
        let batches = collect(
            self.inner
                .symbols
                .query()
                .only_if(filter)
                .limit(limit)
                .execute()
                .await?,
        )
        .await?;
        let mut out = Vec::new();
        for batch in &batches {
            read_symbols(batch, &mut out)?;
        }
        Ok(out)
    }

    /// The symbol with this id, if it is (still) indexed.
    pub async fn symbol(&self, id: &str) -> Result<Option<Symbol>> {
        Ok(self
            .symbols_where(&format!("id = {}", lit(id)), 1)
            .await?
            .into_iter()
            .next())
    }

    /// Definitions named `name` (exact), best-known kinds first.
    pub async fn definitions(
        &self,
        name: &str,
        repo_ids: &[String],
        limit: usize,
    ) -> Result<Vec<Symbol>> {
        let mut filter = format!(
            "(name = {0} OR qualified = {0}) AND kind <> 'file'",
            lit(name)
        );
        if !repo_ids.is_empty() {
            filter = format!("{filter} AND {}", in_list("repo_id", repo_ids));
        }
        self.symbols_where(&filter, limit).await
    }

    /// The symbols of one file, in source order (nesting through `parent_id`).
    pub async fn outline(&self, repo_id: &str, path: &str) -> Result<Vec<Symbol>> {
        let filter = format!(
            "repo_id = {} AND path = {} AND kind <> 'file'",
            lit(repo_id),
            lit(path)
        );
        let mut symbols = self.symbols_where(&filter, 100_000).await?;
        symbols.sort_by_key(|s| (s.line_start, std::cmp::Reverse(s.line_end)));
        Ok(symbols)
    }

    async fn edges_where(&self, filter: &str) -> Result<Vec<Edge>> {
        let batches = collect(self.inner.edges.query().only_if(filter).execute().await?).await?;
        let mut out = Vec::new();
        for batch in &batches {
            read_edges(batch, &mut out)?;
        }
        Ok(out)
    }

    /// Walks edges of `kinds` from `id` up to `depth` steps: `incoming` follows edges to
    /// their source (callers), otherwise to their target (callees).
    pub async fn walk(
        &self,
        id: &str,
        kinds: &[EdgeKind],
        incoming: bool,
        depth: u32,
    ) -> Result<Vec<Reached>> {
        let kind_list: Vec<String> = kinds.iter().map(|k| k.as_str().to_string()).collect();
        let mut seen: HashSet<String> = HashSet::from([id.to_string()]);
        let mut frontier = vec![id.to_string()];
        let mut reached: Vec<(String, u32, f32, String, u32)> = Vec::new();
        for level in 1..=depth.max(1) {
            if frontier.is_empty() {
                break;
            }
            let (near, far) = if incoming {
                ("to_id", "from_id")
            } else {
                ("from_id", "to_id")
            };
            let mut next = Vec::new();
            for ids in frontier.chunks(500) {
                let filter = format!("{} AND {}", in_list(near, ids), in_list("kind", &kind_list));
                let mut edges = self.edges_where(&filter).await?;
                edges.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
                for edge in edges {
                    let (via, other) = match far {
                        "from_id" => (edge.to_id, edge.from_id),
                        _ => (edge.from_id, edge.to_id),
                    };
                    if seen.insert(other.clone()) {
                        next.push(other.clone());
                        reached.push((other, level, edge.confidence, via, edge.line));
                    }
                }
            }
            frontier = next;
        }
        let ids: Vec<String> = reached.iter().map(|r| r.0.clone()).collect();
        let mut symbols: HashMap<String, Symbol> = HashMap::new();
        for chunk in ids.chunks(500) {
            for symbol in self
                .symbols_where(&in_list("id", chunk), chunk.len())
                .await?
            {
                symbols.insert(symbol.id.clone(), symbol);
            }
        }
        Ok(reached
            .into_iter()
            .filter_map(|(id, depth, confidence, via, line)| {
                Some(Reached {
                    symbol: symbols.remove(&id)?,
                    depth,
                    confidence,
                    via,
                    line,
                })
            })
            .collect())
    }

    /// What calls the symbol, transitively up to `depth` steps.
    pub async fn callers(&self, id: &str, depth: u32) -> Result<Vec<Reached>> {
        self.walk(id, &[EdgeKind::Calls], true, depth).await
    }

    /// What the symbol calls, transitively up to `depth` steps.
    pub async fn callees(&self, id: &str, depth: u32) -> Result<Vec<Reached>> {
        self.walk(id, &[EdgeKind::Calls], false, depth).await
    }

    /// Everything that uses a symbol: calls, type references, implementations, extensions,
    /// imports.
    pub async fn references(&self, id: &str) -> Result<Vec<(EdgeKind, Reached)>> {
        let mut out = Vec::new();
        for kind in [
            EdgeKind::Calls,
            EdgeKind::References,
            EdgeKind::Implements,
            EdgeKind::Extends,
            EdgeKind::Imports,
        ] {
            for reached in self.walk(id, &[kind], true, 1).await? {
                out.push((kind, reached));
            }
        }
        Ok(out)
    }

    /// The symbol's neighbourhood: every edge in or out, one step.
    pub async fn neighbourhood(&self, id: &str) -> Result<(Vec<Edge>, Vec<Symbol>)> {
        let filter = format!("from_id = {0} OR to_id = {0}", lit(id));
        let edges = self.edges_where(&filter).await?;
        let mut ids: Vec<String> = edges
            .iter()
            .flat_map(|e| [e.from_id.clone(), e.to_id.clone()])
            .collect();
        ids.sort();
        ids.dedup();
        let mut symbols = Vec::new();
        for chunk in ids.chunks(500) {
            symbols.extend(
                self.symbols_where(&in_list("id", chunk), chunk.len())
                    .await?,
            );
        }
        Ok((edges, symbols))
    }

    /// The source lines of a symbol, read from its chunks (joined across windows).
    pub async fn code_of(&self, symbol_id: &str) -> Result<Option<(u32, String)>> {
        let batches = collect(
            self.inner
                .chunks
                .query()
                .only_if(format!("symbol_id = {}", lit(symbol_id)))
                .select(Select::columns(&["line_start", "line_end", "code"]))
                .execute()
                .await?,
        )
        .await?;
        let mut windows = Vec::new();
        for batch in &batches {
            let (start, end, code) = (
                u32s(batch, "line_start")?,
                u32s(batch, "line_end")?,
                strings(batch, "code")?,
            );
            for i in 0..batch.num_rows() {
                windows.push((start.value(i), end.value(i), code.value(i).to_string()));
            }
        }
        windows.sort_by_key(|w| w.0);
        let Some(first) = windows.first().map(|w| w.0) else {
            return Ok(None);
        };
        let mut lines: Vec<String> = Vec::new();
        let mut next = first;
        for (start, _, code) in windows {
            for (i, line) in code.lines().enumerate() {
                if start + i as u32 >= next {
                    lines.push(line.to_string());
                    next = start + i as u32 + 1;
                }
            }
        }
        Ok(Some((first, lines.join("\n"))))
    }
}
