//! Code as the console shows it.

use super::highlight;
use leptos::prelude::*;

/// Lines of code with line numbers, highlighted, matched lines marked.
#[component]
pub fn CodeBlock(
    /// The code.
    code: String,
    /// Its language (as the index names it), for the highlighter.
    language: String,
    /// The number of its first line.
    first_line: u32,
    /// Lines to mark (search hits).
    #[prop(optional)]
    marked: Vec<u32>,
) -> impl IntoView {
    let mut in_block = false;
    let lines: Vec<_> = code
        .lines()
        .zip(first_line..)
        .map(|(text, number)| {
            let pieces = highlight::line(text, &language, &mut in_block);
            let hit = marked.contains(&number);
            view! {
                <div class="code-line" class:hit=hit>
                    <span class="ln" aria-hidden="true">{number}</span>
                    <span class="lc">
                        {pieces.into_iter().map(|(token, piece)| match token {
                            highlight::Token::Plain => view! { <span>{piece}</span> }.into_any(),
                            other => view! { <span class=other.class()>{piece}</span> }.into_any(),
                        }).collect_view()}
                    </span>
                </div>
            }
        })
        .collect();
    view! { <pre class="code" data-testid="code"><code>{lines}</code></pre> }
}
