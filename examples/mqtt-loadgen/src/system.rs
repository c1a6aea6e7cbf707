//! The process limits a large run needs.

/// Raises the soft open-file limit to the hard limit (one descriptor per connection, and the
/// default soft limit is often 1,024); returns the limit now in force, if it could be read.
///
/// The `rlimit` crate does this through a safe API, so the crate stays `forbid(unsafe_code)`;
/// libc would need `unsafe`, and nix is far larger for one call.
pub fn raise_nofile_limit() -> Option<u64> {
    rlimit::increase_nofile_limit(u64::MAX).ok()
}
