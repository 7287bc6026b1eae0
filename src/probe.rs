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
use crate::pages::{self, Snapshot};
use crate::snmp::{Client, SnmpError, Value, VarBind};
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

    /// How `pages` are read at every poll (their rows come and go:
    /// alarms): see [`EveryPollRead`].
    pub fn every_poll_read(&self, pages: &[Page]) -> EveryPollRead {
        let fields = || mib::FIELDS.iter().filter(|f| pages.contains(&f.page));
        let scalars = fields()
            .filter(|f| f.table.is_none())
            .flat_map(|f| self.served(f))
            .collect();
        let tables = mib::TABLES
            .iter()
            .filter(|table| pages.contains(&table.page))
            .map(|table| {
                let in_table = |f: &&'static mib::Field| {
                    mib::table_of(f).is_some_and(|t| std::ptr::eq(t, table))
                };
                let columns = fields().filter(in_table).flat_map(|f| self.served(f));
                let count = table.counted_by.and_then(|key| {
                    let mut page_fields = mib::fields_of(table.page);
                    let field = page_fields.find(|f| f.table.is_none() && f.key == key)?;
                    self.served(field).next()
                });
                CountedColumns {
                    columns: fold_nested(columns.map(mib::Source::object_oid).collect()),
                    count,
                }
            })
            .filter(|table| !table.columns.is_empty())
            .collect();
        EveryPollRead { scalars, tables }
    }

    /// The sources of `pages` this agent's MIBs serve.
    fn sources_of<'a>(
        &'a self,
        pages: &'a [Page],
    ) -> impl Iterator<Item = &'static mib::Source> + 'a {
        mib::FIELDS
            .iter()
            .filter(|f| pages.contains(&f.page))
            .flat_map(|f| self.served(f))
    }

    /// The sources of `field` this agent's MIBs serve.
    fn served<'a>(
        &'a self,
        field: &'static mib::Field,
    ) -> impl Iterator<Item = &'static mib::Source> + 'a {
        field.sources.iter().filter(|s| self.reads(s.mib))
    }
}

/// How the pages read at every poll (their rows come and go: alarms) are
/// read: their page-level objects by the poll's GET, and their tables by a
/// walk of the tables' columns, unless the row count that GET just read
/// says a table is empty (the usual state of an alarm table). A walk of
/// their groups would bring every other object of the groups too
/// (PowerNet's upsAdvState holds 3 alarm strings among 14 objects).
#[derive(Debug, Clone, PartialEq)]
pub struct EveryPollRead {
    /// The page-level sources the agent's MIBs serve, each read at its
    /// instance.
    pub scalars: Vec<&'static mib::Source>,
    /// Each table the agent's MIBs serve columns of.
    pub tables: Vec<CountedColumns>,
}

/// The served columns of one table, and what says how many rows it has.
#[derive(Debug, Clone, PartialEq)]
pub struct CountedColumns {
    /// The column objects (walk roots), in OID order.
    pub columns: Vec<Oid>,
    /// The served source of the table's row count (see
    /// [`mib::Table::counted_by`]).
    pub count: Option<&'static mib::Source>,
}

impl EveryPollRead {
    /// The roots to walk once the GET returned `scalars` (the page-level
    /// cells it found): the columns of every table whose count did not
    /// read 0.
    pub fn walk_roots(&self, scalars: &Snapshot) -> Vec<Oid> {
        self.tables
            .iter()
            .filter(|table| !table.counted_empty(scalars))
            .flat_map(|table| table.columns.iter().cloned())
            .collect()
    }
}

impl CountedColumns {
    /// Whether the count in `scalars` says the table has no rows.
    fn counted_empty(&self, scalars: &Snapshot) -> bool {
        let count = self
            .count
            .and_then(|source| pages::scalar_cell(source, scalars));
        count.and_then(Value::as_i64) == Some(0)
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
    fn every_poll_reads_the_alarm_objects_and_walks_the_table_only_while_counted() {
        let caps = Capabilities {
            mibs: BTreeSet::from([Mib::Rfc1628, Mib::PowerNet]),
        };
        let read = caps.every_poll_read(&[Page::Alarms]);
        let scalars: Vec<&str> = read.scalars.iter().map(|s| s.oid).collect();
        // RFC 1628 upsAlarmsPresent; PowerNet upsBasicStateAlarmStatus,
        // upsAdvStateAbnormalConditions, upsAdvStateSystemMessages,
        // upsAdvStateLifeCycleManagement: GET at .0.
        assert_eq!(
            scalars,
            [
                "1.3.6.1.2.1.33.1.6.1",
                "1.3.6.1.4.1.318.1.1.1.11.1.2",
                "1.3.6.1.4.1.318.1.1.1.11.2.1",
                "1.3.6.1.4.1.318.1.1.1.11.2.6",
                "1.3.6.1.4.1.318.1.1.1.11.2.14",
            ]
        );
        // upsAlarmTable's upsAlarmDescr and upsAlarmTime, counted by
        // upsAlarmsPresent.
        let columns = ["1.3.6.1.2.1.33.1.6.2.1.2", "1.3.6.1.2.1.33.1.6.2.1.3"];
        let present = |n: i64| Snapshot::from([(oid("1.3.6.1.2.1.33.1.6.1.0"), Value::Integer(n))]);
        let walked = |scalars: &Snapshot| -> Vec<String> {
            read.walk_roots(scalars)
                .iter()
                .map(Oid::to_string)
                .collect()
        };
        assert_eq!(walked(&present(0)), Vec::<String>::new());
        assert_eq!(walked(&present(2)), columns);
        // No count read (a card without upsAlarmsPresent): walked.
        assert_eq!(walked(&Snapshot::new()), columns);
        // Without RFC 1628 there is no table to walk.
        let powernet = Capabilities {
            mibs: BTreeSet::from([Mib::PowerNet]),
        };
        assert!(powernet.every_poll_read(&[Page::Alarms]).tables.is_empty());
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
