//! Chaos under load, longer and harder than the end-to-end tests
//! (`tests/tests/chaos.rs`), against the release binary: the same runs
//! (`gatehouse_tests::harness::chaos`), with more clients, higher rates and
//! longer phases, and their figures printed as markdown. Started by
//! `benches/load/chaos`, which builds the release binary first; see
//! benches/README.md, "Chaos under load".
//!
//! ```text
//! GATEHOUSE_BIN=target/release/gatehouse \
//!   cargo run --release -p gatehouse-benches --example chaos -- [FLAGS]
//! ```
//!
//! Flags (defaults in brackets): `--only stores|apps`, `--rate R` requests a
//! second per client [150], `--clients N` signed-in API clients per app [4],
//! `--steady S`, `--outage S`, `--settle S` seconds [10, 15, 10],
//! `--stall S` [30], `--slow-clients N` [32].
//!
//! Exits non-zero only when the harness itself fails; broken rules are
//! printed, as the load benchmark prints a missed budget.

use std::process::ExitCode;
use std::time::Duration;

use gatehouse_tests::harness::chaos::{stores, upstreams, Report, StoreRun, UpstreamRun};

struct Flags {
    only: Option<String>,
    rate: f64,
    clients: usize,
    steady: f64,
    outage: f64,
    settle: f64,
    stall: f64,
    slow_clients: usize,
}

fn parse(args: &[String]) -> Result<Flags, String> {
    let mut flags = Flags {
        only: None,
        rate: 150.0,
        clients: 4,
        steady: 10.0,
        outage: 15.0,
        settle: 10.0,
        stall: 30.0,
        slow_clients: 32,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<f64>()
                .ok()
                .filter(|n| *n > 0.0)
                .ok_or_else(|| format!("{flag} takes a positive number, not {value:?}"))
        };
        match flag.as_str() {
            "--only" if value == "stores" || value == "apps" => flags.only = Some(value.clone()),
            "--rate" => flags.rate = number()?,
            "--clients" => flags.clients = number()?.ceil() as usize,
            "--steady" => flags.steady = number()?,
            "--outage" => flags.outage = number()?,
            "--settle" => flags.settle = number()?,
            "--stall" => flags.stall = number()?,
            "--slow-clients" => flags.slow_clients = number()?.ceil() as usize,
            _ => return Err(format!("unknown flag or value: {flag} {value}")),
        }
    }
    Ok(flags)
}

fn store_run(flags: &Flags) -> StoreRun {
    StoreRun {
        api_clients: flags.clients,
        browsers: flags.clients.div_ceil(2),
        integrations: flags.clients.div_ceil(2),
        per_second: flags.rate,
        sign_ins_per_second: 5.0,
        steady: Duration::from_secs_f64(flags.steady),
        outage: Duration::from_secs_f64(flags.outage),
        settle: Duration::from_secs_f64(flags.settle),
        ..StoreRun::brief()
    }
}

fn upstream_run(flags: &Flags) -> UpstreamRun {
    UpstreamRun {
        api_clients: flags.clients,
        browsers: flags.clients.div_ceil(2),
        flaky_clients: flags.clients.div_ceil(2),
        slow_clients: flags.slow_clients,
        per_second: flags.rate,
        slow_per_second: 2.0,
        steady: Duration::from_secs_f64(flags.steady),
        outage: Duration::from_secs_f64(flags.outage),
        stall: Duration::from_secs_f64(flags.stall),
        settle: Duration::from_secs_f64(flags.settle),
    }
}

fn print(report: &Report) {
    println!("{}", report.figures());
    if report.violations.is_empty() {
        println!("Every rule held ({} answers).\n", report.answers.len());
    } else {
        println!("**{} rule(s) broken:**\n", report.violations.len());
        for line in report.violations.iter().take(50) {
            println!("- {line}");
        }
        println!();
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flags = match parse(&args) {
        Ok(flags) => flags,
        Err(e) => {
            eprintln!("chaos: {e}");
            return ExitCode::from(2);
        }
    };
    if std::env::var_os("GATEHOUSE_BIN").is_none() {
        eprintln!("chaos: set GATEHOUSE_BIN to the release binary (benches/load/chaos does)");
        return ExitCode::from(2);
    }
    if flags.only.as_deref() != Some("apps") {
        print(&stores::stores(&store_run(&flags)));
    }
    if flags.only.as_deref() != Some("stores") {
        print(&upstreams::upstreams(&upstream_run(&flags)));
    }
    ExitCode::SUCCESS
}
