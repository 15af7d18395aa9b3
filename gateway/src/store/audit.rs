//! The audit log: one row per security event. Callers must never put a
//! secret, code or token in any field.

use std::fmt;
use std::str::FromStr;

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{Store, StoreError};

/// What an audit entry records. Writers name one of these, so the console
/// can offer the whole list as a filter and no entry is spelt two ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditEvent {
    /// A non-admin was refused the admin console.
    AdminConsole,
    /// A one-time code went out by email or text message.
    CodeSent,
    /// A right code refused because it was already used.
    CodeReplayRefused,
    /// A fresh proof given on the confirm page before a sensitive action.
    Confirmed,
    /// A browser was remembered, to skip the second factor.
    DeviceRemembered,
    /// The user's remembered browsers were forgotten.
    DevicesForgotten,
    /// A password sign-in, whatever its outcome.
    Login,
    /// A sign-out.
    Logout,
    /// A second-factor check at sign-in or step-up.
    MfaChallenge,
    /// A factor removed, or MFA turned off.
    MfaDisabled,
    /// A factor added.
    MfaEnrolled,
    /// The organisation's MFA requirement changed.
    MfaPolicyChanged,
    /// Every factor removed: by an admin, or after a recovery code.
    MfaReset,
    /// A recovery code was tried.
    RecoveryCodeUsed,
    /// New recovery codes replaced the old ones.
    RecoveryCodesRegenerated,
    /// Every session of the user ended.
    SignedOutEverywhere,
    /// A service token was made in the console.
    TokenCreated,
    /// A console service token was given a new secret.
    TokenReplaced,
    /// A console service token was revoked, or the one it replaced ended.
    TokenRevoked,
    /// A service token was used (at most once a minute per token).
    TokenUsed,
}

impl AuditEvent {
    /// Every event, in the order the console lists them.
    pub const ALL: [AuditEvent; 20] = [
        AuditEvent::AdminConsole,
        AuditEvent::CodeSent,
        AuditEvent::CodeReplayRefused,
        AuditEvent::Confirmed,
        AuditEvent::DeviceRemembered,
        AuditEvent::DevicesForgotten,
        AuditEvent::Login,
        AuditEvent::Logout,
        AuditEvent::MfaChallenge,
        AuditEvent::MfaDisabled,
        AuditEvent::MfaEnrolled,
        AuditEvent::MfaPolicyChanged,
        AuditEvent::MfaReset,
        AuditEvent::RecoveryCodeUsed,
        AuditEvent::RecoveryCodesRegenerated,
        AuditEvent::SignedOutEverywhere,
        AuditEvent::TokenCreated,
        AuditEvent::TokenReplaced,
        AuditEvent::TokenRevoked,
        AuditEvent::TokenUsed,
    ];

    /// The name stored in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditEvent::AdminConsole => "admin_console",
            AuditEvent::CodeSent => "code_sent",
            AuditEvent::CodeReplayRefused => "code_replay_refused",
            AuditEvent::Confirmed => "confirmed",
            AuditEvent::DeviceRemembered => "device_remembered",
            AuditEvent::DevicesForgotten => "devices_forgotten",
            AuditEvent::Login => "login",
            AuditEvent::Logout => "logout",
            AuditEvent::MfaChallenge => "mfa_challenge",
            AuditEvent::MfaDisabled => "mfa_disabled",
            AuditEvent::MfaEnrolled => "mfa_enrolled",
            AuditEvent::MfaPolicyChanged => "mfa_policy_changed",
            AuditEvent::MfaReset => "mfa_reset",
            AuditEvent::RecoveryCodeUsed => "recovery_code_used",
            AuditEvent::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            AuditEvent::SignedOutEverywhere => "signed_out_everywhere",
            AuditEvent::TokenCreated => "token_created",
            AuditEvent::TokenReplaced => "token_replaced",
            AuditEvent::TokenRevoked => "token_revoked",
            AuditEvent::TokenUsed => "token_used",
        }
    }

    /// The event stored under `name`, if it is one.
    pub fn from_name(name: &str) -> Option<AuditEvent> {
        AuditEvent::ALL.into_iter().find(|e| e.as_str() == name)
    }
}

