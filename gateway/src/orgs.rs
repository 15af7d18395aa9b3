//! Organisations: a tree of them, and who sits where in it.
//!
//! A reseller runs one gateway for several companies, each with its own
//! admins. `organisations[]` in the config names them and their parents;
//! the root is implicit and unnamed, so a config without `organisations`
//! is one organisation, the root, as before. A user without `org` belongs
//! to the root.
//!
//! The tree is fixed for the life of the process (`organisations` needs a
//! restart): an [`OrgId`] is an index into it, so one taken from the users
//! file stays meaningful while the file is reloaded. A user's org is
//! resolved as the file is read (`User::org`), so looking it up can't fail.
//!
//! This module depends on nothing else in the crate: the config builds the
//! tree and places users in it, and the console asks it who is within whom.

/// An organisation in [`Organisations`]; [`OrgId::ROOT`] is the root.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgId(usize);

impl OrgId {
    /// The implicit organisation at the top, where every user without
    /// `org` belongs.
    pub const ROOT: OrgId = OrgId(0);
}

/// One configured organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Org {
    name: String,
    parent: OrgId,
}

/// The organisations as configured, below the implicit root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Organisations {
    /// `OrgId(i + 1)` is `orgs[i]`, in config order.
    orgs: Vec<Org>,
}

impl Organisations {
    /// The tree from `(name, parent)` pairs in config order, `None` for a
    /// child of the root. Validation has already refused unknown parents,
    /// duplicate names and cycles; should one slip through anyway, it
    /// hangs under the root rather than loop.
    pub fn new(entries: &[(String, Option<String>)]) -> Self {
        let index = |name: &str| entries.iter().position(|(n, _)| n == name);
        let orgs = entries
            .iter()
            .map(|(name, parent)| Org {
                name: name.clone(),
                parent: parent
                    .as_deref()
                    .and_then(index)
                    .map_or(OrgId::ROOT, |i| OrgId(i + 1)),
            })
            .collect();
        let mut built = Self { orgs };
        for i in 0..built.orgs.len() {
            if built.climbs_forever(OrgId(i + 1)) {
                built.orgs[i].parent = OrgId::ROOT;
            }
        }
        built
    }

    /// Whether no organisation is configured: everything is the root.
    pub fn is_flat(&self) -> bool {
        self.orgs.is_empty()
    }

    /// The organisation named `name` in the config.
    pub fn find(&self, name: &str) -> Option<OrgId> {
        let i = self.orgs.iter().position(|o| o.name == name)?;
        Some(OrgId(i + 1))
    }

    /// The name `org` has in the config; `None` for the root, which has none.
    pub fn name(&self, org: OrgId) -> Option<&str> {
        self.get(org).map(|o| o.name.as_str())
    }

    /// `org`'s parent, its parent's parent and so on, ending with the
    /// root; empty for the root itself.
    pub fn ancestors(&self, org: OrgId) -> Vec<OrgId> {
        let mut all = Vec::new();
        let mut at = org;
        // Bounded by the number of orgs, so even a cycle can't hang it.
        while let Some(o) = self.get(at) {
            if all.len() > self.orgs.len() {
                break;
            }
            all.push(o.parent);
            at = o.parent;
        }
        all
    }

    /// Every organisation: the root first, then the configured ones in
    /// config order.
    pub fn all(&self) -> impl Iterator<Item = OrgId> {
        (0..=self.orgs.len()).map(OrgId)
    }

    /// The organisations from the root down to `org`, both included.
    pub fn chain(&self, org: OrgId) -> Vec<OrgId> {
        let mut chain = self.ancestors(org);
        chain.reverse();
        chain.push(org);
        chain
    }

    /// The parent of `org`; `None` for the root.
    pub fn parent(&self, org: OrgId) -> Option<OrgId> {
        self.get(org).map(|o| o.parent)
    }

    /// Whether `org` is `ancestor` or lies somewhere below it.
    pub fn is_within(&self, org: OrgId, ancestor: OrgId) -> bool {
        org == ancestor || self.ancestors(org).contains(&ancestor)
    }

    /// Whether an admin of `admin_org` administers `target_org`: their own
    /// organisation and every one below it, never a parent or a sibling.
    pub fn administers(&self, admin_org: OrgId, target_org: OrgId) -> bool {
        self.is_within(target_org, admin_org)
    }

    fn get(&self, org: OrgId) -> Option<&Org> {
        org.0.checked_sub(1).and_then(|i| self.orgs.get(i))
    }

    /// Whether climbing from `org` never reaches the root.
    fn climbs_forever(&self, org: OrgId) -> bool {
        let mut at = org;
        for _ in 0..=self.orgs.len() {
            match self.get(at) {
                None => return false,
                Some(o) => at = o.parent,
            }
        }
        true
    }
}

#[cfg(test)]
#[path = "orgs_tests.rs"]
mod tests;
