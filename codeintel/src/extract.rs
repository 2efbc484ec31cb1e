//! Parsing one file with tree-sitter into definitions, imports and unresolved references.
//!
//! One walker serves every language: `classify` says what a syntax node means in its
//! language (a definition, a call, an import, a type reference, an `impl` block), and the
//! walker keeps the stack of enclosing definitions that containment and references hang on.

use crate::model::{
    Import, ImportedName, Language, ParsedFile, RawRef, RefKind, SymbolDef, SymbolKind,
};
use std::collections::HashSet;
use tree_sitter::{Node, Parser};

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("the {0} grammar could not be loaded: {1}")]
    Grammar(Language, String),
    #[error("tree-sitter gave up on {0}")]
    Failed(String),
}

/// Parses `source` as `language` and extracts its part of the code graph.
pub fn parse_file(path: &str, language: Language, source: &str) -> Result<ParsedFile, ParseError> {
    let mut parser = Parser::new();
    parser
        .set_language(&language.grammar())
        .map_err(|e| ParseError::Grammar(language, e.to_string()))?;
    let tree = parser
        .parse(source, None)
        .ok_or_else(|| ParseError::Failed(path.to_string()))?;
    let mut walker = Walker {
        language,
        src: source.as_bytes(),
        symbols: Vec::new(),
        imports: Vec::new(),
        refs: Vec::new(),
        seen_refs: HashSet::new(),
        owners: Vec::new(),
        receivers: std::collections::HashMap::new(),
    };
    walker.walk(tree.root_node(), None);
    walker.attach_owned_members();
    Ok(ParsedFile {
        path: path.to_string(),
        language,
        lines: source.lines().count() as u32,
        bytes: source.len(),
        symbols: walker.symbols,
        imports: walker.imports,
        refs: walker.refs,
    })
}

/// What a syntax node means to the graph.
enum Role<'t> {
    Def {
        kind: SymbolKind,
        name: String,
        /// The node whose text up to `body` is the signature, and whose siblings hold docs.
        outer: Node<'t>,
        body: Option<Node<'t>>,
        /// The type a method belongs to when its definition sits outside the type (Go).
        owner: Option<String>,
    },
    /// A Rust `impl` block: methods inside belong to `type_name`.
    Impl {
        type_name: String,
        trait_name: Option<String>,
    },
    Call {
        name: String,
        qualifier: Option<String>,
    },
    Import(Vec<Import>),
    TypeRef(String),
    /// Inheritance clauses: already recorded by `heritage`, not walked again.
    Skip,
    Other,
}

struct Walker<'s> {
    language: Language,
    src: &'s [u8],
    symbols: Vec<SymbolDef>,
    imports: Vec<Import>,
    refs: Vec<RawRef>,
    seen_refs: HashSet<(Option<usize>, String, RefKind)>,
    /// Symbols whose owning type is named but was not their syntactic parent.
    owners: Vec<(usize, String)>,
    /// Go methods' receiver names (`s` in `func (s *Store) Get()`), which act as `self`.
    receivers: std::collections::HashMap<usize, String>,
}