/// How a security event ended, as the log stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditOutcome {
    Ok,
    Failed,
    /// Not allowed to the one who asked (e.g. a non-admin at the console).
    Refused,
    /// Refused because the organisation requires MFA.
    RefusedEnforced,
    /// Refused because the config fixes the setting.
    RefusedConfig,
    /// Refused by a rate limit.
    RefusedLimit,
    /// The account is disabled.
    Disabled,
    /// The policy switch: MFA now required.
    Enforced,
    /// The policy switch: MFA now optional.
    NotEnforced,
    /// The policy switch: MFA now off, not even offered.
    TurnedOff,
    /// Another part of an organisation's policy changed.
    Changed,
    /// A remembered browser stood in for the code.
    SkippedRememberedDevice,
    /// The user's sessions were ended while this step was under way.
    EndedMeanwhile,
}

impl AuditOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Ok => "ok",
            AuditOutcome::Failed => "failed",
            AuditOutcome::Refused => "refused",
            AuditOutcome::RefusedEnforced => "refused_enforced",
            AuditOutcome::RefusedConfig => "refused_config",
            AuditOutcome::RefusedLimit => "refused_limit",
            AuditOutcome::Disabled => "disabled",
            AuditOutcome::Enforced => "enforced",
            AuditOutcome::NotEnforced => "not_enforced",
            AuditOutcome::TurnedOff => "turned_off",
            AuditOutcome::Changed => "changed",
            AuditOutcome::SkippedRememberedDevice => "skipped_remembered_device",
            AuditOutcome::EndedMeanwhile => "ended_meanwhile",
        }
    }
}

/// One security event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// When it happened (unix ms).
    pub at_ms: i64,
    /// Who it concerns, when known.
    pub username: Option<String>,
    /// The client IP, when known.
    pub ip: Option<String>,
    /// What happened, e.g. `mfa_enrolled`, `mfa_challenge`.
    pub event: String,
    /// How it ended, e.g. `ok`, `failed`, `replay`.
    pub outcome: String,
    /// Free text for people; never a secret.
    pub detail: Option<String>,
    /// The fresh proof a sensitive action was allowed on (`code`,
    /// `recovery_code`, `password`); none for other events.
    pub proof: Option<String>,
}

impl AuditEntry {
    fn from_row(row: &AnyRow) -> Result<AuditEntry, sqlx::Error> {
        Ok(AuditEntry {
            at_ms: row.try_get(0)?,
            username: row.try_get(1)?,
            ip: row.try_get(2)?,
            event: row.try_get(3)?,
            outcome: row.try_get(4)?,
            detail: row.try_get(5)?,
            proof: row.try_get(6)?,
        })
    }
}

/// Which audit entries to read; `None` reads all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only entries about this user (`service:<name>` for a token).
    pub user: Option<String>,
    /// Only entries of this event.
    pub event: Option<String>,
    /// Only entries about one of these users: an admin's organisations.
    /// `None` is everyone, entries about nobody in particular included.
    pub within: Option<Vec<String>>,
}

/// Where a page of the audit log ended: the next page holds the entries
/// older than this one. Written `<at_ms>.<id>` in a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditCursor {
    at_ms: i64,
    id: i64,
}

impl fmt::Display for AuditCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.at_ms, self.id)
    }
}

impl FromStr for AuditCursor {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let (at_ms, id) = s.split_once('.').ok_or(())?;
        let number = |s: &str| match s.parse::<i64>() {
            Ok(n) if n >= 0 && !s.starts_with('+') => Ok(n),
            _ => Err(()),
        };
        Ok(AuditCursor {
            at_ms: number(at_ms)?,
            id: number(id)?,
        })
    }
}

/// One page of the audit log, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Where the next, older page starts; `None` on the last page.
    pub older: Option<AuditCursor>,
}

