//! Enrolling SMS with a number the user types (`notify.sms.countries`):
//! reading the `phone` field, and what the enrollment page says when a
//! number can't get codes.

use gatehouse_templates::PhoneEntry;
use phonenumber::country::Id;
use phonenumber::metadata::DATABASE;

use super::form::Form;
use crate::auth::mfa::MfaError;
use crate::gateway::Gateway;
use crate::notify::{mask, Channel, PhoneError};

/// The number typed for SMS, shown again on the page with why it was not
/// used. `offer_app`: the number can't get codes at all, so the page
/// offers the authenticator app instead.
#[derive(Debug, Default)]
pub(super) struct Typed<'a> {
    pub typed: &'a str,
    pub error: Option<String>,
    pub offer_app: bool,
}

/// "AU (+61), NZ (+64) or GB (+44)": region codes with their calling
/// codes, which is how a number shows which country it is in.
pub(super) fn countries(ids: &[Id]) -> String {
    let named: Vec<String> = ids
        .iter()
        .map(|id| {
            let code = id.as_ref();
            match DATABASE.by_id(code) {
                Some(meta) => format!("{code} (+{})", meta.country_code()),
                None => code.to_owned(),
            }
        })
        .collect();
    match named.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// What the page says about a number that can't get codes.
fn refusal(ids: &[Id], error: &PhoneError) -> String {
    let allowed = countries(ids);
    match error {
        PhoneError::Country(region) if region.starts_with('+') => format!(
            "That is an international {region} number. \
             Codes by text message go only to numbers in {allowed}."
        ),
        PhoneError::Country(region) => format!(
            "That is a {region} number. Codes by text message go only to numbers in {allowed}."
        ),
        PhoneError::Unreadable => format!(
            "That isn't a phone number we can read. Codes by text message go only to \
             numbers in {allowed}: type yours in full, with its country code if in doubt."
        ),
    }
}

/// The number to text, for SMS when users type theirs: `Ok(None)` for
/// any other channel, or when numbers come from the users file.
pub(super) fn read<'f>(
    gw: &Gateway,
    form: &'f Form,
    channel: Channel,
) -> Result<Option<String>, Typed<'f>> {
    let Some(ids) = gw.mfa.typed_numbers().filter(|_| channel == Channel::Sms) else {
        return Ok(None);
    };
    let typed = form.get("phone");
    gw.mfa.read_phone(typed).map(Some).map_err(|e| Typed {
        typed,
        error: Some(refusal(ids, &e)),
        offer_app: true,
    })
}

/// The SMS form's state for the page: `None` unless users type numbers.
/// `countries` is [`countries`] of the allowed ones.
pub(super) fn entry<'a>(
    countries: Option<&'a str>,
    typed: Option<&'a Typed>,
) -> Option<PhoneEntry<'a>> {
    Some(PhoneEntry {
        countries: countries?,
        typed: typed.map_or("", |t| t.typed),
        error: typed.and_then(|t| t.error.as_deref()),
        offer_app: typed.is_some_and(|t| t.offer_app),
    })
}

/// Names, masked, the typed number an enrollment code just went to, for
/// the "we sent a code" notice: a typed SMS channel has no address of its
/// own until then.
pub(super) async fn name_pending(
    gw: &Gateway,
    user: &str,
    offered: &mut [(Channel, String)],
) -> Result<(), MfaError> {
    let Some(sms) = offered
        .iter_mut()
        .find(|(c, to)| *c == Channel::Sms && to.is_empty())
    else {
        return Ok(());
    };
    if let Some(number) = gw.mfa.typed_pending(user).await? {
        sms.1 = mask(Channel::Sms, &number);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonenumber::country::Id::{AU, GB, NZ, US};

    #[test]
    fn countries_are_named_with_their_calling_codes() {
        assert_eq!(countries(&[]), "");
        assert_eq!(countries(&[US]), "US (+1)");
        assert_eq!(countries(&[AU, NZ, GB]), "AU (+61), NZ (+64) or GB (+44)");
    }

    #[test]
    fn refusals_name_the_number_and_the_allowed_countries() {
        let ids = [AU, NZ];
        assert_eq!(
            refusal(&ids, &PhoneError::Country("US".to_owned())),
            "That is a US number. Codes by text message go only to numbers in AU (+61) or NZ (+64)."
        );
        assert!(refusal(&ids, &PhoneError::Country("+800".to_owned()))
            .starts_with("That is an international +800 number."));
        let unreadable = refusal(&ids, &PhoneError::Unreadable);
        assert!(unreadable.starts_with("That isn't a phone number we can read."));
        assert!(unreadable.contains("AU (+61) or NZ (+64)"));
    }

    #[test]
    fn the_entry_shows_what_was_typed_and_why_it_was_refused() {
        assert!(entry(None, None).is_none(), "numbers from the users file");
        let fresh = entry(Some("AU (+61)"), None).unwrap();
        assert_eq!(
            (fresh.typed, fresh.error, fresh.offer_app),
            ("", None, false)
        );
        let refused = Typed {
            typed: "+1 201",
            error: Some("no".to_owned()),
            offer_app: true,
        };
        let shown = entry(Some("AU (+61)"), Some(&refused)).unwrap();
        assert_eq!(
            (shown.countries, shown.typed, shown.error, shown.offer_app),
            ("AU (+61)", "+1 201", Some("no"), true)
        );
    }
}
