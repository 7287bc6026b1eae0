//! Every MQTT topic and Home Assistant id ups2mqtt uses, built and parsed in
//! one place (zigbee2mqtt-like: `<base>/bridge/state`, `<base>/<ups>/<page>`,
//! ...).
//!
//! This module owns the topic grammar: [`Topic`] is every topic the gateway
//! publishes or listens to, [`Naming::topic`] formats one and
//! [`Naming::parse`] reads one back (the two are tested as a round trip);
//! [`Naming::subscriptions`] are the filters the gateway listens on (and
//! [`Naming::startup_subscriptions`] those it reads at start-up only). No
//! connection, no payloads.

use crate::mib::Page;

/// The configured roots of all names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Naming {
    /// Gateway id: part of every Home Assistant unique id.
    pub gateway_id: String,
    /// Base topic, e.g. `ups2mqtt`.
    pub base: String,
    /// Home Assistant discovery prefix, e.g. `homeassistant`.
    pub prefix: String,
}

/// One topic of the MQTT contract. UPS ids and keys are single topic
/// levels (no `/`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Topic {
    /// `<base>/bridge/state`: retained `{"state":"online"|"offline"}`, the
    /// MQTT last will.
    BridgeState,
    /// `<base>/bridge/health`: retained gateway counters (traps, MQTT).
    BridgeHealth,
    /// `<base>/<ups>/<page>`: retained page JSON.
    Page { ups: String, page: Page },
    /// `<base>/<ups>/availability`: retained `online` / `offline`.
    Availability { ups: String },
    /// `<base>/<ups>/health`: retained SNMP diagnostics JSON.
    Health { ups: String },
    /// `<base>/<ups>/gateway`: retained id of the gateway that publishes
    /// this UPS (ghost removal only touches its own).
    Owner { ups: String },
    /// `<base>/<ups>/event`: non-retained trap events.
    Event { ups: String },
    /// `<base>/<ups>/energy`: retained output energy the gateway
    /// integrates (`{"output_energy": kWh}`), read back at start.
    Energy { ups: String },
    /// `<base>/<ups>/response`: the answer to every command (not retained).
    Response { ups: String },
    /// `<base>/<ups>/audit`: every command, accepted or refused.
    Audit { ups: String },
    /// `<base>/<ups>/command`: a named command as the raw payload
    /// (`test.battery.start`), as a Home Assistant button sends it.
    Command { ups: String },
    /// `<base>/<ups>/request`: JSON requests with a transaction id.
    Request { ups: String },
    /// `<base>/<ups>/<page>/<key>/set`: write one page field (raw value, as
    /// Home Assistant's number/select/switch/text entities send it).
    Set {
        ups: String,
        page: Page,
        key: String,
    },
    /// `<base>/<ups>/<page>/<table>/<index>/<key>/set`: write one table cell.
    SetCell {
        ups: String,
        page: Page,
        table: String,
        index: u32,
        key: String,
    },
    /// `<prefix>/status`: Home Assistant's birth (`online`) and last will.
    HaStatus,
    /// `<prefix>/device/<device id>/config`: device-based discovery.
    Discovery { device_id: String },
}

/// Why a topic is not a [`Topic`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unparsed {
    /// Not one of ours (another base, another shape).
    Foreign,
    /// Shaped like a `.../set` topic, but its page is none of ours or its
    /// row index is not a number: the dotted field path as sent
    /// (`nope.key`, `control.outlet_groups.x.command`), for the command
    /// planner to refuse with its usual error.
    BadSet { ups: String, path: String },
}

/// The bridge's own level under the base topic (not a UPS id).
pub const BRIDGE: &str = "bridge";

impl Naming {
    pub fn new(gateway_id: &str, base: &str, prefix: &str) -> Naming {
        Naming {
            gateway_id: gateway_id.to_string(),
            base: base.to_string(),
            prefix: prefix.to_string(),
        }
    }

