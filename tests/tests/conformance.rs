//! The public contract ops rely on: the CLI, `check-config`'s error lines,
//! password hashing, health and metrics endpoints, the demo.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use gatehouse_tests::{
    eventually, free_port, gatehouse_command, hash_password, metric_value, password_hash,
    AppConfig, Backend, Client, Gateway, GatewayConfig, Stack, Upstream,
};

const GOOD_CONFIG: &str = r#"listen: "127.0.0.1:18080"
sessions:
  backend: memory
  idle_timeout: 30m
users:
  file: users.yaml
apps:
  - name: wiki
    upstream: "http://127.0.0.1:3000"
    rules:
      - path: /public
        policy: bypass
"#;

fn users_file(hash: &str) -> String {
    format!("users:\n  alice:\n    password: \"{hash}\"\n    email: alice@example.com\n    groups: [admins]\n")
}

/// Writes `config` and `users` into a fresh folder and runs check-config.
fn check_config(config: &str, users: &str) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("gatehouse.yaml"), config).expect("write config");
    std::fs::write(dir.path().join("users.yaml"), users).expect("write users");
    // Run from elsewhere: relative paths must resolve from the config's folder.
    gatehouse_command()
        .arg("check-config")
        .arg("--config")
        .arg(dir.path().join("gatehouse.yaml"))
        .current_dir("/")
        .output()
        .expect("run gatehouse check-config")
}

/// Asserts check-config fails and one stderr line names every key in `keys`.
fn assert_rejected(config: &str, users: &str, keys: &[&str]) {
    let output = check_config(config, users);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "check-config accepted a config that should fail on {keys:?}:\n{config}"
    );
    assert!(
        stderr
            .lines()
            .any(|line| keys.iter().all(|key| line.contains(key))),
        "no stderr line names {keys:?}; stderr was:\n{stderr}"
    );
}

fn good_users() -> String {
    users_file(password_hash())
}

#[test]
fn help_lists_the_subcommands() {
    let output = gatehouse_command()
        .arg("--help")
        .output()
        .expect("run --help");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for subcommand in ["run", "check-config", "hash-password", "demo"] {
        assert!(
            help.contains(subcommand),
            "--help lacks {subcommand}:\n{help}"
        );
    }
}

#[test]
fn hash_password_prints_an_owasp_strength_argon2id_hash() {
    let hash = hash_password("hunter2 is not a good password");
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    let params = hash.split('$').nth(3).expect("a parameter section");
    let param = |name: &str| -> u32 {
        params
            .split(',')
            .find_map(|p| p.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name}= in {hash}"))
    };
    assert!(param("m") >= 19456, "memory too low: {hash}");
    assert!(param("t") >= 2, "too few iterations: {hash}");
    assert!(param("p") >= 1, "{hash}");
    assert_ne!(
        hash,
        hash_password("hunter2 is not a good password"),
        "unsalted"
    );
}

#[test]
fn check_config_accepts_a_good_file() {
    let output = check_config(GOOD_CONFIG, &good_users());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("config OK"), "{stdout}");
}

#[test]
fn check_config_names_an_unknown_key() {
    let top = format!("{GOOD_CONFIG}bogus_key: 1\n");
    assert_rejected(&top, &good_users(), &["bogus_key"]);
    let nested = GOOD_CONFIG.replace("  backend: memory", "  backend: memory\n  cookie_nmae: x");
    assert_rejected(&nested, &good_users(), &["sessions", "cookie_nmae"]);
}

#[test]
fn check_config_names_a_bad_duration() {
    let config = GOOD_CONFIG.replace("idle_timeout: 30m", "idle_timeout: 5 parsecs");
    assert_rejected(&config, &good_users(), &["sessions.idle_timeout"]);
}

#[test]
fn check_config_names_a_bad_address() {
    let config = GOOD_CONFIG.replace("127.0.0.1:18080", "not-an-address");
    assert_rejected(&config, &good_users(), &["listen"]);
    let metrics = format!("{GOOD_CONFIG}metrics_listen: \"localhost:nope\"\n");
    assert_rejected(&metrics, &good_users(), &["metrics_listen"]);
}

#[test]
fn check_config_names_a_missing_users_file() {
    let config = GOOD_CONFIG.replace("file: users.yaml", "file: missing.yaml");
    assert_rejected(&config, &good_users(), &["users.file", "missing.yaml"]);
}

#[test]
fn check_config_names_a_password_that_is_not_argon2id() {
    let weak = format!(
        "$argon2id$v=19$m=4096,t=1,p=1$c29tZXNhbHQ${}",
        "A".repeat(43)
    );
    for hash in [
        "plaintext-password",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        weak.as_str(),
    ] {
        assert_rejected(GOOD_CONFIG, &users_file(hash), &["users.alice.password"]);
    }
}

