//! Object identifiers: the one primitive shared by the point table, the SNMP
//! client, the trap decoder and the simulator.
//!
//! An [`Oid`] is an owned sequence of arcs. Its ordering is lexicographic
//! over the arcs, which is exactly SNMP's GETNEXT order, so a
//! `BTreeMap<Oid, _>` iterates like a MIB walk.
//!
//! The arcs live inline, without a heap allocation, up to [`INLINE_ARCS`]
//! (every cell of the three UPS MIBs, PowerNet's deepest at 17 included):
//! the poll path creates, clones and drops thousands of OIDs per second.
//! Longer OIDs (the network may send up to 128 arcs) fall back to the heap.
//! Equality, ordering and hashing only ever look at the arcs, so the two
//! representations never disagree.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// How many arcs an [`Oid`] holds without a heap allocation. 19 arcs
/// keep `size_of::<Oid>()` at 80 bytes (a `Vec<u32>` is 24 bytes plus a
/// heap block of 48 to 96 bytes for the OIDs UPS MIBs use).
pub const INLINE_ARCS: usize = 19;

/// An SNMP object identifier, e.g. `1.3.6.1.2.1.33.1.1.1.0`.
#[derive(Clone, Default)]
pub struct Oid(Arcs);

/// The arcs, inline when they fit; `Heap` only holds more than
/// [`INLINE_ARCS`] arcs.
#[derive(Clone)]
enum Arcs {
    Inline { len: u8, arcs: [u32; INLINE_ARCS] },
    Heap(Vec<u32>),
}

impl Default for Arcs {
    fn default() -> Self {
        Arcs::Inline {
            len: 0,
            arcs: [0; INLINE_ARCS],
        }
    }
}

/// Why a dotted string is not an OID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid OID {text:?}: {reason}")]
pub struct OidParseError {
    text: String,
    reason: &'static str,
}

impl Oid {
    /// Builds an OID from its arcs (a slice, array or `Vec`).
    pub fn from_arcs(arcs: impl AsRef<[u32]>) -> Self {
        let mut oid = Oid::default();
        oid.extend_from_slice(arcs.as_ref());
        oid
    }

    /// The arcs, first to last.
    pub fn arcs(&self) -> &[u32] {
        match &self.0 {
            Arcs::Inline { len, arcs } => &arcs[..usize::from(*len)],
            Arcs::Heap(arcs) => arcs,
        }
    }

    /// Number of arcs.
    pub fn len(&self) -> usize {
        self.arcs().len()
    }

    /// True for the empty OID (never sent on the wire).
    pub fn is_empty(&self) -> bool {
        self.arcs().is_empty()
    }

    /// Appends one arc, moving to the heap past [`INLINE_ARCS`].
    pub fn push(&mut self, arc: u32) {
        match &mut self.0 {
            Arcs::Inline { len, arcs } if usize::from(*len) < INLINE_ARCS => {
                arcs[usize::from(*len)] = arc;
                *len += 1;
            }
            _ => self.extend_from_slice(&[arc]),
        }
    }

    /// Appends `more` arcs, moving to the heap past [`INLINE_ARCS`].
    pub fn extend_from_slice(&mut self, more: &[u32]) {
        match &mut self.0 {
            Arcs::Inline { len, arcs } => {
                let old = usize::from(*len);
                let new = old + more.len();
                if new <= INLINE_ARCS {
                    arcs[old..new].copy_from_slice(more);
                    *len = new as u8;
                } else {
                    let mut heap = Vec::with_capacity(new);
                    heap.extend_from_slice(&arcs[..old]);
                    heap.extend_from_slice(more);
                    self.0 = Arcs::Heap(heap);
                }
            }
            Arcs::Heap(arcs) => arcs.extend_from_slice(more),
        }
    }

    /// True when `self` lies in the subtree rooted at `root` (or equals it).
    pub fn starts_with(&self, root: &Oid) -> bool {
        self.arcs().starts_with(root.arcs())
    }

    /// The arcs after `root`, when `self` lies strictly below `root`.
    pub fn suffix_after(&self, root: &Oid) -> Option<&[u32]> {
        if self.len() > root.len() && self.starts_with(root) {
            Some(&self.arcs()[root.len()..])
        } else {
            None
        }
    }

