//! The policy of a routed request when rules have conditions.
//!
//! The router knows the path; the method and the client's address come
//! with the request, and the user's groups only once the session is looked
//! up. So routing yields a [`Ruling`]: the policy itself when no condition
//! takes part (every config without conditions, at no extra cost), or the
//! candidate rules of each reading of the path. [`Ruling::settle`] then
//! reads the method and address, and [`Settled::for_groups`] the caller's
//! groups, only when a rule naming groups could apply.
//!
//! Precedence, for each reading: rules whose path prefix matches, longest
//! first; among equal prefixes, in the order listed; the first whose
//! conditions all hold applies; none, the app's policy. The strictest
//! policy over the readings wins, as without conditions.

use std::net::IpAddr;

use super::Entry;
use crate::config::{Conditions, Policy};

/// What a rule's conditions read of a request besides its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub method: http::Method,
    /// The client's address, as `server.trusted_proxies` makes it out.
    pub client: IpAddr,
}

/// One reading's candidate rules: those with conditions, in precedence
/// order, then the policy when none of them applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Chain<'r> {
    candidates: Vec<&'r Entry>,
    otherwise: Policy,
}

impl<'r> Chain<'r> {
    pub(super) fn new(candidates: Vec<&'r Entry>, otherwise: Policy) -> Self {
        Chain {
            candidates,
            otherwise,
        }
    }

    /// The policy of the first candidate whose conditions hold; `groups`
    /// is `None` for a caller who has none (anonymous, a service token).
    fn policy(&self, facts: &Facts, groups: Option<&[String]>) -> Policy {
        self.candidates
            .iter()
            .find(|e| e.when.as_deref().is_some_and(|c| holds(c, facts, groups)))
            .map_or(self.otherwise, |e| e.policy)
    }

    /// Whether some candidate naming groups comes, its other conditions
    /// holding, before the rule that applies to a caller without groups.
    fn asks_groups(&self, facts: &Facts) -> bool {
        for conditions in self.candidates.iter().filter_map(|e| e.when.as_deref()) {
            if !conditions.groups.is_empty() && holds_but_groups(conditions, facts) {
                return true;
            }
            if holds(conditions, facts, None) {
                return false;
            }
        }
        false
    }
}

/// Whether the method and network conditions hold.
fn holds_but_groups(c: &Conditions, facts: &Facts) -> bool {
    let method = facts.method.as_str();
    let method_ok = c.methods.is_empty()
        || c.methods.iter().any(|m| {
            m.eq_ignore_ascii_case(method) || (m == "GET" && method.eq_ignore_ascii_case("HEAD"))
        });
    let client = facts.client.to_canonical();
    let network_ok = c.networks.is_empty() || c.networks.iter().any(|n| n.contains(&client));
    method_ok && network_ok
}

/// Whether every condition holds. A groups condition never holds for a
/// caller without groups.
fn holds(c: &Conditions, facts: &Facts, groups: Option<&[String]>) -> bool {
    let groups_ok =
        c.groups.is_empty() || groups.is_some_and(|mine| c.groups.iter().any(|g| mine.contains(g)));
    groups_ok && holds_but_groups(c, facts)
}

/// The policy of a routed request, or the rules whose conditions decide it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ruling<'r> {
    /// No condition takes part.
    Fixed(Policy),
    /// Conditions take part: [`Ruling::settle`] decides.
    Conditional(Conditional<'r>),
}

/// The readings whose candidates have conditions, and the strictest
/// policy among the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conditional<'r> {
    floor: Policy,
    chains: Vec<Chain<'r>>,
}

impl From<Policy> for Ruling<'_> {
    fn from(policy: Policy) -> Self {
        Ruling::Fixed(policy)
    }
}

impl Ruling<'_> {
    /// This ruling, never looser than `floor`.
    pub fn at_least(self, floor: Policy) -> Self {
        match self {
            Ruling::Fixed(policy) => Ruling::Fixed(policy.max(floor)),
            Ruling::Conditional(mut c) => {
                c.floor = c.floor.max(floor);
                Ruling::Conditional(c)
            }
        }
    }

    /// Settles every condition but groups, calling `facts` only when some
    /// rule has conditions.
    pub fn settle(&self, facts: impl FnOnce() -> Facts) -> Settled<'_> {
        let conditional = match self {
            Ruling::Fixed(policy) => {
                return Settled {
                    policy: *policy,
                    by_groups: None,
                }
            }
            Ruling::Conditional(conditional) => conditional,
        };
        let facts = facts();
        let policy = conditional.policy(&facts, None);
        let asks = conditional.chains.iter().any(|c| c.asks_groups(&facts));
        Settled {
            policy,
            by_groups: asks.then_some((conditional, facts)),
        }
    }
}

impl Conditional<'_> {
    fn policy(&self, facts: &Facts, groups: Option<&[String]>) -> Policy {
        self.chains
            .iter()
            .map(|c| c.policy(facts, groups))
            .fold(self.floor, Policy::max)
    }
}

/// A verdict with the method and address read.
#[derive(Debug)]
pub struct Settled<'v> {
    /// The policy for a caller without groups: anonymous, a service token,
    /// or a user in none of the groups that rules name.
    pub policy: Policy,
    /// Set when a rule naming groups could apply.
    by_groups: Option<(&'v Conditional<'v>, Facts)>,
}

impl Settled<'_> {
    /// Whether the caller's groups may change the policy, so the caller
    /// must be known even where [`Settled::policy`] would not ask.
    pub fn asks_groups(&self) -> bool {
        self.by_groups.is_some()
    }

    /// The policy for a signed-in user in `groups`.
    pub fn for_groups(&self, groups: &[String]) -> Policy {
        match &self.by_groups {
            Some((conditional, facts)) => conditional.policy(facts, Some(groups)),
            None => self.policy,
        }
    }
}

/// The strictest policy over readings, built one reading at a time; no
/// allocation unless some reading's candidates have conditions.
#[derive(Debug, Default)]
pub(super) struct Strictest<'r> {
    floor: Option<Policy>,
    chains: Vec<Chain<'r>>,
}

impl<'r> Strictest<'r> {
    pub(super) fn add(&mut self, chain: Chain<'r>) {
        if chain.candidates.is_empty() {
            self.floor = Some(
                self.floor
                    .map_or(chain.otherwise, |f| f.max(chain.otherwise)),
            );
        } else {
            self.chains.push(chain);
        }
    }

    /// Adds a reading's chain, if the reading found an app.
    pub(super) fn extend(&mut self, found: Option<(usize, Chain<'r>)>) {
        if let Some((_, chain)) = found {
            self.add(chain);
        }
    }

    pub(super) fn finish(self) -> Ruling<'r> {
        let floor = self.floor.unwrap_or(Policy::Bypass);
        if self.chains.is_empty() || floor == Policy::Deny {
            Ruling::Fixed(floor)
        } else {
            Ruling::Conditional(Conditional {
                floor,
                chains: self.chains,
            })
        }
    }
}

#[cfg(test)]
#[path = "verdict_tests.rs"]
mod tests;
