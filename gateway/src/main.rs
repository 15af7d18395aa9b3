//! The `gatehouse` command: a thin layer over the library.

use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use gatehouse::config::Settings;

/// A proxy allocates and frees small buffers on every request; mimalloc's
/// thread-local free lists cost a fraction of glibc malloc's locking and
/// consolidation, which the profile showed at a fifth of all CPU time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// An MFA gateway: a reverse proxy with its own sign-in pages, sessions and
/// service tokens, in front of apps with weak or no login.
#[derive(Parser)]
#[command(name = "gatehouse", version, about, long_about = None)]
struct Cli {
    /// The configuration file.
    #[arg(
        long,
        short,
        global = true,
        env = "GATEHOUSE_CONFIG",
        default_value = "gatehouse.yaml"
    )]
    config: PathBuf,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway (the default when no command is given).
    Run,
    /// Check a configuration file and its users file, then exit.
    ///
    /// Prints one line per problem, each naming the key, and exits non-zero
    /// if there is any.
    CheckConfig,
    /// Read a password from standard input and print its argon2id hash.
    ///
    /// The hash goes into the users file as `password`.
    HashPassword,
    /// Run a demo: the gateway in front of a built-in app, on memory
    /// sessions, with demo credentials printed. Needs no config or Redis.
    Demo {
        /// Where the demo gateway listens.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command.unwrap_or(Command::Run) {
        Command::Run => run(&cli.config),
        Command::CheckConfig => return check_config(&cli.config),
        Command::HashPassword => hash_password(),
        Command::Demo { listen } => demo(listen),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gatehouse: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr at `GATEHOUSE_LOG` (default `info`). Pingora's own debug
/// and trace logs print whole request and response heads and bodies, so
/// upstream-bound tokens and cookies with them: they stay off unless the
/// filter names pingora, so that `GATEHOUSE_LOG=debug` logs no secret.
fn init_logging() {
    use tracing_subscriber::filter::{filter_fn, EnvFilter};
    use tracing_subscriber::prelude::*;

    let spec = std::env::var("GATEHOUSE_LOG").unwrap_or_default();
    let filter = EnvFilter::try_new(&spec)
        .ok()
        .filter(|_| !spec.trim().is_empty())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let quiet_pingora = (!spec.contains("pingora")).then(|| {
        filter_fn(|meta| {
            !(meta.target().starts_with("pingora") && *meta.level() > tracing::Level::INFO)
        })
    });
    tracing_subscriber::registry()
        .with(filter)
        .with(quiet_pingora)
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(std::io::stderr().is_terminal())
                .with_writer(std::io::stderr),
        )
        .init();
}

/// Loads the config, printing every problem on its own line.
fn load(path: &Path) -> Result<Settings, ExitCode> {
    Settings::load(path).map_err(|e| {
        for line in e.lines() {
            eprintln!("{line}");
        }
        ExitCode::FAILURE
    })
}

fn run(path: &Path) -> anyhow::Result<()> {
    let Ok(settings) = load(path) else {
        anyhow::bail!("{} has problems (listed above)", path.display());
    };
    tracing::info!(
        listen = %settings.listen,
        apps = settings.apps.len(),
        users = settings.users.users.len(),
        "starting gatehouse"
    );
    let server = gatehouse::server::build(settings, Some(path.to_path_buf()))?;
    server.run_forever()
}

fn check_config(path: &Path) -> ExitCode {
    match load(path) {
        Ok(settings) => {
            println!(
                "config OK: {} apps, {} users, {} service tokens",
                settings.apps.len(),
                settings.users.users.len(),
                settings.service_tokens.len()
            );
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

/// Reads the password from standard input: typed at a terminal without
/// echo (the prompt goes to the terminal, so stdout holds only the hash),
/// or piped in as one line.
fn hash_password() -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    let password = if stdin.is_terminal() {
        rpassword::prompt_password("Password: ").context("reading the password")?
    } else {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        line
    };
    let password = password.trim_end_matches(['\r', '\n']);
    anyhow::ensure!(!password.is_empty(), "no password on standard input");
    println!("{}", gatehouse::auth::password::hash_blocking(password)?);
    Ok(())
}

fn demo(listen: SocketAddr) -> anyhow::Result<()> {
    let demo = gatehouse::demo::prepare(listen)?;
    let config = demo.dir.path().join("gatehouse.yaml");
    let mut server = gatehouse::server::build(demo.settings, Some(config))?;
    server.add_service(gatehouse::demo::demo_app_service(
        &demo.app_addr.to_string(),
    ));
    let url = format!("http://{listen}/");
    println!();
    println!("  Gatehouse demo is running at {url}");
    println!();
    println!(
        "  Sign in as   {} / {}",
        gatehouse::demo::USERNAME,
        gatehouse::demo::PASSWORD
    );
    println!("  Public page  {url}public   (bypass: no sign-in)");
    println!("  Admin page   {url}admin    (needs two-factor sign-in)");
    println!("  Your account http://{listen}/.gatehouse/account");
    println!("  Console      http://{listen}/.gatehouse/admin   (Gatehouse's admin console)");
    println!(
        "  As a service curl -H 'Authorization: Bearer {}' {url}api",
        gatehouse::demo::SERVICE_TOKEN
    );
    println!(
        "  Config used  {}",
        demo.dir.path().join("gatehouse.yaml").display()
    );
    println!();
    println!("  Press Ctrl-C to stop.");
    println!();
    std::io::stdout().flush().ok();
    // `run` (unlike `run_forever`) returns once the server has stopped, so
    // the demo's folder can be removed before the process exits.
    server.run(pingora::server::RunArgs::default());
    demo.dir.close().context("cannot remove the demo folder")?;
    Ok(())
}
