//! The shape of a simulated card: how many phases, receptacles, outlet
//! groups and connected devices it has, hence how many rows each table of
//! the point table gets. Shared by every agent of a process.

use ups2mqtt::mib::{Page, Table};

/// Row counts of the simulated card's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// 1 or 3.
    pub phases: u32,
    /// MGE receptacles; index 1 is the whole UPS output (quirk Q9).
    pub receptacles: u32,
    /// PowerNet outlet groups; index 1 is the main group.
    pub outlet_groups: u32,
    /// Connected devices (MGE and PowerNet device tables).
    pub devices: u32,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            phases: 1,
            receptacles: 3,
            outlet_groups: 3,
            devices: 2,
        }
    }
}

impl Layout {
    /// Rows a point-table table has on this card. The alarm table is the
    /// state's business (rows come and go), so it has none here.
    pub fn rows(&self, table: &Table) -> u32 {
        match (table.page, table.key) {
            (Page::Alarms, _) => 0,
            (Page::Input | Page::Output, _) => self.phases,
            (Page::Receptacles | Page::Control, "receptacles") => self.receptacles,
            (Page::Receptacles | Page::Control, "outlet_groups") => self.outlet_groups,
            (Page::Devices, _) => self.devices,
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ups2mqtt::mib::TABLES;

    #[test]
    fn every_table_has_a_row_count() {
        let layout = Layout {
            phases: 3,
            receptacles: 4,
            outlet_groups: 2,
            devices: 5,
        };
        let rows: Vec<(String, u32)> = TABLES
            .iter()
            .map(|t| (format!("{}.{}", t.page, t.key), layout.rows(t)))
            .collect();
        let get = |k: &str| rows.iter().find(|(n, _)| n == k).map(|(_, r)| *r);
        assert_eq!(get("input.lines"), Some(3));
        assert_eq!(get("output.lines"), Some(3));
        assert_eq!(get("receptacles.receptacles"), Some(4));
        assert_eq!(get("control.receptacles"), Some(4));
        assert_eq!(get("control.outlet_groups"), Some(2));
        assert_eq!(get("devices.devices"), Some(5));
        assert_eq!(get("alarms.active"), Some(0));
        assert_eq!(get("environment.sensors"), Some(1));
    }
}
