//! Capability discovery: which of the three UPS MIBs an agent serves, and
//! from that, which subtrees a read of some pages must walk.
//!
//! One GETNEXT PDU with one varbind per MIB root answers the first question
//! (a MIB is served when the successor of its root lies inside it). The walk
//! roots are derived from the point table: the parent of every scalar (its
//! MIB group) and the entry of every table column, for the served MIBs only,
//! with nested roots folded into their ancestors.

use crate::mib::{self, Mib, Page};
use crate::oid::Oid;
use crate::snmp::{Client, SnmpError, VarBind};
use std::collections::BTreeSet;

/// The MIBs an agent serves.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Capabilities {
    pub mibs: BTreeSet<Mib>,
}

impl Capabilities {
    /// Every MIB (for forced configs and tests).
    pub fn all() -> Capabilities {
        Capabilities {
            mibs: Mib::ALL.into_iter().collect(),
        }
    }

    /// Reads the answer to a GETNEXT of every [`Mib::probe_root`].
    pub fn from_successors(successors: &[VarBind]) -> Capabilities {
        let mibs = Mib::ALL
            .into_iter()
            .filter(|mib| {
                let root = Oid::parse(mib.probe_root()).expect("probe roots are valid");
                successors
                    .iter()
                    .any(|(oid, value)| oid.starts_with(&root) && !value.is_absent())
            })
            .collect();
        Capabilities { mibs }
    }

    /// Whether sources of `mib` are read from this agent: the served UPS
    /// MIBs, and the system group of any agent that serves one of them.
    pub fn reads(&self, mib: Mib) -> bool {
        self.mibs.contains(&mib) || (mib == Mib::System && !self.mibs.is_empty())
    }

    /// The minimal set of subtrees holding every point of `pages` that a
    /// served MIB can supply, in OID order.
    pub fn walk_roots(&self, pages: &[Page]) -> Vec<Oid> {
        let candidates: BTreeSet<Oid> = self
            .sources_of(pages)
            .filter_map(|s| s.object_oid().parent())
            .collect();
        fold_nested(candidates)
    }

    /// The objects themselves (scalars, table columns) of `pages` that a
    /// served MIB can supply, in OID order: the roots of a walk at every
    /// poll. A group root would bring every other object of the group too
    /// (PowerNet's upsAdvState holds 3 alarm strings among 14 objects),
    /// and one GETBULK asks each root for as many as the fullest needs.
    pub fn object_roots(&self, pages: &[Page]) -> Vec<Oid> {
        let candidates: BTreeSet<Oid> = self.sources_of(pages).map(|s| s.object_oid()).collect();
        fold_nested(candidates)
    }

    /// The sources of `pages` this agent's MIBs serve.
    fn sources_of<'a>(
        &'a self,
        pages: &'a [Page],
    ) -> impl Iterator<Item = &'static mib::Source> + 'a {
        mib::FIELDS
            .iter()
            .filter(|f| pages.contains(&f.page))
            .flat_map(|f| f.sources.iter())
            .filter(|s| self.reads(s.mib))
    }
}

/// Drops every root that lies inside another (sorted input keeps ancestors
/// first).
fn fold_nested(sorted: BTreeSet<Oid>) -> Vec<Oid> {
    let mut roots: Vec<Oid> = Vec::new();
    for oid in sorted {
        if !roots.last().is_some_and(|r| oid.starts_with(r)) {
            roots.push(oid);
        }
    }
    roots
}

/// Asks the agent which MIBs it serves: one GETNEXT request.
pub async fn detect(client: &mut Client) -> Result<Capabilities, SnmpError> {
    let roots: Vec<Oid> = Mib::ALL
        .iter()
        .map(|m| Oid::parse(m.probe_root()).expect("probe roots are valid"))
        .collect();
    let successors = client.get_next(&roots).await?;
    Ok(Capabilities::from_successors(&successors))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snmp::Value;

    fn oid(s: &str) -> Oid {
        Oid::parse(s).unwrap()
    }

    #[test]
    fn a_mib_is_served_when_its_successor_lies_inside_it() {
        let caps = Capabilities::from_successors(&[
            (
                oid("1.3.6.1.2.1.33.1.1.1.0"),
                Value::OctetString(b"EATON".to_vec()),
            ),
            (
                oid("1.3.6.1.4.1.705.1.1.1.0"),
                Value::OctetString(b"Eaton 9PX".to_vec()),
            ),
            (oid("1.3.6.1.6.3.1.1.4.1.0"), Value::Integer(1)),
        ]);
        assert_eq!(caps.mibs, BTreeSet::from([Mib::Rfc1628, Mib::Mge]));
    }

    #[test]
    fn walk_roots_are_groups_and_table_entries_without_nesting() {
        let caps = Capabilities {
            mibs: BTreeSet::from([Mib::Rfc1628]),
        };
        let roots = caps.walk_roots(&[Page::Input, Page::Battery, Page::Alarms]);
        let text: Vec<String> = roots.iter().map(Oid::to_string).collect();
        assert_eq!(
            text,
            [
                "1.3.6.1.2.1.33.1.2",
                "1.3.6.1.2.1.33.1.3",
                "1.3.6.1.2.1.33.1.5",
                "1.3.6.1.2.1.33.1.6"
            ]
        );
    }

    #[test]
    fn every_poll_roots_are_the_alarm_objects_not_their_groups() {
        let caps = Capabilities {
            mibs: BTreeSet::from([Mib::Rfc1628, Mib::PowerNet]),
        };
        let roots = caps.object_roots(&[Page::Alarms]);
        let text: Vec<String> = roots.iter().map(Oid::to_string).collect();
        // RFC 1628 upsAlarmsPresent, upsAlarmDescr, upsAlarmTime; PowerNet
        // upsBasicStateAlarmStatus, upsAdvStateAbnormalConditions,
        // upsAdvStateSystemMessages, upsAdvStateLifeCycleManagement.
        assert_eq!(
            text,
            [
                "1.3.6.1.2.1.33.1.6.1",
                "1.3.6.1.2.1.33.1.6.2.1.2",
                "1.3.6.1.2.1.33.1.6.2.1.3",
                "1.3.6.1.4.1.318.1.1.1.11.1.2",
                "1.3.6.1.4.1.318.1.1.1.11.2.1",
                "1.3.6.1.4.1.318.1.1.1.11.2.6",
                "1.3.6.1.4.1.318.1.1.1.11.2.14",
            ]
        );
    }

    #[test]
    fn unserved_mibs_add_no_roots() {
        let caps = Capabilities {
            mibs: BTreeSet::from([Mib::PowerNet]),
        };
        let roots = caps.walk_roots(&Page::ALL);
        // PowerNet's subtrees, and the system group (sysDescr, sysObjectID)
        // that names the device when no vendor ident object does.
        let system = oid("1.3.6.1.2.1.1");
        assert!(
            roots
                .iter()
                .all(|r| r.starts_with(&oid("1.3.6.1.4.1.318")) || *r == system),
            "{roots:?}"
        );
        assert!(roots.contains(&system));
        assert!(Capabilities::default().walk_roots(&Page::ALL).is_empty());
    }
}
