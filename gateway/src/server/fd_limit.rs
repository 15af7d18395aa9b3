//! The open-file limit. Every client connection, upstream connection and
//! store connection is a file descriptor; with the usual soft limit of
//! 1,024 a gateway refuses connections long before it runs out of memory
//! (an idle kept-alive connection costs a few KiB). At start the soft
//! limit is raised to the hard limit, which needs no privilege, and a
//! limit still below [`WANTED`] is logged, so the operator knows to raise
//! the hard limit (`LimitNOFILE=` in systemd, `ulimit -Hn`, `--ulimit` in
//! Docker).

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Enough for 10,000 clients, their upstream connections and the stores.
pub const WANTED: u64 = 32_768;

/// What [`raise`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Raised {
    /// From the first soft limit to the second; `None` is unlimited.
    To { from: Option<u64>, to: Option<u64> },
    /// Already at the hard limit.
    Already(Option<u64>),
    /// The kernel refused (a container's seccomp filter, say).
    Refused(Option<u64>),
}

impl Raised {
    /// The soft limit the process runs with.
    pub fn limit(self) -> Option<u64> {
        match self {
            Raised::To { to, .. } => to,
            Raised::Already(at) | Raised::Refused(at) => at,
        }
    }
}

/// Raises the soft open-file limit to the hard one.
pub fn raise() -> Raised {
    let now = getrlimit(Resource::Nofile);
    if now.current == now.maximum {
        return Raised::Already(now.current);
    }
    let wanted = Rlimit {
        current: now.maximum,
        maximum: now.maximum,
    };
    match setrlimit(Resource::Nofile, wanted) {
        Ok(()) => Raised::To {
            from: now.current,
            to: now.maximum,
        },
        Err(_) => Raised::Refused(now.current),
    }
}

/// [`raise`], logged.
pub fn raise_and_log() {
    let raised = raise();
    if let Raised::To { from, to } = raised {
        tracing::info!("open-file limit raised from {} to {}", show(from), show(to));
    }
    if let Raised::Refused(at) = raised {
        tracing::warn!("could not raise the open-file limit from {}", show(at));
    }
    if raised.limit().is_some_and(|n| n < WANTED) {
        tracing::warn!(
            "the open-file limit is {}: each client connection needs one; raise the hard \
             limit to at least {WANTED} (LimitNOFILE= under systemd)",
            show(raised.limit())
        );
    }
}

fn show(limit: Option<u64>) -> String {
    limit.map_or_else(|| "unlimited".to_owned(), |n| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_ends_at_the_hard_limit() {
        let raised = raise();
        let now = getrlimit(Resource::Nofile);
        assert_eq!(now.current, now.maximum, "{raised:?}");
        assert_eq!(raised.limit(), now.current);
        // A second call has nothing left to do.
        assert_eq!(raise(), Raised::Already(now.current));
    }
}
