//! Turning the parsed files of one repository into the code graph: stable symbol ids,
//! containment, imports, and calls / references / inheritance resolved by name.
//!
//! Resolution takes the first of these that finds a target, and the edge records which one
//! with its confidence:
//!
//! | step | where the name is looked for | confidence |
//! |---|---|---|
//! | receiver | `self` / `this` / `Self` / `cls`: members of the enclosing type | 0.95 |
//! | same scope | a sibling in the same enclosing definition | 0.95 |
//! | same file | any definition in the file | 0.9 |
//! | import | a name the file imports, in the imported module's files | 0.85 |
//! | qualified import | `module.name` where `module` is an imported module or alias | 0.8 |
//! | wildcard import | a `*` import's module files | 0.7 |
//! | same directory | one definition of that name in the file's directory | 0.6 |
//! | repository, unique | the only definition of that name in the repository | 0.5 |
//! | repository, ambiguous | each of 2–5 definitions of that name | 0.3 |
//!
//! More than five same-named candidates is noise; no edge is drawn. Only kinds that fit are
//! candidates: calls land on functions, methods, or types (constructors), type references
//! and inheritance on types.

use crate::model::{Edge, EdgeKind, Language, ParsedFile, RawRef, RefKind, Symbol, SymbolKind};
use std::collections::HashMap;

/// The stable id of a symbol: the same definition keeps its id across re-indexes.
pub fn symbol_id(
    repo_id: &str,
    path: &str,
    qualified: &str,
    kind: SymbolKind,
    ordinal: usize,
) -> String {
    let mut hasher = blake3::Hasher::new();
    for part in [repo_id, path, qualified, kind.as_str()] {
        hasher.update(part.as_bytes());
        hasher.update(&[0]);
    }
    hasher.update(&ordinal.to_le_bytes());
    hasher.finalize().to_hex()[..24].to_string()
}

/// The id of a file's own node: stable across runs, so it can be computed without a query.
pub fn file_id(repo_id: &str, path: &str) -> String {
    symbol_id(repo_id, path, "", SymbolKind::File, 0)
}

/// The resolved graph of one repository.
#[derive(Debug, Default)]
pub struct Graph {
    pub symbols: Vec<Symbol>,
    pub edges: Vec<Edge>,
    /// Per file (same order as the input), the index in `symbols` of each definition.
    pub file_symbols: Vec<Vec<usize>>,
}

/// Symbols of each file, ids assigned; the file itself first.
pub fn assign_ids(repo_id: &str, file: &ParsedFile) -> Vec<Symbol> {
    let mut out = Vec::with_capacity(file.symbols.len() + 1);
    let file_symbol_id = file_id(repo_id, &file.path);
    out.push(Symbol {
        id: file_symbol_id.clone(),
        repo_id: repo_id.to_string(),
        path: file.path.clone(),
        name: file
            .path
            .rsplit('/')
            .next()
            .unwrap_or(&file.path)
            .to_string(),
        qualified: file.path.clone(),
        kind: SymbolKind::File,
        language: file.language,
        parent_id: None,
        line_start: 1,
        line_end: file.lines.max(1),
        signature: String::new(),
        doc: String::new(),
        visibility: "public".into(),
    });
    let mut ordinals: HashMap<(&str, SymbolKind), usize> = HashMap::new();
    let mut ids = Vec::with_capacity(file.symbols.len());
    for def in &file.symbols {
        let ordinal = ordinals
            .entry((def.qualified.as_str(), def.kind))
            .or_default();
        ids.push(symbol_id(
            repo_id,
            &file.path,
            &def.qualified,
            def.kind,
            *ordinal,
        ));
        *ordinal += 1;
    }
    for (def, id) in file.symbols.iter().zip(&ids) {
        out.push(Symbol {
            id: id.clone(),
            repo_id: repo_id.to_string(),
            path: file.path.clone(),
            name: def.name.clone(),
            qualified: def.qualified.clone(),
            kind: def.kind,
            language: file.language,
            parent_id: Some(match def.parent {
                Some(p) => ids[p].clone(),
                None => file_symbol_id.clone(),
            }),
            line_start: def.line_start,
            line_end: def.line_end,
            signature: def.signature.clone(),
            doc: def.doc.clone(),
            visibility: def.visibility.clone(),
        });
    }
    out
}

