//! The process limits a large run needs.

/// Raises the open-file limit (one descriptor per connection; the default soft limit is often
/// 1,024): first both limits to the kernel's ceiling `fs.nr_open` (allowed for root, which
/// the load test runs as on its own machine), else the soft limit to the hard limit. Returns
/// the soft limit now in force, if it could be read.
///
/// The `rlimit` crate does this through a safe API, so the crate stays `forbid(unsafe_code)`;
/// libc would need `unsafe`, and nix is far larger for two calls.
pub fn raise_nofile_limit() -> Option<u64> {
    if let Some(ceiling) = std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        && let Ok((soft, hard)) = rlimit::getrlimit(rlimit::Resource::NOFILE)
        && (soft < ceiling || hard < ceiling)
    {
        // Fails without CAP_SYS_RESOURCE when the hard limit would rise: then the fallback.
        let _ = rlimit::setrlimit(rlimit::Resource::NOFILE, ceiling, ceiling.max(hard));
    }
    rlimit::increase_nofile_limit(u64::MAX).ok()
}
