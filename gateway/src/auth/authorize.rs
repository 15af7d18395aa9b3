//! Who is calling, and may they: the access decision as a pure function.
//!
//! A request first becomes a [`Caller`]: anonymous, a service token, or a
//! user with a session and the second step it has proven, how and when.
//! [`authorize`] then decides from the caller, what the request needs and
//! the organisation's policy, with no I/O, so every combination can be
//! tested as a table. The proxy and the portal build replies from the
//! [`Decision`]; neither decides access on its own.

use std::time::Duration;

use crate::config::Policy;
use crate::session::{Owed, Proof, Session};

/// A sensitive action: it changes how someone signs in, so it needs a
/// fresh proof of the second factor on this session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sensitive {
    /// Replacing a lost authenticator: the one change a recovery code
    /// allows, or the user who lost their phone could never set up a new one.
    ReplaceAuthenticator,
    /// Turning MFA off, removing or adding a factor, new recovery codes,
    /// every admin change.
    Other,
}

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// An app's route, under its rule's policy.
    Route(Policy),
    /// A sensitive action in the portal.
    Sensitive(Sensitive),
}

/// The second step a session has done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecondStep {
    pub proof: Proof,
    pub at_ms: u64,
}

/// Whether the user has any second factor, where the caller knows.
/// Signed-in traffic doesn't read the store, so it says `Unknown`; the
/// session's own state then stands for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factors {
    Unknown,
    None,
    Some,
}

/// A user with a live session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserCaller {
    pub owed: Owed,
    pub second: Option<SecondStep>,
    /// When the password was last given on this session (ms).
    pub password_at_ms: u64,
    pub factors: Factors,
}

impl UserCaller {
    pub fn from_session(s: &Session, factors: Factors) -> Self {
        Self {
            owed: s.owed,
            second: s.mfa_at_ms.map(|at_ms| SecondStep {
                proof: s.proof,
                at_ms,
            }),
            password_at_ms: s.password_at_ms,
            factors,
        }
    }
}

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    /// A token Gatehouse doesn't know where only Gatehouse's belong.
    BadToken,
    /// A valid service token; `reaches` says whether it may reach this app.
    Token {
        reaches: bool,
    },
    User(UserCaller),
}

/// The organisation's policy as it applies to this caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgView {
    /// The user must have a second factor.
    pub mfa_required: bool,
    /// The user may use one: false where the organisation turned MFA off,
    /// and then nobody is asked for a code.
    pub mfa_offered: bool,
}

impl OrgView {
    /// What a user's policy says.
    pub fn of(policy: &crate::policy::UserPolicy) -> Self {
        OrgView {
            mfa_required: policy.required(),
            mfa_offered: policy.offered(),
        }
    }
}

/// When a proof stops being fresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub now_ms: u64,
    pub fresh_for: Duration,
}

/// The proof a sensitive action was allowed on, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofUsed {
    Code,
    RecoveryCode,
    /// A user with no factor proves themselves with their password.
    Password,
}

impl ProofUsed {
    pub fn as_str(self) -> &'static str {
        match self {
            ProofUsed::Code => "code",
            ProofUsed::RecoveryCode => "recovery_code",
            ProofUsed::Password => "password",
        }
    }
}

/// What to do with the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Let it through.
    Allow,
    /// A sensitive action, allowed on this proof.
    AllowSensitive(ProofUsed),
    /// Closed to this caller whoever they are.
    Forbidden,
    /// A token where only Gatehouse's belong, and not one of them.
    InvalidToken,
    /// Nobody signed in: the sign-in page, or a 401.
    SignIn,
    /// The session owes a code from an enrolled factor.
    Challenge,
    /// The session owes enrollment.
    Enroll,
    /// The action needs a fresh proof: the confirm page.
    Confirm,
    /// A route that needs a second factor, for a user whose organisation
    /// turned MFA off: nothing they can do here opens it.
    MfaOff,
}

/// Whether deciding `need` asks who the caller is. Deny and bypass rules
/// don't, so traffic under them never touches a store.
pub fn needs_caller(need: Need) -> bool {
    !matches!(need, Need::Route(Policy::Deny | Policy::Bypass))
}

/// The access decision. Deny rules win over everything; a bypass lets
/// anyone through; a token satisfies any other route but nothing in the
/// portal; a session must have paid what it owes, and a sensitive action
/// needs a fresh proof.
pub fn authorize(need: Need, caller: &Caller, org: OrgView, clock: Clock) -> Decision {
    match need {
        Need::Route(Policy::Deny) => return Decision::Forbidden,
        Need::Route(Policy::Bypass) => return Decision::Allow,
        _ => {}
    }
    let user = match caller {
        Caller::Anonymous => return Decision::SignIn,
        Caller::BadToken => return Decision::InvalidToken,
        Caller::Token { .. } => return token_route(need, caller),
        Caller::User(user) => user,
    };
    if let Some(owed) = owes(user, org) {
        return owed;
    }
    match need {
        Need::Route(Policy::TwoFactor) if user.second.is_none() => {
            if org.mfa_offered {
                Decision::Challenge
            } else {
                Decision::MfaOff
            }
        }
        Need::Route(_) => Decision::Allow,
        Need::Sensitive(action) => match fresh_proof(user, action, clock) {
            Some(proof) => Decision::AllowSensitive(proof),
            None => Decision::Confirm,
        },
    }
}

/// A token reaches routes only, and only the apps it is for.
fn token_route(need: Need, caller: &Caller) -> Decision {
    match (need, caller) {
        (Need::Route(_), Caller::Token { reaches: true }) => Decision::Allow,
        _ => Decision::Forbidden,
    }
}

/// The step a session still owes before it reaches anything.
fn owes(user: &UserCaller, org: OrgView) -> Option<Decision> {
    match user.owed {
        // Turned off since the password: nobody is asked for a code.
        Owed::Challenge if !org.mfa_offered => None,
        Owed::Challenge => Some(Decision::Challenge),
        Owed::Enrollment if org.mfa_required => Some(Decision::Enroll),
        // Enrollment was owed because MFA was required at sign-in; once
        // it is no longer required, the session owes nothing more, as a
        // new sign-in wouldn't.
        Owed::Enrollment | Owed::Nothing => {
            let no_factor = user.second.is_none() || user.factors == Factors::None;
            (org.mfa_required && no_factor).then_some(Decision::Enroll)
        }
    }
}

/// The proof on this session that allows `action` now, if any. A code
/// within `fresh_for` allows anything; a recovery code only replacing the
/// authenticator; a remembered browser nothing. A user with no factor has
/// only their password to give.
fn fresh_proof(user: &UserCaller, action: Sensitive, clock: Clock) -> Option<ProofUsed> {
    let fresh =
        |at_ms: u64| clock.now_ms.saturating_sub(at_ms) <= clock.fresh_for.as_millis() as u64;
    if user.factors == Factors::None {
        return fresh(user.password_at_ms).then_some(ProofUsed::Password);
    }
    let step = user.second.filter(|s| fresh(s.at_ms))?;
    match (step.proof, action) {
        (Proof::Code, _) => Some(ProofUsed::Code),
        (Proof::Recovery, Sensitive::ReplaceAuthenticator) => Some(ProofUsed::RecoveryCode),
        (Proof::Recovery, Sensitive::Other) | (Proof::Device, _) => None,
    }
}

#[cfg(test)]
#[path = "authorize_tests.rs"]
mod tests;
