//! Splitting code text into identifier-like words, and identifiers into their sub-words, so
//! that `parse json` meets `parseJsonFile` and `parse_json_file`. The keyword index
//! tokenises with these, and search highlights the same pieces it matched.

/// Maximal runs of letters, digits and underscores, with their byte offsets.
pub fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let inside = c.is_alphanumeric() || c == '_';
        match (inside, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out.into_iter()
}

/// Sub-words of an identifier: split at `_`, at lower→upper case changes, before the last
/// capital of an acronym (`JSONFile` → `JSON`, `File`), and between letters and digits.
pub fn subwords(word: &str) -> Vec<(usize, &str)> {
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    let mut parts = Vec::new();
    let mut start: Option<usize> = None;
    for (k, &(i, c)) in chars.iter().enumerate() {
        if c == '_' {
            if let Some(s) = start.take() {
                parts.push((s, &word[s..i]));
            }
            continue;
        }
        if let Some(s) = start {
            let prev = chars[k - 1].1;
            let next = chars.get(k + 1).map(|&(_, n)| n);
            let boundary = (prev.is_lowercase() && c.is_uppercase())
                || (prev.is_uppercase()
                    && c.is_uppercase()
                    && next.is_some_and(char::is_lowercase))
                || (prev.is_alphabetic() && c.is_numeric())
                || (prev.is_numeric() && c.is_alphabetic());
            if boundary {
                parts.push((s, &word[s..i]));
                start = Some(i);
            }
        } else {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        parts.push((s, &word[s..]));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(word: &str) -> Vec<&str> {
        subwords(word).into_iter().map(|(_, p)| p).collect()
    }

    #[test]
    fn identifiers_split_into_sub_words() {
        assert_eq!(parts("parseJSONFile"), ["parse", "JSON", "File"]);
        assert_eq!(parts("parse_json_file"), ["parse", "json", "file"]);
        assert_eq!(parts("HTTPServer2Go"), ["HTTP", "Server", "2", "Go"]);
        assert_eq!(parts("__init__"), ["init"]);
        assert_eq!(parts("x"), ["x"]);
    }

    #[test]
    fn words_are_runs_of_identifier_characters() {
        let found: Vec<(usize, &str)> = words("fn parse_json(x)").collect();
        assert_eq!(found, [(0, "fn"), (3, "parse_json"), (14, "x")]);
    }
}
