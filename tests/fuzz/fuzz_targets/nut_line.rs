//! Any bytes a NUT client sends as a request line are split into words or
//! refused with an error, without a panic; whatever splits re-quotes (as
//! answers quote values) into one line that splits back to the same words.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ups2mqtt::nut::line::{MAX_WORDS, quote, split};

fuzz_target!(|input: &[u8]| {
    let Ok(words) = split(input) else {
        return;
    };
    assert!(words.len() <= MAX_WORDS);
    let line: Vec<String> = words.iter().map(|w| quote(w)).collect();
    let line = line.join(" ");
    assert!(!line.contains('\n') && !line.contains('\r'), "{line:?}");
    assert_eq!(split(line.as_bytes()).as_ref(), Ok(&words), "{line:?}");
});