    /// The topic string of `topic`.
    pub fn topic(&self, topic: &Topic) -> String {
        let base = &self.base;
        match topic {
            Topic::BridgeState => format!("{base}/{BRIDGE}/state"),
            Topic::BridgeHealth => format!("{base}/{BRIDGE}/health"),
            Topic::Page { ups, page } => format!("{base}/{ups}/{page}"),
            Topic::Availability { ups } => format!("{base}/{ups}/availability"),
            Topic::Health { ups } => format!("{base}/{ups}/health"),
            Topic::Owner { ups } => format!("{base}/{ups}/gateway"),
            Topic::Event { ups } => format!("{base}/{ups}/event"),
            Topic::Energy { ups } => format!("{base}/{ups}/energy"),
            Topic::Response { ups } => format!("{base}/{ups}/response"),
            Topic::Audit { ups } => format!("{base}/{ups}/audit"),
            Topic::Command { ups } => format!("{base}/{ups}/command"),
            Topic::Request { ups } => format!("{base}/{ups}/request"),
            Topic::Set { ups, page, key } => format!("{base}/{ups}/{page}/{key}/set"),
            Topic::SetCell {
                ups,
                page,
                table,
                index,
                key,
            } => format!("{base}/{ups}/{page}/{table}/{index}/{key}/set"),
            Topic::HaStatus => format!("{}/status", self.prefix),
            Topic::Discovery { device_id } => {
                format!("{}/device/{device_id}/config", self.prefix)
            }
        }
    }

