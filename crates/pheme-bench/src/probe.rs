//! What the kernel says about a process: CPU time (nanoseconds, summed over its threads) and
//! resident memory.

use std::path::PathBuf;

/// CPU time a process spent so far, in nanoseconds, summed over its live threads
/// (`/proc/<pid>/task/*/schedstat`, whose first field is time on a CPU in ns).
pub fn cpu_ns(pid: u32) -> std::io::Result<u64> {
    let mut total = 0u64;
    for task in std::fs::read_dir(PathBuf::from(format!("/proc/{pid}/task")))? {
        let path = task?.path().join("schedstat");
        // A thread may end between the listing and the read.
        if let Ok(s) = std::fs::read_to_string(path) {
            total += s
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Ok(total)
}

/// Resident memory of a process: (now, peak), in bytes (`VmRSS`, `VmHWM`).
pub fn rss_bytes(pid: u32) -> std::io::Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    Ok((field("VmRSS:"), field("VmHWM:")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_this_process() {
        let pid = std::process::id();
        let before = cpu_ns(pid).unwrap();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(cpu_ns(pid).unwrap() > before);
        let (rss, peak) = rss_bytes(pid).unwrap();
        assert!(rss > 1 << 20 && peak >= rss, "{rss} {peak}");
    }
}
