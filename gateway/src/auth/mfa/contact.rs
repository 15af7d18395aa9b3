//! Codes by email and text message as a second factor.
//!
//! The address or number comes from the users file, which ops own: a user
//! can't point codes somewhere else. The exception is SMS with
//! `notify.sms.countries`: then users type their own number, and the factor
//! keeps the number its confirmation code went to. Enrolling a channel
//! proves the user receives codes there; after that, a code sent there
//! passes the challenge like an authenticator code.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use phonenumber::country::Id;

use super::{now_ms, CodeCheck, Factor, Mfa, MfaError, Status};
use crate::auth::one_time::{OneTimeCheck, Purpose};
use crate::config::User;
use crate::limits::{Attempt, Verdict};
use crate::notify::{normalise_phone, Channel, CodeMessage, NotifyError, PhoneError};

/// What asking for a code came to.
#[derive(Debug)]
pub enum SendOutcome {
    /// On its way to this (masked on pages) destination.
    Sent,
    /// A code went out moments ago; ask again after this long (what is
    /// left of the pause).
    TooSoon(Duration),
    /// Too many codes for this user or from this address lately.
    TooMany(Duration),
    /// Not configured, or the user has no address for it in the users file
    /// (or, enrolling SMS with typed numbers, typed none).
    NotOffered,
    /// The mail server or SMS provider failed; nothing usable was sent.
    Failed(NotifyError),
}

impl Mfa {
    /// Where `user` could get codes: configured channels for which the
    /// users file has an address, with that address.
    pub fn reachable(&self, user: &User) -> Vec<(Channel, String)> {
        Channel::ALL
            .into_iter()
            .filter(|c| self.notifier.offers(*c))
            .filter_map(|c| {
                let to = match c {
                    Channel::Email => user.email.as_ref(),
                    Channel::Sms => user.phone.as_ref(),
                };
                Some((c, to?.clone()))
            })
            .collect()
    }

    /// The countries users may type SMS numbers in, when they type them
    /// (`notify.sms.countries`); `None`: numbers come from the users file.
    pub fn typed_numbers(&self) -> Option<&[Id]> {
        self.notify.sms.as_ref()?.countries.as_deref()
    }

    /// Reads a number the user typed to enroll SMS: E.164 if it can get
    /// codes. Without typed numbers configured, nothing can.
    pub fn read_phone(&self, typed: &str) -> Result<String, PhoneError> {
        normalise_phone(typed, self.typed_numbers().unwrap_or_default())
    }

    /// Channels the user could enroll, with the users file's address to
    /// confirm; `None` for SMS when users type their number instead.
    pub fn enrollable(&self, user: &User) -> Vec<(Channel, Option<String>)> {
        let types = self.typed_numbers().is_some();
        self.reachable(user)
            .into_iter()
            .filter(|(c, _)| !types || *c != Channel::Sms)
            .map(|(c, to)| (c, Some(to)))
            .chain(types.then_some((Channel::Sms, None)))
            .collect()
    }

    /// Where codes for each channel go once enrolled: the number the user
    /// typed and proved, else the users file's address. A typed number
    /// outlives a later change of `notify.sms.countries`: the user proved
    /// it, and taking it away would lock them out.
    pub async fn destinations(&self, user: &User) -> Result<Vec<(Channel, String)>, MfaError> {
        let typed: BTreeMap<Channel, String> = self
            .store()
            .await?
            .contact_destinations(&user.username)
            .await?
            .into_iter()
            .filter_map(|(name, to)| Some((Channel::from_name(&name)?, to)))
            .collect();
        let on_file = self.reachable(user);
        Ok(Channel::ALL
            .into_iter()
            .filter(|c| self.notifier.offers(*c))
            .filter_map(|c| {
                let file = on_file.iter().find(|(f, _)| *f == c).map(|(_, to)| to);
                Some((c, typed.get(&c).or(file)?.clone()))
            })
            .collect())
    }

    /// The typed number the user's enrollment code just went to, if it
    /// went to one: the page names it, masked.
    pub async fn typed_pending(&self, user: &str) -> Result<Option<String>, MfaError> {
        Ok(self
            .codes
            .outstanding_to(user, Purpose::Enroll)
            .await?
            .and_then(|(_, typed)| typed))
    }

    /// Where a code for `purpose` goes: enrolling SMS with typed numbers,
    /// the one typed (and only then); enrolling otherwise, the users file;
    /// signing in, the enrolled channel's destination.
    async fn send_to(
        &self,
        user: &User,
        channel: Channel,
        purpose: Purpose,
        typed: Option<&str>,
    ) -> Result<Option<String>, MfaError> {
        let types = channel == Channel::Sms && self.typed_numbers().is_some();
        let listed = match (purpose, types, typed) {
            (Purpose::Enroll, true, Some(number)) => return Ok(Some(number.to_owned())),
            (_, _, Some(_)) | (Purpose::Enroll, true, None) => return Ok(None),
            (Purpose::Enroll, false, None) => self.reachable(user),
            (Purpose::SignIn, _, None) => self.destinations(user).await?,
        };
        Ok(listed
            .into_iter()
            .find(|(c, _)| *c == channel)
            .map(|(_, to)| to))
    }