    /// Reads a topic back: `Naming::parse(&naming.topic(t)) == Ok(t)`.
    pub fn parse(&self, topic: &str) -> Result<Topic, Unparsed> {
        if let Some(parsed) = self.parse_under_prefix(topic) {
            return Ok(parsed);
        }
        let rest = topic
            .strip_prefix(self.base.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
            .ok_or(Unparsed::Foreign)?;
        let levels: Vec<&str> = rest.split('/').collect();
        if levels.iter().any(|level| !is_plain_level(level)) {
            return Err(Unparsed::Foreign);
        }
        let ups = levels[0].to_string();
        match levels.as_slice() {
            [BRIDGE, "state"] => Ok(Topic::BridgeState),
            [BRIDGE, "health"] => Ok(Topic::BridgeHealth),
            [_, "availability"] => Ok(Topic::Availability { ups }),
            [_, "health"] => Ok(Topic::Health { ups }),
            [_, "gateway"] => Ok(Topic::Owner { ups }),
            [_, "event"] => Ok(Topic::Event { ups }),
            [_, "energy"] => Ok(Topic::Energy { ups }),
            [_, "response"] => Ok(Topic::Response { ups }),
            [_, "audit"] => Ok(Topic::Audit { ups }),
            [_, "command"] => Ok(Topic::Command { ups }),
            [_, "request"] => Ok(Topic::Request { ups }),
            [_, page] => Page::from_name(page)
                .map(|page| Topic::Page { ups, page })
                .ok_or(Unparsed::Foreign),
            [_, page, key, "set"] => match Page::from_name(page) {
                Some(page) => Ok(Topic::Set {
                    ups,
                    page,
                    key: key.to_string(),
                }),
                None => Err(Unparsed::BadSet {
                    ups,
                    path: format!("{page}.{key}"),
                }),
            },
            [_, page, table, index, key, "set"] => {
                match (Page::from_name(page), index.parse::<u32>()) {
                    (Some(page), Ok(index)) => Ok(Topic::SetCell {
                        ups,
                        page,
                        table: table.to_string(),
                        index,
                        key: key.to_string(),
                    }),
                    _ => Err(Unparsed::BadSet {
                        ups,
                        path: format!("{page}.{table}.{index}.{key}"),
                    }),
                }
            }
            _ => Err(Unparsed::Foreign),
        }
    }

    /// `<prefix>/status` and `<prefix>/device/<id>/config`.
    fn parse_under_prefix(&self, topic: &str) -> Option<Topic> {
        let rest = topic
            .strip_prefix(self.prefix.as_str())?
            .strip_prefix('/')?;
        if rest == "status" {
            return Some(Topic::HaStatus);
        }
        let device_id = rest.strip_prefix("device/")?.strip_suffix("/config")?;
        is_plain_level(device_id).then(|| Topic::Discovery {
            device_id: device_id.to_string(),
        })
    }

    /// The filters the gateway subscribes to for good: Home Assistant's
    /// status when `discovery` is on, every UPS's owner (ghosts) and energy
    /// (read back at start), and every command topic.
    pub fn subscriptions(&self, discovery: bool) -> Vec<String> {
        let any = || WILDCARD.to_string();
        let mut filters = Vec::new();
        if discovery {
            filters.push(self.topic(&Topic::HaStatus));
        }
        filters.push(self.topic(&Topic::Owner { ups: any() }));
        filters.push(self.topic(&Topic::Energy { ups: any() }));
        filters.push(self.topic(&Topic::Command { ups: any() }));
        filters.push(self.topic(&Topic::Request { ups: any() }));
        // `.../set` topics: the page level is a wildcard too.
        filters.push(format!("{}/+/+/+/set", self.base));
        filters.push(format!("{}/+/+/+/+/+/set", self.base));
        filters
    }

    /// The filters read only at the start of each session, for their
    /// retained messages: every device-based discovery config when
    /// `discovery` is on (ghosts linked to this gateway's bridge). Kept,
    /// it would bring back every discovery message the gateway publishes
    /// (hundreds of kB each).
    pub fn startup_subscriptions(&self, discovery: bool) -> Vec<String> {
        let any = || WILDCARD.to_string();
        match discovery {
            true => vec![self.topic(&Topic::Discovery { device_id: any() })],
            false => Vec::new(),
        }
    }

    /// `<base>/bridge/state`.
    pub fn bridge_state(&self) -> String {
        self.topic(&Topic::BridgeState)
    }

    /// `<base>/<ups>/<page>`.
    pub fn page(&self, ups_id: &str, page: Page) -> String {
        self.topic(&Topic::Page {
            ups: ups_id.to_string(),
            page,
        })
    }

    /// `<base>/<ups>/gateway`.
    pub fn owner(&self, ups_id: &str) -> String {
        self.topic(&Topic::Owner {
            ups: ups_id.to_string(),
        })
    }

    /// `<base>/<ups>/availability`.
    pub fn availability(&self, ups_id: &str) -> String {
        self.topic(&Topic::Availability {
            ups: ups_id.to_string(),
        })
    }

    /// `<base>/<ups>/health`.
    pub fn health(&self, ups_id: &str) -> String {
        self.topic(&Topic::Health {
            ups: ups_id.to_string(),
        })
    }

    /// `<base>/<ups>/event`.
    pub fn event(&self, ups_id: &str) -> String {
        self.topic(&Topic::Event {
            ups: ups_id.to_string(),
        })
    }

    /// `<base>/<ups>/energy`.
    pub fn energy(&self, ups_id: &str) -> String {
        self.topic(&Topic::Energy {
            ups: ups_id.to_string(),
        })
    }

    /// `<base>/bridge/health`.
    pub fn bridge_health(&self) -> String {
        self.topic(&Topic::BridgeHealth)
    }

    /// `<base>/<ups>/<page>/<key>/set`.
    pub fn set(&self, ups_id: &str, page: Page, key: &str) -> String {
        self.topic(&Topic::Set {
            ups: ups_id.to_string(),
            page,
            key: key.to_string(),
        })
    }

    /// `<base>/<ups>/<page>/<table>/<index>/<key>/set`.
    pub fn set_cell(&self, ups_id: &str, page: Page, table: &str, index: u32, key: &str) -> String {
        self.topic(&Topic::SetCell {
            ups: ups_id.to_string(),
            page,
            table: table.to_string(),
            index,
            key: key.to_string(),
        })
    }

    /// `<base>/<ups>/command`.
    pub fn command(&self, ups_id: &str) -> String {
        self.topic(&Topic::Command {
            ups: ups_id.to_string(),
        })
    }

    /// `<base>/<ups>/request`.
    pub fn request(&self, ups_id: &str) -> String {
        self.topic(&Topic::Request {
            ups: ups_id.to_string(),
        })
    }

    /// `<base>/<ups>/response`.
    pub fn response(&self, ups_id: &str) -> String {
        self.topic(&Topic::Response {
            ups: ups_id.to_string(),
        })
    }

    /// `<base>/<ups>/audit`.
    pub fn audit(&self, ups_id: &str) -> String {
        self.topic(&Topic::Audit {
            ups: ups_id.to_string(),
        })
    }

    /// `<prefix>/status`.
    pub fn ha_status(&self) -> String {
        self.topic(&Topic::HaStatus)
    }

    /// Device id of the bridge (this gateway) in Home Assistant.
    pub fn bridge_device_id(&self) -> String {
        format!("{}_{BRIDGE}", self.gateway_id)
    }

    /// Device id of a UPS: gateway id + UPS id, never the serial number, so
    /// identical UPSes on two gateways cannot collide.
    pub fn ups_device_id(&self, ups_id: &str) -> String {
        format!("{}_{}", self.gateway_id, slug(ups_id))
    }

    /// `<prefix>/device/<device id>/config`.
    pub fn discovery(&self, device_id: &str) -> String {
        self.topic(&Topic::Discovery {
            device_id: device_id.to_string(),
        })
    }
}

/// MQTT's single-level wildcard.
const WILDCARD: &str = "+";

/// A UPS id as Home Assistant's ids carry it (`rack-1` → `rack_1`): two
/// UPS ids with the same slug would be one device.
pub fn slug(ups_id: &str) -> String {
    ups_id.replace('-', "_")
}

/// One topic level we can name: not empty, no wildcard, no separator.
fn is_plain_level(level: &str) -> bool {
    !level.is_empty() && !level.contains(['/', '+', '#'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_follow_the_documented_scheme() {
        let n = Naming::new("gw1", "ups2mqtt", "homeassistant");
        assert_eq!(n.bridge_state(), "ups2mqtt/bridge/state");
        assert_eq!(n.page("rack-1", Page::Battery), "ups2mqtt/rack-1/battery");
        assert_eq!(n.availability("rack-1"), "ups2mqtt/rack-1/availability");
        assert_eq!(n.owner("rack-1"), "ups2mqtt/rack-1/gateway");
        assert_eq!(n.health("rack-1"), "ups2mqtt/rack-1/health");
        assert_eq!(n.event("rack-1"), "ups2mqtt/rack-1/event");
        assert_eq!(
            n.set("r", Page::Config, "beeper"),
            "ups2mqtt/r/config/beeper/set"
        );
        assert_eq!(
            n.set_cell("r", Page::Control, "outlet_groups", 2, "command"),
            "ups2mqtt/r/control/outlet_groups/2/command/set"
        );
        assert_eq!(n.command("r"), "ups2mqtt/r/command");
        assert_eq!(n.request("r"), "ups2mqtt/r/request");
        assert_eq!(n.response("r"), "ups2mqtt/r/response");
        assert_eq!(n.audit("r"), "ups2mqtt/r/audit");
        assert_eq!(n.bridge_health(), "ups2mqtt/bridge/health");
        assert_eq!(n.ha_status(), "homeassistant/status");
        assert_eq!(n.ups_device_id("rack-1"), "gw1_rack_1");
        assert_eq!(
            n.discovery(&n.bridge_device_id()),
            "homeassistant/device/gw1_bridge/config"
        );
    }

    /// xorshift64*: a reproducible stream of cases without a crate.
    struct Cases(u64);

    impl Cases {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        /// A level: a word the grammar itself uses, or random id characters.
        fn level(&mut self) -> String {
            const WORDS: &[&str] = &[
                "state",
                "health",
                "status",
                "device",
                "config",
                "set",
                "battery",
                "event",
                "command",
                "request",
                "availability",
                "gateway",
                "0",
                "rack-1",
                "rack_1",
            ];
            if self.below(3) == 0 {
                return WORDS[self.below(WORDS.len())].to_string();
            }
            const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_-";
            let len = 1 + self.below(64);
            (0..len)
                .map(|_| CHARS[self.below(CHARS.len())] as char)
                .collect()
        }

        /// A UPS id as configuration allows it (never `bridge`).
        fn ups(&mut self) -> String {
            self.level()
        }

        fn page(&mut self) -> Page {
            Page::ALL[self.below(Page::ALL.len())]
        }

        fn topic(&mut self) -> Topic {
            let ups = self.ups();
            match self.below(16) {
                0 => Topic::BridgeState,
                1 => Topic::BridgeHealth,
                2 => Topic::Page {
                    ups,
                    page: self.page(),
                },
                3 => Topic::Availability { ups },
                4 => Topic::Health { ups },
                5 => Topic::Event { ups },
                6 => Topic::Response { ups },
                7 => Topic::Audit { ups },
                8 => Topic::Command { ups },
                9 => Topic::Request { ups },
                10 => Topic::Set {
                    ups,
                    page: self.page(),
                    key: self.level(),
                },
                11 => Topic::SetCell {
                    ups,
                    page: self.page(),
                    table: self.level(),
                    index: self.next() as u32,
                    key: self.level(),
                },
                12 => Topic::HaStatus,
                13 => Topic::Owner { ups },
                14 => Topic::Energy { ups },
                _ => Topic::Discovery {
                    device_id: self.level(),
                },
            }
        }
    }

    fn namings() -> [Naming; 3] {
        [
            Naming::new("gw1", "ups2mqtt", "homeassistant"),
            Naming::new("gw-2", "site/ups", "ha"),
            Naming::new("g", "same", "same"),
        ]
    }

    #[test]
    fn every_topic_parses_back_to_itself() {
        let mut cases = Cases(0x5eed);
        for naming in namings() {
            for _ in 0..20_000 {
                let topic = cases.topic();
                let text = naming.topic(&topic);
                assert_eq!(naming.parse(&text), Ok(topic), "{text} under {naming:?}");
            }
        }
    }

    #[test]
    fn other_topics_are_foreign_and_bad_set_paths_kept() {
        let n = Naming::new("gw1", "ups2mqtt", "homeassistant");
        for foreign in [
            "other/r1/command",
            "ups2mqtt",
            "ups2mqtt/",
            "ups2mqttx/r1/command",
            "ups2mqtt/r1",
            "ups2mqtt/r1/nope",
            "ups2mqtt//command",
            "ups2mqtt/+/command",
            "ups2mqtt/#",
            "ups2mqtt/r1/battery/charge",
            "ups2mqtt/r1/a/b/c/d/e/f/set",
            "homeassistant/device/x/y/config",
            "homeassistant/sensor/x/config",
        ] {
            assert_eq!(n.parse(foreign), Err(Unparsed::Foreign), "{foreign}");
        }
        assert_eq!(
            n.parse("ups2mqtt/r1/nope/key/set"),
            Err(Unparsed::BadSet {
                ups: "r1".into(),
                path: "nope.key".into()
            })
        );
        assert_eq!(
            n.parse("ups2mqtt/r1/control/outlet_groups/x/command/set"),
            Err(Unparsed::BadSet {
                ups: "r1".into(),
                path: "control.outlet_groups.x.command".into()
            })
        );
    }

    /// MQTT filter matching (`+` one level, `#` the rest).
    fn matches(filter: &str, topic: &str) -> bool {
        let mut topic_levels = topic.split('/');
        for level in filter.split('/') {
            match (level, topic_levels.next()) {
                ("#", _) => return true,
                ("+", Some(_)) => {}
                (level, Some(actual)) if level == actual => {}
                _ => return false,
            }
        }
        topic_levels.next().is_none()
    }

    #[test]
    fn subscriptions_catch_exactly_the_inbound_topics() {
        let mut cases = Cases(0xf11e);
        for naming in namings() {
            let steady = naming.subscriptions(true);
            let startup = naming.startup_subscriptions(true);
            let filters = [steady.clone(), startup.clone()].concat();
            let without_discovery = [
                naming.subscriptions(false),
                naming.startup_subscriptions(false),
            ]
            .concat();
            for _ in 0..20_000 {
                let topic = cases.topic();
                let text = naming.topic(&topic);
                let heard = |filters: &[String]| filters.iter().any(|f| matches(f, &text));
                let inbound = matches!(
                    topic,
                    Topic::Owner { .. }
                        | Topic::Energy { .. }
                        | Topic::Command { .. }
                        | Topic::Request { .. }
                        | Topic::Set { .. }
                        | Topic::SetCell { .. }
                        | Topic::HaStatus
                        | Topic::Discovery { .. }
                );
                assert_eq!(heard(&filters), inbound, "{text} under {naming:?}");
                let ha = matches!(topic, Topic::HaStatus | Topic::Discovery { .. });
                assert_eq!(heard(&without_discovery), inbound && !ha, "{text}");
                // Discovery configs (ours among them) only at start-up.
                let discovery = matches!(topic, Topic::Discovery { .. });
                assert_eq!(heard(&startup), discovery, "{text}");
                assert_eq!(heard(&steady), inbound && !discovery, "{text}");
            }
        }
    }
}
