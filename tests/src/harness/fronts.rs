//! Proxies that stay in front of Gatehouse and ask it through forward auth:
//! Debian's nginx (`auth_request`) and Caddy (`forward_auth`), each run as
//! the test user from a config in a temporary folder, on a free port, and
//! killed on drop. CI installs both (`scripts/deps.sh`); without them the
//! tests fail saying so.

use std::fs;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::harness::{free_port, wait_until};

/// How long a front gets to listen.
const READY_DEADLINE: Duration = Duration::from_secs(15);

/// A running front proxy.
pub struct Front {
    child: Child,
    dir: TempDir,
    port: u16,
    name: &'static str,
}

impl Front {
    /// nginx on a free port: `/.gatehouse/` goes to Gatehouse on
    /// `gatehouse_port`, everything else to `upstream` (`host:port`) once
    /// `auth_request` to Gatehouse's `/.gatehouse/auth/request` allows it;
    /// a 401 sends the browser to the page named in its `Location`.
    pub fn nginx(gatehouse_port: u16, upstream: &str) -> Front {
        let bin = find("nginx", &["/usr/sbin/nginx"]);
        let dir = tempfile::tempdir().expect("nginx temp dir");
        let port = free_port();
        fs::create_dir_all(dir.path().join("tmp")).expect("nginx temp paths");
        let d = dir.path().display();
        let config = format!(
            // One process: killing it on drop leaves no orphaned worker
            // behind, as killing a master would.
            r#"master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
{locations}
    }}
}}
"#,
            locations = nginx_locations(gatehouse_port, upstream),
        );
        let config_path = dir.path().join("nginx.conf");
        fs::write(&config_path, config).expect("write nginx.conf");
        let mut command = Command::new(bin);
        command
            .arg("-p")
            .arg(dir.path())
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .arg("-c")
            .arg(&config_path)
            .args(["-g", "daemon off;"]);
        Front::spawn("nginx", command, dir, port)
    }

    /// Caddy on a free port: `/.gatehouse/*` goes to Gatehouse, everything
    /// else through `forward_auth` to `/.gatehouse/auth/forward`, then to
    /// `upstream`, with the identity headers copied from Gatehouse's 200.
    pub fn caddy(gatehouse_port: u16, upstream: &str) -> Front {
        let bin = find("caddy", &["/usr/bin/caddy"]);
        let dir = tempfile::tempdir().expect("caddy temp dir");
        let port = free_port();
        let config = format!(
            r#"{{
    admin off
    auto_https off
    storage file_system {d}/data
}}

http://127.0.0.1:{port} {{
    handle /.gatehouse/* {{
        reverse_proxy 127.0.0.1:{gatehouse_port}
    }}
    handle {{
        forward_auth 127.0.0.1:{gatehouse_port} {{
            uri /.gatehouse/auth/forward
            copy_headers Remote-User Remote-Email Remote-Name Remote-Groups
        }}
        reverse_proxy {upstream}
    }}
}}
"#,
            d = dir.path().display(),
        );
        let config_path = dir.path().join("Caddyfile");
        fs::write(&config_path, config).expect("write the Caddyfile");
        let mut command = Command::new(bin);
        command
            .arg("run")
            .arg("--config")
            .arg(&config_path)
            .args(["--adapter", "caddyfile"])
            .env("HOME", dir.path())
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_CONFIG_HOME", dir.path().join("config"));
        Front::spawn("caddy", command, dir, port)
    }

    fn spawn(name: &'static str, mut command: Command, dir: TempDir, port: u16) -> Front {
        let log = |file: &str| fs::File::create(dir.path().join(file)).expect("front log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(log("stdout.log"))
            .stderr(log("stderr.log"))
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        let mut front = Front {
            child,
            dir,
            port,
            name,
        };
        let listening = wait_until(READY_DEADLINE, || {
            if let Ok(Some(status)) = front.child.try_wait() {
                panic!("{name} exited with {status}:\n{}", front.logs());
            }
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(
            listening,
            "{name} did not listen on {port}:\n{}",
            front.logs()
        );
        front
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Everything the proxy wrote to its logs.
    pub fn logs(&self) -> String {
        ["stdout.log", "stderr.log", "error.log"]
            .iter()
            .filter_map(|f| fs::read_to_string(self.dir.path().join(f)).ok())
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn name(&self) -> &str {
        self.name
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `server` block's locations for nginx in front of Gatehouse, as the
/// README shows them.
fn nginx_locations(gatehouse: u16, upstream: &str) -> String {
    format!(
        r#"        location /.gatehouse/ {{
            proxy_pass http://127.0.0.1:{gatehouse};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
        location = /.gatehouse-auth {{
            internal;
            proxy_pass http://127.0.0.1:{gatehouse}/.gatehouse/auth/request;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
            proxy_set_header X-Original-Method $request_method;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
        location @login {{
            return 302 $scheme://$http_host$login;
        }}
        location / {{
            auth_request /.gatehouse-auth;
            auth_request_set $user $upstream_http_remote_user;
            auth_request_set $email $upstream_http_remote_email;
            auth_request_set $login $upstream_http_location;
            error_page 401 = @login;
            proxy_set_header Remote-User $user;
            proxy_set_header Remote-Email $email;
            proxy_pass http://{upstream};
        }}"#
    )
}

/// `name` on the PATH, or at one of `fallbacks`; panics saying how to get
/// it otherwise.
fn find(name: &str, fallbacks: &[&str]) -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(name));
    on_path
        .chain(fallbacks.iter().map(PathBuf::from))
        .find(|p| Path::new(p).is_file())
        .unwrap_or_else(|| {
            panic!(
                "{name} is not installed: the forward-auth tests run a real {name} \
                 (scripts/deps.sh installs it, e.g. apt-get install {name})"
            )
        })
}
