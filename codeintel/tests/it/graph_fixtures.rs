//! The code graph per language, pinned on small repositories written for these tests: the
//! symbols found (kind, qualified name, visibility, docs), containment, imports, and the
//! callers and callees of chosen functions with the confidence resolution gave them.

use codeintel::model::{EdgeKind, Language, SymbolKind};
use codeintel::parse_file;
use codeintel::resolve::{resolve, Graph};

struct Fixture {
    graph: Graph,
}

impl Fixture {
    fn new(files: &[(&str, &str)]) -> Fixture {
        let parsed: Vec<_> = files
            .iter()
            .map(|(path, source)| {
                let language =
                    Language::of_path(std::path::Path::new(path)).expect("fixture language");
                parse_file(path, language, source).expect("fixture parses")
            })
            .collect();
        Fixture {
            graph: resolve("repo", &parsed),
        }
    }

    fn symbol(&self, qualified: &str) -> &codeintel::Symbol {
        let found: Vec<_> = self
            .graph
            .symbols
            .iter()
            .filter(|s| s.qualified == qualified && s.kind != SymbolKind::File)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one symbol {qualified}; all: {:#?}",
            self.names()
        );
        found[0]
    }

    fn file(&self, path: &str) -> &codeintel::Symbol {
        self.graph
            .symbols
            .iter()
            .find(|s| s.kind == SymbolKind::File && s.path == path)
            .unwrap_or_else(|| panic!("file {path}"))
    }

    fn names(&self) -> Vec<String> {
        self.graph
            .symbols
            .iter()
            .map(|s| format!("{} {} {}", s.path, s.kind, s.qualified))
            .collect()
    }

    /// Qualified names (with kinds) defined in a file, in order.
    fn defined_in(&self, path: &str) -> Vec<String> {
        self.graph
            .symbols
            .iter()
            .filter(|s| s.path == path && s.kind != SymbolKind::File)
            .map(|s| format!("{} {}", s.kind, s.qualified))
            .collect()
    }

    fn parent_of(&self, qualified: &str) -> String {
        let symbol = self.symbol(qualified);
        let parent = symbol.parent_id.as_ref().expect("a parent");
        let parent = self
            .graph
            .symbols
            .iter()
            .find(|s| &s.id == parent)
            .expect("parent exists");
        let contains = self.graph.edges.iter().any(|e| {
            e.kind == EdgeKind::Contains && e.from_id == parent.id && e.to_id == symbol.id
        });
        assert!(
            contains,
            "a contains edge {} → {qualified}",
            parent.qualified
        );
        parent.qualified.clone()
    }

