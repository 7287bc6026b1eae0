//! A tiny deterministic random generator (SplitMix64) for `--seed`: it gives
//! each agent its own plausible readings (mains voltage, load, temperatures,
//! serial number) so that 500 agents do not all look alike, and the same
//! seed always gives the same fleet.

/// SplitMix64: small, fast and good enough for picking plausible values.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for agent `index` of a fleet started with `seed`.
    pub fn for_agent(seed: u64, index: u32) -> Rng {
        Rng(seed ^ u64::from(index).wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A float in `[lo, hi)`.
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        lo + unit * (hi - lo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_values_and_agents_differ() {
        let a: Vec<u64> = (0..4).map(|_| Rng::for_agent(7, 1).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            Rng::for_agent(7, 1).next_u64(),
            Rng::for_agent(7, 2).next_u64()
        );
        let mut rng = Rng::for_agent(1, 0);
        for _ in 0..1000 {
            let x = rng.range(2.0, 3.0);
            assert!((2.0..3.0).contains(&x));
        }
    }
}
