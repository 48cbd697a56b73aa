//! Record batches (magic v2). STUB: to be filled in.

use std::fmt;

/// Why a record batch is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatchError {
    /// Fewer bytes than the batch claims.
    Truncated,
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("truncated"),
        }
    }
}

impl std::error::Error for BatchError {}
