//! Fuzz targets for the parsers that a client's (or an operator's) bytes
//! reach. Each takes the fuzzer's bytes, drives one parser through the
//! gateway's own entry points, and asserts what must hold of its answer,
//! not only that it returns: a panic is a finding.
//!
//! `src/bin/*.rs` hand them to AFL++ (`cargo afl`); `tests/corpus.rs`
//! replays the committed corpus through them on every `cargo test`.

mod config;
mod cookie;
mod form;
mod forward_auth;
mod head;
mod route;

pub use config::config;
pub use cookie::cookie;
pub use form::form;
pub use forward_auth::forward_auth;
pub use head::head;
pub use route::route;

/// A target: the fuzzer's bytes in, a panic if something does not hold.
pub type Target = fn(&[u8]);

/// Every target, by the name of its binary and corpus folder.
pub const TARGETS: &[(&str, Target)] = &[
    ("route", route),
    ("cookie", cookie),
    ("form", form),
    ("config", config),
    ("forward_auth", forward_auth),
    ("head", head),
];

/// Whether `path` has an empty, `.` or `..` segment, or a backslash: what
/// a normalised path never has.
pub(crate) fn has_dot_or_empty_segment(path: &str) -> bool {
    path.contains('\\')
        || path
            .strip_prefix('/')
            .is_none_or(|rest| path != "/" && rest.split('/').any(|s| matches!(s, "" | "." | "..")))
}
