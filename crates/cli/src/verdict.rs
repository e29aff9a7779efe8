//! A verb's "no": it ran its check and the answer is that something is wrong (the log, a
//! proof or a revealed value is invalid, a scan found something, a policy test mismatched, a
//! backup failed its restore test, a token was not revealed). `main` gives these exit code 1;
//! every other error means the check could not run (exit code 2).

use std::fmt;

/// Checked, and it is not valid, as opposed to "could not check". The message is printed.
#[derive(Debug)]
pub struct VerificationFailed(pub String);

impl fmt::Display for VerificationFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for VerificationFailed {}

/// A scan that completed and found something. The findings themselves were the output, so
/// nothing more is printed: this only sets the exit status.
#[derive(Debug)]
pub struct FindingsReported(pub usize);

impl fmt::Display for FindingsReported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} finding(s)", self.0)
    }
}

impl std::error::Error for FindingsReported {}
