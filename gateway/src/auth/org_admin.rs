//! The organisation-wide operations of the console: MFA on or off for an
//! organisation, a lock on it, the other parts of its policy, and "forget
//! all devices". Each checks who may (an admin of that organisation or one
//! above), what proof (a fresh code; the password too to loosen), and
//! what the locks allow ([`crate::policy`]), whichever page asks.

use super::authorize::{ProofUsed, Sensitive};
use super::lifecycle::{Actor, Lifecycle, LifecycleError, Refusal};
use crate::limits::{Attempt, Verdict};
use crate::orgs::OrgId;
use crate::policy::{loosened, Field, Lock, MfaMode, Partial, PolicyError, Table};
use crate::session::now_ms;
use crate::store::{AuditEvent, AuditOutcome};

/// An admin's change of an organisation's MFA setting.
pub struct Switch<'a> {
    pub org: OrgId,
    pub mode: MfaMode,
    /// From above: lock it there, for the organisation and those below
    /// (`Some(true)`), lift the lock (`Some(false)`), or leave locks be.
    pub lock: Option<bool>,
    /// Typed on the confirmation page: loosening needs it.
    pub password: &'a str,
    /// Loosening only: remove every factor, recovery code and remembered
    /// browser of the organisation's users.
    pub forget_devices: bool,
}

/// What a switch did.
#[derive(Debug)]
pub struct Switched {
    pub before: MfaMode,
    pub after: MfaMode,
    pub proof: ProofUsed,
    /// The users whose devices were forgotten, if that was asked.
    pub forgotten: Option<usize>,
}

