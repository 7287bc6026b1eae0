//! NUT's network protocol lines: one request line split into words, and
//! values quoted for answers.
//!
//! This module owns the quoting rules of `docs/net-protocol.txt`: words are
//! separated by spaces or tabs, a word in "double quotes" may hold spaces,
//! and a backslash escapes the next character (`\"`, `\\`) inside or outside
//! quotes. It is a pure function of its input (the fuzz target calls it):
//! any bytes give words or an error, never a panic.

/// The longest request line accepted, in bytes (upsd's own buffer is 512).
pub const MAX_LINE: usize = 1024;

/// The most words a request line may have (the longest request,
/// `SET VAR <ups> <var> "<value>"`, has five).
pub const MAX_WORDS: usize = 16;

/// Why a request line could not be split into words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("unbalanced quote")]
    UnbalancedQuote,
    #[error("a backslash ends the line")]
    TrailingBackslash,
    #[error("more than {MAX_WORDS} words")]
    TooManyWords,
    #[error("not UTF-8")]
    NotUtf8,
    #[error("control character in the line")]
    ControlCharacter,
}

/// Splits one request line (without its line end) into words.
pub fn split(line: &[u8]) -> Result<Vec<String>, LineError> {
    let line = std::str::from_utf8(line).map_err(|_| LineError::NotUtf8)?;
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let escaped = chars.next().ok_or(LineError::TrailingBackslash)?;
                if escaped.is_control() {
                    return Err(LineError::ControlCharacter);
                }
                word.push(escaped);
                in_word = true;
            }
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            ' ' | '\t' if !quoted => {
                if in_word {
                    push_word(&mut words, &mut word)?;
                    in_word = false;
                }
            }
            c if c.is_control() => return Err(LineError::ControlCharacter),
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quoted {
        return Err(LineError::UnbalancedQuote);
    }
    if in_word {
        push_word(&mut words, &mut word)?;
    }
    Ok(words)
}

fn push_word(words: &mut Vec<String>, word: &mut String) -> Result<(), LineError> {
    if words.len() == MAX_WORDS {
        return Err(LineError::TooManyWords);
    }
    words.push(std::mem::take(word));
    Ok(())
}

/// A value in double quotes with `"` and `\` escaped (upsd's
/// `pconf_encode`); control characters become spaces so that an answer is
/// always one line.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether a word may appear unquoted in an answer (UPS and variable
/// names, as the request gave them): no spaces, quotes, backslashes or
/// control characters.
pub fn is_bare(word: &str) -> bool {
    !word.is_empty()
        && word
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '"' && c != '\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        split(line.as_bytes()).unwrap()
    }

    #[test]
    fn splits_the_examples_of_the_protocol_document() {
        assert_eq!(
            words("GET VAR su700 ups.status"),
            ["GET", "VAR", "su700", "ups.status"]
        );
        assert_eq!(
            words("SET VAR su700 ups.id \"My UPS\""),
            ["SET", "VAR", "su700", "ups.id", "My UPS"]
        );
        assert_eq!(
            words("INSTCMD su700 load.off.delay 120"),
            ["INSTCMD", "su700", "load.off.delay", "120"]
        );
        assert_eq!(words("  LIST\tUPS  "), ["LIST", "UPS"]);
        assert!(words("").is_empty());
    }

    #[test]
    fn backslash_escapes_quotes_and_backslashes() {
        assert_eq!(
            words(r#"PASSWORD "a \"b\" \\c""#),
            ["PASSWORD", r#"a "b" \c"#]
        );
        assert_eq!(words(r"USERNAME a\ b"), ["USERNAME", "a b"]);
        assert_eq!(words(r#"X """#), ["X", ""]);
    }

    #[test]
    fn bad_lines_are_errors() {
        assert_eq!(split(b"GET \"VAR"), Err(LineError::UnbalancedQuote));
        assert_eq!(split(b"GET VAR\\"), Err(LineError::TrailingBackslash));
        assert_eq!(split(b"GET \xff"), Err(LineError::NotUtf8));
        assert_eq!(split(b"GET \x01"), Err(LineError::ControlCharacter));
        assert_eq!(split(&b"a ".repeat(17)), Err(LineError::TooManyWords));
    }

    /// The property of the `nut_line` fuzz target, on deterministic random
    /// lines of protocol-ish bytes, on every `cargo test`.
    #[test]
    fn random_lines_split_or_fail_and_requote_to_the_same_words() {
        const ALPHABET: &[u8] = b"ab \t\"\\\x01\xc3\xa9\xff.-";
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..100_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 40) as usize;
            let line: Vec<u8> = (0..len)
                .map(|i| ALPHABET[((seed >> (i % 50)) as usize + i) % ALPHABET.len()])
                .collect();
            let Ok(words) = split(&line) else {
                continue;
            };
            let requoted: Vec<String> = words.iter().map(|w| quote(w)).collect();
            let requoted = requoted.join(" ");
            assert!(!requoted.contains('\n'));
            assert_eq!(split(requoted.as_bytes()), Ok(words), "{line:?}");
        }
    }

    #[test]
    fn quoting_round_trips_through_the_parser() {
        for value in ["OL CHRG", r#"a "quoted" \ value"#, "", "Eaton 9PX"] {
            let line = format!("X {}", quote(value));
            assert_eq!(words(&line), ["X", value]);
        }
        assert_eq!(quote("a\nb"), "\"a b\"");
    }
}
