//! A small syntax highlighter for code snippets: comments, strings, numbers and keywords of
//! the indexed languages, as classed spans. Lexical only; good enough to read a snippet.

/// What a piece of code is; shown as a CSS class (`tok-kw`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token {
    /// Anything else (no class).
    Plain,
    /// A keyword of the language.
    Keyword,
    /// A string or character literal.
    String,
    /// A comment.
    Comment,
    /// A number literal.
    Number,
}

impl Token {
    /// The CSS class of this kind of token (empty for plain text).
    pub fn class(self) -> &'static str {
        match self {
            Token::Plain => "",
            Token::Keyword => "tok-kw",
            Token::String => "tok-str",
            Token::Comment => "tok-com",
            Token::Number => "tok-num",
        }
    }
}

fn keywords(language: &str) -> &'static [&'static str] {
    match language {
        "rust" => &[
            "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
            "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod",
            "move", "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super",
            "trait", "true", "type", "unsafe", "use", "where", "while",
        ],
        "python" => &[
            "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
            "elif", "else", "except", "False", "finally", "for", "from", "global", "if", "import",
            "in", "is", "lambda", "None", "nonlocal", "not", "or", "pass", "raise", "return",
            "self", "True", "try", "while", "with", "yield",
        ],
        "go" => &[
            "break",
            "case",
            "chan",
            "const",
            "continue",
            "default",
            "defer",
            "else",
            "fallthrough",
            "for",
            "func",
            "go",
            "goto",
            "if",
            "import",
            "interface",
            "map",
            "nil",
            "package",
            "range",
            "return",
            "select",
            "struct",
            "switch",
            "type",
            "var",
            "true",
            "false",
        ],
        "java" => &[
            "abstract",
            "boolean",
            "break",
            "case",
            "catch",
            "class",
            "double",
            "else",
            "enum",
            "extends",
            "false",
            "final",
            "finally",
            "float",
            "for",
            "if",
            "implements",
            "import",
            "int",
            "interface",
            "long",
            "new",
            "null",
            "package",
            "private",
            "protected",
            "public",
            "return",
            "static",
            "super",
            "switch",
            "this",
            "throw",
            "throws",
            "true",
            "try",
            "void",
            "while",
        ],
        _ => &[
            "as",
            "async",
            "await",
            "break",
            "case",
            "catch",
            "class",
            "const",
            "continue",
            "default",
            "else",
            "enum",
            "export",
            "extends",
            "false",
            "finally",
            "for",
            "from",
            "function",
            "if",
            "implements",
            "import",
            "in",
            "instanceof",
            "interface",
            "let",
            "new",
            "null",
            "of",
            "private",
            "protected",
            "public",
            "return",
            "static",
            "super",
            "switch",
            "this",
            "throw",
            "true",
            "try",
            "type",
            "typeof",
            "undefined",
            "var",
            "void",
            "while",
            "yield",
        ],
    }
}

