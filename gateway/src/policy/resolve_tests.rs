//! Effective policies over a reseller's tree.

use super::*;
use crate::policy::Method;

/// root ── reseller ─┬─ acme ── acme-eu
///                   └─ globex
fn tree() -> Organisations {
    let entry = |name: &str, parent: Option<&str>| (name.to_string(), parent.map(str::to_string));
    Organisations::new(&[
        entry("reseller", None),
        entry("acme", Some("reseller")),
        entry("acme-eu", Some("acme")),
        entry("globex", Some("reseller")),
    ])
}

fn defaults(enforce: bool) -> Defaults {
    Defaults {
        settings: Settings {
            mfa: MfaMode::Optional,
            methods: Methods::TODAY,
            remember_device_days: 30,
            require_groups: Default::default(),
        },
        config_floor: Partial {
            mfa: enforce.then_some(MfaMode::Required),
            ..Partial::default()
        },
    }
}

fn lock(orgs: &Organisations, value: Partial, by_org: &str) -> Lock {
    Lock {
        value,
        by: "rita".into(),
        by_org: orgs.find(by_org).unwrap(),
        at_ms: 1,
    }
}

fn mfa(mode: MfaMode) -> Partial {
    Partial {
        mfa: Some(mode),
        ..Partial::default()
    }
}

fn methods(m: &[Method]) -> Partial {
    Partial {
        methods: Some(Methods::of(m.iter().copied())),
        ..Partial::default()
    }
}

struct Fixture {
    orgs: Organisations,
    records: BTreeMap<OrgId, Record>,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            orgs: tree(),
            records: BTreeMap::new(),
        }
    }

    fn id(&self, org: &str) -> OrgId {
        match org {
            "root" => OrgId::ROOT,
            _ => self.orgs.find(org).unwrap(),
        }
    }

    fn own(&mut self, org: &str, own: Partial) -> &mut Self {
        let id = self.id(org);
        self.records.entry(id).or_default().own = own;
        self
    }

    fn lock(&mut self, org: &str, field: Field, value: Partial, by_org: &str) -> &mut Self {
        let id = self.id(org);
        let lock = lock(&self.orgs, value, by_org);
        self.records
            .entry(id)
            .or_default()
            .locks
            .insert(field, lock);
        self
    }

    fn effective(&self, org: &str, enforce: bool) -> Settings {
        let table = resolve(&self.orgs, &self.records, &defaults(enforce));
        table.get(self.id(org)).effective.clone()
    }
}

#[test]
fn without_choices_every_organisation_has_the_configs_defaults() {
    let f = Fixture::new();
    for org in ["root", "reseller", "acme", "acme-eu", "globex"] {
        assert_eq!(f.effective(org, false), defaults(false).settings);
        assert_eq!(f.effective(org, true).mfa, MfaMode::Required);
    }
}

#[test]
fn a_choice_is_inherited_below_until_a_child_chooses_otherwise() {
    let mut f = Fixture::new();
    f.own("reseller", mfa(MfaMode::Required));
    assert_eq!(f.effective("acme", false).mfa, MfaMode::Required);
    assert_eq!(f.effective("acme-eu", false).mfa, MfaMode::Required);
    assert_eq!(f.effective("root", false).mfa, MfaMode::Optional);
    // Unlocked, a child may loosen what it inherited.
    f.own("acme", mfa(MfaMode::Off));
    assert_eq!(f.effective("acme", false).mfa, MfaMode::Off);
    assert_eq!(f.effective("acme-eu", false).mfa, MfaMode::Off);
    assert_eq!(f.effective("globex", false).mfa, MfaMode::Required);
}

#[test]
fn a_lock_binds_the_organisation_and_everything_below_it() {
    let mut f = Fixture::new();
    f.own("acme", mfa(MfaMode::Off))
        .own("acme-eu", mfa(MfaMode::Optional))
        .lock("acme", Field::Mfa, mfa(MfaMode::Required), "reseller");
    assert_eq!(f.effective("acme", false).mfa, MfaMode::Required);
    assert_eq!(f.effective("acme-eu", false).mfa, MfaMode::Required);
    // A sibling and the parent itself are not bound.
    assert_eq!(f.effective("globex", false).mfa, MfaMode::Optional);
    assert_eq!(f.effective("reseller", false).mfa, MfaMode::Optional);
    let table = resolve(&f.orgs, &f.records, &defaults(false));
    let eu = table.get(f.orgs.find("acme-eu").unwrap());
    let (at, lock) = eu.lock_on(Field::Mfa).unwrap();
    assert_eq!(at, f.orgs.find("acme").unwrap(), "locked where it was set");
    assert_eq!(lock.by_org, f.orgs.find("reseller").unwrap());
    assert_eq!(eu.floor.mfa, Some(MfaMode::Required));
    let acme = table.get(f.orgs.find("acme").unwrap());
    assert_eq!(
        acme.floor_above.mfa, None,
        "the lock on acme isn't above it"
    );
}

#[test]
fn a_child_stricter_than_its_lock_keeps_its_setting_when_the_parent_changes() {
    use Method::*;
    let mut f = Fixture::new();
    f.own("acme", methods(&[Totp]))
        .lock("acme", Field::Methods, methods(&[Totp, Sms]), "reseller");
    assert_eq!(f.effective("acme", false).methods, Methods::of([Totp]));
    f.lock(
        "acme",
        Field::Methods,
        methods(&[Totp, Email, Sms]),
        "reseller",
    );
    assert_eq!(f.effective("acme", false).methods, Methods::of([Totp]));
    // A lock that leaves out the child's only method: the lock wins.
    f.lock("acme", Field::Methods, methods(&[Sms]), "reseller");
    assert_eq!(f.effective("acme", false).methods, Methods::of([Sms]));
}

#[test]
fn the_config_requirement_binds_every_organisation() {
    let mut f = Fixture::new();
    f.own("root", mfa(MfaMode::Off));
    f.own("globex", mfa(MfaMode::Off));
    for org in ["root", "reseller", "acme", "globex"] {
        assert_eq!(f.effective(org, true).mfa, MfaMode::Required, "{org}");
    }
}