    /// The channel of the code the user was last sent for `purpose`, if it
    /// is still outstanding.
    pub async fn outstanding(
        &self,
        user: &str,
        purpose: Purpose,
    ) -> Result<Option<Channel>, MfaError> {
        Ok(self.codes.outstanding(user, purpose).await?)
    }

    /// Sends `user` a new code over `channel`, replacing any outstanding
    /// one. The caller decides whether the channel may be used for
    /// `purpose`; this enforces how often. `typed` is the number (from
    /// [`Mfa::read_phone`]) when enrolling SMS with typed numbers.
    pub async fn send_code(
        &self,
        user: &User,
        channel: Channel,
        purpose: Purpose,
        typed: Option<&str>,
        ip: IpAddr,
    ) -> Result<SendOutcome, MfaError> {
        let name = user.username.as_str();
        let Some(to) = self.send_to(user, channel, purpose, typed).await? else {
            return Ok(SendOutcome::NotOffered);
        };
        if let Verdict::Locked(wait) = self.markers.check(Attempt::CodeSent, name, ip).await? {
            return Ok(SendOutcome::TooMany(wait));
        }
        let resend_after = self.notify.resend_after;
        let pause = format!("otc-sent:{name}");
        // Zero turns the pause off (a marker can't live for no time).
        if !resend_after.is_zero() && !self.markers.claim_once(&pause, resend_after).await? {
            // The time left, rounded up to whole seconds as pages show it.
            let left = self.markers.claim_left(&pause).await?;
            let secs = left.as_millis().div_ceil(1000).max(1) as u64;
            return Ok(SendOutcome::TooSoon(Duration::from_secs(secs)));
        }
        self.markers
            .record_failure(Attempt::CodeSent, name, ip)
            .await?;
        let lifetime = self.notify.code_lifetime;
        let code = self
            .codes
            .issue_to(name, purpose, channel, typed, lifetime)
            .await?;
        let message = CodeMessage {
            code: &code,
            issuer: &self.settings.issuer,
            lifetime,
        };
        match self.notifier.send(channel, &to, &message).await {
            Ok(()) => Ok(SendOutcome::Sent),
            Err(e) => {
                // A code nobody received must not stay guessable.
                self.codes.discard(name).await?;
                Ok(SendOutcome::Failed(e))
            }
        }
    }

    /// Confirms `channel` for the user with the code sent to enroll it.
    /// On success returns fresh recovery codes if it is the first factor.
    pub async fn confirm_contact(
        &self,
        user: &str,
        channel: Channel,
        code: &str,
    ) -> Result<Result<Option<Vec<String>>, CodeCheck>, MfaError> {
        let check = self
            .codes
            .check(user, Purpose::Enroll, code, &self.markers)
            .await?;
        // The number the code went to is the one it proves.
        let typed = match check {
            OneTimeCheck::Accepted {
                channel: sent,
                typed,
            } if sent == channel => typed,
            OneTimeCheck::Replayed => return Ok(Err(CodeCheck::Replayed)),
            OneTimeCheck::NoneOutstanding => return Ok(Err(CodeCheck::NotEnrolled)),
            OneTimeCheck::Accepted { .. } | OneTimeCheck::Wrong => {
                return Ok(Err(CodeCheck::Wrong))
            }
        };
        let had_factor = self.status(user).await?.is_enrolled();
        self.store()
            .await?
            .contact_confirm_to(user, channel.as_str(), typed.as_deref(), now_ms())
            .await?;
        Ok(Ok(self.first_factor_codes(user, had_factor).await?))
    }

    /// Checks a code typed at the challenge: the one last sent, or else
    /// one from the authenticator app. `status` is the user's, as the page
    /// just read it. Returns what the code was checked as (`email`, `sms`
    /// or `app`), for the audit log.
    pub async fn check_sign_in_code(
        &self,
        user: &str,
        status: &Status,
        code: &str,
    ) -> Result<(CodeCheck, &'static str), MfaError> {
        match self
            .codes
            .check(user, Purpose::SignIn, code, &self.markers)
            .await?
        {
            // Re-checked: the channel may have been removed since.
            OneTimeCheck::Accepted { channel, .. } if status.has(channel) => {
                return Ok((CodeCheck::Accepted, channel.as_str()))
            }
            OneTimeCheck::Accepted { channel, .. } => {
                return Ok((CodeCheck::Wrong, channel.as_str()))
            }
            OneTimeCheck::Replayed => return Ok((CodeCheck::Replayed, "code")),
            OneTimeCheck::Wrong | OneTimeCheck::NoneOutstanding => {}
        }
        if status.has_app() {
            return Ok((self.check_code(user, code).await?, "app"));
        }
        let check = if status.is_enrolled() {
            CodeCheck::Wrong
        } else {
            CodeCheck::NotEnrolled
        };
        Ok((check, "code"))
    }

    /// Removes one channel, and any code on its way: see [`Mfa::withdraw`].
    pub async fn remove_contact(&self, user: &str, channel: Channel) -> Result<bool, MfaError> {
        self.codes.discard(user).await?;
        self.withdraw(user, Factor::Contact(channel)).await
    }
}
