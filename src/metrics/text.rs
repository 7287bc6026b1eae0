//! The Prometheus text exposition format (version 0.0.4, which OpenMetrics
//! parsers accept too), written by hand: it is a few lines of escaping,
//! and the client crates would add their registries and HTTP stacks to a
//! gateway binary that must stay under 3 MiB.

use std::fmt::Write;

/// What Prometheus is told a metric family is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    Counter,
    /// One sample per state, 1 for the current one (OpenMetrics' state
    /// set; a gauge in the 0.0.4 text format).
    StateSet,
    /// Always 1, its labels carry the information (OpenMetrics' info).
    Info,
    /// Cumulative `_bucket{le="..."}` counts, `_sum` and `_count`.
    Histogram,
}

impl Kind {
    pub const fn type_name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Histogram => "histogram",
            Kind::Gauge | Kind::StateSet | Kind::Info => "gauge",
        }
    }
}

/// `# HELP` and `# TYPE` of a family.
pub fn header(out: &mut String, name: &str, kind: Kind, help: &str) {
    out.push_str("# HELP ");
    out.push_str(name);
    out.push(' ');
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push_str("\n# TYPE ");
    out.push_str(name);
    out.push(' ');
    out.push_str(kind.type_name());
    out.push('\n');
}

/// One sample line: `name{label="value",...} value`.
pub fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    sample_with(out, name, labels, |out| number(out, value));
}

/// `<separator><name>="<value>"`, the value escaped: a piece of a label
/// set written once and copied into many samples.
pub fn label(out: &mut String, separator: char, name: &str, value: &str) {
    out.push(separator);
    out.push_str(name);
    out.push_str("=\"");
    escape_label(out, value);
    out.push('"');
}

/// `,state="<state>"} `: how every sample of a state set ends its labels.
pub fn state_suffix(state: &str) -> String {
    let mut out = String::new();
    label(&mut out, ',', "state", state);
    out.push_str("} ");
    out
}

/// A label value with `\`, `"` and newlines escaped.
fn escape_label(out: &mut String, text: &str) {
    if !text.bytes().any(|b| matches!(b, b'\\' | b'"' | b'\n')) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A sample value as Prometheus spells it (`+Inf`, `-Inf`, `NaN`).
pub fn number(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("NaN");
    } else if value.is_infinite() {
        out.push_str(if value > 0.0 { "+Inf" } else { "-Inf" });
    } else if value.fract() == 0.0 && value.abs() < 1e15 {
        integer(out, value as i64);
    } else {
        let _ = write!(out, "{value}");
    }
}

/// A number with at most `decimals` decimal places (a reading's
/// precision), written without going through float formatting: a scrape
/// writes hundreds of thousands of them.
pub fn fixed(out: &mut String, value: f64, decimals: u32) {
    const POW10: [i64; 10] = [
        1,
        10,
        100,
        1_000,
        10_000,
        100_000,
        1_000_000,
        10_000_000,
        100_000_000,
        1_000_000_000,
    ];
    let Some(&scale) = POW10.get(decimals as usize) else {
        return number(out, value);
    };
    let scaled = (value * scale as f64).round();
    if !scaled.is_finite() || scaled.abs() >= 1e15 {
        return number(out, value);
    }
    let scaled = scaled as i64;
    if scaled < 0 {
        out.push('-');
    }
    let magnitude = scaled.unsigned_abs() as i64;
    integer(out, magnitude / scale);
    let mut fraction = magnitude % scale;
    if fraction == 0 {
        return;
    }
    let mut digits = decimals as usize;
    while fraction % 10 == 0 {
        fraction /= 10;
        digits -= 1;
    }
    out.push('.');
    let mut buffer = [b'0'; 10];
    for at in (0..digits).rev() {
        buffer[at] = b'0' + (fraction % 10) as u8;
        fraction /= 10;
    }
    out.push_str(std::str::from_utf8(&buffer[..digits]).unwrap_or(""));
}

/// An integer in decimal, without the formatting machinery.
pub fn integer(out: &mut String, value: i64) {
    let mut buffer = [0u8; 20];
    let mut at = buffer.len();
    let mut rest = value.unsigned_abs();
    loop {
        at -= 1;
        buffer[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if value < 0 {
        out.push('-');
    }
    out.push_str(std::str::from_utf8(&buffer[at..]).unwrap_or(""));
}

/// A sample line whose value is written by `value` (see [`fixed`]).
pub fn sample_with(
    out: &mut String,
    name: &str,
    labels: &[(&str, &str)],
    value: impl FnOnce(&mut String),
) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (label, text)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(label);
            out.push_str("=\"");
            escape_label(out, text);
            out.push('"');
        }
        out.push('}');
    }
    out.push(' ');
    value(out);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_escape_labels_and_spell_special_values() {
        let mut out = String::new();
        header(&mut out, "a_b", Kind::Counter, "back\\slash\nnext");
        sample(&mut out, "a_b", &[("x", "q\"\\\n"), ("y", "1")], 2.5);
        sample(&mut out, "a_b", &[], f64::INFINITY);
        sample(&mut out, "a_b", &[], -0.0);
        sample(&mut out, "a_b", &[], 230.0);
        for (value, decimals, text) in [
            (230.0, 1, "230"),
            (0.572, 3, "0.572"),
            (-0.05, 2, "-0.05"),
            (12.30, 2, "12.3"),
            (1e20, 1, "100000000000000000000"),
        ] {
            let mut written = String::new();
            fixed(&mut written, value, decimals);
            assert_eq!(written, text, "{value} with {decimals}");
        }
        assert_eq!(
            out,
            "# HELP a_b back\\\\slash\\nnext\n# TYPE a_b counter\n\
             a_b{x=\"q\\\"\\\\\\n\",y=\"1\"} 2.5\na_b +Inf\na_b 0\na_b 230\n"
        );
    }
}