impl Lifecycle<'_> {
    /// The organisation the admin `actor` administers from, if they may
    /// administer `org`.
    fn reach(&self, actor: &Actor<'_>, org: OrgId) -> Result<OrgId, LifecycleError> {
        let account = self.accounts.get(actor.user).filter(|_| actor.is_admin);
        let Some(account) = account else {
            return Err(Refusal::NotAdmin.into());
        };
        let orgs = self.mfa.policies.orgs();
        if !orgs.administers(account.user.org, org) {
            return Err(Refusal::OutOfReach.into());
        }
        Ok(account.user.org)
    }

    /// The admin's fresh proof, which must be a code: only an admin who
    /// has MFA changes who needs it.
    async fn admin_proof(&self, actor: &Actor<'_>) -> Result<ProofUsed, LifecycleError> {
        match self.proof(actor, Sensitive::Other).await? {
            ProofUsed::Password => Err(Refusal::NeedsOwnMfa.into()),
            proof => Ok(proof),
        }
    }

    /// Turns MFA on, to optional or off for `switch.org`, and locks or
    /// unlocks it there. Turning it on needs the admin's own fresh code;
    /// loosening it needs their password as well, and may forget every
    /// device of the organisation's users.
    pub async fn switch_mfa(
        &self,
        actor: &Actor<'_>,
        switch: &Switch<'_>,
    ) -> Result<Switched, LifecycleError> {
        let admin_org = self.reach(actor, switch.org)?;
        let proof = self.admin_proof(actor).await?;
        let table = self.mfa.policies().await?;
        let now = table.get(switch.org);
        let before = now.effective.mfa;
        let value = Partial {
            mfa: Some(switch.mode),
            ..Partial::default()
        };
        // A floor the admin isn't lifting refuses before the password is
        // asked: no typing for a change that can't happen.
        // A new lock from above only has to meet the floors above it.
        let floor = match (switch.lock, switch.org != admin_org) {
            (Some(true), true) => Some(&now.floor_above),
            (Some(false), true) => None,
            _ => Some(&now.floor),
        };
        if let Some(floor) = floor {
            if let Some(field) = loosened(&value, floor) {
                let locker = table.locker(switch.org, field);
                return Err(LifecycleError::PolicyLocked { field, locker });
            }
        }
        let loosening = switch.mode < before;
        if loosening {
            self.check_password(actor, switch.password).await?;
        }
        let table = self
            .set_with_lock(actor, admin_org, switch.org, &value, switch.lock)
            .await
            .map_err(|e| self.refused_policy(e))?;
        let after = table.get(switch.org).effective.mfa;
        let forgotten = if loosening && switch.forget_devices {
            Some(self.forget_org(switch.org).await?)
        } else {
            None
        };
        let detail = format!(
            "{}: mfa {} -> {}{}{}",
            self.org_name(switch.org),
            before.as_str(),
            after.as_str(),
            match switch.lock {
                Some(true) => ", locked",
                Some(false) => ", unlocked",
                None => "",
            },
            forgotten.map_or(String::new(), |n| format!(
                ", devices of {n} users forgotten"
            )),
        );
        let outcome = match after {
            MfaMode::Required => AuditOutcome::Enforced,
            MfaMode::Optional => AuditOutcome::NotEnforced,
            MfaMode::Off => AuditOutcome::TurnedOff,
        };
        self.audit_policy(actor, outcome, &detail, proof).await;
        Ok(Switched {
            before,
            after,
            proof,
            forgotten,
        })
    }

    /// Sets the other parts of `org`'s policy (allowed methods, remembered
    /// days, groups that must use MFA), locking those in `locks` and
    /// unlocking the others where the admin may. Needs a fresh code.
    pub async fn set_org_policy(
        &self,
        actor: &Actor<'_>,
        org: OrgId,
        value: &Partial,
        locks: &[Field],
    ) -> Result<ProofUsed, LifecycleError> {
        let admin_org = self.reach(actor, org)?;
        let proof = self.admin_proof(actor).await?;
        let table = self.mfa.policies().await?;
        let now = table.get(org);
        let mut changed = Vec::new();
        for field in value.fields().filter(|f| *f != Field::Mfa) {
            let one = value.only(field);
            let lock = locks.contains(&field) && org != admin_org;
            // Saving the form leaves untouched fields inherited, and
            // untouched locks as they are.
            let unchanged = match table.get(org).lock_here(field) {
                Some(held) if lock => held.value == one,
                Some(_) => false,
                None => !lock && one == Partial::field_of(field, &now.effective),
            };
            if unchanged {
                continue;
            }
            self.set_with_lock(actor, admin_org, org, &one, Some(lock))
                .await
                .map_err(|e| self.refused_policy(e))?;
            changed.push(field.as_str());
        }
        if changed.is_empty() {
            return Ok(proof);
        }
        let detail = format!("{}: {}", self.org_name(org), changed.join(", "));
        self.audit_policy(actor, AuditOutcome::Changed, &detail, proof)
            .await;
        Ok(proof)
    }

    /// From above, `Some(true)` makes `value` (one field) a lock on `org`:
    /// a floor, which leaves the organisation's own choice as it is, so a
    /// child stricter than the floor stays so. Otherwise `value` becomes
    /// `org`'s own choice, after lifting the lock on it (`Some(false)`).
    async fn set_with_lock(
        &self,
        actor: &Actor<'_>,
        admin_org: OrgId,
        org: OrgId,
        value: &Partial,
        lock: Option<bool>,
    ) -> Result<std::sync::Arc<Table>, PolicyError> {
        let policies = &self.mfa.policies;
        let store = self.mfa.store_handle();
        let below = org != admin_org;
        let locking = Lock {
            value: value.clone(),
            by: actor.user.to_owned(),
            by_org: admin_org,
            at_ms: now_ms() as i64,
        };
        let Some(field) = value.fields().next() else {
            return Ok(policies.current(store).await?);
        };
        match (below, lock) {
            (true, Some(true)) => policies.set_lock(store, org, field, &locking, false).await,
            (true, Some(false)) => {
                let table = policies.current(store).await?;
                if table.get(org).lock_here(field).is_some() {
                    policies.set_lock(store, org, field, &locking, true).await?;
                }
                policies.set_own(store, org, value).await
            }
            _ => policies.set_own(store, org, value).await,
        }
    }

    /// Removes every factor, recovery code and remembered browser of the
    /// users in `org` and below, in one transaction, then ends their
    /// sessions and any step under way, on every replica.
    async fn forget_org(&self, org: OrgId) -> Result<usize, LifecycleError> {
        let orgs = self.mfa.policies.orgs();
        let users: Vec<String> = self
            .accounts
            .sorted()
            .iter()
            .filter(|a| orgs.is_within(a.user.org, org))
            .map(|a| a.user.username.clone())
            .collect();
        self.mfa.forget_users(&users).await?;
        for user in &users {
            self.sessions.delete_user(user).await?;
        }
        Ok(users.len())
    }

    /// The actor's own password, typed again, under the password limits.
    async fn check_password(
        &self,
        actor: &Actor<'_>,
        password: &str,
    ) -> Result<(), LifecycleError> {
        let Some(account) = self.accounts.get(actor.user) else {
            return Err(Refusal::NotAdmin.into());
        };
        if let Verdict::Locked(wait) = self
            .limiter
            .check(Attempt::Password, actor.user, actor.ip)
            .await?
        {
            return Err(Refusal::Locked(wait).into());
        }
        let hash = Some(account.user.password_hash.as_str());
        if self.passwords.verify(hash, password).await? {
            let _ = self
                .limiter
                .record_success(Attempt::Password, actor.user, actor.ip)
                .await;
            return Ok(());
        }
        self.limiter
            .record_failure(Attempt::Password, actor.user, actor.ip)
            .await?;
        Err(Refusal::WrongPassword.into())
    }

    fn refused_policy(&self, e: PolicyError) -> LifecycleError {
        match e {
            PolicyError::Locked { field, locker } => LifecycleError::PolicyLocked { field, locker },
            PolicyError::NotAbove => Refusal::OutOfReach.into(),
            PolicyError::Store(e) => LifecycleError::Mfa(e.into()),
        }
    }

    fn org_name(&self, org: OrgId) -> String {
        self.mfa
            .policies
            .orgs()
            .name(org)
            .map_or_else(|| "the root organisation".to_owned(), str::to_owned)
    }

    async fn audit_policy(
        &self,
        actor: &Actor<'_>,
        outcome: AuditOutcome,
        detail: &str,
        proof: ProofUsed,
    ) {
        self.mfa
            .audit_proof(
                AuditEvent::MfaPolicyChanged,
                actor.user,
                actor.ip,
                outcome,
                Some(detail),
                Some(proof.as_str()),
            )
            .await;
    }
}
