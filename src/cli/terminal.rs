//! What the command line prints of strings it did not write itself — certificate names, device
//! names, statuses, error messages and request ids from the cloud, subjects from a file — goes
//! through [`escape_for_terminal`]: a control character there could move the cursor, recolour or
//! retitle the terminal, or hide text (escape-sequence injection). JSON output needs nothing:
//! serde_json escapes control characters itself.

use std::fmt::Write;

/// `text` with every control character (C0 including tab, CR and LF, DEL, C1) and every Unicode
/// bidirectional override shown as a visible escape (`\t`, `\n`, `\r`, `\u{1b}`, …), so one
/// string prints as exactly one line of the characters it holds.
pub(crate) fn escape_for_terminal(text: &str) -> String {
    if !text.chars().any(needs_escape) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// [`escape_for_terminal`] for text that is several lines by nature (a PEM from the cloud): line
/// breaks stay, everything else is escaped.
pub(crate) fn escape_lines_for_terminal(text: &str) -> String {
    text.split('\n')
        .map(|line| escape_for_terminal(line.strip_suffix('\r').unwrap_or(line)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        // Bidirectional embeddings, overrides and isolates (the "Trojan Source" characters).
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_visible_escapes() {
        assert_eq!(
            escape_for_terminal("plain name.example"),
            "plain name.example"
        );
        assert_eq!(escape_for_terminal("中文 é"), "中文 é");
        assert_eq!(
            escape_for_terminal("evil\u{1b}]0;pwned\u{7}\u{1b}[2J"),
            "evil\\u{1b}]0;pwned\\u{7}\\u{1b}[2J"
        );
        assert_eq!(escape_for_terminal("a\tb\nc\rd"), "a\\tb\\nc\\rd");
        assert_eq!(escape_for_terminal("\u{9b}31m\u{7f}"), "\\u{9b}31m\\u{7f}");
        assert_eq!(escape_for_terminal("abc\u{202e}fed"), "abc\\u{202e}fed");
        let escaped = escape_for_terminal("x\u{1b}[31m\u{0}\u{85}");
        assert!(!escaped.chars().any(|c| c.is_control()), "{escaped:?}");
    }

    #[test]
    fn multi_line_text_keeps_its_lines_only() {
        assert_eq!(
            escape_lines_for_terminal("-----BEGIN X-----\r\nAB\u{1b}[2JCD\n-----END X-----\n"),
            "-----BEGIN X-----\nAB\\u{1b}[2JCD\n-----END X-----\n"
        );
    }
}
