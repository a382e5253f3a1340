//! Verdicts and the errors that carry them.

/// What gossipsub is told about a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    /// Valid: forward it.
    Accept,
    /// Not forwarded, no penalty.
    Ignore,
    /// Invalid: not forwarded, the sender's P4 counter grows.
    Reject,
}

impl Verdict {
    /// The lower-case name (`accept`, `ignore`, `reject`), as the spec tests write it.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Accept => "accept",
            Verdict::Ignore => "ignore",
            Verdict::Reject => "reject",
        }
    }

    /// The stricter of two verdicts: a stateless and a stateful one combine this way.
    pub fn combine(self, other: Verdict) -> Verdict {
        self.max(other)
    }
}

/// A gossip validation error: it knows its verdict and a short, stable reason label (for
/// metrics and traces).
pub trait GossipError: std::error::Error {
    /// IGNORE or REJECT.
    fn verdict(&self) -> Verdict;
    /// A `snake_case` label of the failed check.
    fn reason(&self) -> &'static str;
}

/// Declares a handler's error enum with each variant's verdict and reason label.
macro_rules! gossip_errors {
    ($(#[$meta:meta])* pub enum $name:ident {
        $($(#[doc = $doc:literal])* #[error($($msg:tt)+)] $variant:ident $({ $($field:ident: $ty:ty),* $(,)? })? => $verdict:ident, $reason:literal,)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[allow(missing_docs)] // each variant's `#[error]` text says what it is
        pub enum $name {
            $($(#[doc = $doc])* #[error($($msg)+)] $variant $({ $(#[allow(missing_docs)] $field: $ty),* })?,)*
        }

        impl From<$name> for $crate::Detail {
            fn from(e: $name) -> Self {
                $crate::Detail::$name(e)
            }
        }

        impl $crate::GossipError for $name {
            fn verdict(&self) -> $crate::Verdict {
                match self { $(Self::$variant { .. } => $crate::Verdict::$verdict,)* }
            }
            fn reason(&self) -> &'static str {
                match self { $(Self::$variant { .. } => $reason,)* }
            }
        }
    };
}
pub(crate) use gossip_errors;
