//! Object identifiers: the one primitive shared by the point table, the SNMP
//! client, the trap decoder and the simulator.
//!
//! An [`Oid`] is an owned sequence of arcs. Its derived ordering is
//! lexicographic over the arcs, which is exactly SNMP's GETNEXT order, so a
//! `BTreeMap<Oid, _>` iterates like a MIB walk.

use std::fmt;
use std::str::FromStr;

/// An SNMP object identifier, e.g. `1.3.6.1.2.1.33.1.1.1.0`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Oid(Vec<u32>);

/// Why a dotted string is not an OID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid OID {text:?}: {reason}")]
pub struct OidParseError {
    text: String,
    reason: &'static str,
}

impl Oid {
    /// Builds an OID from its arcs.
    pub fn from_arcs(arcs: impl Into<Vec<u32>>) -> Self {
        Oid(arcs.into())
    }

    /// The arcs, first to last.
    pub fn arcs(&self) -> &[u32] {
        &self.0
    }

    /// Number of arcs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for the empty OID (never sent on the wire).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when `self` lies in the subtree rooted at `root` (or equals it).
    pub fn starts_with(&self, root: &Oid) -> bool {
        self.0.starts_with(&root.0)
    }

    /// The arcs after `root`, when `self` lies strictly below `root`.
    pub fn suffix_after(&self, root: &Oid) -> Option<&[u32]> {
        if self.0.len() > root.0.len() && self.starts_with(root) {
            Some(&self.0[root.0.len()..])
        } else {
            None
        }
    }

    /// A new OID with `arc` appended (`sysDescr` → `sysDescr.0`).
    pub fn child(&self, arc: u32) -> Oid {
        let mut arcs = self.0.clone();
        arcs.push(arc);
        Oid(arcs)
    }

    /// A new OID with all of `arcs` appended.
    pub fn join(&self, arcs: &[u32]) -> Oid {
        let mut all = self.0.clone();
        all.extend_from_slice(arcs);
        Oid(all)
    }

    /// The OID without its last arc (`None` for the empty OID).
    pub fn parent(&self) -> Option<Oid> {
        let (_, head) = self.0.split_last()?;
        Some(Oid(head.to_vec()))
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
        let arcs = body
            .split('.')
            .map(|arc| {
                arc.parse::<u32>()
                    .map_err(|_| err("arcs must be numbers 0..2^32"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if arcs.len() < 2 {
            return Err(err("needs at least two arcs"));
        }
        Ok(Oid(arcs))
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
        for arc in &self.0 {
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
}
