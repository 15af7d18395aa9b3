//! Organisations' policies in the console: the MFA switch and its
//! confirmation page, the other settings, and the cards that show them.
//! Every rule about who may change what is in [`crate::auth::org_admin`]
//! and [`crate::policy`]; these handlers parse, call and render.

use std::collections::BTreeSet;

use gatehouse_templates::{mfa_switch_page, LockNote, OrgPolicyRow, Route, Setting, SwitchView};

use super::{refused, require_admin, store_down, Current};
use crate::auth::lifecycle::{LifecycleError, Refusal};
use crate::auth::org_admin::Switch;
use crate::gateway::Gateway;
use crate::orgs::OrgId;
use crate::policy::{Field, Locker, Method, Methods, MfaMode, OrgPolicy, Partial, Table};
use crate::portal::notice::Notice;
use crate::portal::{confirm, or_reply, Request};
use crate::respond::Reply;
use crate::store::UserFactors;

/// Where a switch of `org` (as posted) lands: the console, saying what is
/// now in force there.
fn policy_changed(after: MfaMode, org: &str) -> String {
    match after {
        MfaMode::Required => Notice::Enforced,
        MfaMode::Optional => Notice::NotEnforced,
        MfaMode::Off => Notice::OrgMfaOff,
    }
    .location_for_org(org)
}

/// A switch as asked for: in the page's query, or the form.
struct Asked {
    org: OrgId,
    /// As posted.
    name: String,
    mode: MfaMode,
    lock: Option<bool>,
}

impl Asked {
    /// Reads `org`, `mfa` and `lock`; the reply if they don't name a switch
    /// this admin may make.
    async fn read(
        gw: &Gateway,
        req: &Request,
        current: &Current,
        (org, mfa, lock): (&str, &str, &str),
    ) -> Result<Asked, Reply> {
        let orgs = &gw.settings.organisations;
        let id = match org {
            "" => Some(OrgId::ROOT),
            name => orgs.find(name),
        };
        let reach = id.filter(|id| orgs.administers(current.account.user.org, *id));
        let Some(id) = reach else {
            let error = "There is no such organisation.";
            return Err(
                super::scope::out_of_reach(gw, req, current, "an organisation", error).await,
            );
        };
        let Some(mode) = MfaMode::parse(mfa) else {
            let error = "Choose whether two-factor authentication is required, optional or off.";
            return Err(refused(gw, req, current, 400, error).await);
        };
        let lock = match lock {
            "1" => Some(true),
            "0" => Some(false),
            _ => None,
        };
        if lock.is_some() && id == current.account.user.org {
            let error = "Only an admin of an organisation above it can lock or unlock it.";
            return Err(refused(gw, req, current, 400, error).await);
        }
        Ok(Asked {
            org: id,
            name: org.to_owned(),
            mode,
            lock,
        })
    }

    /// The confirmation page's own address, to come back to.
    fn page_path(&self) -> String {
        let mut path = format!(
            "{}?org={}&mfa={}",
            Route::AdminMfa.path(),
            percent_encoding::utf8_percent_encode(&self.name, percent_encoding::NON_ALPHANUMERIC),
            self.mode.as_str()
        );
        if let Some(lock) = self.lock {
            path.push_str(if lock { "&lock=1" } else { "&lock=0" });
        }
        path
    }
}

fn org_label(gw: &Gateway, org: OrgId) -> String {
    gw.settings
        .organisations
        .name(org)
        .map_or_else(|| "everyone".to_owned(), str::to_owned)
}

/// GET: the confirmation page, once the admin has a fresh proof.
pub async fn switch_page(gw: &Gateway, req: &Request) -> Reply {
    let current = or_reply!(require_admin(gw, req).await);
    let query = |k| req.query_param(k).unwrap_or_default();
    let fields = (query("org"), query("mfa"), query("lock"));
    let asked = or_reply!(Asked::read(gw, req, &current, (&fields.0, &fields.1, &fields.2)).await);
    or_reply!(super::fresh_proof_for(gw, req, &current, &asked.page_path()).await);
    confirmation(gw, req, &current, &asked, 200, None).await
}

async fn confirmation(
    gw: &Gateway,
    req: &Request,
    current: &Current,
    asked: &Asked,
    status: u16,
    error: Option<&str>,
) -> Reply {
    let loaded = async {
        Ok::<_, crate::auth::mfa::MfaError>((gw.mfa.policies().await?, gw.mfa.overview().await?))
    };
    let (table, factors) = match loaded.await {
        Ok(v) => v,
        Err(e) => return store_down(req, e),
    };
    let orgs = &gw.settings.organisations;
    let members: Vec<_> = gw
        .accounts
        .sorted()
        .into_iter()
        .filter(|a| orgs.is_within(a.user.org, asked.org))
        .filter(|a| orgs.administers(current.account.user.org, a.user.org))
        .collect();
    let none = UserFactors::default();
    let to_enroll = members
        .iter()
        .filter(|a| {
            let required = table
                .get(a.user.org)
                .for_user(&a.user.groups, gw.is_admin(a))
                .required();
            let has = factors
                .get(&a.user.username)
                .unwrap_or(&none)
                .mfa_since()
                .is_some();
            !required && !has
        })
        .count();
    let label = org_label(gw, asked.org);
    let nonce = gw.csrf_nonce(req);
    let html = mfa_switch_page(&SwitchView {
        csrf_token: &gw.csrf.token(&nonce.value),
        org: &asked.name,
        org_label: &label,
        mode: asked.mode.as_str(),
        lock: asked.lock,
        loosening: asked.mode < table.get(asked.org).effective.mfa,
        to_enroll,
        users: members.len(),
        error,
    });
    gw.with_nonce(Reply::html(status, html), &nonce)
}