    /// A new OID with `arc` appended (`sysDescr` → `sysDescr.0`).
    pub fn child(&self, arc: u32) -> Oid {
        self.join(&[arc])
    }

    /// A new OID with all of `arcs` appended.
    pub fn join(&self, arcs: &[u32]) -> Oid {
        let mut all = Oid::from_arcs(self.arcs());
        all.extend_from_slice(arcs);
        all
    }

    /// The OID without its last arc (`None` for the empty OID).
    pub fn parent(&self) -> Option<Oid> {
        let (_, head) = self.arcs().split_last()?;
        Some(Oid::from_arcs(head))
    }

    /// Parses a dotted OID; a leading dot is accepted (`.1.3.6`).
    pub fn parse(text: &str) -> Result<Oid, OidParseError> {
        let err = |reason| OidParseError {
            text: text.to_string(),
            reason,
        };
        let body = text.trim().strip_prefix('.').unwrap_or(text.trim());
        if body.is_empty() {
            return Err(err("empty"));
        }
        let mut oid = Oid::default();
        for arc in body.split('.') {
            let arc = arc
                .parse::<u32>()
                .map_err(|_| err("arcs must be numbers 0..2^32"))?;
            oid.push(arc);
        }
        if oid.len() < 2 {
            return Err(err("needs at least two arcs"));
        }
        Ok(oid)
    }
}

impl PartialEq for Oid {
    fn eq(&self, other: &Oid) -> bool {
        self.arcs() == other.arcs()
    }
}

impl Eq for Oid {}

impl PartialOrd for Oid {
    fn partial_cmp(&self, other: &Oid) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Oid {
    fn cmp(&self, other: &Oid) -> Ordering {
        self.arcs().cmp(other.arcs())
    }
}

impl Hash for Oid {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.arcs().hash(state);
    }
}

impl FromStr for Oid {
    type Err = OidParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Oid::parse(s)
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for arc in self.arcs() {
            if !first {
                f.write_str(".")?;
            }
            write!(f, "{arc}")?;
            first = false;
        }
        Ok(())
    }
}

impl fmt::Debug for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oid({self})")
    }
}

