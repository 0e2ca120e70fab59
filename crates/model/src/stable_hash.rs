//! One stable hash for everything whose output must not change across runs, platforms and Rust
//! versions: person ids, tie-breaks in name explanations, the linkage bench's outcome digest.

/// FNV-1a (64 bits) over bytes fed in any number of pieces: the same bytes give the same value
/// however they are split. `std`'s `DefaultHasher` does not promise its algorithm across Rust
/// versions, and person ids are stored.
#[derive(Clone, Copy, Debug)]
pub struct Fnv1a(u64);

impl Fnv1a {
    pub const fn new() -> Fnv1a {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }

    #[inline]
    pub fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    pub fn finish(self) -> u64 {
        self.0
    }
}

impl Default for Fnv1a {
    fn default() -> Fnv1a {
        Fnv1a::new()
    }
}

/// The FNV-1a hash of `bytes` in one piece.
#[inline]
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash = Fnv1a::new();
    hash.write(bytes);
    hash.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_the_published_test_vectors() {
        // From the FNV reference test suite (Fowler, Noll, Vo).
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    proptest! {
        #[test]
        fn pieces_hash_as_the_whole(bytes in proptest::collection::vec(any::<u8>(), 0..64), cut in 0usize..64) {
            let cut = cut.min(bytes.len());
            let mut pieces = Fnv1a::new();
            pieces.write(&bytes[..cut]);
            pieces.write(&bytes[cut..]);
            prop_assert_eq!(pieces.finish(), fnv1a(&bytes));
        }
    }
}