/// Splits one line into classed pieces. `in_block` carries an open `/* */` comment (or a
/// Python triple-quoted string) from the previous line and is updated for the next.
pub fn line(text: &str, language: &str, in_block: &mut bool) -> Vec<(Token, String)> {
    let mut out: Vec<(Token, String)> = Vec::new();
    let mut push = |token: Token, piece: &str| {
        if piece.is_empty() {
            return;
        }
        match out.last_mut() {
            Some((t, s)) if *t == token => s.push_str(piece),
            _ => out.push((token, piece.to_owned())),
        }
    };
    let python = language == "python";
    let block_end = if python { "\"\"\"" } else { "*/" };
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let at = |i: usize| chars.get(i).map(|&(b, _)| b).unwrap_or(text.len());
    let mut i = 0;
    if *in_block {
        match text.find(block_end) {
            Some(end) => {
                let stop = end + block_end.len();
                push(
                    if python {
                        Token::String
                    } else {
                        Token::Comment
                    },
                    &text[..stop],
                );
                *in_block = false;
                i = chars
                    .iter()
                    .position(|&(b, _)| b >= stop)
                    .unwrap_or(chars.len());
            }
            None => {
                push(
                    if python {
                        Token::String
                    } else {
                        Token::Comment
                    },
                    text,
                );
                return out;
            }
        }
    }
    let words = keywords(language);
    while i < chars.len() {
        let (start, c) = chars[i];
        let rest = &text[start..];
        let line_comment = if python {
            rest.starts_with('#')
        } else {
            rest.starts_with("//")
        };
        if line_comment {
            push(Token::Comment, rest);
            break;
        }
        if !python && rest.starts_with("/*") {
            match rest[2..].find("*/") {
                Some(end) => {
                    let stop = start + 2 + end + 2;
                    push(Token::Comment, &text[start..stop]);
                    i = chars
                        .iter()
                        .position(|&(b, _)| b >= stop)
                        .unwrap_or(chars.len());
                    continue;
                }
                None => {
                    push(Token::Comment, rest);
                    *in_block = true;
                    break;
                }
            }
        }
        if python && (rest.starts_with("\"\"\"") || rest.starts_with("'''")) {
            let quote = &rest[..3];
            match rest[3..].find(quote) {
                Some(end) => {
                    let stop = start + 3 + end + 3;
                    push(Token::String, &text[start..stop]);
                    i = chars
                        .iter()
                        .position(|&(b, _)| b >= stop)
                        .unwrap_or(chars.len());
                    continue;
                }
                None => {
                    push(Token::String, rest);
                    *in_block = true;
                    break;
                }
            }
        }
        if c == '"' || c == '\'' || c == '`' {
            // A Rust lifetime ('a) is not a string.
            if c == '\'' && language == "rust" && chars.get(i + 2).is_none_or(|&(_, n)| n != '\'') {
                push(Token::Plain, "'");
                i += 1;
                continue;
            }
            let mut j = i + 1;
            while j < chars.len() && chars[j].1 != c {
                if chars[j].1 == '\\' {
                    j += 1;
                }
                j += 1;
            }
            let stop = at((j + 1).min(chars.len()));
            push(Token::String, &text[start..stop]);
            i = j + 1;
            continue;
        }
        if c.is_ascii_digit() {
            let mut j = i;
            while j < chars.len()
                && (chars[j].1.is_ascii_alphanumeric() || chars[j].1 == '.' || chars[j].1 == '_')
            {
                j += 1;
            }
            push(Token::Number, &text[start..at(j)]);
            i = j;
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let mut j = i;
            while j < chars.len() && (chars[j].1.is_alphanumeric() || chars[j].1 == '_') {
                j += 1;
            }
            let word = &text[start..at(j)];
            push(
                if words.contains(&word) {
                    Token::Keyword
                } else {
                    Token::Plain
                },
                word,
            );
            i = j;
            continue;
        }
        push(Token::Plain, &text[start..at(i + 1)]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(text: &str, language: &str) -> Vec<(Token, String)> {
        let mut block = false;
        line(text, language, &mut block)
    }

    #[test]
    fn keywords_strings_and_comments() {
        assert_eq!(
            classes("fn f() -> &'a str { \"x\" } // done", "rust"),
            vec![
                (Token::Keyword, "fn".into()),
                (Token::Plain, " f() -> &'a str { ".into()),
                (Token::String, "\"x\"".into()),
                (Token::Plain, " } ".into()),
                (Token::Comment, "// done".into()),
            ]
        );
        assert_eq!(
            classes("def f(x=1): # c", "python"),
            vec![
                (Token::Keyword, "def".into()),
                (Token::Plain, " f(x=".into()),
                (Token::Number, "1".into()),
                (Token::Plain, "): ".into()),
                (Token::Comment, "# c".into()),
            ]
        );
    }

    #[test]
    fn block_comments_span_lines() {
        let mut block = false;
        let first = line("a /* open", "java", &mut block);
        assert!(block);
        assert_eq!(first.last().map(|t| t.0), Some(Token::Comment));
        let second = line("still */ b", "java", &mut block);
        assert!(!block);
        assert_eq!(second[0], (Token::Comment, "still */".into()));
    }
}