impl serde::Serialize for Oid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Oid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Oid::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        let oid = Oid::parse(".1.3.6.1.2.1.33.1.1.1.0").unwrap();
        assert_eq!(oid.to_string(), "1.3.6.1.2.1.33.1.1.1.0");
        assert_eq!(oid.len(), 11);
    }

    #[test]
    fn rejects_garbage() {
        assert!(Oid::parse("").is_err());
        assert!(Oid::parse("1").is_err());
        assert!(Oid::parse("1.3.x").is_err());
        assert!(Oid::parse("1..3").is_err());
        assert!(Oid::parse("1.3.99999999999").is_err());
    }

    #[test]
    fn orders_like_getnext() {
        let a = Oid::parse("1.3.6.1.2.1.33.1.2").unwrap();
        let b = Oid::parse("1.3.6.1.2.1.33.1.2.1.0").unwrap();
        let c = Oid::parse("1.3.6.1.2.1.33.1.10").unwrap();
        assert!(a < b && b < c);
    }

    #[test]
    fn subtree_helpers() {
        let root = Oid::parse("1.3.6.1.4.1.705.1.6.2.1.2").unwrap();
        let cell = Oid::parse("1.3.6.1.4.1.705.1.6.2.1.2.1.0").unwrap();
        assert!(cell.starts_with(&root));
        assert_eq!(cell.suffix_after(&root), Some(&[1, 0][..]));
        assert_eq!(root.suffix_after(&root), None);
        assert_eq!(root.child(3).parent().unwrap(), root);
    }

    fn hash_of(oid: &Oid) -> u64 {
        use std::collections::hash_map::DefaultHasher;
        let mut hasher = DefaultHasher::new();
        oid.hash(&mut hasher);
        hasher.finish()
    }

    /// `1.3.6.1.4.1.318` followed by arcs up to `len` arcs in all.
    fn apc(len: usize) -> Vec<u32> {
        let mut arcs = vec![1, 3, 6, 1, 4, 1, 318];
        arcs.extend((1..).take(len - arcs.len()));
        arcs
    }

    #[test]
    fn inline_and_heap_oids_follow_the_arcs() {
        let at = apc(INLINE_ARCS);
        let over = apc(INLINE_ARCS + 1);
        // Built arc by arc, from a slice, by join and by parsing: the same
        // OID whatever the route, on both sides of the boundary.
        for arcs in [&at, &over] {
            let text = arcs
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(".");
            let mut pushed = Oid::default();
            arcs.iter().for_each(|&a| pushed.push(a));
            let joined = Oid::from_arcs(&arcs[..3]).join(&arcs[3..]);
            let parsed = Oid::parse(&text).unwrap();
            for oid in [&pushed, &joined, &parsed] {
                assert_eq!(oid.arcs(), &arcs[..]);
                assert_eq!(oid, &Oid::from_arcs(arcs));
                assert_eq!(hash_of(oid), hash_of(&Oid::from_arcs(arcs)));
                assert_eq!(oid.to_string(), text);
            }
        }
        let at = Oid::from_arcs(&at);
        let over = Oid::from_arcs(&over);
        assert!(matches!(at.0, Arcs::Inline { .. }));
        assert!(matches!(over.0, Arcs::Heap(_)));
        // Across the boundary: a prefix sorts first, then arc by arc.
        assert!(at < over);
        assert_eq!(over.parent().unwrap(), at);
        assert!(matches!(over.parent().unwrap().0, Arcs::Inline { .. }));
        assert_eq!(at.child(INLINE_ARCS as u32 - 6), over);
        assert!(over.starts_with(&at) && !at.starts_with(&over));
        assert_eq!(over.suffix_after(&at), Some(&[INLINE_ARCS as u32 - 6][..]));
        let mut bigger_inline = at.clone();
        bigger_inline.0 = Arcs::Inline {
            len: 8,
            arcs: {
                let mut a = [0; INLINE_ARCS];
                a[..8].copy_from_slice(&[1, 3, 6, 1, 4, 1, 318, 2]);
                a
            },
        };
        // 1.3.6.1.4.1.318.2 > 1.3.6.1.4.1.318.1.2.… (inline above heap).
        assert!(bigger_inline > over && over > at);
        // A heap OID that is not canonical (a short one on the heap) still
        // equals, hashes and orders like its arcs.
        let short_heap = Oid(Arcs::Heap(vec![1, 3, 6]));
        let short_inline = Oid::from_arcs([1, 3, 6]);
        assert_eq!(short_heap, short_inline);
        assert_eq!(hash_of(&short_heap), hash_of(&short_inline));
        assert_eq!(short_heap.cmp(&short_inline), Ordering::Equal);
        assert!(short_heap < at);
    }

    #[test]
    fn order_is_the_order_of_the_arc_slices() {
        // Every pair of a set with shared prefixes of every length, one
        // arc changed at every position (equal, +1, wrapped), on both
        // sides of the inline/heap boundary.
        let mut all: Vec<Vec<u32>> = Vec::new();
        for len in 0..=INLINE_ARCS + 3 {
            let base = apc(len.max(7))[..len].to_vec();
            for at in 0..len {
                for delta in [0u32, 1, u32::MAX] {
                    let mut arcs = base.clone();
                    arcs[at] = arcs[at].wrapping_add(delta);
                    all.push(arcs);
                }
            }
            all.push(base);
        }
        for a in &all {
            for b in &all {
                let (x, y) = (Oid::from_arcs(a), Oid::from_arcs(b));
                assert_eq!(x.cmp(&y), a.cmp(b), "{a:?} vs {b:?}");
                assert_eq!(x == y, a == b, "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn long_oids_from_the_network_fit() {
        let arcs: Vec<u32> = (0..128).collect();
        let oid = Oid::from_arcs(&arcs);
        assert_eq!(oid.arcs(), &arcs[..]);
        assert_eq!(oid.len(), 128);
    }

    #[test]
    fn stays_small() {
        assert!(std::mem::size_of::<Oid>() <= 80);
    }
}