    /// `(qualified target, confidence)` of edges of `kind` from a symbol, sorted.
    fn outgoing(&self, from_id: &str, kind: EdgeKind) -> Vec<(String, f32)> {
        let mut out: Vec<_> = self
            .graph
            .edges
            .iter()
            .filter(|e| e.from_id == from_id && e.kind == kind)
            .map(|e| {
                let target = self
                    .graph
                    .symbols
                    .iter()
                    .find(|s| s.id == e.to_id)
                    .expect("target");
                (target.qualified.clone(), e.confidence)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn callees(&self, qualified: &str) -> Vec<(String, f32)> {
        self.outgoing(&self.symbol(qualified).id, EdgeKind::Calls)
    }

    fn callers(&self, qualified: &str) -> Vec<String> {
        let id = &self.symbol(qualified).id;
        let mut out: Vec<_> = self
            .graph
            .edges
            .iter()
            .filter(|e| &e.to_id == id && e.kind == EdgeKind::Calls)
            .map(|e| {
                self.graph
                    .symbols
                    .iter()
                    .find(|s| s.id == e.from_id)
                    .expect("caller")
                    .qualified
                    .clone()
            })
            .collect();
        out.sort();
        out
    }

    fn imported_files(&self, path: &str) -> Vec<String> {
        let mut out: Vec<_> = self
            .outgoing(&self.file(path).id, EdgeKind::Imports)
            .into_iter()
            .filter(|(q, _)| q.contains('/') || q.contains('.'))
            .filter(|(q, _)| {
                self.graph
                    .symbols
                    .iter()
                    .any(|s| s.kind == SymbolKind::File && &s.qualified == q)
            })
            .map(|(q, _)| q)
            .collect();
        out.dedup();
        out
    }
}

fn pairs(items: &[(&str, f32)]) -> Vec<(String, f32)> {
    items.iter().map(|(q, c)| (q.to_string(), *c)).collect()
}

#[test]
fn rust_graph() {
    let f = Fixture::new(&[
        (
            "src/lib.rs",
            r#"//! The crate.
pub mod store;
use crate::store::Store;

/// Opens the default store.
pub fn open_default() -> Store {
    let store = Store::new("default");
    store.check();
    store
}
"#,
        ),
        (
            "src/store.rs",
            r#"/// A key-value store.
#[derive(Debug)]
pub struct Store {
    name: String,
}

/// Things that can check themselves.
pub trait Check {
    fn check(&self) -> bool;
}

impl Store {
    /// Creates a store.
    pub fn new(name: &str) -> Store {
        Store { name: name.to_string() }
    }

    fn validate(&self) -> bool {
        !self.name.is_empty()
    }
}

impl Check for Store {
    fn check(&self) -> bool {
        self.validate()
    }
}
"#,
        ),
    ]);
    assert_eq!(
        f.defined_in("src/lib.rs"),
        ["module store", "function open_default"]
    );
    assert_eq!(
        f.defined_in("src/store.rs"),
        [
            "struct Store",
            "trait Check",
            "method Check::check",
            "method Store::new",
            "method Store::validate",
            "method Store::check",
        ]
    );
    assert_eq!(f.parent_of("Store::new"), "Store");
    assert_eq!(f.parent_of("Check::check"), "Check");
    assert_eq!(f.parent_of("open_default"), "src/lib.rs");
    let store = f.symbol("Store");
    assert_eq!(store.doc, "A key-value store.");
    assert_eq!(store.visibility, "public");
    assert_eq!((store.line_start, store.line_end), (3, 5));
    assert_eq!(
        f.symbol("Store::new").signature,
        "pub fn new(name: &str) -> Store"
    );
    assert_eq!(f.symbol("Store::new").doc, "Creates a store.");
    assert_eq!(f.symbol("Store::validate").visibility, "private");
    assert_eq!(f.imported_files("src/lib.rs"), ["src/store.rs"]);

    assert_eq!(
        f.callees("open_default"),
        pairs(&[
            ("Check::check", 0.3),
            ("Store::check", 0.3),
            ("Store::new", 0.85)
        ])
    );
    assert_eq!(
        f.callees("Store::check"),
        pairs(&[("Store::validate", 0.95)])
    );
    assert_eq!(f.callers("Store::new"), ["open_default"]);
    assert_eq!(
        f.outgoing(&store.id, EdgeKind::Implements),
        pairs(&[("Check", 0.95)])
    );
    let open = f.symbol("open_default");
    assert_eq!(
        f.outgoing(&open.id, EdgeKind::References),
        pairs(&[("Store", 0.85)])
    );
}

#[test]
fn python_graph() {
    let f = Fixture::new(&[
        (
            "pkg/util.py",
            r#""""Utilities."""
import os


def slugify(text):
    """Turn text into a URL slug."""
    return text.lower().replace(" ", "-")


class Base:
    def describe(self):
        return "base"
"#,
        ),
        (
            "pkg/models.py",
            r#"from .util import slugify, Base
from . import util


class Article(Base):
    """A published article.

    It has a title and a slug.
    """

    def __init__(self, title: str):
        self.title = title
        self.slug = slugify(title)

    def _private(self):
        return util.slugify(self.title)

    @property
    def summary(self) -> str:
        return self.describe() + self._private()
"#,
        ),
    ]);
    assert_eq!(
        f.defined_in("pkg/models.py"),
        [
            "class Article",
            "method Article.__init__",
            "method Article._private",
            "method Article.summary"
        ]
    );
    assert_eq!(
        f.defined_in("pkg/util.py"),
        ["function slugify", "class Base", "method Base.describe"]
    );
    assert_eq!(f.parent_of("Article.summary"), "Article");
    let article = f.symbol("Article");
    assert_eq!(
        article.doc,
        "A published article.\n\nIt has a title and a slug."
    );
    assert_eq!(article.signature, "class Article(Base)");
    assert_eq!(f.symbol("slugify").doc, "Turn text into a URL slug.");
    assert_eq!(f.symbol("Article._private").visibility, "private");
    assert_eq!(
        f.symbol("Article.summary").signature,
        "def summary(self) -> str"
    );
    assert_eq!(f.imported_files("pkg/models.py"), ["pkg/util.py"]);

    assert_eq!(
        f.outgoing(&article.id, EdgeKind::Extends),
        pairs(&[("Base", 0.85)])
    );
    assert_eq!(f.callees("Article.__init__"), pairs(&[("slugify", 0.85)]));
    assert_eq!(f.callees("Article._private"), pairs(&[("slugify", 0.8)]));
    assert_eq!(
        f.callees("Article.summary"),
        pairs(&[("Article._private", 0.95), ("Base.describe", 0.6)])
    );
    assert_eq!(
        f.callers("slugify"),
        ["Article.__init__", "Article._private"]
    );
}

#[test]
fn javascript_graph() {
    let f = Fixture::new(&[
        (
            "src/math.js",
            r#"/** Adds two numbers. */
export function add(a, b) {
  return a + b;
}

export const double = (x) => add(x, x);

export class Shape {
  area() {
    return 0;
  }
}
"#,
        ),
        (
            "src/main.js",
            r#"import { add, Shape } from './math.js';
import * as m from './math';

class Square extends Shape {
  constructor(s) {
    super();
    this.s = s;
  }

  area() {
    return m.double(this.s) / 2 + add(0, 0);
  }
}

function run() {
  const sq = new Square(2);
  return sq.area();
}
"#,
        ),
    ]);
    assert_eq!(
        f.defined_in("src/math.js"),
        [
            "function add",
            "function double",
            "class Shape",
            "method Shape.area"
        ]
    );
    assert_eq!(
        f.defined_in("src/main.js"),
        [
            "class Square",
            "method Square.constructor",
            "method Square.area",
            "function run"
        ]
    );
    assert_eq!(f.symbol("add").doc, "Adds two numbers.");
    assert_eq!(f.symbol("add").visibility, "public");
    assert_eq!(f.symbol("run").visibility, "module");
    assert_eq!(f.imported_files("src/main.js"), ["src/math.js"]);
    let square = f.symbol("Square");
    assert_eq!(
        f.outgoing(&square.id, EdgeKind::Extends),
        pairs(&[("Shape", 0.85)])
    );
    assert_eq!(
        f.callees("Square.area"),
        pairs(&[("add", 0.85), ("double", 0.8)])
    );
    // Both top level in one file: siblings.
    assert_eq!(f.callees("double"), pairs(&[("add", 0.95)]));
    assert_eq!(
        f.callees("run"),
        pairs(&[("Shape.area", 0.3), ("Square", 0.95), ("Square.area", 0.3)])
    );
    assert_eq!(f.callers("add"), ["Square.area", "double"]);
}

#[test]
fn typescript_graph() {
    let f = Fixture::new(&[
        (
            "src/types.ts",
            r#"/** Something that can be greeted. */
export interface Named {
  name: string;
  greet(): string;
}

export type Id = string;

export enum Color {
  Red,
  Green,
}
"#,
        ),
        (
            "src/person.ts",
            r#"import { Named, Id } from './types';

export class Person implements Named {
  private secret: Id = "";

  constructor(public name: string) {}

  greet(): string {
    return format(this.name);
  }

  private hide(): void {}
}

function format(s: string): string {
  return s.trim();
}

export namespace Registry {
  export function register(p: Person): void {
    p.greet();
  }
}
"#,
        ),
    ]);
    assert_eq!(
        f.defined_in("src/types.ts"),
        [
            "interface Named",
            "method Named.greet",
            "type Id",
            "enum Color"
        ]
    );
    assert_eq!(
        f.defined_in("src/person.ts"),
        [
            "class Person",
            "method Person.constructor",
            "method Person.greet",
            "method Person.hide",
            "function format",
            "module Registry",
            "function Registry.register"
        ]
    );
    assert_eq!(f.symbol("Named").doc, "Something that can be greeted.");
    assert_eq!(f.symbol("Person.hide").visibility, "private");
    assert_eq!(f.symbol("Person.greet").signature, "greet(): string");
    assert_eq!(f.parent_of("Registry.register"), "Registry");
    let person = f.symbol("Person");
    assert_eq!(
        f.outgoing(&person.id, EdgeKind::Implements),
        pairs(&[("Named", 0.85)])
    );
    assert_eq!(
        f.outgoing(&person.id, EdgeKind::References),
        pairs(&[("Id", 0.85)])
    );
    assert_eq!(f.callees("Person.greet"), pairs(&[("format", 0.9)]));
    let register = f.symbol("Registry.register");
    assert_eq!(
        f.outgoing(&register.id, EdgeKind::References),
        pairs(&[("Person", 0.9)])
    );
    assert_eq!(
        f.callees("Registry.register"),
        pairs(&[("Named.greet", 0.3), ("Person.greet", 0.3)])
    );
    assert_eq!(f.imported_files("src/person.ts"), ["src/types.ts"]);
}

#[test]
fn tsx_graph() {
    let f = Fixture::new(&[
        (
            "web/Button.tsx",
            r#"import React from 'react';
import { useCounter } from './hooks';

/** A counting button. */
export function Button({ label }: { label: string }) {
  const [n, inc] = useCounter(0);
  return <button onClick={inc}>{label} {n}</button>;
}
"#,
        ),
        (
            "web/hooks.ts",
            r#"export function useCounter(start: number): [number, () => void] {
  let n = start;
  return [n, () => { n += 1; }];
}
"#,
        ),
    ]);
    let button = f.symbol("Button");
    assert_eq!(button.language, Language::Tsx);
    assert_eq!(button.kind, SymbolKind::Function);
    assert_eq!(button.doc, "A counting button.");
    assert_eq!(f.callees("Button"), pairs(&[("useCounter", 0.85)]));
    assert_eq!(f.imported_files("web/Button.tsx"), ["web/hooks.ts"]);
}

#[test]
fn go_graph() {
    let f = Fixture::new(&[
        (
            "internal/store/store.go",
            r#"// Package store keeps things.
package store

// Store keeps items in memory.
type Store struct {
	items map[string]string
}

// Reader reads items.
type Reader interface {
	Get(key string) string
}

// New makes an empty store.
func New() *Store {
	return &Store{items: map[string]string{}}
}

// Get returns an item.
func (s *Store) Get(key string) string {
	return s.lookup(key)
}

func (s *Store) lookup(key string) string {
	return s.items[key]
}
"#,
        ),
        (
            "cmd/app/main.go",
            r#"package main

import (
	"fmt"

	st "example.com/shop/internal/store"
)

func main() {
	s := st.New()
	fmt.Println(s.Get("a"))
}
"#,
        ),
    ]);
    assert_eq!(
        f.defined_in("internal/store/store.go"),
        [
            "struct Store",
            "interface Reader",
            "method Reader.Get",
            "function New",
            "method Store.Get",
            "method Store.lookup"
        ]
    );
    assert_eq!(f.parent_of("Store.Get"), "Store");
    let store = f.symbol("Store");
    assert_eq!(store.doc, "Store keeps items in memory.");
    assert_eq!(store.visibility, "public");
    assert_eq!(f.symbol("Store.lookup").visibility, "package");
    assert_eq!(
        f.symbol("Store.Get").signature,
        "func (s *Store) Get(key string) string"
    );
    assert_eq!(
        f.imported_files("cmd/app/main.go"),
        ["internal/store/store.go"]
    );
    assert_eq!(
        f.callees("main"),
        pairs(&[("New", 0.8), ("Reader.Get", 0.3), ("Store.Get", 0.3)])
    );
    assert_eq!(f.callees("Store.Get"), pairs(&[("Store.lookup", 0.95)]));
    assert_eq!(f.callers("Store.lookup"), ["Store.Get"]);
}

#[test]
fn java_graph() {
    let f = Fixture::new(&[
        (
            "src/main/java/com/acme/shapes/Shape.java",
            r#"package com.acme.shapes;

/** A shape with an area. */
public interface Shape {
    double area();
}
"#,
        ),
        (
            "src/main/java/com/acme/shapes/Circle.java",
            r#"package com.acme.shapes;

/**
 * A circle.
 */
public class Circle implements Shape {
    private final double r;

    public Circle(double r) {
        this.r = r;
    }

    @Override
    public double area() {
        return Math.PI * square(r);
    }

    private static double square(double x) {
        return x * x;
    }
}
"#,
        ),
        (
            "src/main/java/com/acme/App.java",
            r#"package com.acme;

import com.acme.shapes.Circle;
import com.acme.shapes.Shape;

public class App {
    public static void main(String[] args) {
        Shape s = new Circle(2.0);
        System.out.println(s.area());
    }
}
"#,
        ),
    ]);
    assert_eq!(
        f.defined_in("src/main/java/com/acme/shapes/Circle.java"),
        [
            "class Circle",
            "method Circle.Circle",
            "method Circle.area",
            "method Circle.square"
        ]
    );
    assert_eq!(
        f.defined_in("src/main/java/com/acme/shapes/Shape.java"),
        ["interface Shape", "method Shape.area"]
    );
    let circle = f.symbol("Circle");
    assert_eq!(circle.doc, "A circle.");
    assert_eq!(circle.signature, "public class Circle implements Shape");
    assert_eq!(f.symbol("Circle.square").visibility, "private");
    assert_eq!(f.symbol("Circle.area").signature, "public double area()");
    assert_eq!(f.parent_of("Circle.area"), "Circle");
    assert_eq!(
        f.outgoing(&circle.id, EdgeKind::Implements),
        pairs(&[("Shape", 0.6)])
    );
    assert_eq!(f.callees("Circle.area"), pairs(&[("Circle.square", 0.95)]));
    assert_eq!(
        f.callees("App.main"),
        pairs(&[
            ("Circle", 0.85),
            ("Circle.Circle", 0.85),
            ("Circle.area", 0.3),
            ("Shape.area", 0.3)
        ])
    );
    let main = f.symbol("App.main");
    assert_eq!(
        f.outgoing(&main.id, EdgeKind::References),
        pairs(&[("Shape", 0.85)])
    );
    assert_eq!(
        f.imported_files("src/main/java/com/acme/App.java"),
        [
            "src/main/java/com/acme/shapes/Circle.java",
            "src/main/java/com/acme/shapes/Shape.java"
        ]
    );
}
