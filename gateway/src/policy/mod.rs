//! Each organisation's MFA policy: what can be set, how a parent's lock
//! bounds a child, and what applies to one user.
//!
//! A setting has three sources, from the loosest say to the firmest:
//! - the config's defaults (`mfa.enforce`, `mfa.remember_device_days`,
//!   `mfa.require_groups`), which every organisation inherits;
//! - an organisation's own choice, made by its admins in the console and
//!   inherited by the organisations below it until they choose otherwise;
//! - a lock, set on an organisation by an admin of one above it: a floor
//!   that organisation and everything below it may tighten but never
//!   loosen ([`tighten`]). `mfa.enforce: true` is a lock on the root.
//!
//! [`resolve`] turns the stored choices and locks into every
//! organisation's effective policy; [`OrgPolicies`] keeps that in the
//! store and caches it for signed-in traffic.

mod book;
mod resolve;
mod stored;
mod tighten;

pub use book::{read_records, Locker, OrgPolicies, PolicyError, Records, REFRESH};
pub use resolve::{Defaults, Lock, OrgPolicy, Record, Table};
pub use tighten::{combine, loosened, stricter};

use std::collections::BTreeSet;

/// Whether an organisation's users use a second factor. Declared from
/// the loosest to the strictest: `Ord` ranks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MfaMode {
    /// Not offered, and nobody is asked for a code.
    Off,
    /// Users choose for themselves.
    Optional,
    /// Everyone must have a second factor.
    Required,
}

impl MfaMode {
    pub const ALL: [MfaMode; 3] = [MfaMode::Off, MfaMode::Optional, MfaMode::Required];

    pub fn as_str(self) -> &'static str {
        match self {
            MfaMode::Off => "off",
            MfaMode::Optional => "optional",
            MfaMode::Required => "required",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// A kind of second factor an organisation may allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Totp,
    Email,
    Sms,
    /// Passkeys: a value the policy can hold, for when they exist.
    Webauthn,
}

impl Method {
    pub const ALL: [Method; 4] = [Method::Totp, Method::Email, Method::Sms, Method::Webauthn];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Totp => "totp",
            Method::Email => "email",
            Method::Sms => "sms",
            Method::Webauthn => "webauthn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of [`Method`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Methods(u8);

impl Methods {
    /// Every method that exists today: passkeys are not built yet.
    pub const TODAY: Methods = Methods(0b0111);

    pub fn of(methods: impl IntoIterator<Item = Method>) -> Self {
        Methods(methods.into_iter().fold(0, |bits, m| bits | m.bit()))
    }

    pub fn contains(self, m: Method) -> bool {
        self.0 & m.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn intersect(self, other: Methods) -> Methods {
        Methods(self.0 & other.0)
    }

    pub fn is_subset(self, of: Methods) -> bool {
        self.0 & !of.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Method> {
        Method::ALL.into_iter().filter(move |m| self.contains(*m))
    }

    /// The names, comma-separated, as the store and the console write them.
    pub fn names(self) -> String {
        self.iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Parses comma-separated names; `Err` carries the first unknown one.
    pub fn parse_names(s: &str) -> Result<Methods, String> {
        s.split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| Method::parse(n).ok_or_else(|| n.to_owned()))
            .collect::<Result<Vec<_>, _>>()
            .map(Methods::of)
    }
}

/// One part of a policy: the unit an admin sets and a lock holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Mfa,
    Methods,
    RememberDeviceDays,
    RequireGroups,
}

impl Field {
    pub const ALL: [Field; 4] = [
        Field::Mfa,
        Field::Methods,
        Field::RememberDeviceDays,
        Field::RequireGroups,
    ];

    /// The name the store, the forms and the audit log use.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Mfa => "mfa",
            Field::Methods => "methods",
            Field::RememberDeviceDays => "remember_device_days",
            Field::RequireGroups => "require_groups",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// A whole policy: what applies in an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub mfa: MfaMode,
    pub methods: Methods,
    /// How long "remember this browser" skips the code; 0 turns it off.
    pub remember_device_days: u32,
    /// Groups whose members need MFA whatever `mfa` says.
    pub require_groups: BTreeSet<String>,
}

/// Some fields of a policy: an organisation's own choices, or a floor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Partial {
    pub mfa: Option<MfaMode>,
    pub methods: Option<Methods>,
    pub remember_device_days: Option<u32>,
    pub require_groups: Option<BTreeSet<String>>,
}

impl Partial {
    /// `settings` with the fields set here put over it.
    pub fn over(&self, settings: &Settings) -> Settings {
        Settings {
            mfa: self.mfa.unwrap_or(settings.mfa),
            methods: self.methods.unwrap_or(settings.methods),
            remember_device_days: self
                .remember_device_days
                .unwrap_or(settings.remember_device_days),
            require_groups: self
                .require_groups
                .clone()
                .unwrap_or_else(|| settings.require_groups.clone()),
        }
    }

    /// Just `field` of `settings`.
    pub fn field_of(field: Field, settings: &Settings) -> Partial {
        let mut p = Partial::default();
        match field {
            Field::Mfa => p.mfa = Some(settings.mfa),
            Field::Methods => p.methods = Some(settings.methods),
            Field::RememberDeviceDays => {
                p.remember_device_days = Some(settings.remember_device_days)
            }
            Field::RequireGroups => p.require_groups = Some(settings.require_groups.clone()),
        }
        p
    }

    /// Just `field` of this.
    pub fn only(&self, field: Field) -> Partial {
        let mut p = Partial::default();
        match field {
            Field::Mfa => p.mfa = self.mfa,
            Field::Methods => p.methods = self.methods,
            Field::RememberDeviceDays => p.remember_device_days = self.remember_device_days,
            Field::RequireGroups => p.require_groups = self.require_groups.clone(),
        }
        p
    }

    /// Whether `field` is set.
    pub fn has(&self, field: Field) -> bool {
        match field {
            Field::Mfa => self.mfa.is_some(),
            Field::Methods => self.methods.is_some(),
            Field::RememberDeviceDays => self.remember_device_days.is_some(),
            Field::RequireGroups => self.require_groups.is_some(),
        }
    }

    /// The fields that are set.
    pub fn fields(&self) -> impl Iterator<Item = Field> + '_ {
        Field::ALL.into_iter().filter(|f| self.has(*f))
    }
}

/// What applies to one user: their organisation's policy, with their
/// groups taken into account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserPolicy {
    pub mfa: MfaMode,
    pub methods: Methods,
    pub remember_device_days: u32,
}

impl UserPolicy {
    /// `settings` for a member of `groups`. A member of a required group
    /// needs MFA wherever they are; an admin may always use it, because
    /// the console needs it.
    pub fn of(settings: &Settings, groups: &[String], is_admin: bool) -> Self {
        let mut mfa = settings.mfa;
        if groups.iter().any(|g| settings.require_groups.contains(g)) {
            mfa = MfaMode::Required;
        } else if is_admin {
            mfa = mfa.max(MfaMode::Optional);
        }
        UserPolicy {
            mfa,
            methods: settings.methods,
            remember_device_days: settings.remember_device_days,
        }
    }

    pub fn required(&self) -> bool {
        self.mfa == MfaMode::Required
    }

    /// Whether the user is offered a second factor at all.
    pub fn offered(&self) -> bool {
        self.mfa != MfaMode::Off
    }
}
