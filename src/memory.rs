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
    #[test]
    fn a_large_allocation_is_counted_and_its_release_too() {
        let before = super::held_bytes();
        let big = vec![1u8; 64 << 20];
        assert!(super::held_bytes() >= before + (64 << 20));
        drop(big);
        assert!(super::held_bytes() < before + (64 << 20));
    }
}
