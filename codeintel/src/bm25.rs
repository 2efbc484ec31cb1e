//! Keyword search: a Tantivy index of the chunks, with identifiers split into sub-words so
//! that `parse json` finds `parseJsonFile` and `parse_json_file`.

use crate::chunk::Chunk;
use crate::filters::{glob_to_regex, Filters};
use crate::identifiers::{subwords, words};
use std::path::Path;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, QueryParser, RegexQuery, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED, STRING,
};
use tantivy::tokenizer::{
    Language as StemLanguage, LowerCaser, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer,
};
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

const TOKENIZER: &str = "code";
const WRITER_HEAP: usize = 64 * 1024 * 1024;

/// The keyword index could not be opened, written or searched.
#[derive(Debug, thiserror::Error)]
#[error("keyword index: {0}")]
pub struct Bm25Error(String);

impl From<tantivy::TantivyError> for Bm25Error {
    fn from(e: tantivy::TantivyError) -> Self {
        Bm25Error(e.to_string())
    }
}

#[derive(Clone, Copy)]
struct Fields {
    chunk_id: Field,
    file_key: Field,
    repo_id: Field,
    language: Field,
    kind: Field,
    path: Field,
    name: Field,
    signature: Field,
    doc: Field,
    code: Field,
}

/// One workspace's keyword index. Clones share it.
#[derive(Clone)]
pub struct Bm25 {
    index: Index,
    reader: IndexReader,
    fields: Fields,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        chunk_id: builder.add_text_field("chunk_id", STRING | STORED),
        file_key: builder.add_text_field("file_key", STRING),
        repo_id: builder.add_text_field("repo_id", STRING),
        language: builder.add_text_field("language", STRING),
        kind: builder.add_text_field("kind", STRING),
        path: builder.add_text_field("path", STRING),
        name: builder.add_text_field("name", text.clone()),
        signature: builder.add_text_field("signature", text.clone()),
        doc: builder.add_text_field("doc", text.clone()),
        code: builder.add_text_field("code", text),
    };
    (builder.build(), fields)
}

fn file_key(repo_id: &str, path: &str) -> String {
    format!("{repo_id}\u{0}{path}")
}

