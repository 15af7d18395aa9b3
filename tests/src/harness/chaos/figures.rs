//! A run's figures as markdown, for the test's output and the bench's
//! report: answers by class for each phase and kind of client, their
//! latency, and how long each kind of client took to be served again.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use super::Report;
use crate::harness::load::Answer;

/// The columns, in order: [`crate::harness::load::Class::label`]s.
const CLASSES: [&str; 7] = [
    "200 upstream",
    "signed in",
    "form",
    "signed out",
    "503",
    "502",
    "other",
];

/// A lane's kind of client: its name up to the last `-` ("api-2" → "api").
fn group(name: &str) -> &str {
    name.rsplit_once('-').map_or(name, |(group, _)| group)
}

/// Milliseconds: a tenth where it matters, whole ones above 10.
fn ms(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

/// The `q` quantile (0 to 1) of `sorted`, nearest rank.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub(super) fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### {}\n", report.title);
    let _ = writeln!(
        out,
        "| phase | s | clients | answers | req/s | {} | p50 ms | p99 ms | max ms |",
        CLASSES.join(" | ")
    );
    let _ = writeln!(
        out,
        "|---|---:|---|---:|---:|{}---:|---:|---:|",
        "---:|".repeat(7)
    );
    for (index, (phase, start)) in report.phases.iter().enumerate() {
        let end = report
            .phases
            .get(index + 1)
            .map_or(report.end, |(_, next)| *next);
        let seconds = end.saturating_duration_since(*start).as_secs_f64();
        let in_phase: Vec<&Answer> = report
            .answers
            .iter()
            .filter(|a| a.sent >= *start && a.sent < end)
            .collect();
        let mut groups: BTreeMap<&str, Vec<&Answer>> = BTreeMap::new();
        for answer in in_phase {
            let name = group(&report.lanes[answer.lane].name);
            groups.entry(name).or_default().push(answer);
        }
        for (name, answers) in groups {
            let counts: Vec<String> = CLASSES
                .iter()
                .map(|label| {
                    let n = answers.iter().filter(|a| a.class.label() == *label).count();
                    if n == 0 {
                        "·".to_owned()
                    } else {
                        n.to_string()
                    }
                })
                .collect();
            let mut took: Vec<Duration> = answers.iter().map(|a| a.elapsed).collect();
            took.sort();
            let _ = writeln!(
                out,
                "| {phase} | {seconds:.1} | {name} | {} | {:.0} | {} | {} | {} | {} |",
                answers.len(),
                answers.len() as f64 / seconds.max(0.001),
                counts.join(" | "),
                ms(quantile(&took, 0.5)),
                ms(quantile(&took, 0.99)),
                ms(took.last().copied().unwrap_or_default()),
            );
        }
    }
    recovery_lines(report, &mut out);
    out
}

/// For each outage and kind of client: the slowest of its lanes to be
/// served again after the part came back.
fn recovery_lines(report: &Report, out: &mut String) {
    let mut slowest: BTreeMap<(&str, &str), Option<Duration>> = BTreeMap::new();
    for recovery in &report.recoveries {
        let key = (
            recovery.window.as_str(),
            group(&report.lanes[recovery.lane].name),
        );
        let entry = slowest.entry(key).or_insert(Some(Duration::ZERO));
        *entry = match (*entry, recovery.after) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
    }
    if slowest.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nServed again after the part came back (slowest lane):\n"
    );
    let mut windows: Vec<&str> = report.windows.iter().map(|w| w.name.as_str()).collect();
    windows.dedup();
    for window in windows {
        let parts: Vec<String> = slowest
            .iter()
            .filter(|((w, _), _)| *w == window)
            .map(|((_, lane), after)| match after {
                Some(after) => format!("{lane} {:.2} s", after.as_secs_f64()),
                None => format!("{lane} never"),
            })
            .collect();
        if !parts.is_empty() {
            let _ = writeln!(out, "- {window}: {}", parts.join(", "));
        }
    }
}
