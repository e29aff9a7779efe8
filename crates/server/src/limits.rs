//! The limits that keep the server answering well-behaved clients when others are slow,
//! idle, or send too much: how many connections it holds, how long a client may take over
//! its request headers and its body, and how much memory request bodies may take at once.
//! [`Limits`] is part of [`crate::ServerOptions`]; `evident serve` sets it from its flags.

use std::time::Duration;

/// The largest request head (request line and headers) a client may send; a larger one is
/// answered `431` and the connection closed.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Limits on connections and request bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The most connections held open at once (at most half the file-descriptor limit, so
    /// the database and the blocking threads keep descriptors of their own). When all are
    /// taken, a newcomer takes the place of the oldest connection with no request in
    /// progress (idle, or still sending its headers); it waits only while every connection
    /// has a request in progress.
    pub max_connections: usize,
    /// How long a client has to send a whole request head, counted from the moment the
    /// server waits for it: so also how long a keep-alive connection may sit idle. A slower
    /// client (slowloris) is disconnected.
    pub header_timeout: Duration,
    /// How long a client has to send a whole request body; a slower one is answered `408`.
    pub body_timeout: Duration,
    /// How many bytes of request bodies the server holds at once, over all requests; past
    /// it, a request is answered `503` with `Retry-After` rather than read.
    pub body_memory: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(60),
            body_memory: 256 << 20,
        }
    }
}

impl Limits {
    /// [`Limits::max_connections`], capped at half the process's file-descriptor limit where
    /// the system says what it is (Linux), and at least 1.
    pub fn effective_max_connections(&self) -> usize {
        let cap = open_files_limit().map_or(usize::MAX, |n| n / 2);
        self.max_connections.min(cap).max(1)
    }
}

/// The soft limit on open files of this process, from `/proc/self/limits` (Linux).
fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_files(&limits)
}

fn parse_open_files(limits: &str) -> Option<usize> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_files_limit_is_read_from_proc() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max cpu time              unlimited            unlimited            seconds   \n\
                      Max open files            1024                 524288               files     \n";
        assert_eq!(parse_open_files(limits), Some(1024));
        assert_eq!(
            parse_open_files("Max open files unlimited unlimited files"),
            None
        );
        assert_eq!(parse_open_files(""), None);
    }

    #[test]
    fn connections_stay_under_half_the_descriptors() {
        let limits = Limits {
            max_connections: usize::MAX,
            ..Limits::default()
        };
        if let Some(files) = open_files_limit() {
            assert_eq!(limits.effective_max_connections(), (files / 2).max(1));
        }
        let one = Limits {
            max_connections: 0,
            ..Limits::default()
        };
        assert_eq!(one.effective_max_connections(), 1);
    }
}