#[test]
fn check_config_names_an_unknown_policy() {
    let config = GOOD_CONFIG.replace("policy: bypass", "policy: sometimes");
    assert_rejected(&config, &good_users(), &["apps[0].rules[0].policy"]);
}

#[test]
fn check_config_names_an_unknown_session_backend() {
    let config = GOOD_CONFIG.replace("backend: memory", "backend: memcached");
    assert_rejected(&config, &good_users(), &["sessions.backend"]);
}

#[test]
fn check_config_names_other_invalid_values() {
    let cases: Vec<(String, &str)> = vec![
        (
            GOOD_CONFIG.replace("backend: memory", "backend: redis"),
            "sessions.redis_url",
        ),
        (
            GOOD_CONFIG.replace(
                "backend: memory",
                "backend: redis\n  redis_url: \"http://127.0.0.1:6379\"",
            ),
            "sessions.redis_url",
        ),
        (
            GOOD_CONFIG.replace(
                "backend: memory",
                "backend: memory\n  cookie_name: \"bad name;\"",
            ),
            "sessions.cookie_name",
        ),
        (
            GOOD_CONFIG.replace("name: wiki", "name: \"Wiki!\""),
            "apps[0].name",
        ),
        (
            GOOD_CONFIG.replace("\"http://127.0.0.1:3000\"", "\"ftp://127.0.0.1:3000\""),
            "apps[0].upstream",
        ),
        (
            GOOD_CONFIG.replace("path: /public", "path: public"),
            "apps[0].rules[0].path",
        ),
        (
            format!("{GOOD_CONFIG}secrets:\n  key: \"xyz\"\n"),
            "secrets.key",
        ),
        (
            format!("{GOOD_CONFIG}service_tokens:\n  - name: ci\n    token_sha256: \"zz\"\n"),
            "service_tokens[0].token_sha256",
        ),
        (
            GOOD_CONFIG.replace("    rules:", "    service_tokens: [nope]\n    rules:"),
            "apps[0].service_tokens",
        ),
    ];
    for (config, key) in cases {
        assert_rejected(&config, &good_users(), &[key]);
    }
}

#[test]
fn check_config_reports_every_problem_on_its_own_line() {
    let config = GOOD_CONFIG
        .replace("127.0.0.1:18080", "nope")
        .replace("idle_timeout: 30m", "idle_timeout: 5 parsecs")
        .replace("policy: bypass", "policy: sometimes");
    let output = check_config(&config, &good_users());
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for key in ["listen", "sessions.idle_timeout", "apps[0].rules[0].policy"] {
        assert_eq!(
            stderr.lines().filter(|l| l.starts_with(key)).count(),
            1,
            "expected one line for {key}:\n{stderr}"
        );
    }
}

#[test]
fn check_config_refuses_an_idle_timeout_longer_than_the_lifetime() {
    let config = GOOD_CONFIG.replace("idle_timeout: 30m", "idle_timeout: 30m\n  lifetime: 10m");
    let output = check_config(&config, &good_users());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("sessions.idle_timeout") || stderr.contains("sessions.lifetime"),
        "{stderr}"
    );
}

#[test]
fn run_is_the_default_subcommand() {
    let upstream = Upstream::start();
    let gateway = Gateway::start(
        GatewayConfig::new()
            .omit_run_subcommand()
            .app(AppConfig::standard(&upstream.url())),
    );
    assert_eq!(gateway.client().get("/public/x").status, 200);
}

#[test]
fn healthz_answers_ok() {
    let stack = Stack::start(Backend::Memory);
    let response = stack.client().get("/.gatehouse/healthz");
    assert_eq!(response.status, 200);
    assert!(response.body.contains("ok"), "{}", response.body);
}

#[test]
fn portal_serves_its_stylesheet() {
    let stack = Stack::start(Backend::Memory);
    let response = stack.client().get("/.gatehouse/static/gatehouse.css");
    assert_eq!(response.status, 200);
    assert!(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/css")),
        "{:?}",
        response.header("content-type")
    );
    assert!(!response.body.is_empty());
    assert_eq!(stack.upstream.count(), 0);
}