/// Resolves a whole repository.
pub fn resolve(repo_id: &str, files: &[ParsedFile]) -> Graph {
    let mut graph = Graph::default();
    for file in files {
        let symbols = assign_ids(repo_id, file);
        let first = graph.symbols.len();
        graph
            .file_symbols
            .push((first..first + symbols.len()).collect());
        graph.symbols.extend(symbols);
    }
    let index = Index::new(files, &graph);
    let mut edges: HashMap<(usize, usize, EdgeKind), (f32, u32)> = HashMap::new();
    let mut add = |from: usize, to: usize, kind: EdgeKind, confidence: f32, line: u32| {
        if from == to {
            return;
        }
        let entry = edges.entry((from, to, kind)).or_insert((confidence, line));
        if confidence > entry.0 {
            *entry = (confidence, line);
        }
    };

    for (f, file) in files.iter().enumerate() {
        let local = &graph.file_symbols[f];
        let file_node = local[0];
        for (i, def) in file.symbols.iter().enumerate() {
            let parent = def.parent.map(|p| local[p + 1]).unwrap_or(file_node);
            add(
                parent,
                local[i + 1],
                EdgeKind::Contains,
                1.0,
                def.line_start,
            );
        }
        for (import, targets) in file.imports.iter().zip(&index.imports[f]) {
            for &target_file in &targets.module_files {
                add(
                    file_node,
                    graph.file_symbols[target_file][0],
                    EdgeKind::Imports,
                    0.9,
                    import.line,
                );
            }
            for (name, files_of_name) in import.names.iter().zip(&targets.name_files) {
                for &target_file in files_of_name {
                    add(
                        file_node,
                        graph.file_symbols[target_file][0],
                        EdgeKind::Imports,
                        0.9,
                        import.line,
                    );
                }
                for target in index.named_in(&targets.module_files, &name.name, |_| true) {
                    add(file_node, target, EdgeKind::Imports, 0.85, import.line);
                }
            }
        }
        for r in &file.refs {
            let from = match (
                r.from,
                r.qualifier.as_deref().and_then(|q| q.strip_prefix("impl:")),
            ) {
                (Some(i), _) => local[i + 1],
                // `impl Trait for Type` with `Type` defined elsewhere.
                (None, Some(type_name)) => {
                    let probe = RawRef {
                        from: None,
                        name: type_name.to_string(),
                        qualifier: None,
                        kind: RefKind::Type,
                        line: r.line,
                    };
                    match index.resolve(f, &probe).first() {
                        Some(&(source, _)) => source,
                        None => continue,
                    }
                }
                (None, None) => file_node,
            };
            for (target, confidence) in index.resolve(f, r) {
                add(from, target, r.kind.edge(), confidence, r.line);
            }
        }
    }

    let mut edges: Vec<_> = edges.into_iter().collect();
    edges.sort_by_key(|a| a.0);
    graph.edges = edges
        .into_iter()
        .map(|((from, to, kind), (confidence, line))| Edge {
            repo_id: repo_id.to_string(),
            from_id: graph.symbols[from].id.clone(),
            to_id: graph.symbols[to].id.clone(),
            kind,
            confidence,
            line,
        })
        .collect();
    graph
}

struct ImportTargets {
    /// Files of the imported module.
    module_files: Vec<usize>,
    /// Per imported name, files of `module::name` when the name is itself a module.
    name_files: Vec<Vec<usize>>,
}

struct Index<'g> {
    files: &'g [ParsedFile],
    graph: &'g Graph,
    by_name: HashMap<&'g str, Vec<usize>>,
    imports: Vec<Vec<ImportTargets>>,
}