impl Store {
    /// Appends an entry to the audit log.
    pub async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (at_ms, username, ip, event, outcome, detail, proof) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(entry.at_ms)
        .bind(entry.username.as_deref())
        .bind(entry.ip.as_deref())
        .bind(&entry.event)
        .bind(&entry.outcome)
        .bind(entry.detail.as_deref())
        .bind(entry.proof.as_deref())
        .execute(self.pool())
        .await
        .map_err(self.fail("write the audit log"))?;
        Ok(())
    }

    /// The latest `limit` entries, for one user or for everyone, newest first
    /// (entries written in the same millisecond: last written first).
    pub async fn audit_recent(
        &self,
        user: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let filter = AuditFilter {
            user: user.map(str::to_owned),
            ..AuditFilter::default()
        };
        Ok(self.audit_page(&filter, None, limit).await?.entries)
    }

    /// Up to `limit` entries that pass `filter`, newest first, starting
    /// after `before` (the end of the previous page) if given. Each filter
    /// has an index that serves it in this order.
    pub async fn audit_page(
        &self,
        filter: &AuditFilter,
        before: Option<AuditCursor>,
        limit: i64,
    ) -> Result<AuditPage, StoreError> {
        const WHAT: &str = "read the audit log";
        // Only numbered placeholders are spliced in; every value is bound.
        let mut sql = String::from(
            "SELECT at_ms, username, ip, event, outcome, detail, proof, id FROM audit_log WHERE 1 = 1",
        );
        let mut n = 0;
        let mut param = || {
            n += 1;
            format!("${n}")
        };
        if filter.user.is_some() {
            sql += &format!(" AND username = {}", param());
        }
        if filter.event.is_some() {
            sql += &format!(" AND event = {}", param());
        }
        match filter.within.as_deref() {
            None => {}
            // `IN ()` is not SQL; an empty scope holds nothing.
            Some([]) => sql += " AND 1 = 0",
            Some(users) => {
                let list: Vec<String> = users.iter().map(|_| param()).collect();
                sql += &format!(" AND username IN ({})", list.join(", "));
            }
        }
        if before.is_some() {
            let (at, same_at, id) = (param(), param(), param());
            sql += &format!(" AND (at_ms < {at} OR (at_ms = {same_at} AND id < {id}))");
        }
        sql += &format!(" ORDER BY at_ms DESC, id DESC LIMIT {}", param());
        let mut query = sqlx::query(&sql);
        if let Some(user) = &filter.user {
            query = query.bind(user.as_str());
        }
        if let Some(event) = &filter.event {
            query = query.bind(event.as_str());
        }
        for user in filter.within.iter().flatten() {
            query = query.bind(user.as_str());
        }
        if let Some(c) = before {
            query = query.bind(c.at_ms).bind(c.at_ms).bind(c.id);
        }
        // One more than asked says whether there is an older page.
        let rows = query
            .bind(limit.saturating_add(1))
            .fetch_all(self.pool())
            .await
            .map_err(self.fail(WHAT))?;
        let more = rows.len() as i64 > limit;
        let mut entries = Vec::with_capacity(rows.len());
        let mut older = None;
        for row in rows.iter().take(limit.max(0) as usize) {
            let entry = AuditEntry::from_row(row).map_err(self.fail(WHAT))?;
            let id = row.try_get(7).map_err(self.fail(WHAT))?;
            older = more.then_some(AuditCursor {
                at_ms: entry.at_ms,
                id,
            });
            entries.push(entry);
        }
        Ok(AuditPage { entries, older })
    }

    /// Deletes every entry written before `cutoff_ms`, oldest first, in
    /// batches of `batch`, so a long-neglected log never holds a write lock
    /// (SQLite locks the whole file) long enough to stall sign-ins. Returns
    /// how many went. Replicas may prune at once: a row deleted twice is
    /// simply not there the second time.
    pub async fn audit_prune(&self, cutoff_ms: i64, batch: i64) -> Result<u64, StoreError> {
        let mut deleted = 0;
        loop {
            // A subquery, not DELETE … LIMIT: PostgreSQL has no such form,
            // and SQLite only when built with it.
            let done = sqlx::query(
                "DELETE FROM audit_log WHERE id IN \
                 (SELECT id FROM audit_log WHERE at_ms < $1 ORDER BY at_ms LIMIT $2)",
            )
            .bind(cutoff_ms)
            .bind(batch.max(1))
            .execute(self.pool())
            .await
            .map_err(self.fail("prune the audit log"))?;
            deleted += done.rows_affected();
            if done.rows_affected() < batch.max(1) as u64 {
                return Ok(deleted);
            }
            tokio::task::yield_now().await;
        }
    }

    /// When `user` last had an `event` (ms), if ever. The (username, at_ms)
    /// index finds it without reading the whole log.
    pub async fn audit_last(&self, user: &str, event: &str) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar(
            "SELECT at_ms FROM audit_log WHERE username = $1 AND event = $2 \
             ORDER BY at_ms DESC LIMIT 1",
        )
        .bind(user)
        .bind(event)
        .fetch_optional(self.pool())
        .await
        .map_err(self.fail("read the audit log"))
    }
}