/// POST: the switch, once confirmed (`confirm=yes`).
pub async fn switch(gw: &Gateway, req: &Request) -> Reply {
    let form = or_reply!(gw.checked_form(req));
    let current = or_reply!(require_admin(gw, req).await);
    let fields = (form.get("org"), form.get("mfa"), form.get("lock"));
    let asked = or_reply!(Asked::read(gw, req, &current, fields).await);
    let back = asked.page_path();
    apply(gw, req, &current, &asked, form, &back).await
}

/// The old form's switch (`enforce=on|off`) of the admin's own
/// organisation: through the same confirmation.
pub async fn enforce(gw: &Gateway, req: &Request) -> Reply {
    let form = or_reply!(gw.checked_form(req));
    let current = or_reply!(require_admin(gw, req).await);
    let mode = match form.get("enforce") {
        "on" => "required",
        "off" => "optional",
        _ => {
            let error = "Choose whether to require two-factor authentication (on or off).";
            return refused(gw, req, &current, 400, error).await;
        }
    };
    let own = gw
        .settings
        .organisations
        .name(current.account.user.org)
        .unwrap_or("");
    let asked = or_reply!(Asked::read(gw, req, &current, (own, mode, "")).await);
    apply(gw, req, &current, &asked, form, Route::Admin.path()).await
}

async fn apply(
    gw: &Gateway,
    req: &Request,
    current: &Current,
    asked: &Asked,
    form: &crate::portal::form::Form,
    back: &str,
) -> Reply {
    // The proof first, as for every admin change: without one, the
    // confirm page, and then back to `back`.
    or_reply!(super::fresh_proof_for(gw, req, current, back).await);
    if form.get("confirm") != "yes" {
        return Reply::redirect(303, &asked.page_path());
    }
    let switch = Switch {
        org: asked.org,
        mode: asked.mode,
        lock: asked.lock,
        password: form.get("password"),
        forget_devices: form.get("forget_devices") == "1",
    };
    let actor = current.actor(gw, req);
    let error = match gw.lifecycle().switch_mfa(&actor, &switch).await {
        Ok(done) => return Reply::redirect(303, &policy_changed(done.after, &asked.name)),
        Err(LifecycleError::PolicyLocked { field, locker }) => {
            let error = locked_message(gw, field, &locker);
            return refused(gw, req, current, 409, &error).await;
        }
        Err(e) => or_reply!(confirm::unless_refused(req, e, back)),
    };
    let (status, message) = match error {
        Refusal::WrongPassword => (403, "That password is wrong.".to_owned()),
        Refusal::Locked(wait) => (429, crate::portal::login::locked_message(wait)),
        Refusal::NeedsOwnMfa => (
            403,
            "Set up two-factor authentication for yourself before changing who needs it."
                .to_owned(),
        ),
        _ => (403, "Admins only.".to_owned()),
    };
    confirmation(gw, req, current, asked, status, Some(&message)).await
}

/// Why a change was refused by a floor, naming who set it.
fn locked_message(gw: &Gateway, field: Field, locker: &Locker) -> String {
    match (locker, field) {
        (Locker::Config, Field::Mfa) => "The gateway's configuration requires two-factor \
                                          authentication (mfa.enforce: true), so it can only be \
                                          changed there."
            .to_owned(),
        (Locker::Config, _) => format!("{} is fixed by the configuration.", field.as_str()),
        (Locker::Admin { by, by_org }, _) => format!(
            "{} is locked by {by} ({}): it may be made stricter here, never looser.",
            field_label(field),
            org_label(gw, *by_org)
        ),
    }
}

fn field_label(field: Field) -> &'static str {
    match field {
        Field::Mfa => "Two-factor authentication",
        Field::Methods => "The allowed methods",
        Field::RememberDeviceDays => "How long a browser is remembered",
        Field::RequireGroups => "The groups that must use MFA",
    }
}