#[test]
fn metrics_count_requests_logins_latency_and_upstream_errors() {
    let upstream = Upstream::start();
    let gateway = Gateway::start(
        GatewayConfig::new()
            .metrics()
            .app(
                AppConfig::new("broken", &[Upstream::dead_address()])
                    .host("broken.example.com")
                    .policy("bypass"),
            )
            .app(AppConfig::standard(&upstream.url())),
    );
    let client = gateway.client();
    client.login_ok("alice");
    client.login("alice", "wrong", None);
    assert_eq!(client.get("/private/x").status, 200);
    assert_eq!(gateway.client().get("/private/x").status, 401);
    let broken = client.get_with("/x", &[("Host", "broken.example.com")]);
    assert_eq!(broken.status, 502);

    let metrics = eventually(Duration::from_secs(10), "all metrics to appear", || {
        let text = gateway.metrics();
        let complete = text.contains("gatehouse_requests_total{")
            && text.contains("gatehouse_request_duration_seconds_bucket")
            && text.contains("gatehouse_upstream_errors_total{")
            && text.contains("gatehouse_logins_total{");
        complete.then_some(text)
    });
    let at_least_one = |series: &str| {
        let value = metric_value(&metrics, series);
        assert!(
            value.is_some_and(|v| v >= 1.0),
            "{series} is {value:?} in:\n{metrics}"
        );
    };
    at_least_one("gatehouse_logins_total{result=\"success\"}");
    at_least_one("gatehouse_logins_total{result=\"failure\"}");
    at_least_one("gatehouse_upstream_errors_total{app=\"broken\"}");
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("gatehouse_requests_total{") && l.contains("app=\"app\"")),
        "no request count for app:\n{metrics}"
    );
    assert!(
        metrics.lines().any(
            |l| l.starts_with("gatehouse_request_duration_seconds_bucket")
                && l.contains("app=\"app\"")
        ),
        "no latency histogram for app:\n{metrics}"
    );
}

/// Kills the demo process however the test ends.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The demo password from the demo's banner: the word after `demo /` (as in
/// "Sign in as demo / secret"), or else the last word of the first line that
/// mentions a password.
fn demo_password(banner: &str) -> Option<String> {
    let clean = |word: &str| {
        word.trim_matches(|c: char| "\"'`,.()".contains(c))
            .to_string()
    };
    let after_username = banner.lines().find_map(|line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        words
            .windows(3)
            .find(|w| w[0] == "demo" && w[1] == "/")
            .map(|w| clean(w[2]))
    });
    after_username.or_else(|| {
        banner
            .lines()
            .find(|line| line.to_lowercase().contains("password"))
            .and_then(|line| line.split_whitespace().last())
            .map(clean)
    })
}

/// A running `gatehouse demo`, its output going to a file.
struct RunningDemo {
    process: KillOnDrop,
    client: Client,
    stdout_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl RunningDemo {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let stdout_path = dir.path().join("demo.out");
        let stdout = std::fs::File::create(&stdout_path).expect("demo stdout file");
        let child = gatehouse_command()
            .args(["demo", "--listen", &format!("127.0.0.1:{port}")])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn gatehouse demo");
        let demo = Self {
            process: KillOnDrop(child),
            client: Client::new(port, "gatehouse_session", "gatehouse_csrf"),
            stdout_path,
            _dir: dir,
        };
        eventually(
            Duration::from_secs(30),
            "the demo to become healthy",
            || {
                let healthy = reqwest::blocking::get(demo.client.url("/.gatehouse/healthz"))
                    .is_ok_and(|r| r.status().is_success());
                healthy.then_some(())
            },
        );
        demo
    }

    fn banner(&self) -> String {
        std::fs::read_to_string(&self.stdout_path).unwrap_or_default()
    }
}

#[test]
fn demo_prints_credentials_that_work() {
    let demo = RunningDemo::start();
    let password = eventually(Duration::from_secs(5), "the demo password", || {
        demo_password(&demo.banner())
    });
    let login = demo.client.login("demo", &password, None);
    assert!(
        login.succeeded(),
        "demo login with {password:?} failed ({}); banner:\n{}",
        login.status(),
        demo.banner()
    );
    assert_eq!(demo.client.get_html("/").status, 200);
}

#[test]
fn stopping_the_demo_with_ctrl_c_removes_its_folder() {
    let mut demo = RunningDemo::start();
    let config = eventually(Duration::from_secs(5), "the demo's config path", || {
        demo.banner()
            .lines()
            .find_map(|line| line.trim().strip_prefix("Config used"))
            .map(|path| PathBuf::from(path.trim()))
    });
    let folder = config
        .parent()
        .expect("the config is in a folder")
        .to_owned();
    assert!(
        config.is_file(),
        "{} is not there while the demo runs",
        config.display()
    );

    let interrupted = Command::new("kill")
        .args(["-INT", &demo.process.0.id().to_string()])
        .status()
        .expect("run kill");
    assert!(interrupted.success());
    let status = eventually(Duration::from_secs(20), "the demo to exit", || {
        demo.process.0.try_wait().expect("wait for the demo")
    });
    assert!(status.success(), "the demo exited with {status}");
    assert!(!folder.exists(), "{} is left behind", folder.display());
}
