//! Configuration errors: one line per problem, each naming the key at fault.

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::path::PathBuf;

/// One semantic problem found while validating the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The key path, e.g. `apps[0].rules[1].policy` or `users.alice.password`.
    pub key: String,
    pub message: String,
}

impl Problem {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            key: key.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", one_line(&self.key), one_line(&self.message))
    }
}

/// `text` with its control characters escaped (`\n`): a YAML key may span
/// lines, and a problem naming it must still be one line, which can't pass
/// for another problem's.
fn one_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().fold(String::new(), |mut out, c| {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
        out
    }))
}

/// Why a configuration (or users file) was rejected.
///
/// `Display` renders one line per problem, `KEY: message`; [`ConfigError::lines`]
/// gives the same lines separately for the CLI.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file itself could not be read.
    #[error("{}: cannot read: {}", one_line(&path.display().to_string()), io_message(source))]
    Read { path: PathBuf, source: io::Error },
    /// The YAML is malformed or does not have the expected shape (unknown key,
    /// wrong type). Parsing stops at the first such error.
    #[error("{}: {}", one_line(key), one_line(message))]
    Syntax { key: String, message: String },
    /// The YAML has the right shape but some values are wrong; every problem
    /// found is listed.
    #[error("{}", render_lines(.0))]
    Invalid(Vec<Problem>),
}

impl ConfigError {
    /// One human-readable line per problem, each `KEY: problem`.
    pub fn lines(&self) -> Vec<String> {
        match self {
            ConfigError::Invalid(problems) => problems.iter().map(Problem::to_string).collect(),
            other => vec![other.to_string()],
        }
    }

    /// The problems as `Problem`s (a read or syntax error becomes one).
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            ConfigError::Read { path, source } => vec![Problem::new(
                path.display().to_string(),
                format!("cannot read: {}", io_message(source)),
            )],
            ConfigError::Syntax { key, message } => vec![Problem::new(key, message)],
            ConfigError::Invalid(problems) => problems.clone(),
        }
    }
}

fn render_lines(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// An I/O error's text without the trailing ` (os error N)`, which means
/// nothing to an operator.
pub(crate) fn io_message(err: &io::Error) -> String {
    let text = err.to_string();
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text,
    }
}

/// Accumulates problems so validation can report all of them at once.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<Problem>);

impl Problems {
    pub(crate) fn push(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem::new(key, message));
    }

    pub(crate) fn extend(&mut self, more: impl IntoIterator<Item = Problem>) {
        self.0.extend(more);
    }

    /// Records the error of `result` (if any) and returns the value.
    pub(crate) fn check<T>(&mut self, result: Result<T, Problem>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(problem) => {
                self.0.push(problem);
                None
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn into_vec(self) -> Vec<Problem> {
        self.0
    }
}

/// Turns a serde_path_to_error-wrapped YAML error into `(key, message)`.
///
/// The key is the path serde_path_to_error tracked (`root` stands in for the
/// document itself). serde_yaml_ng's own text carries its path as a prefix and
/// the position as ` at line L column C`; both are removed and the position is
/// re-added as `(line L, column C)`, prefixed by `location_prefix` when the
/// document is not the main config (e.g. `in "users.yaml", `).
pub(crate) fn describe_yaml_error(
    err: &serde_path_to_error::Error<serde_yaml_ng::Error>,
    root: &str,
    location_prefix: &str,
) -> (String, String) {
    let path = err.path().to_string();
    let key = if path == "." { root.to_string() } else { path };
    let inner = err.inner();
    let message = strip_marks(&inner.to_string());
    let message = strip_path_prefix(&message, &key).to_string();
    let message = match inner.location() {
        Some(loc) => format!(
            "{message} ({location_prefix}line {}, column {})",
            loc.line(),
            loc.column()
        ),
        None => message,
    };
    (key, message)
}

/// Removes every ` at line L column C` (libyaml errors carry a second one for
/// their context); the error's own position is re-added in our format.
fn strip_marks(message: &str) -> String {
    const AT_LINE: &str = " at line ";
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(AT_LINE) {
        out.push_str(&rest[..at]);
        let after = &rest[at + AT_LINE.len()..];
        let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let line_len = digits(after);
        let mark_len = after[line_len..]
            .strip_prefix(" column ")
            .map(|col| line_len + " column ".len() + digits(col))
            .filter(|_| line_len > 0);
        match mark_len {
            Some(len) if len > line_len + " column ".len() => rest = &after[len..],
            _ => {
                out.push_str(AT_LINE);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Removes a leading `P: ` where `P` is the key itself or one of its parents
/// (serde_yaml_ng reports the parent map for unknown fields).
fn strip_path_prefix<'m>(message: &'m str, key: &str) -> &'m str {
    if let Some((prefix, rest)) = message.split_once(": ") {
        let is_parent = key
            .strip_prefix(prefix)
            .is_some_and(|tail| tail.is_empty() || tail.starts_with('.') || tail.starts_with('['));
        if !prefix.is_empty() && is_parent {
            return rest;
        }
    }
    message
}

/// Quotes a value for a message: `"value"` with escapes for control characters.
pub(crate) fn quote(value: &str) -> String {
    format!("{value:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_renders_one_line_per_problem() {
        let err = ConfigError::Invalid(vec![
            Problem::new("listen", "bad"),
            Problem::new("apps", "worse"),
        ]);
        assert_eq!(err.to_string(), "listen: bad\napps: worse");
        assert_eq!(err.lines(), vec!["listen: bad", "apps: worse"]);
    }

    #[test]
    fn a_problem_stays_one_line_whatever_its_key_holds() {
        // Found by fuzzing the loader: a YAML key spanning lines came back
        // in an "unknown field" problem that spanned lines too.
        let problem = Problem::new("users.d\nap", "unknown field `d\nap`\r");
        assert_eq!(
            problem.to_string(),
            "users.d\\nap: unknown field `d\\nap`\\r"
        );
        let syntax = ConfigError::Syntax {
            key: "a\nb".into(),
            message: "unknown field `a\nb`".into(),
        };
        assert_eq!(syntax.lines(), vec!["a\\nb: unknown field `a\\nb`"]);
    }

    #[test]
    fn read_error_names_the_path_without_os_error_code() {
        let err = ConfigError::Read {
            path: PathBuf::from("/x/gatehouse.yaml"),
            source: io::Error::from_raw_os_error(2),
        };
        let line = err.to_string();
        assert!(
            line.starts_with("/x/gatehouse.yaml: cannot read: "),
            "{line}"
        );
        assert!(!line.contains("os error"), "{line}");
    }

    #[test]
    fn yaml_marks_are_stripped_wherever_they_are() {
        assert_eq!(
            strip_marks("found end at line 4 column 1, while scanning at line 3 column 16"),
            "found end, while scanning"
        );
        assert_eq!(strip_marks("x at line y"), "x at line y");
        assert_eq!(strip_marks("x at line 3 column"), "x at line 3 column");
    }

    #[test]
    fn path_prefix_is_only_stripped_for_the_key_or_a_parent() {
        assert_eq!(strip_path_prefix("a.b: boom", "a.b"), "boom");
        assert_eq!(
            strip_path_prefix("a: unknown field", "a.zz"),
            "unknown field"
        );
        assert_eq!(strip_path_prefix("apps[0]: x", "apps[0].upstream"), "x");
        assert_eq!(
            strip_path_prefix("invalid type: string", "listen"),
            "invalid type: string"
        );
        assert_eq!(strip_path_prefix("ab: x", "abc"), "ab: x");
    }
}