/// POST `/.gatehouse/admin/policy`: methods, remembered days, groups.
pub async fn set_policy(gw: &Gateway, req: &Request) -> Reply {
    let form = or_reply!(gw.checked_form(req));
    let current = or_reply!(require_admin(gw, req).await);
    let org = form.get("org");
    let asked = or_reply!(Asked::read(gw, req, &current, (org, "optional", "")).await);
    let value = match parse_policy(form) {
        Ok(value) => value,
        Err(error) => return refused(gw, req, &current, 400, error).await,
    };
    let locks: Vec<Field> = form.all("lock").filter_map(Field::parse).collect();
    let actor = current.actor(gw, req);
    match gw
        .lifecycle()
        .set_org_policy(&actor, asked.org, &value, &locks)
        .await
    {
        Ok(_) => Reply::redirect(303, &Notice::PolicySaved.location()),
        Err(LifecycleError::PolicyLocked { field, locker }) => {
            let error = locked_message(gw, field, &locker);
            refused(gw, req, &current, 409, &error).await
        }
        Err(e) => {
            or_reply!(confirm::unless_refused(req, e, Route::Admin.path()));
            refused(gw, req, &current, 403, "Admins only.").await
        }
    }
}

fn parse_policy(form: &crate::portal::form::Form) -> Result<Partial, &'static str> {
    let methods = Methods::of(form.all("methods").filter_map(Method::parse));
    if methods.is_empty() || !methods.is_subset(Methods::TODAY) {
        return Err("Allow at least one method: authenticator app, email or text message.");
    }
    let days = form.get("remember_device_days").trim();
    let days = match days.parse::<u32>() {
        Ok(d) if d <= 365 => d,
        _ => return Err("Remember a browser for 0 to 365 days."),
    };
    let groups: BTreeSet<String> = form
        .get("require_groups")
        .split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect();
    if groups.iter().any(|g| g.chars().any(char::is_control)) {
        return Err("A group name can't hold control characters.");
    }
    Ok(Partial {
        mfa: None,
        methods: Some(methods),
        remember_device_days: Some(days),
        require_groups: Some(groups),
    })
}

/// The cards: the admin's own organisation, then every one below it, in
/// config order, each as `table` has it now.
pub(super) fn org_rows(gw: &Gateway, current: &Current, table: &Table) -> Vec<OrgCard> {
    let orgs = &gw.settings.organisations;
    let admin_org = current.account.user.org;
    orgs.all()
        .filter(|o| orgs.administers(admin_org, *o))
        .map(|org| OrgCard::of(gw, admin_org, table.get(org)))
        .collect()
}

/// One card's text, owned, for [`OrgCard::row`] to borrow.
pub(super) struct OrgCard {
    name: String,
    label: String,
    depth: usize,
    mfa: &'static str,
    mfa_floor: &'static str,
    methods: Vec<&'static str>,
    days: u32,
    groups: String,
    locks: Vec<(Field, String, String, bool)>,
}

impl OrgCard {
    fn of(gw: &Gateway, admin_org: OrgId, policy: &OrgPolicy) -> Self {
        let orgs = &gw.settings.organisations;
        let e = &policy.effective;
        let locks = Field::ALL
            .into_iter()
            .filter_map(|field| {
                if policy.config_floor.has(field) {
                    return Some((
                        field,
                        "the configuration".into(),
                        "mfa.enforce".into(),
                        false,
                    ));
                }
                let (_, lock) = policy.lock_on(field)?;
                let mine = orgs.administers(admin_org, lock.by_org) && lock.by_org != policy.org;
                Some((field, lock.by.clone(), org_label(gw, lock.by_org), mine))
            })
            .collect();
        OrgCard {
            name: orgs.name(policy.org).unwrap_or("").to_owned(),
            label: orgs
                .name(policy.org)
                .unwrap_or("Everyone (root)")
                .to_owned(),
            depth: orgs.ancestors(policy.org).len() - orgs.ancestors(admin_org).len(),
            mfa: e.mfa.as_str(),
            mfa_floor: policy.floor.mfa.map_or("off", MfaMode::as_str),
            methods: e.methods.iter().map(Method::as_str).collect(),
            days: e.remember_device_days,
            groups: e
                .require_groups
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            locks,
        }
    }

    fn lock(&self, field: Field) -> Option<LockNote<'_>> {
        self.locks
            .iter()
            .find(|(f, ..)| *f == field)
            .map(|(_, by, by_org, mine)| LockNote {
                by,
                by_org,
                mine: *mine,
            })
    }

    pub(super) fn row(&self) -> OrgPolicyRow<'_> {
        OrgPolicyRow {
            name: &self.name,
            label: &self.label,
            depth: self.depth,
            mfa: Setting {
                value: self.mfa,
                lock: self.lock(Field::Mfa),
            },
            mfa_floor: self.mfa_floor,
            methods: Setting {
                value: &self.methods,
                lock: self.lock(Field::Methods),
            },
            remember_device_days: Setting {
                value: self.days,
                lock: self.lock(Field::RememberDeviceDays),
            },
            require_groups: Setting {
                value: &self.groups,
                lock: self.lock(Field::RequireGroups),
            },
        }
    }
}