impl<'g> Index<'g> {
    fn new(files: &'g [ParsedFile], graph: &'g Graph) -> Index<'g> {
        let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, symbol) in graph.symbols.iter().enumerate() {
            if symbol.kind != SymbolKind::File {
                by_name.entry(symbol.name.as_str()).or_default().push(i);
            }
        }
        let keys: Vec<(Vec<String>, Language)> =
            files.iter().map(|f| (module_key(f), f.language)).collect();
        let imports = files
            .iter()
            .map(|file| {
                file.imports
                    .iter()
                    .map(|import| {
                        let segments = import_segments(file, &import.module);
                        let module_files = match_module(&keys, &segments, file.language);
                        let name_files = import
                            .names
                            .iter()
                            .map(|n| {
                                let mut with_name = segments.clone();
                                with_name.push(n.name.clone());
                                match_module(&keys, &with_name, file.language)
                            })
                            .collect();
                        ImportTargets {
                            module_files,
                            name_files,
                        }
                    })
                    .collect()
            })
            .collect();
        Index {
            files,
            graph,
            by_name,
            imports,
        }
    }

    fn file_of(&self, symbol: usize) -> usize {
        // file_symbols are contiguous ranges in file order.
        self.graph
            .file_symbols
            .partition_point(|range| range.first().is_some_and(|&first| first <= symbol))
            - 1
    }

    fn named_in<'a>(
        &'a self,
        files: &'a [usize],
        name: &'a str,
        fits: impl Fn(SymbolKind) -> bool + 'a,
    ) -> impl Iterator<Item = usize> + 'a {
        self.by_name
            .get(name)
            .into_iter()
            .flatten()
            .copied()
            .filter(move |&s| files.contains(&self.file_of(s)) && fits(self.graph.symbols[s].kind))
    }

    /// Targets of one reference from file `f`, with their confidence.
    fn resolve(&self, f: usize, r: &RawRef) -> Vec<(usize, f32)> {
        let fits = |kind: SymbolKind| match r.kind {
            RefKind::Call => {
                kind.is_callable() || matches!(kind, SymbolKind::Class | SymbolKind::Struct)
            }
            RefKind::Type | RefKind::Implements | RefKind::Extends => kind.is_type(),
        };
        let local = &self.graph.file_symbols[f];
        let file = &self.files[f];
        let from_def = r.from.map(|i| &file.symbols[i]);
        let raw_qualifier = r.qualifier.as_deref().filter(|q| !q.starts_with("impl:"));
        // Rust marks paths with a trailing `::`; a Rust qualifier without it is a value
        // (`store.get()`), which names no module or type.
        let is_path = |q: &str| file.language != Language::Rust || q.ends_with("::");
        let qualifier = raw_qualifier.map(|q| q.trim_end_matches("::"));
        let path_qualifier = raw_qualifier
            .filter(|q| is_path(q))
            .map(|q| q.trim_end_matches("::"));

        // Receiver: members of the enclosing type.
        if let Some(q) = qualifier {
            if matches!(q, "self" | "this" | "Self" | "cls") {
                let mut cursor = r.from;
                while let Some(i) = cursor {
                    if file.symbols[i].kind.is_type() {
                        let found: Vec<_> = file
                            .symbols
                            .iter()
                            .enumerate()
                            .filter(|(_, s)| {
                                s.parent == Some(i) && s.name == r.name && fits(s.kind)
                            })
                            .map(|(j, _)| (local[j + 1], 0.95))
                            .collect();
                        if !found.is_empty() {
                            return found;
                        }
                        break;
                    }
                    cursor = file.symbols[i].parent;
                }
            }
        }

        // Same scope, then same file (only unqualified or receiver-qualified uses).
        let receiver = qualifier.is_none_or(|q| matches!(q, "self" | "this" | "Self" | "cls"));
        if receiver {
            let scope = from_def.and_then(|d| d.parent);
            let in_file: Vec<(usize, bool)> = file
                .symbols
                .iter()
                .enumerate()
                .filter(|(_, s)| s.name == r.name && fits(s.kind))
                .map(|(j, s)| (j, s.parent == scope))
                .collect();
            let siblings: Vec<_> = in_file
                .iter()
                .filter(|(_, same)| *same)
                .map(|&(j, _)| (local[j + 1], 0.95))
                .collect();
            if !siblings.is_empty() {
                return siblings;
            }
            if !in_file.is_empty() {
                return in_file.iter().map(|&(j, _)| (local[j + 1], 0.9)).collect();
            }
        }

        // `Type::member` / `Type.member`: the type found in this file or through an import,
        // then its member.
        if let Some(q) = path_qualifier.filter(|q| !matches!(*q, "self" | "this" | "Self" | "cls"))
        {
            let head = q.rsplit(['.', ':']).find(|s| !s.is_empty()).unwrap_or(q);
            let probe = RawRef {
                from: r.from,
                name: head.to_string(),
                qualifier: None,
                kind: RefKind::Type,
                line: r.line,
            };
            if head.chars().next().is_some_and(char::is_uppercase) {
                let types = self.resolve(f, &probe);
                let found: Vec<_> = types
                    .iter()
                    .filter(|(_, confidence)| *confidence >= 0.85)
                    .flat_map(|&(t, confidence)| {
                        let type_id = &self.graph.symbols[t].id;
                        self.by_name
                            .get(r.name.as_str())
                            .into_iter()
                            .flatten()
                            .copied()
                            .filter(move |&m| {
                                self.graph.symbols[m].parent_id.as_ref() == Some(type_id)
                                    && fits(self.graph.symbols[m].kind)
                            })
                            .map(move |m| (m, confidence.min(0.9)))
                    })
                    .collect();
                if !found.is_empty() {
                    return found;
                }
            }
        }

        // Imports.
        for (import, targets) in file.imports.iter().zip(&self.imports[f]) {
            if qualifier.is_none() {
                for (name, name_files) in import.names.iter().zip(&targets.name_files) {
                    let used_as = name.alias.as_deref().unwrap_or(&name.name);
                    if used_as == r.name {
                        let found: Vec<_> = self
                            .named_in(&targets.module_files, &name.name, fits)
                            .chain(self.named_in(name_files, &name.name, fits))
                            .map(|s| (s, 0.85))
                            .collect();
                        if !found.is_empty() {
                            return found;
                        }
                    }
                }
            }
            if let Some(q) = path_qualifier {
                let head = q.split(['.', ':']).next().unwrap_or(q);
                let mut module_files: Vec<usize> = Vec::new();
                if import.alias.as_deref() == Some(head) || last_segment(&import.module) == head {
                    module_files.extend(&targets.module_files);
                }
                for (name, name_files) in import.names.iter().zip(&targets.name_files) {
                    if name.alias.as_deref().unwrap_or(&name.name) == head {
                        module_files.extend(name_files);
                    }
                }
                if !module_files.is_empty() {
                    let found: Vec<_> = self
                        .named_in(&module_files, &r.name, fits)
                        .map(|s| (s, 0.8))
                        .collect();
                    if !found.is_empty() {
                        return found;
                    }
                }
            }
        }
        if qualifier.is_none() {
            for (import, targets) in file.imports.iter().zip(&self.imports[f]) {
                if import.wildcard {
                    let found: Vec<_> = self
                        .named_in(&targets.module_files, &r.name, fits)
                        .map(|s| (s, 0.7))
                        .collect();
                    if !found.is_empty() {
                        return found;
                    }
                }
            }
        }

        // The same name anywhere in the repository.
        let candidates: Vec<usize> = self
            .by_name
            .get(r.name.as_str())
            .into_iter()
            .flatten()
            .copied()
            .filter(|&s| fits(self.graph.symbols[s].kind))
            .collect();
        let dir = parent_dir(&file.path);
        let same_dir: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&s| parent_dir(&self.graph.symbols[s].path) == dir)
            .collect();
        if same_dir.len() == 1 {
            return vec![(same_dir[0], 0.6)];
        }
        match candidates.len() {
            1 => vec![(candidates[0], 0.5)],
            2..=5 => candidates.into_iter().map(|s| (s, 0.3)).collect(),
            _ => Vec::new(),
        }
    }
}

fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

fn last_segment(module: &str) -> &str {
    module
        .rsplit(['.', ':', '/'])
        .find(|s| !s.is_empty())
        .unwrap_or(module)
}

/// The path segments a file is imported by: `src/store/mod.rs` → `[src, store]`;
/// Go files by their directory (a package is a directory).
fn module_key(file: &ParsedFile) -> Vec<String> {
    let without_ext = file
        .path
        .rsplit_once('.')
        .map(|(p, _)| p)
        .unwrap_or(&file.path);
    let mut segments: Vec<String> = without_ext.split('/').map(str::to_string).collect();
    let last = segments.last().map(String::as_str).unwrap_or("");
    if file.language == Language::Go
        || matches!(last, "mod" | "lib" | "main" | "__init__" | "index")
    {
        segments.pop();
    }
    segments
}

/// The segments an import names, relative imports resolved against the importing file.
fn import_segments(file: &ParsedFile, module: &str) -> Vec<String> {
    let dir: Vec<&str> = parent_dir(&file.path)
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let relative_to = |mut base: Vec<String>, rest: &str, sep: char| {
        for part in rest.split(sep) {
            match part {
                "" | "." => {}
                ".." => {
                    base.pop();
                }
                other => base.push(other.to_string()),
            }
        }
        base
    };
    let base: Vec<String> = dir.iter().map(|s| s.to_string()).collect();
    match file.language {
        Language::Rust => {
            let mut segments = Vec::new();
            let mut parts = module.split("::").peekable();
            let mut relative = false;
            while let Some(&head) = parts.peek() {
                match head {
                    "crate" => {}
                    "self" | "super" => relative = true,
                    _ => break,
                }
                parts.next();
            }
            if relative {
                segments.extend(base);
            }
            segments.extend(parts.filter(|p| !p.is_empty()).map(str::to_string));
            segments
        }
        Language::Python => {
            let dots = module.chars().take_while(|&c| c == '.').count();
            let rest = &module[dots..];
            if dots > 0 {
                let mut base = base;
                for _ in 1..dots {
                    base.pop();
                }
                relative_to(base, rest, '.')
            } else {
                rest.split('.')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            }
        }
        Language::JavaScript | Language::TypeScript | Language::Tsx => {
            let stripped = module
                .rsplit_once('.')
                .filter(|(_, ext)| matches!(*ext, "js" | "jsx" | "ts" | "tsx" | "mjs" | "cjs"))
                .map(|(p, _)| p)
                .unwrap_or(module);
            if stripped.starts_with('.') {
                relative_to(base, stripped, '/')
            } else {
                stripped
                    .split('/')
                    .filter(|s| !s.is_empty() && !s.starts_with('@'))
                    .map(str::to_string)
                    .collect()
            }
        }
        Language::Go => module
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        Language::Java => module
            .split('.')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    }
}

