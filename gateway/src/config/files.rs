//! Files the config names (the users file, TLS certificates and keys),
//! read through a [`ReadFile`] so tests can supply their contents.

use std::io;
use std::path::Path;

use super::error::{io_message, quote, Problems};

/// Reads a file named by the config; injectable for tests.
pub(crate) type ReadFile<'a> = &'a dyn Fn(&Path) -> io::Result<String>;

/// The text of the file at `path`, named by config `key`; an unreadable
/// file is recorded as a problem under `key`.
pub(crate) fn read_text(
    p: &mut Problems,
    key: &str,
    path: &Path,
    read: ReadFile<'_>,
) -> Option<String> {
    match read(path) {
        Ok(text) => Some(text),
        Err(err) => {
            p.push(
                key,
                format!(
                    "cannot read {}: {}",
                    quote(&path.display().to_string()),
                    io_message(&err)
                ),
            );
            None
        }
    }
}
