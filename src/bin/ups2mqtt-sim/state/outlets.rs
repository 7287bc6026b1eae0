//! Switchable outputs and the timer wheel that switches them: MGE
//! receptacles (index 1 is the whole UPS output, quirk Q9), PowerNet outlet
//! groups (index 1 is the main group) and the delayed actions of every MIB
//! (receptacle on/off/toggle delays, outlet group delayed commands and
//! reboots, RFC 1628 shutdown/startup/reboot countdowns).

use std::time::Duration;

/// MGE `mgreceptacleOn/Off/ToggleStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CtrlStatus {
    None,
    Started,
    InProgress,
    Completed,
}

impl CtrlStatus {
    /// The point table's label.
    pub fn label(self) -> &'static str {
        match self {
            CtrlStatus::None => "none",
            CtrlStatus::Started => "started",
            CtrlStatus::InProgress => "in_progress_in_ups",
            CtrlStatus::Completed => "completed",
        }
    }
}

/// One MGE receptacle.
#[derive(Debug, Clone, PartialEq)]
pub struct Receptacle {
    pub on: bool,
    /// The last switch came from a control command (state `control_on/off`
    /// rather than `normal_on` / `manual_off`).
    pub controlled: bool,
    pub on_status: CtrlStatus,
    pub off_status: CtrlStatus,
    pub toggle_status: CtrlStatus,
}

impl Default for Receptacle {
    fn default() -> Self {
        Receptacle {
            on: true,
            controlled: false,
            on_status: CtrlStatus::None,
            off_status: CtrlStatus::None,
            toggle_status: CtrlStatus::None,
        }
    }
}

impl Receptacle {
    /// `mgreceptacleState` label.
    pub fn state_label(&self) -> &'static str {
        match (self.on, self.controlled) {
            (true, false) => "normal_on",
            (true, true) => "control_on",
            (false, false) => "normal_off",
            (false, true) => "control_off",
        }
    }
}

/// One PowerNet outlet group.
#[derive(Debug, Clone, PartialEq)]
pub struct OutletGroup {
    pub on: bool,
    pub name: String,
}

/// What a timed action switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The whole UPS output (MGE receptacle 1, PowerNet main group, RFC
    /// shutdown/startup, PowerNet UPS commands).
    Output,
    Receptacle(u32),
    Group(u32),
}

/// Which command a timed action belongs to (for cancelling it, for the
/// "pending" and countdown readings, and for the completion traps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    ReceptacleOn(u32),
    ReceptacleOff(u32),
    ReceptacleToggle(u32),
    Group(u32),
    RfcShutdown,
    RfcStartup,
    RfcReboot,
    PowerNet,
}

/// A switch to apply at `at` (uptime).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timed {
    pub at: Duration,
    pub tag: Tag,
    pub target: Target,
    pub on: bool,
}

/// The pending timed actions, soonest first.
#[derive(Debug, Clone, Default)]
pub struct Schedule {
    items: Vec<Timed>,
}

impl Schedule {
    pub fn add(&mut self, item: Timed) {
        let at = self.items.partition_point(|i| i.at <= item.at);
        self.items.insert(at, item);
    }

    /// Removes every action of `tag`; true when there was one.
    pub fn cancel(&mut self, tag: Tag) -> bool {
        let before = self.items.len();
        self.items.retain(|i| i.tag != tag);
        before != self.items.len()
    }

    /// Removes and returns the actions due at `now`, in time order.
    pub fn take_due(&mut self, now: Duration) -> Vec<Timed> {
        let due = self.items.partition_point(|i| i.at <= now);
        self.items.drain(..due).collect()
    }

    pub fn next_deadline(&self) -> Option<Duration> {
        self.items.first().map(|i| i.at)
    }

    /// The first pending action of `tag`.
    pub fn find(&self, tag: Tag) -> Option<&Timed> {
        self.items.iter().find(|i| i.tag == tag)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timed(secs: u64, tag: Tag) -> Timed {
        Timed {
            at: Duration::from_secs(secs),
            tag,
            target: Target::Output,
            on: false,
        }
    }

    #[test]
    fn schedule_runs_in_time_order_and_cancels_by_tag() {
        let mut s = Schedule::default();
        s.add(timed(5, Tag::RfcShutdown));
        s.add(timed(2, Tag::Group(2)));
        s.add(timed(9, Tag::Group(2)));
        assert_eq!(s.next_deadline(), Some(Duration::from_secs(2)));
        assert_eq!(s.take_due(Duration::from_secs(5)).len(), 2);
        assert_eq!(s.len(), 1);
        assert!(s.cancel(Tag::Group(2)));
        assert!(!s.cancel(Tag::Group(2)));
        assert_eq!(s.next_deadline(), None);
    }

    #[test]
    fn receptacle_state_labels() {
        let mut r = Receptacle::default();
        assert_eq!(r.state_label(), "normal_on");
        r.on = false;
        r.controlled = true;
        assert_eq!(r.state_label(), "control_off");
    }
}
