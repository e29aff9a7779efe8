//! What the benchmarks measure with: latency percentiles and their formatting, the CPU time
//! the kernel accounts to threads, the host's own stalls, and a minimal HTTP/1.1 client cheap
//! enough to generate load on the cores the server runs on.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// The `p` quantile (0 to 1) of sorted samples, by nearest rank; zero when there are none.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// A latency for humans: microseconds under a millisecond, else milliseconds.
pub fn fmt_d(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.1} µs")
    } else {
        format!("{:.2} ms", us / 1000.0)
    }
}

/// CPU time the kernel accounts to threads, from `/proc/.../schedstat` (Linux): how long
/// each ran, and how long it was runnable but waiting for a core. On a shared host the CPU a
/// request costs is a steadier figure than its latency, which the host's stalls dominate.
#[derive(Debug, Clone, Copy, Default)]
pub struct ThreadTime {
    /// nanoseconds on a core
    pub ran_ns: u64,
    /// nanoseconds runnable, waiting for a core
    pub waited_ns: u64,
}

impl ThreadTime {
    fn parse(text: &str) -> Option<Self> {
        let mut fields = text.split_whitespace().map(str::parse::<u64>);
        Some(Self {
            ran_ns: fields.next()?.ok()?,
            waited_ns: fields.next()?.ok()?,
        })
    }

    /// The calling thread's times so far; `None` where the kernel does not keep them.
    pub fn this_thread() -> Option<Self> {
        Self::parse(&std::fs::read_to_string("/proc/thread-self/schedstat").ok()?)
    }

    /// The times of this process's live threads whose name starts with `prefix`, summed.
    pub fn threads_named(prefix: &str) -> Option<Self> {
        let mut total = Self::default();
        for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
            let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if !name.starts_with(prefix) {
                continue;
            }
            if let Some(t) = std::fs::read_to_string(task.path().join("schedstat"))
                .ok()
                .as_deref()
                .and_then(Self::parse)
            {
                total = total + t;
            }
        }
        Some(total)
    }

    /// Microseconds on a core.
    pub fn ran_us(self) -> f64 {
        self.ran_ns as f64 / 1e3
    }

    /// Microseconds runnable, waiting for a core.
    pub fn waited_us(self) -> f64 {
        self.waited_ns as f64 / 1e3
    }
}

impl std::ops::Sub for ThreadTime {
    type Output = Self;
    /// The time between an earlier reading and this one.
    fn sub(self, earlier: Self) -> Self {
        Self {
            ran_ns: self.ran_ns.saturating_sub(earlier.ran_ns),
            waited_ns: self.waited_ns.saturating_sub(earlier.waited_ns),
        }
    }
}

impl std::ops::Add for ThreadTime {
    type Output = Self;
    fn add(self, other: Self) -> Self {
        Self {
            ran_ns: self.ran_ns + other.ran_ns,
            waited_ns: self.waited_ns + other.waited_ns,
        }
    }
}

/// What the host itself takes from a runnable thread: one thread per core spins reading the
/// clock for `window`, and every gap between two readings longer than a millisecond is time
/// the core did not run it (the hypervisor or the kernel had it). A latency target of a few
/// milliseconds cannot be met more often than these gaps allow; measured before the load,
/// with nothing else of this process running.
pub fn host_stalls(window: Duration) -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let probes: Vec<_> = (0..cores)
        .map(|_| {
            std::thread::spawn(move || {
                let started = Instant::now();
                let mut last = started;
                let (mut over_1ms, mut over_3ms, mut longest) = (0u32, 0u32, Duration::ZERO);
                while last - started < window {
                    let now = Instant::now();
                    let gap = now - last;
                    if gap > Duration::from_millis(1) {
                        over_1ms += 1;
                        over_3ms += u32::from(gap > Duration::from_millis(3));
                        longest = longest.max(gap);
                    }
                    last = now;
                }
                (over_1ms, over_3ms, longest)
            })
        })
        .collect();
    let (mut over_1ms, mut over_3ms, mut longest) = (0, 0, Duration::ZERO);
    for probe in probes {
        if let Ok((a, b, c)) = probe.join() {
            over_1ms += a;
            over_3ms += b;
            longest = longest.max(c);
        }
    }
    format!(
        "host stalls (the floor under any latency target): spinning {:.0} s on each of {cores} cores, {over_1ms} gaps > 1 ms, {over_3ms} > 3 ms, longest {}",
        window.as_secs_f64(),
        fmt_d(longest)
    )
}

/// A minimal HTTP/1.1 keep-alive client: the load generator shares the machine's two cores
/// with the server, so it must cost little (like wrk, unlike a full client library).
pub struct RawClient {
    stream: std::io::BufReader<std::net::TcpStream>,
    buf: Vec<u8>,
}

impl RawClient {
    pub fn connect(addr: &str) -> Result<Self> {
        let stream =
            std::net::TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream: std::io::BufReader::with_capacity(64 << 10, stream),
            buf: Vec::with_capacity(4096),
        })
    }

    /// Sends a prepared request and reads the reply; answers the body.
    pub fn call(&mut self, request: &[u8]) -> Result<&[u8]> {
        use std::io::{BufRead, Read, Write};
        self.stream.get_mut().write_all(request)?;
        self.buf.clear();
        let mut status = 0;
        let mut length = 0usize;
        loop {
            let start = self.buf.len();
            let n = self.stream.read_until(b'\n', &mut self.buf)?;
            if n == 0 {
                anyhow::bail!("the server closed the connection");
            }
            let line = &self.buf[start..];
            if status == 0 {
                status = std::str::from_utf8(line.get(9..12).unwrap_or_default())
                    .ok()
                    .and_then(|s| s.parse::<u16>().ok())
                    .unwrap_or(0);
            } else if line == b"\r\n" {
                break;
            } else if line.len() > 15 && line[..15].eq_ignore_ascii_case(b"content-length:") {
                length = std::str::from_utf8(&line[15..])?.trim().parse()?;
            }
        }
        self.buf.clear();
        self.buf.resize(length, 0);
        self.stream.read_exact(&mut self.buf)?;
        if status != 200 {
            anyhow::bail!("HTTP {status}: {}", String::from_utf8_lossy(&self.buf));
        }
        Ok(&self.buf)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::verbs::bench::measure::ThreadTime;

    #[test]
    fn thread_times_parse_the_kernels_line_and_subtract_without_wrapping() {
        let later = ThreadTime::parse("387247463 2612453 135\n").unwrap();
        assert_eq!((later.ran_ns, later.waited_ns), (387_247_463, 2_612_453));
        assert!(ThreadTime::parse("").is_none());
        assert!(ThreadTime::parse("12 x 3").is_none());
        let earlier = ThreadTime {
            ran_ns: 387_000_000,
            waited_ns: 3_000_000,
        };
        let spent = later - earlier;
        assert_eq!((spent.ran_ns, spent.waited_ns), (247_463, 0));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_threads_time_grows_while_it_runs() {
        let before = ThreadTime::this_thread().expect("Linux keeps /proc/thread-self/schedstat");
        let started = Instant::now();
        let mut spent = ThreadTime::default();
        while spent.ran_ns < 20_000_000 && started.elapsed() < Duration::from_secs(10) {
            std::hint::black_box(0);
            spent = ThreadTime::this_thread().unwrap() - before;
        }
        assert!(
            spent.ran_ns >= 20_000_000,
            "{spent:?} after {:?}",
            started.elapsed()
        );
        // a thread cannot run for longer than the wall clock went on
        assert!(spent.ran_ns <= started.elapsed().as_nanos() as u64 + 1_000_000);
    }
}
