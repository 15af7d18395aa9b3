//! Configuration: the YAML schema, its defaults and its validation.
//!
//! [`Settings::load`] reads the main config file (and the users file it names)
//! and returns either fully validated [`Settings`] or a [`ConfigError`] listing
//! every problem, one `KEY: problem` line each.

pub mod settings;

mod address;
mod apps;
mod duration;
mod error;
mod files;
mod hex32;
mod notify;
mod orgs;
mod raw;
mod request_limits;
mod rules;
mod sessions;
mod sso;
mod tls;
mod users;
mod validate;

#[cfg(test)]
pub(crate) mod tests;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

pub(crate) use apps::check_name;
pub use error::{ConfigError, Problem};
pub use settings::*;

use crate::orgs::Organisations;

impl Settings {
    /// Reads and validates the config file at `path`. Relative paths inside it
    /// (`users.file`, `tls.cert`, `tls.key`) are resolved against the file's folder.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        let yaml = read(path)?;
        let base_dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        validate::build(&yaml, base_dir, &path.display().to_string(), &|p: &Path| {
            fs::read_to_string(p)
        })
    }

    /// Validates config text; relative paths inside it are resolved against
    /// `base_dir`. The users file is still read from disk.
    pub fn from_yaml_str(yaml: &str, base_dir: &Path) -> Result<Settings, ConfigError> {
        validate::build(yaml, base_dir, "config", &|p: &Path| fs::read_to_string(p))
    }
}

/// Validates config text as [`Settings::from_yaml_str`] does, reading the
/// files it names (users file, TLS) through `read` instead of the disk.
pub(crate) fn from_yaml_with_files(
    yaml: &str,
    base_dir: &Path,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Result<Settings, ConfigError> {
    validate::build(yaml, base_dir, "config", read)
}

/// Reads and validates a users file on its own, placing users in `orgs`.
pub fn load_users(
    path: &Path,
    orgs: &Organisations,
) -> Result<BTreeMap<String, User>, ConfigError> {
    let yaml = read(path)?;
    parse_users_file(&yaml, path, orgs)
}

/// Validates the text of the users file at `path` (named in problems),
/// placing users in `orgs`: an `org` not among them is refused.
pub fn parse_users_file(
    yaml: &str,
    path: &Path,
    orgs: &Organisations,
) -> Result<BTreeMap<String, User>, ConfigError> {
    users::parse_users(yaml, Some(&path.display().to_string()), orgs).map_err(ConfigError::Invalid)
}

/// Validates users-file text, without organisations (any `org` is refused).
pub fn load_users_str(yaml: &str) -> Result<BTreeMap<String, User>, ConfigError> {
    users::parse_users(yaml, None, &Organisations::default()).map_err(ConfigError::Invalid)
}

fn read(path: &Path) -> Result<String, ConfigError> {
    fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })
}
