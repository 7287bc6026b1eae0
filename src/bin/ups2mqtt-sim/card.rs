//! One simulated card model, shared by every agent of the process: its
//! layout, defaults, OID plan and how each agent's state starts (seeded per
//! agent, or all alike from a `--walk`).

use crate::defaults::Defaults;
use crate::layout::Layout;
use crate::snmprec::Walk;
use crate::state::{Ratings, Readings, Settings, UpsState};
use crate::view::{Plan, PlanOptions};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use ups2mqtt::mib::{Mib, Page};
use ups2mqtt::pages::{self, ScaleOverrides};
use ups2mqtt::snmp::Value;

/// What the card is built from (the command line, in the binary).
#[derive(Debug, Clone)]
pub struct CardOptions {
    pub mibs: BTreeSet<Mib>,
    pub layout: Layout,
    pub quirks: bool,
    pub walk: Option<Walk>,
    pub seed: u64,
    pub test_duration: Duration,
    /// Unix time the agents start at (for dates).
    pub start_unix: u64,
}

/// The shared, immutable part of every agent.
#[derive(Debug)]
pub struct Card {
    pub plan: Plan,
    pub mibs: BTreeSet<Mib>,
    defaults: Arc<Defaults>,
    settings: Settings,
    /// With a walk, every agent starts from these readings.
    walked: Option<Readings>,
    seed: u64,
}

impl Card {
    pub fn build(options: CardOptions) -> Card {
        let walk = options.walk.as_ref();
        let walk_pages = walk.map(|w| pages::decode_all(&Page::ALL, w, &ScaleOverrides::new()));
        let layout = match &walk_pages {
            Some(pages) => walked_layout(pages, options.layout),
            None => options.layout,
        };
        let defaults = Arc::new(Defaults::build(&layout, walk));
        let ratings = Ratings::from_defaults(&defaults);
        let uptime_base = walk
            .and_then(|w| w.get(&crate::view::SYS_UPTIME.parse().expect("valid OID")))
            .and_then(Value::as_i64)
            .map_or(0, |t| t as u32);
        let settings = Settings {
            layout,
            ratings,
            test_duration: options.test_duration,
            start_unix: options.start_unix,
            uptime_base,
        };
        let seeded = Readings::seeded(options.seed, 0, &layout, &ratings);
        let walked = walk_pages.map(|pages| Readings::from_pages(&pages, &layout, &seeded));
        let template = UpsState::new(
            settings.clone(),
            defaults.clone(),
            walked.clone().unwrap_or(seeded),
        );
        let plan = Plan::build(&PlanOptions {
            mibs: &options.mibs,
            layout,
            quirks: options.quirks,
            walk,
            defaults: &defaults,
            template: &template,
        });
        Card {
            plan,
            mibs: options.mibs,
            defaults,
            settings,
            walked,
            seed: options.seed,
        }
    }

    /// A fresh state for agent `index`.
    pub fn state(&self, index: u32) -> UpsState {
        let readings = match &self.walked {
            Some(readings) => readings.clone(),
            None => Readings::seeded(
                self.seed,
                index,
                &self.settings.layout,
                &self.settings.ratings,
            ),
        };
        UpsState::new(self.settings.clone(), self.defaults.clone(), readings)
    }

    pub fn layout(&self) -> &Layout {
        &self.settings.layout
    }
}

/// A walk's line count replaces `--phases`.
fn walked_layout(
    pages: &std::collections::BTreeMap<Page, pages::PageOutcome>,
    layout: Layout,
) -> Layout {
    let lines = [Page::Input, Page::Output]
        .iter()
        .find_map(|p| pages.get(p)?.json.get("num_lines")?.as_u64())
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| (1..=3).contains(n));
    Layout {
        phases: lines.unwrap_or(layout.phases),
        ..layout
    }
}