impl<'s> Walker<'s> {
    fn text(&self, node: Node) -> &'s str {
        node.utf8_text(self.src).unwrap_or("")
    }

    fn walk(&mut self, node: Node, scope: Option<usize>) {
        match self.classify(node) {
            Role::Def {
                kind,
                name,
                outer,
                body,
                owner,
            } => {
                let index = self.define(node, outer, body, kind, name, scope, owner.clone());
                if let Some(receiver) = self.go_receiver_name(node) {
                    self.receivers.insert(index, receiver);
                }
                for (kind, target) in self.heritage(node) {
                    self.reference(Some(index), target, None, kind, node);
                }
                if let Some(owner) = owner.filter(|_| scope.is_none()) {
                    self.owners.push((index, owner));
                }
                self.walk_children(node, Some(index));
            }
            Role::Impl {
                type_name,
                trait_name,
            } => {
                // Methods inside are attached to the type once the whole file is read (the
                // type may be defined below the impl, or in another file).
                let first = self.symbols.len();
                self.walk_children(node, scope);
                for index in first..self.symbols.len() {
                    if self.symbols[index].parent == scope && self.symbols[index].kind.is_callable()
                    {
                        self.symbols[index].kind = SymbolKind::Method;
                        self.owners.push((index, type_name.clone()));
                    }
                }
                if let Some(trait_name) = trait_name {
                    // `from` is resolved by name: the implementing type, wherever it is.
                    let line = node.start_position().row as u32 + 1;
                    self.refs.push(RawRef {
                        from: None,
                        name: trait_name,
                        qualifier: Some(format!("impl:{type_name}")),
                        kind: RefKind::Implements,
                        line,
                    });
                }
            }
            Role::Call { name, qualifier } => {
                self.reference(scope, name, qualifier, RefKind::Call, node);
                self.walk_children(node, scope);
            }
            Role::Import(imports) => self.imports.extend(imports),
            Role::TypeRef(name) => self.reference(scope, name, None, RefKind::Type, node),
            Role::Skip => {}
            Role::Other => self.walk_children(node, scope),
        }
    }

    fn walk_children(&mut self, node: Node, scope: Option<usize>) {
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            self.walk(child, scope);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn define(
        &mut self,
        node: Node,
        outer: Node,
        body: Option<Node>,
        kind: SymbolKind,
        name: String,
        scope: Option<usize>,
        owner: Option<String>,
    ) -> usize {
        let sep = self.language.separator();
        let qualified = match (scope, owner) {
            (Some(parent), _) => format!("{}{sep}{name}", self.symbols[parent].qualified),
            (None, Some(owner)) => format!("{owner}{sep}{name}"),
            (None, None) => name.clone(),
        };
        let kind = match (kind, scope.map(|p| self.symbols[p].kind)) {
            (SymbolKind::Function, Some(parent)) if parent.is_type() => SymbolKind::Method,
            (kind, _) => kind,
        };
        let signature = self.signature(outer, body);
        let doc = self.doc(outer, body);
        let visibility = self.visibility(node, outer, &name);
        self.symbols.push(SymbolDef {
            name,
            qualified,
            kind,
            parent: scope,
            line_start: outer.start_position().row as u32 + 1,
            line_end: outer.end_position().row as u32 + 1,
            start_byte: outer.start_byte(),
            end_byte: outer.end_byte(),
            signature,
            doc,
            visibility,
        });
        self.symbols.len() - 1
    }

    fn reference(
        &mut self,
        from: Option<usize>,
        name: String,
        qualifier: Option<String>,
        kind: RefKind,
        node: Node,
    ) {
        if name.is_empty() || (kind == RefKind::Type && name.chars().count() < 2) {
            return;
        }
        // A Go receiver is that language's `self`.
        let qualifier = match (qualifier, from.and_then(|i| self.receivers.get(&i))) {
            (Some(q), Some(receiver)) if &q == receiver => Some("self".to_string()),
            (q, _) => q,
        };
        if self.seen_refs.insert((from, name.clone(), kind)) {
            self.refs.push(RawRef {
                from,
                name,
                qualifier,
                kind,
                line: node.start_position().row as u32 + 1,
            });
        }
    }

    /// Methods defined outside their type (Rust impl blocks, Go receivers) hang on the
    /// type when this file defines it; otherwise they stay top-level with a qualified name.
    fn attach_owned_members(&mut self) {
        let sep = self.language.separator();
        let mut unattached = std::collections::HashMap::new();
        for (index, owner) in std::mem::take(&mut self.owners) {
            let scope = self.symbols[index].parent;
            let found = self
                .symbols
                .iter()
                .position(|s| s.name == owner && s.kind.is_type() && s.parent == scope);
            let symbol = &mut self.symbols[index];
            symbol.qualified = format!("{owner}{sep}{}", symbol.name);
            match found {
                Some(owner_index) => symbol.parent = Some(owner_index),
                None => {
                    unattached.insert(index, owner);
                }
            }
        }
        // Members of members: re-qualify children of re-parented methods (closures, nested fns).
        for index in 0..self.symbols.len() {
            if let Some(parent) = self.symbols[index].parent {
                if parent < index {
                    let mut prefix = self.symbols[parent].qualified.clone();
                    if let Some(owner) = unattached.get(&index) {
                        prefix = format!("{prefix}{sep}{owner}");
                    }
                    let name = self.symbols[index].name.clone();
                    self.symbols[index].qualified = format!("{prefix}{sep}{name}");
                }
            }
        }
        // An `impl Trait for Type` names its implementing type in the qualifier; when the
        // type is in this file, the reference starts from it.
        for r in &mut self.refs {
            if let Some(type_name) = r.qualifier.as_deref().and_then(|q| q.strip_prefix("impl:")) {
                if let Some(index) = self
                    .symbols
                    .iter()
                    .position(|s| s.name == type_name && s.kind.is_type())
                {
                    r.from = Some(index);
                }
            }
        }
    }

    fn classify<'t>(&self, node: Node<'t>) -> Role<'t> {
        if matches!(
            node.kind(),
            "class_heritage"
                | "extends_type_clause"
                | "superclass"
                | "super_interfaces"
                | "extends_interfaces"
        ) {
            return Role::Skip;
        }
        match self.language {
            Language::Rust => self.classify_rust(node),
            Language::Python => self.classify_python(node),
            Language::JavaScript | Language::TypeScript | Language::Tsx => {
                self.classify_script(node)
            }
            Language::Go => self.classify_go(node),
            Language::Java => self.classify_java(node),
        }
    }

    fn def<'t>(&self, node: Node<'t>, kind: SymbolKind, name_field: &str) -> Role<'t> {
        match node.child_by_field_name(name_field) {
            Some(name) => Role::Def {
                kind,
                name: self.text(name).to_string(),
                outer: node,
                body: node.child_by_field_name("body"),
                owner: None,
            },
            None => Role::Other,
        }
    }

    fn classify_rust<'t>(&self, node: Node<'t>) -> Role<'t> {
        match node.kind() {
            "function_item" | "function_signature_item" => {
                self.def(node, SymbolKind::Function, "name")
            }
            "struct_item" | "union_item" => self.def(node, SymbolKind::Struct, "name"),
            "enum_item" => self.def(node, SymbolKind::Enum, "name"),
            "trait_item" => self.def(node, SymbolKind::Trait, "name"),
            "type_item" => self.def(node, SymbolKind::Type, "name"),
            "mod_item" => self.def(node, SymbolKind::Module, "name"),
            "impl_item" => match node.child_by_field_name("type") {
                Some(ty) => Role::Impl {
                    type_name: self.base_type_name(ty),
                    trait_name: node
                        .child_by_field_name("trait")
                        .map(|t| self.base_type_name(t)),
                },
                None => Role::Other,
            },
            "call_expression" => match node.child_by_field_name("function") {
                Some(function) => self.rust_callee(function),
                None => Role::Other,
            },
            "use_declaration" => {
                let line = node.start_position().row as u32 + 1;
                let mut paths = Vec::new();
                if let Some(argument) = node.child_by_field_name("argument") {
                    self.rust_use_paths(argument, String::new(), &mut paths);
                }
                Role::Import(
                    paths
                        .into_iter()
                        .map(|(path, alias)| rust_import(&path, alias, line))
                        .collect(),
                )
            }
            "type_identifier" if !self.is_definition_name(node) && !is_constructed(node) => {
                Role::TypeRef(self.text(node).to_string())
            }
            _ => Role::Other,
        }
    }

    fn rust_callee<'t>(&self, function: Node<'t>) -> Role<'t> {
        match function.kind() {
            "identifier" => Role::Call {
                name: self.text(function).to_string(),
                qualifier: None,
            },
            "field_expression" => match function.child_by_field_name("field") {
                Some(field) => Role::Call {
                    name: self.text(field).to_string(),
                    qualifier: function
                        .child_by_field_name("value")
                        .map(|v| self.text(v).to_string()),
                },
                None => Role::Other,
            },
            // A path (`store::open`, `Store::new`) is marked by its trailing `::`, so that
            // resolution can tell it from a value receiver (`store.open()`).
            "scoped_identifier" => match function.child_by_field_name("name") {
                Some(name) => Role::Call {
                    name: self.text(name).to_string(),
                    qualifier: function
                        .child_by_field_name("path")
                        .map(|p| format!("{}::", self.text(p))),
                },
                None => Role::Other,
            },
            "generic_function" => match function.child_by_field_name("function") {
                Some(inner) => self.rust_callee(inner),
                None => Role::Other,
            },
            _ => Role::Other,
        }
    }

    /// Flattens a `use` tree into full paths with their aliases.
    fn rust_use_paths(&self, node: Node, prefix: String, out: &mut Vec<(String, Option<String>)>) {
        let join = |rest: &str| {
            if prefix.is_empty() {
                rest.to_string()
            } else {
                format!("{prefix}::{rest}")
            }
        };
        match node.kind() {
            "use_as_clause" => {
                if let Some(path) = node.child_by_field_name("path") {
                    let alias = node
                        .child_by_field_name("alias")
                        .map(|a| self.text(a).to_string());
                    out.push((join(self.text(path)), alias));
                }
            }
            "scoped_use_list" => {
                let base = node
                    .child_by_field_name("path")
                    .map(|p| join(self.text(p)))
                    .unwrap_or_else(|| prefix.clone());
                if let Some(list) = node.child_by_field_name("list") {
                    self.rust_use_paths(list, base, out);
                }
            }
            "use_list" => {
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    self.rust_use_paths(child, prefix.clone(), out);
                }
            }
            "use_wildcard" => {
                let text = self.text(node);
                out.push((join(text), None));
            }
            _ => out.push((join(self.text(node)), None)),
        }
    }

    fn classify_python<'t>(&self, node: Node<'t>) -> Role<'t> {
        match node.kind() {
            "function_definition" => self.def(node, SymbolKind::Function, "name"),
            "class_definition" => self.def(node, SymbolKind::Class, "name"),
            "call" => match node.child_by_field_name("function") {
                Some(f) if f.kind() == "identifier" => Role::Call {
                    name: self.text(f).to_string(),
                    qualifier: None,
                },
                Some(f) if f.kind() == "attribute" => match f.child_by_field_name("attribute") {
                    Some(attr) => Role::Call {
                        name: self.text(attr).to_string(),
                        qualifier: f
                            .child_by_field_name("object")
                            .map(|o| self.text(o).to_string()),
                    },
                    None => Role::Other,
                },
                _ => Role::Other,
            },
            "import_statement" => {
                let line = node.start_position().row as u32 + 1;
                let mut imports = Vec::new();
                let mut cursor = node.walk();
                for name in node.children_by_field_name("name", &mut cursor) {
                    let (module, alias) = self.python_aliased(name);
                    imports.push(Import {
                        module,
                        names: Vec::new(),
                        alias,
                        wildcard: false,
                        line,
                    });
                }
                Role::Import(imports)
            }
            "import_from_statement" => {
                let line = node.start_position().row as u32 + 1;
                let module = node
                    .child_by_field_name("module_name")
                    .map(|m| self.text(m).to_string())
                    .unwrap_or_default();
                let mut names = Vec::new();
                let mut cursor = node.walk();
                for name in node.children_by_field_name("name", &mut cursor) {
                    let (name, alias) = self.python_aliased(name);
                    names.push(ImportedName { name, alias });
                }
                let mut cursor = node.walk();
                let wildcard = node
                    .named_children(&mut cursor)
                    .any(|c| c.kind() == "wildcard_import");
                Role::Import(vec![Import {
                    module,
                    names,
                    alias: None,
                    wildcard,
                    line,
                }])
            }
            "type" => {
                let mut cursor = node.walk();
                let first = node.named_children(&mut cursor).next();
                match first {
                    Some(ident) if ident.kind() == "identifier" => {
                        Role::TypeRef(self.text(ident).to_string())
                    }
                    _ => Role::Other,
                }
            }
            _ => Role::Other,
        }
    }

    fn python_aliased(&self, node: Node) -> (String, Option<String>) {
        if node.kind() == "aliased_import" {
            let name = node
                .child_by_field_name("name")
                .map(|n| self.text(n).to_string())
                .unwrap_or_default();
            let alias = node
                .child_by_field_name("alias")
                .map(|a| self.text(a).to_string());
            (name, alias)
        } else {
            (self.text(node).to_string(), None)
        }
    }

    /// JavaScript, TypeScript and TSX share most of their grammar.
    fn classify_script<'t>(&self, node: Node<'t>) -> Role<'t> {
        match node.kind() {
            "function_declaration" | "generator_function_declaration" | "function_signature" => {
                self.def(node, SymbolKind::Function, "name")
            }
            "class_declaration" | "abstract_class_declaration" | "class" => {
                self.def(node, SymbolKind::Class, "name")
            }
            "method_definition" | "method_signature" | "abstract_method_signature" => {
                self.def(node, SymbolKind::Method, "name")
            }
            "interface_declaration" => self.def(node, SymbolKind::Interface, "name"),
            "enum_declaration" => self.def(node, SymbolKind::Enum, "name"),
            "type_alias_declaration" => self.def(node, SymbolKind::Type, "name"),
            "internal_module" | "module" => self.def(node, SymbolKind::Module, "name"),
            "variable_declarator" => {
                let value = node.child_by_field_name("value");
                let name = node.child_by_field_name("name");
                match (name, value) {
                    (Some(name), Some(value))
                        if name.kind() == "identifier"
                            && matches!(
                                value.kind(),
                                "arrow_function" | "function_expression" | "function"
                            ) =>
                    {
                        // `const f = () => ...`: the declaration statement carries the docs.
                        let outer = node
                            .parent()
                            .filter(|p| {
                                matches!(p.kind(), "lexical_declaration" | "variable_declaration")
                            })
                            .unwrap_or(node);
                        Role::Def {
                            kind: SymbolKind::Function,
                            name: self.text(name).to_string(),
                            outer,
                            body: value.child_by_field_name("body"),
                            owner: None,
                        }
                    }
                    _ => Role::Other,
                }
            }
            "call_expression" => match node.child_by_field_name("function") {
                Some(f) if f.kind() == "identifier" => Role::Call {
                    name: self.text(f).to_string(),
                    qualifier: None,
                },
                Some(f) if f.kind() == "member_expression" => {
                    match f.child_by_field_name("property") {
                        Some(prop) => Role::Call {
                            name: self.text(prop).to_string(),
                            qualifier: f
                                .child_by_field_name("object")
                                .map(|o| self.text(o).to_string()),
                        },
                        None => Role::Other,
                    }
                }
                _ => Role::Other,
            },
            "new_expression" => match node.child_by_field_name("constructor") {
                Some(c) if matches!(c.kind(), "identifier" | "type_identifier") => Role::Call {
                    name: self.text(c).to_string(),
                    qualifier: None,
                },
                _ => Role::Other,
            },
            "import_statement" => Role::Import(self.script_import(node).into_iter().collect()),
            "type_identifier" if !self.is_definition_name(node) && !is_constructed(node) => {
                Role::TypeRef(self.text(node).to_string())
            }
            _ => Role::Other,
        }
    }

    fn script_import(&self, node: Node) -> Option<Import> {
        let source = node.child_by_field_name("source")?;
        let module = strip_quotes(self.text(source)).to_string();
        let mut import = Import {
            module,
            names: Vec::new(),
            alias: None,
            wildcard: false,
            line: node.start_position().row as u32 + 1,
        };
        let mut cursor = node.walk();
        let clause = node
            .named_children(&mut cursor)
            .find(|c| c.kind() == "import_clause");
        if let Some(clause) = clause {
            let mut cursor = clause.walk();
            for part in clause.named_children(&mut cursor) {
                match part.kind() {
                    "identifier" => import.names.push(ImportedName {
                        name: "default".into(),
                        alias: Some(self.text(part).to_string()),
                    }),
                    "namespace_import" => {
                        let mut c = part.walk();
                        import.alias = part
                            .named_children(&mut c)
                            .next()
                            .map(|i| self.text(i).to_string());
                    }
                    "named_imports" => {
                        let mut c = part.walk();
                        for spec in part.named_children(&mut c) {
                            if spec.kind() != "import_specifier" {
                                continue;
                            }
                            if let Some(name) = spec.child_by_field_name("name") {
                                import.names.push(ImportedName {
                                    name: strip_quotes(self.text(name)).to_string(),
                                    alias: spec
                                        .child_by_field_name("alias")
                                        .map(|a| self.text(a).to_string()),
                                });
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        Some(import)
    }

    fn classify_go<'t>(&self, node: Node<'t>) -> Role<'t> {
        match node.kind() {
            "function_declaration" => self.def(node, SymbolKind::Function, "name"),
            "method_declaration" => match node.child_by_field_name("name") {
                Some(name) => Role::Def {
                    kind: SymbolKind::Method,
                    name: self.text(name).to_string(),
                    outer: node,
                    body: node.child_by_field_name("body"),
                    owner: node
                        .child_by_field_name("receiver")
                        .and_then(|r| self.go_receiver_type(r)),
                },
                None => Role::Other,
            },
            "method_elem" => self.def(node, SymbolKind::Method, "name"),
            "type_spec" => {
                let kind = match node.child_by_field_name("type").map(|t| t.kind()) {
                    Some("struct_type") => SymbolKind::Struct,
                    Some("interface_type") => SymbolKind::Interface,
                    _ => SymbolKind::Type,
                };
                match node.child_by_field_name("name") {
                    Some(name) => {
                        // Docs sit above `type X struct`, the parent declaration.
                        let outer = node
                            .parent()
                            .filter(|p| {
                                p.kind() == "type_declaration" && p.named_child_count() == 1
                            })
                            .unwrap_or(node);
                        Role::Def {
                            kind,
                            name: self.text(name).to_string(),
                            outer,
                            body: node.child_by_field_name("type").and_then(|t| {
                                let mut c = t.walk();
                                let list = t
                                    .named_children(&mut c)
                                    .find(|n| n.kind().ends_with("_list"));
                                list
                            }),
                            owner: None,
                        }
                    }
                    None => Role::Other,
                }
            }
            "call_expression" => match node.child_by_field_name("function") {
                Some(f) if f.kind() == "identifier" => Role::Call {
                    name: self.text(f).to_string(),
                    qualifier: None,
                },
                Some(f) if f.kind() == "selector_expression" => {
                    match f.child_by_field_name("field") {
                        Some(field) => Role::Call {
                            name: self.text(field).to_string(),
                            qualifier: f
                                .child_by_field_name("operand")
                                .map(|o| self.text(o).to_string()),
                        },
                        None => Role::Other,
                    }
                }
                _ => Role::Other,
            },
            "import_spec" => match node.child_by_field_name("path") {
                Some(path) => Role::Import(vec![Import {
                    module: strip_quotes(self.text(path)).to_string(),
                    names: Vec::new(),
                    alias: node
                        .child_by_field_name("name")
                        .map(|n| self.text(n).to_string()),
                    wildcard: false,
                    line: node.start_position().row as u32 + 1,
                }]),
                None => Role::Other,
            },
            "type_identifier" if !self.is_definition_name(node) && !is_constructed(node) => {
                Role::TypeRef(self.text(node).to_string())
            }
            _ => Role::Other,
        }
    }

    fn go_receiver_name(&self, node: Node) -> Option<String> {
        if self.language != Language::Go || node.kind() != "method_declaration" {
            return None;
        }
        let receiver = node.child_by_field_name("receiver")?;
        let mut cursor = receiver.walk();
        let param = receiver
            .named_children(&mut cursor)
            .find(|c| c.kind() == "parameter_declaration")?;
        param
            .child_by_field_name("name")
            .map(|n| self.text(n).to_string())
    }

    fn go_receiver_type(&self, receiver: Node) -> Option<String> {
        let mut cursor = receiver.walk();
        let param = receiver
            .named_children(&mut cursor)
            .find(|c| c.kind() == "parameter_declaration")?;
        let ty = param.child_by_field_name("type")?;
        Some(self.base_type_name(ty))
    }

    fn classify_java<'t>(&self, node: Node<'t>) -> Role<'t> {
        match node.kind() {
            "class_declaration" | "record_declaration" => self.def(node, SymbolKind::Class, "name"),
            "interface_declaration" | "annotation_type_declaration" => {
                self.def(node, SymbolKind::Interface, "name")
            }
            "enum_declaration" => self.def(node, SymbolKind::Enum, "name"),
            "method_declaration" | "constructor_declaration" => {
                self.def(node, SymbolKind::Method, "name")
            }
            "method_invocation" => match node.child_by_field_name("name") {
                Some(name) => Role::Call {
                    name: self.text(name).to_string(),
                    qualifier: node
                        .child_by_field_name("object")
                        .map(|o| self.text(o).to_string()),
                },
                None => Role::Other,
            },
            "object_creation_expression" => match node.child_by_field_name("type") {
                Some(ty) => Role::Call {
                    name: self.base_type_name(ty),
                    qualifier: None,
                },
                None => Role::Other,
            },
            "import_declaration" => {
                let mut cursor = node.walk();
                let children: Vec<Node> = node.named_children(&mut cursor).collect();
                let wildcard = children.iter().any(|c| c.kind() == "asterisk");
                let path = children
                    .iter()
                    .find(|c| matches!(c.kind(), "scoped_identifier" | "identifier"))
                    .map(|c| self.text(*c).to_string())
                    .unwrap_or_default();
                let line = node.start_position().row as u32 + 1;
                let import = if wildcard {
                    Import {
                        module: path,
                        names: Vec::new(),
                        alias: None,
                        wildcard: true,
                        line,
                    }
                } else {
                    let (module, name) = match path.rsplit_once('.') {
                        Some((m, n)) => (m.to_string(), n.to_string()),
                        None => (String::new(), path.clone()),
                    };
                    Import {
                        module,
                        names: vec![ImportedName { name, alias: None }],
                        alias: None,
                        wildcard: false,
                        line,
                    }
                };
                Role::Import(vec![import])
            }
            "type_identifier" if !self.is_definition_name(node) && !is_constructed(node) => {
                Role::TypeRef(self.text(node).to_string())
            }
            _ => Role::Other,
        }
    }

    /// `extends` / `implements` clauses of a class or interface definition.
    fn heritage(&self, node: Node) -> Vec<(RefKind, String)> {
        let mut out = Vec::new();
        let mut cursor = node.walk();
        let children: Vec<Node> = node.named_children(&mut cursor).collect();
        match self.language {
            Language::Python if node.kind() == "class_definition" => {
                if let Some(bases) = node.child_by_field_name("superclasses") {
                    let mut c = bases.walk();
                    for base in bases.named_children(&mut c) {
                        let name = match base.kind() {
                            "identifier" => self.text(base).to_string(),
                            "attribute" => base
                                .child_by_field_name("attribute")
                                .map(|a| self.text(a).to_string())
                                .unwrap_or_default(),
                            _ => continue,
                        };
                        out.push((RefKind::Extends, name));
                    }
                }
            }
            Language::JavaScript | Language::TypeScript | Language::Tsx => {
                for child in children {
                    match child.kind() {
                        // JavaScript: `class A extends B` puts the expression directly here.
                        "class_heritage" => {
                            let mut c = child.walk();
                            for clause in child.named_children(&mut c) {
                                match clause.kind() {
                                    "extends_clause" => {
                                        if let Some(v) = clause.child_by_field_name("value") {
                                            out.push((RefKind::Extends, self.base_type_name(v)));
                                        }
                                    }
                                    "implements_clause" => {
                                        let mut c2 = clause.walk();
                                        for ty in clause.named_children(&mut c2) {
                                            out.push((
                                                RefKind::Implements,
                                                self.base_type_name(ty),
                                            ));
                                        }
                                    }
                                    _ => out.push((RefKind::Extends, self.base_type_name(clause))),
                                }
                            }
                        }
                        "extends_type_clause" => {
                            let mut c = child.walk();
                            for ty in child.named_children(&mut c) {
                                out.push((RefKind::Extends, self.base_type_name(ty)));
                            }
                        }
                        _ => {}
                    }
                }
            }
            Language::Java => {
                if let Some(superclass) = node.child_by_field_name("superclass") {
                    let mut c = superclass.walk();
                    for ty in superclass.named_children(&mut c) {
                        out.push((RefKind::Extends, self.base_type_name(ty)));
                    }
                }
                let clauses = node
                    .child_by_field_name("interfaces")
                    .into_iter()
                    .map(|i| (RefKind::Implements, i))
                    .chain(
                        children
                            .into_iter()
                            .filter(|c| c.kind() == "extends_interfaces")
                            .map(|c| (RefKind::Extends, c)),
                    );
                for (kind, clause) in clauses {
                    let mut c = clause.walk();
                    for list in clause.named_children(&mut c) {
                        let mut c2 = list.walk();
                        for ty in list.named_children(&mut c2) {
                            out.push((kind, self.base_type_name(ty)));
                        }
                    }
                }
            }
            Language::Go if node.kind() == "type_spec" => {
                // Embedded interfaces and structs: `type ReadWriter interface { Reader }`.
                if let Some(ty) = node.child_by_field_name("type") {
                    let mut c = ty.walk();
                    for member in ty.named_children(&mut c) {
                        if matches!(member.kind(), "type_elem" | "constraint_elem") {
                            out.push((RefKind::Extends, self.base_type_name(member)));
                        }
                    }
                }
            }
            _ => {}
        }
        out.retain(|(_, name)| !name.is_empty());
        out
    }

    /// The plain name inside a type expression: `Vec<T>` → `Vec`, `&mut a::B` → `B`.
    fn base_type_name(&self, node: Node) -> String {
        match node.kind() {
            "type_identifier" | "identifier" | "field_identifier" | "property_identifier" => {
                return self.text(node).to_string()
            }
            "scoped_type_identifier" | "scoped_identifier" | "nested_type_identifier" => {
                if let Some(name) = node.child_by_field_name("name") {
                    return self.text(name).to_string();
                }
            }
            "generic_type" => {
                if let Some(ty) = node
                    .child_by_field_name("type")
                    .or_else(|| node.child_by_field_name("name"))
                {
                    return self.base_type_name(ty);
                }
            }
            _ => {}
        }
        let mut cursor = node.walk();
        let children: Vec<Node> = node.named_children(&mut cursor).collect();
        for child in children {
            let name = self.base_type_name(child);
            if !name.is_empty() {
                return name;
            }
        }
        // The last identifier-like word of the text, for shapes not handled above.
        self.text(node)
            .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
            .find(|w| !w.is_empty())
            .unwrap_or("")
            .to_string()
    }

    fn is_definition_name(&self, node: Node) -> bool {
        node.parent()
            .and_then(|p| p.child_by_field_name("name"))
            .is_some_and(|n| n.id() == node.id())
    }

    /// The definition's header: its text up to the body, whitespace collapsed.
    fn signature(&self, outer: Node, body: Option<Node>) -> String {
        let end = body
            .filter(|b| b.start_byte() > outer.start_byte())
            .map(|b| b.start_byte())
            .unwrap_or(outer.end_byte());
        let raw = std::str::from_utf8(&self.src[outer.start_byte()..end]).unwrap_or("");
        let header = if body.is_none() {
            raw.lines().next().unwrap_or("")
        } else {
            raw
        };
        // Leading doc comments and attributes inside the node (Java modifiers hold
        // annotations) stay out of the signature.
        let collapsed = header
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("//") && !l.starts_with('@'))
            .collect::<Vec<_>>()
            .join(" ");
        let trimmed = collapsed
            .trim_end_matches(['{', ':', ' '])
            .trim()
            .to_string();
        truncate_chars(&trimmed, 300)
    }

    fn doc(&self, outer: Node, body: Option<Node>) -> String {
        if self.language == Language::Python {
            return body.map(|b| self.python_docstring(b)).unwrap_or_default();
        }
        // Exported JS/TS declarations carry their comment above the `export`.
        let anchor = match outer.parent() {
            Some(p) if p.kind() == "export_statement" => p,
            _ => outer,
        };
        let mut lines: Vec<String> = Vec::new();
        let mut next_row = anchor.start_position().row;
        let mut sibling = anchor.prev_sibling();
        while let Some(node) = sibling {
            let kind = node.kind();
            if kind == "attribute_item" || kind == "decorator" {
                next_row = node.start_position().row;
                sibling = node.prev_sibling();
                continue;
            }
            if !kind.contains("comment") || node.end_position().row + 1 < next_row {
                break;
            }
            let text = self.text(node);
            let is_doc = match self.language {
                Language::Rust => text.starts_with("///") || text.starts_with("/**"),
                Language::Go => text.starts_with("//") || text.starts_with("/*"),
                _ => text.starts_with("/**"),
            };
            if !is_doc {
                break;
            }
            lines.insert(0, clean_comment(text));
            next_row = node.start_position().row;
            sibling = node.prev_sibling();
            if self.language != Language::Rust && self.language != Language::Go {
                break; // one JSDoc / Javadoc block
            }
        }
        lines.join("\n").trim().to_string()
    }

    fn python_docstring(&self, body: Node) -> String {
        let mut cursor = body.walk();
        let first = body.named_children(&mut cursor).next();
        let Some(statement) = first.filter(|s| s.kind() == "expression_statement") else {
            return String::new();
        };
        let mut c = statement.walk();
        let string = statement.named_children(&mut c).next();
        match string {
            Some(s) if s.kind() == "string" => {
                let text = self.text(s);
                let text = text.trim_start_matches(['r', 'u', 'R', 'U']);
                let inner = text
                    .strip_prefix("\"\"\"")
                    .and_then(|t| t.strip_suffix("\"\"\""))
                    .or_else(|| text.strip_prefix("'''").and_then(|t| t.strip_suffix("'''")))
                    .unwrap_or_else(|| strip_quotes(text));
                dedent(inner)
            }
            _ => String::new(),
        }
    }

    fn visibility(&self, node: Node, outer: Node, name: &str) -> String {
        let mut cursor = node.walk();
        let children: Vec<Node> = node.children(&mut cursor).collect();
        match self.language {
            Language::Rust => match children.iter().find(|c| c.kind() == "visibility_modifier") {
                Some(v) if self.text(*v) == "pub" => "public",
                Some(_) => "crate",
                None => "private",
            },
            Language::Python => {
                if name.starts_with("__") && name.ends_with("__") {
                    "public"
                } else if name.starts_with('_') {
                    "private"
                } else {
                    "public"
                }
            }
            Language::JavaScript | Language::TypeScript | Language::Tsx => {
                let exported = outer
                    .parent()
                    .is_some_and(|p| p.kind() == "export_statement");
                let modifier = children
                    .iter()
                    .find(|c| c.kind() == "accessibility_modifier")
                    .map(|c| self.text(*c));
                match modifier {
                    Some("private") => "private",
                    Some("protected") => "protected",
                    _ if name.starts_with('#') => "private",
                    _ if exported => "public",
                    _ if matches!(node.kind(), "method_definition" | "method_signature") => {
                        "public"
                    }
                    _ => "module",
                }
            }
            Language::Go => {
                if name.chars().next().is_some_and(char::is_uppercase) {
                    "public"
                } else {
                    "package"
                }
            }
            Language::Java => {
                let modifiers = children
                    .iter()
                    .find(|c| c.kind() == "modifiers")
                    .map(|m| self.text(*m))
                    .unwrap_or("");
                let words: Vec<&str> = modifiers.split_whitespace().collect();
                if words.contains(&"public") {
                    "public"
                } else if words.contains(&"private") {
                    "private"
                } else if words.contains(&"protected") {
                    "protected"
                } else {
                    "package"
                }
            }
        }
        .to_string()
    }
}

