//! The README's page and field reference, rendered from the point table so
//! documentation cannot drift from what the gateway publishes (a test
//! compares it with the README).

use super::{
    Access, Decode, FIELDS, Field, Legal, Lines, Page, RowIndex, Source, TABLES, fields_of,
};
use std::fmt::Write as _;

/// Markdown: one section per page, one row per field.
pub fn markdown() -> String {
    let mut out = String::new();
    for page in Page::ALL {
        let _ = writeln!(out, "#### `{page}`\n");
        let _ = writeln!(
            out,
            "| field | unit | Home Assistant | write | sources, preferred first |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|");
        for field in fields_of(page) {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                json_path(field),
                field.unit.map_or("", |u| u.symbol()),
                ha(field),
                write(field),
                field
                    .sources
                    .iter()
                    .map(source)
                    .collect::<Vec<_>>()
                    .join("<br>")
            );
        }
        out.push('\n');
    }
    let fields = FIELDS.len();
    let sources: usize = FIELDS.iter().map(|f| f.sources.len()).sum();
    let _ = writeln!(
        out,
        "{fields} fields in {} tables, from {sources} MIB objects.",
        TABLES.len()
    );
    out
}

fn json_path(field: &Field) -> String {
    match field.table {
        Some(table) => format!("{table}[].{}", field.key),
        None => field.key.to_string(),
    }
}

fn ha(field: &Field) -> String {
    let mut text = field.ha.component.name().to_string();
    if let Some(class) = field.ha.device_class {
        let _ = write!(text, " ({class})");
    }
    if !field.ha.enabled {
        text.push_str(", off by default");
    }
    text
}

fn write(field: &Field) -> String {
    let legal: Vec<String> = field
        .sources
        .iter()
        .filter_map(|s| match s.access {
            Access::ReadWrite(legal) => Some(legal_text(s, legal)),
            Access::ReadOnly => None,
        })
        .collect();
    legal.first().cloned().unwrap_or_default()
}

fn legal_text(source: &Source, legal: Legal) -> String {
    match legal {
        Legal::Range { min, max } => format!("{min}..{max}"),
        Legal::AnyLabel => "any label".to_string(),
        Legal::Labels(raws) => raws
            .iter()
            .filter_map(|r| source.decode.label(*r))
            .collect::<Vec<_>>()
            .join(", "),
        Legal::Bool => "true/false".to_string(),
        Legal::Text { max_len } => format!("text ≤ {max_len}"),
    }
}

fn source(source: &Source) -> String {
    let decode = match source.decode {
        Decode::Number { scale } if scale != 1.0 => format!(" ×{scale}"),
        Decode::Enum(labels) => format!(
            " {}",
            labels
                .iter()
                .map(|(v, l)| format!("{l}({v})"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Decode::Flag { on, off } => format!(" true({on}) false({off})"),
        _ => String::new(),
    };
    let index = match source.index {
        RowIndex::Single => String::new(),
        RowIndex::FeedThenRow { feed } => format!(" at `.{feed}.<phase>`"),
        RowIndex::Row(row) => format!(" at `.{row}`"),
    };
    let mut rules = Vec::new();
    match source.lines {
        Lines::Any => {}
        Lines::Single => rules.push("single-phase cards only".to_string()),
        Lines::Several => rules.push("3-phase cards only".to_string()),
    }
    if !source.null_when.is_empty() {
        let raws: Vec<String> = source.null_when.iter().map(i64::to_string).collect();
        rules.push(format!("null if raw {}", raws.join(", ")));
    }
    if !source.null_texts.is_empty() {
        let texts: Vec<String> = source.null_texts.iter().map(|t| format!("'{t}'")).collect();
        rules.push(format!("null if text {}", texts.join(", ")));
    }
    match source.valid {
        Some((min, max)) if max.is_infinite() => rules.push(format!("null below {min}")),
        Some((min, max)) => rules.push(format!("null outside {min}..{max}")),
        None => {}
    }
    if !source.note.is_empty() {
        rules.push(source.note.replace('|', "/"));
    }
    let rules = if rules.is_empty() {
        String::new()
    } else {
        format!(" ({})", rules.join("; "))
    };
    format!(
        "{} `{}` {}{index}{decode}{rules}",
        source.mib, source.object, source.oid
    )
}
