//! The standard `process_*` metrics of this process, from `/proc/self`
//! (Linux; elsewhere they are left out).

use super::text::{Kind, header, sample};
use super::{Def, def};

const RSS: Def = def(
    "process_resident_memory_bytes",
    Kind::Gauge,
    "",
    "Resident memory",
);
const VIRTUAL: Def = def(
    "process_virtual_memory_bytes",
    Kind::Gauge,
    "",
    "Virtual memory",
);
const CPU: Def = def(
    "process_cpu_seconds_total",
    Kind::Counter,
    "",
    "CPU time, user and system",
);
const START: Def = def(
    "process_start_time_seconds",
    Kind::Gauge,
    "",
    "Unix time the process started",
);
const FDS: Def = def("process_open_fds", Kind::Gauge, "", "Open file descriptors");

pub const DEFS: &[&Def] = &[&RSS, &VIRTUAL, &CPU, &START, &FDS];

/// `/proc` counts CPU time in USER_HZ ticks, 100 per second on every
/// Linux architecture ups2mqtt builds for.
const TICKS_PER_SECOND: f64 = 100.0;

pub fn render(out: &mut String) {
    let stat = std::fs::read_to_string("/proc/self/stat").ok();
    // Fields after the command name, which may itself contain spaces.
    let fields: Vec<&str> = stat
        .as_deref()
        .and_then(|s| s.rsplit_once(')'))
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let field = |n: usize| fields.get(n - 3)?.parse::<f64>().ok();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok());
    let boot_time = std::fs::read_to_string("/proc/stat").ok().and_then(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("btime "))
            .and_then(|v| v.trim().parse::<f64>().ok())
    });
    let fds = std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|d| d.count() as f64);
    let values = [
        (&RSS, rss_kib.map(|k| k * 1024.0)),
        (&VIRTUAL, field(23)),
        (
            &CPU,
            field(14)
                .zip(field(15))
                .map(|(u, s)| (u + s) / TICKS_PER_SECOND),
        ),
        (
            &START,
            field(22)
                .zip(boot_time)
                .map(|(ticks, boot)| boot + ticks / TICKS_PER_SECOND),
        ),
        (&FDS, fds),
    ];
    for (def, value) in values {
        if let Some(value) = value {
            header(out, def.name, def.kind, def.help);
            sample(out, def.name, &[], value);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_this_process() {
        let mut out = String::new();
        super::render(&mut out);
        let value = |name: &str| -> f64 {
            let line = out
                .lines()
                .find(|l| l.starts_with(&format!("{name} ")))
                .unwrap_or_else(|| panic!("{name} in {out}"));
            line.rsplit(' ').next().unwrap().parse().unwrap()
        };
        assert!(value("process_resident_memory_bytes") > 1e5);
        assert!(value("process_open_fds") >= 3.0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let start = value("process_start_time_seconds");
        assert!(
            start <= now + 1.0 && start > now - 86_400.0,
            "{start} vs {now}"
        );
    }
}
