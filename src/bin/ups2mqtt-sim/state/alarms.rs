//! The RFC 1628 alarm table (`upsAlarmTable`): one row per active
//! condition, identified by a `upsAlarmId` that is never reused, described
//! by a well-known alarm (`upsWellKnownAlarms.N`) and stamped with the
//! sysUpTime at which it was detected.
//!
//! The table is derived, not edited: the state says which conditions hold
//! ([`AlarmTable::sync`]) and the table adds and removes rows to match,
//! reporting each change so the matching traps can be sent.

/// One row of the alarm table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alarm {
    /// `upsAlarmId`: 1, 2, 3, ... never reused while the agent runs.
    pub id: u32,
    /// The well-known alarm's last arc (`upsAlarmOnBattery` = 2, ...).
    pub arc: u32,
    /// `upsAlarmTime`: sysUpTime (hundredths of a second) when added.
    pub since: u32,
}

/// A row that appeared or disappeared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmChange {
    Added(Alarm),
    Removed(Alarm),
}

/// The active alarms, in id order.
#[derive(Debug, Clone)]
pub struct AlarmTable {
    next_id: u32,
    rows: Vec<Alarm>,
}

/// Ids stay within `upsAlarmId`'s range (1..2147483647).
const MAX_ID: u32 = i32::MAX as u32;

impl Default for AlarmTable {
    fn default() -> Self {
        AlarmTable {
            next_id: 1,
            rows: Vec::new(),
        }
    }
}

impl AlarmTable {
    pub fn rows(&self) -> &[Alarm] {
        &self.rows
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn contains(&self, arc: u32) -> bool {
        self.rows.iter().any(|a| a.arc == arc)
    }

    /// Makes the table hold exactly the alarms `wanted` (well-known arcs):
    /// rows for conditions that ended are removed, new conditions get a
    /// fresh id stamped `now`. Returns the changes, removals first.
    pub fn sync(&mut self, wanted: &[u32], now: u32) -> Vec<AlarmChange> {
        let mut changes = Vec::new();
        self.rows.retain(|alarm| {
            let keep = wanted.contains(&alarm.arc);
            if !keep {
                changes.push(AlarmChange::Removed(*alarm));
            }
            keep
        });
        for &arc in wanted {
            if !self.contains(arc) {
                let alarm = Alarm {
                    id: self.fresh_id(),
                    arc,
                    since: now,
                };
                self.rows.push(alarm);
                changes.push(AlarmChange::Added(alarm));
            }
        }
        changes
    }

    /// The next id; after 2^31-1 ids it wraps to 1, skipping ids in use.
    fn fresh_id(&mut self) -> u32 {
        loop {
            let id = self.next_id;
            self.next_id = if id >= MAX_ID { 1 } else { id + 1 };
            if !self.rows.iter().any(|a| a.id == id) {
                return id;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_never_reused() {
        let mut table = AlarmTable::default();
        let mut seen = Vec::new();
        for round in 0..50u32 {
            let wanted: Vec<u32> = [2, 3, 8]
                .into_iter()
                .filter(|a| (round + a) % 3 != 0)
                .collect();
            for change in table.sync(&wanted, round) {
                if let AlarmChange::Added(alarm) = change {
                    assert!(!seen.contains(&alarm.id), "id {} reused", alarm.id);
                    seen.push(alarm.id);
                }
            }
        }
        assert!(seen.len() > 10);
    }

    #[test]
    fn rows_follow_the_conditions_with_timestamps() {
        let mut table = AlarmTable::default();
        let changes = table.sync(&[2, 6], 100);
        assert_eq!(
            changes,
            vec![
                AlarmChange::Added(Alarm {
                    id: 1,
                    arc: 2,
                    since: 100
                }),
                AlarmChange::Added(Alarm {
                    id: 2,
                    arc: 6,
                    since: 100
                }),
            ]
        );
        assert!(table.sync(&[2, 6], 200).is_empty(), "no change, no event");
        let changes = table.sync(&[6, 3], 300);
        assert_eq!(
            changes,
            vec![
                AlarmChange::Removed(Alarm {
                    id: 1,
                    arc: 2,
                    since: 100
                }),
                AlarmChange::Added(Alarm {
                    id: 3,
                    arc: 3,
                    since: 300
                }),
            ]
        );
        assert_eq!(
            table.rows().iter().map(|a| a.id).collect::<Vec<_>>(),
            vec![2, 3]
        );
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn wrapping_skips_ids_in_use() {
        let mut table = AlarmTable {
            next_id: MAX_ID,
            rows: vec![Alarm {
                id: 1,
                arc: 9,
                since: 0,
            }],
        };
        let changes = table.sync(&[9, 2, 3], 5);
        let ids: Vec<u32> = changes
            .iter()
            .filter_map(|c| match c {
                AlarmChange::Added(a) => Some(a.id),
                AlarmChange::Removed(_) => None,
            })
            .collect();
        assert_eq!(ids, vec![MAX_ID, 2]);
    }
}
