//! The command line of `ups2mqtt-sim` (clap derive) and what it builds:
//! the card options and the agents' shared configuration.

use crate::agent::AgentConfig;
use crate::card::CardOptions;
use crate::layout::Layout;
use crate::snmprec::{self, SnmprecError};
use crate::traps::Sink;
use clap::Parser;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use ups2mqtt::mib::Mib;

#[derive(Parser, Debug, Clone)]
#[command(
    name = "ups2mqtt-sim",
    version,
    about = "A simulated Schneider Electric / MGE / APC UPS network card: an SNMP v1/v2c agent \
             serving RFC 1628, MG-SNMP-UPS-MIB and PowerNet-MIB from a live UPS model",
    after_help = "Control lines on stdin (and --control): mains on|off, battery low, overload on|off, \
                  test start, trap NAME [ROW], set PATH JSON, unpin PATH, state, stats, stop, start, quit.\n\
                  Example: ups2mqtt-sim --listen 127.0.0.1:1161 --trap-sink 127.0.0.1:1162,v2c"
)]
pub struct Args {
    /// UDP address of the first agent; agent N listens on port + N (port 0:
    /// each agent on an ephemeral port).
    #[arg(long, default_value = "127.0.0.1:1161")]
    pub listen: SocketAddr,
    /// Number of agents, each with its own UPS.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=20_000))]
    pub agents: u32,
    /// Seed of the per-agent readings (voltages, load, serial numbers).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Input and output phases.
    #[arg(long, default_value_t = 1, value_parser = parse_phases)]
    pub phases: u32,
    /// MGE receptacles (index 1 is the whole UPS output).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub receptacles: u32,
    /// PowerNet outlet groups (index 1 is the main group).
    #[arg(long = "outlet-groups", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub outlet_groups: u32,
    /// Connected devices.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=64))]
    pub devices: u32,
    /// MIBs served (comma separated): rfc1628, mge, powernet.
    #[arg(long, value_delimiter = ',', default_value = "rfc1628,mge,powernet", value_parser = parse_mib)]
    pub mibs: Vec<Mib>,
    /// Read community.
    #[arg(long, default_value = "public")]
    pub community: String,
    /// Read-write community.
    #[arg(long = "write-community", default_value = "private")]
    pub write_community: String,
    /// Trap receiver, HOST:PORT[,v1|v2c] (v2c by default); repeatable.
    #[arg(long = "trap-sink")]
    pub trap_sinks: Vec<Sink>,
    /// Community of the traps sent (the read community by default).
    #[arg(long = "trap-community")]
    pub trap_community: Option<String>,
    /// Start from this snmpsim walk (OID|TYPE|VALUE) and overlay the
    /// simulated state and writable points on top.
    #[arg(long)]
    pub walk: Option<PathBuf>,
    /// How long a battery test takes, in milliseconds.
    #[arg(long = "test-duration-ms", default_value_t = 3000)]
    pub test_duration_ms: u64,
    /// Emulate card quirks: MGE input/output cells with a trailing .0 (Q1),
    /// RFC 1628 line voltages in tenths (Q2).
    #[arg(long)]
    pub quirks: bool,
    /// Largest response in bytes (GETBULK stops before it; others answer tooBig).
    #[arg(long = "max-pdu", default_value_t = 1472, value_parser = clap::value_parser!(u64).range(484..=65_507))]
    pub max_pdu: u64,
    /// Loopback TCP address for the control line protocol.
    #[arg(long)]
    pub control: Option<SocketAddr>,
    /// A card shape of a real product (replaces --mibs, --phases,
    /// --outlet-groups, --receptacles and --devices).
    #[arg(long, value_enum)]
    pub personality: Option<Personality>,
}

/// Card shapes of real products.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Personality {
    /// An APC Galaxy VS-like 3-phase UPS: PowerNet-MIB only, upsPhase tables
    /// with phase-to-phase and phase-to-neutral voltages, one outlet group.
    GalaxyVs,
    /// An APC Smart-UPS on an NMC: PowerNet-MIB only, single phase, three
    /// outlet groups (main and two switched).
    SmartUps,
}

impl Personality {
    /// MIBs and layout of the personality.
    pub fn shape(self) -> (BTreeSet<Mib>, Layout) {
        let powernet = BTreeSet::from([Mib::PowerNet]);
        let layout = match self {
            Personality::GalaxyVs => Layout {
                phases: 3,
                receptacles: 1,
                outlet_groups: 1,
                devices: 0,
            },
            Personality::SmartUps => Layout {
                phases: 1,
                receptacles: 1,
                outlet_groups: 3,
                devices: 0,
            },
        };
        (powernet, layout)
    }
}

fn parse_phases(text: &str) -> Result<u32, String> {
    match text {
        "1" => Ok(1),
        "3" => Ok(3),
        _ => Err("phases must be 1 or 3".to_string()),
    }
}

fn parse_mib(text: &str) -> Result<Mib, String> {
    Mib::from_name(text.trim())
        .ok_or_else(|| format!("unknown MIB {text:?}: expected rfc1628, mge or powernet"))
}

impl Args {
    /// The card the agents simulate (reads the walk, if any).
    pub fn card_options(&self) -> Result<CardOptions, SnmprecError> {
        let walk = self.walk.as_deref().map(snmprec::load).transpose()?;
        let start_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let (mibs, layout) = match self.personality {
            Some(personality) => personality.shape(),
            None => (
                self.mibs.iter().copied().collect::<BTreeSet<_>>(),
                Layout {
                    phases: self.phases,
                    receptacles: self.receptacles,
                    outlet_groups: self.outlet_groups,
                    devices: self.devices,
                },
            ),
        };
        Ok(CardOptions {
            mibs,
            layout,
            quirks: self.quirks,
            walk,
            seed: self.seed,
            test_duration: Duration::from_millis(self.test_duration_ms),
            start_unix,
        })
    }

    pub fn agent_config(&self) -> AgentConfig {
        AgentConfig {
            community: self.community.as_bytes().to_vec(),
            write_community: self.write_community.as_bytes().to_vec(),
            trap_community: self
                .trap_community
                .as_ref()
                .unwrap_or(&self.community)
                .as_bytes()
                .to_vec(),
            max_pdu: self.max_pdu as usize,
            sinks: self.trap_sinks.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent_and_parses() {
        Args::command().debug_assert();
        let args = Args::try_parse_from([
            "ups2mqtt-sim",
            "--listen",
            "127.0.0.1:0",
            "--agents",
            "5",
            "--mibs",
            "rfc1628,mge",
            "--trap-sink",
            "127.0.0.1:1162,v1",
            "--trap-sink",
            "127.0.0.1:1163",
            "--phases",
            "3",
            "--quirks",
        ])
        .unwrap();
        assert_eq!(args.mibs, vec![Mib::Rfc1628, Mib::Mge]);
        assert_eq!(args.trap_sinks.len(), 2);
        assert_eq!(args.phases, 3);
        assert!(Args::try_parse_from(["ups2mqtt-sim", "--phases", "2"]).is_err());
        assert!(Args::try_parse_from(["ups2mqtt-sim", "--mibs", "foo"]).is_err());
        assert!(Args::try_parse_from(["ups2mqtt-sim", "--max-pdu", "100"]).is_err());
        let defaults = Args::try_parse_from(["ups2mqtt-sim"]).unwrap();
        assert_eq!(defaults.mibs.len(), 3);
        assert_eq!(defaults.agent_config().trap_community, b"public");
    }
}
