//! Every MQTT topic and Home Assistant id ups2mqtt uses, built in one place
//! (zigbee2mqtt-like: `<base>/bridge/state`, `<base>/<ups>/<page>`, ...).
//!
//! This module owns the naming scheme only: no connection, no payloads.

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

impl Naming {
    pub fn new(gateway_id: &str, base: &str, prefix: &str) -> Naming {
        Naming {
            gateway_id: gateway_id.to_string(),
            base: base.to_string(),
            prefix: prefix.to_string(),
        }
    }

    /// `<base>/bridge/state`: retained `{"state":"online"|"offline"}`, the
    /// MQTT last will.
    pub fn bridge_state(&self) -> String {
        format!("{}/bridge/state", self.base)
    }

    /// `<base>/<ups>/<page>`: retained page JSON.
    pub fn page(&self, ups_id: &str, page: Page) -> String {
        format!("{}/{ups_id}/{page}", self.base)
    }

    /// `<base>/<ups>/availability`: retained `online` / `offline`.
    pub fn availability(&self, ups_id: &str) -> String {
        format!("{}/{ups_id}/availability", self.base)
    }

    /// `<base>/<ups>/health`: retained SNMP diagnostics JSON.
    pub fn health(&self, ups_id: &str) -> String {
        format!("{}/{ups_id}/health", self.base)
    }

    /// `<base>/<ups>/event`: non-retained trap events.
    pub fn event(&self, ups_id: &str) -> String {
        format!("{}/{ups_id}/event", self.base)
    }

    /// `<base>/bridge/health`: retained gateway counters (traps, MQTT).
    pub fn bridge_health(&self) -> String {
        format!("{}/bridge/health", self.base)
    }

    /// `<base>/<ups>/<page>/<key>/set`: write one page field (raw value,
    /// as Home Assistant's number/select/switch/text entities send it).
    pub fn set(&self, ups_id: &str, page: Page, key: &str) -> String {
        format!("{}/{ups_id}/{page}/{key}/set", self.base)
    }

    /// `<base>/<ups>/<page>/<table>/<index>/<key>/set`: write one table cell.
    pub fn set_cell(&self, ups_id: &str, page: Page, table: &str, index: u32, key: &str) -> String {
        format!("{}/{ups_id}/{page}/{table}/{index}/{key}/set", self.base)
    }

    /// `<base>/<ups>/command`: a named command as the raw payload
    /// (`test.battery.start`), as a Home Assistant button sends it.
    pub fn command(&self, ups_id: &str) -> String {
        format!("{}/{ups_id}/command", self.base)
    }

    /// `<base>/<ups>/request`: JSON requests with a transaction id.
    pub fn request(&self, ups_id: &str) -> String {
        format!("{}/{ups_id}/request", self.base)
    }

    /// `<base>/<ups>/response`: the answer to every command (not retained).
    pub fn response(&self, ups_id: &str) -> String {
        format!("{}/{ups_id}/response", self.base)
    }

    /// `<base>/<ups>/audit`: every command, accepted or refused.
    pub fn audit(&self, ups_id: &str) -> String {
        format!("{}/{ups_id}/audit", self.base)
    }

    /// `<prefix>/status`: Home Assistant's birth (`online`) and last will.
    pub fn ha_status(&self) -> String {
        format!("{}/status", self.prefix)
    }

    /// Device id of the bridge (this gateway) in Home Assistant.
    pub fn bridge_device_id(&self) -> String {
        format!("{}_bridge", self.gateway_id)
    }

    /// Device id of a UPS: gateway id + UPS id, never the serial number, so
    /// identical UPSes on two gateways cannot collide.
    pub fn ups_device_id(&self, ups_id: &str) -> String {
        format!("{}_{}", self.gateway_id, ups_id.replace('-', "_"))
    }

    /// `<prefix>/device/<device id>/config`: device-based discovery.
    pub fn discovery(&self, device_id: &str) -> String {
        format!("{}/device/{device_id}/config", self.prefix)
    }
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
}
