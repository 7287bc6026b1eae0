//! A fast 64-bit hash for data we hash per poll and never take from an
//! adversary: the point table's keys and the fingerprint of what a GET
//! returned (see `model::PollRead::fingerprints`).
//!
//! SipHash, std's default, resists hash flooding, which neither use needs,
//! and cost more than the work it guards. Each word is folded in by a
//! rotate, xor and multiply by an odd constant: a bijection of the state
//! for a fixed word and of the word for a fixed state, so two inputs of the
//! same length that differ in one word never hash alike.

use std::hash::Hasher;

/// Multiply-rotate hashing, 8 bytes at a time.
#[derive(Debug, Default, Clone, Copy)]
pub struct FastHasher(u64);

/// For `HashMap`s keyed by what [`FastHasher`] suits.
pub type FastHash = std::hash::BuildHasherDefault<FastHasher>;

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut full = [0; 8];
            full.copy_from_slice(word);
            self.write_u64(u64::from_le_bytes(full));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut padded = [0; 8];
            padded[..rest.len()].copy_from_slice(rest);
            self.write_u64(u64::from_le_bytes(padded));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }

    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::Hash;

    fn hash_of(value: &(impl Hash + ?Sized)) -> u64 {
        let mut hasher = FastHasher::default();
        value.hash(&mut hasher);
        hasher.finish()
    }

    /// Every one-byte change of a reply-sized input changes the hash, and
    /// so does a change of length or of where bytes fall.
    #[test]
    fn one_changed_byte_or_length_changes_the_hash() {
        let base: Vec<u8> = (0..=255).cycle().take(1000).collect();
        let original = hash_of(&base);
        for at in 0..base.len() {
            for flip in [1u8, 0x80, 0xff] {
                let mut changed = base.clone();
                changed[at] ^= flip;
                assert_ne!(hash_of(&changed), original, "byte {at} ^ {flip:#x}");
            }
        }
        assert_ne!(hash_of(&base[..999]), original);
        assert_ne!(
            hash_of(&(&base[..4], &base[4..])),
            hash_of(&(&base[..5], &base[5..]))
        );
    }
}
