//! The heap the process holds, counted by a wrapping allocator (the `cap` crate), so a runaway
//! script — `s += s` in a loop, a table that grows without end — is stopped with a clear error
//! long before it takes the PC's memory. Counting is one atomic add per allocation.

/// Every allocation of the process goes through this; no limit is set here (the run checks the
/// count between script operations and stops the script instead of failing an allocation).
#[global_allocator]
static ALLOCATOR: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

/// Bytes the process holds on the heap now.
pub fn held_bytes() -> usize {
    ALLOCATOR.allocated()
}

#[cfg(test)]
mod tests {
    /// Other tests allocate and free at the same time, so a measurement may be off by what
    /// they did meanwhile: one of a few tries must see the 64 MiB come and go (a count that
    /// missed it never would).
    #[test]
    fn a_large_allocation_is_counted_and_its_release_too() {
        const BIG: usize = 64 << 20;
        let seen = (0..10).any(|_| {
            let before = super::held_bytes();
            // black_box: an allocation nobody reads may be optimised away.
            let big = std::hint::black_box(vec![1u8; BIG]);
            let with = super::held_bytes();
            drop(big);
            let after = super::held_bytes();
            with >= before + BIG && after + BIG <= with
        });
        assert!(seen, "64 MiB allocated and freed were not counted");
    }
}
