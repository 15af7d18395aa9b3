//! `gatehouse demo`: a working gateway in front of a built-in app, with
//! nothing else to install.
//!
//! The demo writes a real config and users file (from the embedded
//! `demo.yaml`) into a temporary folder and loads them through the same
//! validation as any deployment, so what you see is what you'd get. The
//! folder goes away when the demo stops.

mod app;

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;

use sha2::{Digest, Sha256};
use tempfile::TempDir;

use crate::auth::password::hash_blocking;
use crate::config::{ConfigError, Settings};

pub use app::demo_app_service;

pub const USERNAME: &str = "demo";
pub const PASSWORD: &str = "gatehouse-demo";
pub const SERVICE_TOKEN: &str = "demo-service-token";

const CONFIG_TEMPLATE: &str = include_str!("demo.yaml");

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot prepare the demo folder {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the embedded demo config is invalid (a bug): {0}")]
    Config(#[from] ConfigError),
    #[error("cannot hash the demo password: {0}")]
    Password(#[from] crate::auth::PasswordError),
}

/// What the demo will run.
pub struct Demo {
    pub settings: Settings,
    pub app_addr: SocketAddr,
    /// Holds the config, users file and database; removed when dropped.
    pub dir: TempDir,
}

/// A free loopback port for the demo app.
fn free_port() -> std::io::Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")?.local_addr()
}

/// Writes the demo's config into a fresh folder and loads it.
pub fn prepare(listen: SocketAddr) -> Result<Demo, DemoError> {
    let temp = tempfile::Builder::new()
        .prefix("gatehouse-demo-")
        .tempdir()
        .map_err(|source| DemoError::Io {
            path: std::env::temp_dir(),
            source,
        })?;
    let dir = temp.path().to_path_buf();
    let io = |source| DemoError::Io {
        path: dir.clone(),
        source,
    };
    let app_addr = free_port().map_err(io)?;
    let users = format!(
        "users:\n  {USERNAME}:\n    password: \"{}\"\n    email: demo@example.com\n    \
         display_name: Demo User\n    groups: [admins, staff]\n",
        hash_blocking(PASSWORD)?
    );
    std::fs::write(dir.join("users.yaml"), users).map_err(io)?;
    let config = CONFIG_TEMPLATE
        .replace("{dir}", &dir.display().to_string())
        .replace("{listen}", &listen.to_string())
        .replace("{app}", &app_addr.to_string())
        .replace(
            "{token_sha256}",
            &hex::encode(Sha256::digest(SERVICE_TOKEN)),
        );
    let path = dir.join("gatehouse.yaml");
    std::fs::write(&path, config).map_err(io)?;
    let settings = Settings::load(&path)?;
    Ok(Demo {
        settings,
        app_addr,
        dir: temp,
    })
}