/// The type of `new T(...)`: a call (to the constructor), not also a type reference.
fn is_constructed(node: Node) -> bool {
    node.parent()
        .is_some_and(|p| matches!(p.kind(), "object_creation_expression" | "new_expression"))
}

fn rust_import(path: &str, alias: Option<String>, line: u32) -> Import {
    let (module, name) = match path.rsplit_once("::") {
        Some((m, n)) => (m.to_string(), n.to_string()),
        None => (String::new(), path.to_string()),
    };
    if name == "*" {
        return Import {
            module,
            names: Vec::new(),
            alias: None,
            wildcard: true,
            line,
        };
    }
    if name == "self" {
        // `use a::b::{self}` imports the module `a::b` under its last segment.
        let last = module.rsplit("::").next().unwrap_or("").to_string();
        return Import {
            alias: alias.or(Some(last)),
            module,
            names: Vec::new(),
            wildcard: false,
            line,
        };
    }
    Import {
        module,
        names: vec![ImportedName { name, alias }],
        alias: None,
        wildcard: false,
        line,
    }
}

fn strip_quotes(text: &str) -> &str {
    text.trim_matches(|c| c == '"' || c == '\'' || c == '`')
}

fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// Strips comment markers: `///`, `//`, `/** */`, leading `*`.
fn clean_comment(text: &str) -> String {
    let body = text
        .trim()
        .trim_start_matches("/**")
        .trim_start_matches("/*")
        .trim_end_matches("*/");
    body.lines()
        .map(|line| {
            let line = line.trim();
            let line = line
                .strip_prefix("///")
                .or_else(|| line.strip_prefix("//"))
                .or_else(|| line.strip_prefix('*'))
                .unwrap_or(line);
            line.strip_prefix(' ')
                .unwrap_or(line)
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

fn dedent(text: &str) -> String {
    let indent = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l.trim()
            } else {
                l.get(indent..).unwrap_or(l.trim())
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}