/// Files whose key and the import's segments share the longest common suffix, covering
/// the whole of the shorter of the two (`src/store/records.rs` matches `store::records`;
/// Go's `example.com/app/internal/store` matches the directory `internal/store`).
fn match_module(
    keys: &[(Vec<String>, Language)],
    segments: &[String],
    language: Language,
) -> Vec<usize> {
    if segments.is_empty() {
        return Vec::new();
    }
    let compatible = |l: Language| match language {
        Language::JavaScript | Language::TypeScript | Language::Tsx => {
            matches!(
                l,
                Language::JavaScript | Language::TypeScript | Language::Tsx
            )
        }
        other => l == other,
    };
    let mut best = 0;
    let mut found = Vec::new();
    for (i, (key, key_language)) in keys.iter().enumerate() {
        if !compatible(*key_language) {
            continue;
        }
        let common = key
            .iter()
            .rev()
            .zip(segments.iter().rev())
            .take_while(|(a, b)| a == b)
            .count();
        if common == 0 || common < key.len().min(segments.len()) {
            continue;
        }
        match common.cmp(&best) {
            std::cmp::Ordering::Greater => {
                best = common;
                found = vec![i];
            }
            std::cmp::Ordering::Equal => found.push(i),
            std::cmp::Ordering::Less => {}
        }
    }
    found
}
