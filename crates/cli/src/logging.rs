//! Evident's own log output: every formatted line passes through the redactor before it
//! reaches stderr, so a card number, SSN or key quoted in an error never lands in a log file.
//! `init` sets it up; `redact_message` does the same for the final `error: …` line.

use std::io::Write;
use std::sync::Arc;

use evident_detect::{Detector, Fingerprinter, RedactMode, Redactor};
use tracing_subscriber::fmt::MakeWriter;

/// What our logs never show: the ledger's set.
const LOG_REDACTED: [evident_detect::Entity; 57] = evident::redaction::LEDGER_REDACTED;

/// Sends `tracing` output to stderr through the redactor: warnings and errors only with
/// `--quiet`, else from `info`; `EVIDENT_LOG` (an env-filter) overrides either.
pub fn init(quiet: bool) {
    let default = if quiet { "warn" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("EVIDENT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(RedactingStderr::new())
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}

/// Makes one buffer per log event; the buffer is redacted and written whole when dropped.
pub struct RedactingStderr {
    redactor: Option<Redactor>,
}

impl RedactingStderr {
    /// A writer redacting with the built-in rules (masks need no persistent key). If the
    /// rules cannot be built the output is withheld rather than written unredacted.
    pub fn new() -> RedactingStderr {
        let redactor = Detector::builtin()
            .ok()
            .zip(Fingerprinter::random().ok())
            .map(|(d, f)| Redactor::new(Arc::new(d), f, RedactMode::Mask).only(&LOG_REDACTED));
        RedactingStderr { redactor }
    }
}

/// One log event being formatted.
pub struct EventBuffer<'a> {
    redactor: Option<&'a Redactor>,
    buf: Vec<u8>,
}

impl Write for EventBuffer<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for EventBuffer<'_> {
    fn drop(&mut self) {
        let out = match self.redactor {
            Some(r) => r.redact_bytes(&self.buf).0,
            None => b"[log line withheld: the redactor could not be built]\n".to_vec(),
        };
        let _ = std::io::stderr().lock().write_all(&out);
    }
}

impl<'a> MakeWriter<'a> for RedactingStderr {
    type Writer = EventBuffer<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        EventBuffer {
            redactor: self.redactor.as_ref(),
            buf: Vec::with_capacity(256),
        }
    }
}

/// Redacts one message for stderr (the final `error: …` line), as log lines are.
pub fn redact_message(message: &str) -> String {
    match RedactingStderr::new().redactor {
        Some(r) => r.redact_str(message).0,
        None => "[message withheld: the redactor could not be built]".into(),
    }
}