impl Bm25 {
    /// Opens the index in `dir`, creating it when absent.
    pub fn open(dir: &Path) -> Result<Bm25, Bm25Error> {
        std::fs::create_dir_all(dir).map_err(|e| Bm25Error(e.to_string()))?;
        let (schema, fields) = schema();
        let directory =
            tantivy::directory::MmapDirectory::open(dir).map_err(|e| Bm25Error(e.to_string()))?;
        let index = Index::open_or_create(directory, schema)?;
        index.tokenizers().register(
            TOKENIZER,
            TextAnalyzer::builder(CodeTokenizer::default())
                .filter(LowerCaser)
                .filter(Stemmer::new(StemLanguage::English))
                .build(),
        );
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Bm25 {
            index,
            reader,
            fields,
        })
    }

    fn writer(&self) -> Result<IndexWriter<TantivyDocument>, Bm25Error> {
        // Another process may hold the writer for a moment (one workspace, two index runs).
        let mut wait = std::time::Duration::from_millis(50);
        for _ in 0..40 {
            match self.index.writer(WRITER_HEAP) {
                Ok(writer) => return Ok(writer),
                Err(tantivy::TantivyError::LockFailure(..)) => {
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(std::time::Duration::from_secs(2));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Bm25Error(
            "the index writer stayed locked by another index run".into(),
        ))
    }

    /// Replaces the chunks of `paths` (files changed or deleted) with `chunks`, in one commit.
    pub fn replace_files(
        &self,
        repo_id: &str,
        paths: &[String],
        chunks: &[Chunk],
    ) -> Result<(), Bm25Error> {
        let mut writer = self.writer()?;
        let f = self.fields;
        for path in paths {
            writer.delete_term(Term::from_field_text(f.file_key, &file_key(repo_id, path)));
        }
        for chunk in chunks {
            writer.add_document(doc!(
                f.chunk_id => chunk.id.as_str(),
                f.file_key => file_key(&chunk.repo_id, &chunk.path),
                f.repo_id => chunk.repo_id.as_str(),
                f.language => chunk.language.as_str(),
                f.kind => chunk.kind.as_str(),
                f.path => chunk.path.as_str(),
                f.name => chunk.symbol.as_str(),
                f.signature => chunk.signature.as_str(),
                f.doc => chunk.doc.as_str(),
                f.code => chunk.code.as_str(),
            ))?;
        }
        writer.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Removes everything of a repository.
    pub fn delete_repo(&self, repo_id: &str) -> Result<(), Bm25Error> {
        let mut writer = self.writer()?;
        writer.delete_term(Term::from_field_text(self.fields.repo_id, repo_id));
        writer.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Chunk ids best first, with their BM25 scores.
    pub fn search(
        &self,
        query: &str,
        filters: &Filters,
        limit: usize,
    ) -> Result<Vec<(String, f32)>, Bm25Error> {
        let f = self.fields;
        self.reader.reload()?;
        let searcher = self.reader.searcher();
        let mut parser =
            QueryParser::for_index(&self.index, vec![f.name, f.signature, f.doc, f.code]);
        parser.set_field_boost(f.name, 3.0);
        parser.set_field_boost(f.signature, 1.5);
        parser.set_field_boost(f.doc, 1.5);
        // Lenient: a query is words, not Tantivy syntax; stray quotes or colons are text.
        let (text_query, _errors) = parser.parse_query_lenient(query);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, text_query)];
        let term = |field: Field, value: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, value),
                IndexRecordOption::Basic,
            ))
        };
        if let Some(repo) = &filters.repo_id {
            clauses.push((Occur::Must, term(f.repo_id, repo)));
        }
        if !filters.repo_ids.is_empty() {
            let any: Vec<(Occur, Box<dyn Query>)> = filters
                .repo_ids
                .iter()
                .map(|r| (Occur::Should, term(f.repo_id, r)))
                .collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        if let Some(language) = &filters.language {
            clauses.push((Occur::Must, term(f.language, language)));
        }
        if let Some(kind) = &filters.kind {
            clauses.push((Occur::Must, term(f.kind, kind)));
        }
        if let Some(glob) = &filters.path_glob {
            let regex = glob_to_regex(glob);
            let query = RegexQuery::from_pattern(&regex, f.path)?;
            clauses.push((Occur::Must, Box::new(query)));
        }
        let query = BooleanQuery::new(clauses);
        let top = searcher.search(&query, &TopDocs::with_limit(limit))?;
        let mut out = Vec::with_capacity(top.len());
        for (score, address) in top {
            let document: TantivyDocument = searcher.doc(address)?;
            if let Some(id) = document.get_first(f.chunk_id).and_then(|v| v.as_str()) {
                out.push((id.to_string(), score));
            }
        }
        Ok(out)
    }
}

/// Splits text into identifier-like words and each identifier into its sub-words
/// (`parseJSONFile` → `parseJSONFile`, `parse`, `JSON`, `File`); case is folded later.
#[derive(Clone, Default)]
pub struct CodeTokenizer {
    tokens: Vec<Token>,
}

/// The tokens of one text, as `CodeTokenizer` made them.
pub struct CodeTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl Tokenizer for CodeTokenizer {
    type TokenStream<'a> = CodeTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> CodeTokenStream {
        self.tokens.clear();
        let mut position = 0;
        for (start, word) in words(text) {
            let mut push = |offset: usize, piece: &str| {
                self.tokens.push(Token {
                    offset_from: start + offset,
                    offset_to: start + offset + piece.len(),
                    position,
                    text: piece.to_string(),
                    position_length: 1,
                });
                position += 1;
            };
            let parts = subwords(word);
            if parts.len() != 1 {
                push(0, word);
            }
            for (offset, part) in parts {
                push(offset, part);
            }
        }
        CodeTokenStream {
            tokens: std::mem::take(&mut self.tokens),
            next: 0,
        }
    }
}

impl TokenStream for CodeTokenStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_the_whole_identifier_and_its_parts() {
        let mut tokenizer = CodeTokenizer::default();
        let mut stream = tokenizer.token_stream("fn parse_json(x)");
        let mut seen = Vec::new();
        while stream.advance() {
            seen.push(stream.token().text.clone());
        }
        assert_eq!(seen, ["fn", "parse_json", "parse", "json", "x"]);
    }
}
