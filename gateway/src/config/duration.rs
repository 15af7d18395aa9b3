//! Durations written humantime-style: `24h`, `15m`, `30s`, `1h30m`.

use std::time::Duration;

use super::error::{quote, Problem, Problems};

/// Longer than any sensible setting; keeps `Instant + duration` from
/// overflowing anywhere downstream.
const MAX: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// Parses the duration at `key`, or returns `default` when it is absent.
pub(crate) fn parse_duration(
    key: &str,
    raw: Option<&str>,
    default: Duration,
) -> Result<Duration, Problem> {
    let Some(text) = raw else {
        return Ok(default);
    };
    let value = humantime::parse_duration(text.trim()).map_err(|err| {
        Problem::new(
            key,
            format!(
                "invalid duration {}: {err} (write it like 30s, 15m, 24h or 1h30m)",
                quote(text)
            ),
        )
    })?;
    if value.is_zero() {
        return Err(Problem::new(
            key,
            format!("must be greater than zero (got {})", quote(text)),
        ));
    }
    if value > MAX {
        return Err(Problem::new(
            key,
            format!("too long (got {}; at most 100 years)", quote(text)),
        ));
    }
    Ok(value)
}

/// A duration at `key`, `default_secs` when absent (or invalid: the problem
/// is recorded and the value never used).
pub(super) fn duration(
    p: &mut Problems,
    key: &str,
    raw: Option<String>,
    default_secs: u64,
) -> Duration {
    let default = Duration::from_secs(default_secs);
    p.check(parse_duration(key, raw.as_deref(), default))
        .unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_duration_uses_the_default() {
        let d = parse_duration("k", None, Duration::from_secs(7));
        assert_eq!(d, Ok(Duration::from_secs(7)));
    }

    #[test]
    fn humantime_forms_are_accepted() {
        let secs = |s: &str| parse_duration("k", Some(s), Duration::ZERO).map(|d| d.as_secs());
        assert_eq!(secs("30s"), Ok(30));
        assert_eq!(secs("15m"), Ok(900));
        assert_eq!(secs("24h"), Ok(86_400));
        assert_eq!(secs("1h30m"), Ok(5_400));
        assert_eq!(secs("1h 30m"), Ok(5_400));
    }

    #[test]
    fn unknown_unit_is_reported_with_the_value_quoted() {
        let err =
            parse_duration("sessions.idle_timeout", Some("5 parsecs"), Duration::ZERO).unwrap_err();
        assert_eq!(err.key, "sessions.idle_timeout");
        assert!(
            err.message.starts_with("invalid duration \"5 parsecs\": "),
            "{}",
            err.message
        );
    }

    #[test]
    fn zero_and_unitless_durations_are_rejected() {
        let zero = parse_duration("k", Some("0s"), Duration::ZERO).unwrap_err();
        assert!(
            zero.message.contains("greater than zero"),
            "{}",
            zero.message
        );
        assert!(parse_duration("k", Some("30"), Duration::ZERO).is_err());
        assert!(parse_duration("k", Some(""), Duration::ZERO).is_err());
    }

    #[test]
    fn absurdly_long_durations_are_rejected() {
        let err = parse_duration("k", Some("1000years"), Duration::ZERO).unwrap_err();
        assert!(err.message.contains("too long"), "{}", err.message);
    }
}
