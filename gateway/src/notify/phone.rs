//! Phone numbers typed by users (with `notify.sms.countries`): read with
//! libphonenumber's rules, checked against the allowed countries, and
//! written as E.164 (`+61412345678`), the form providers take and the store
//! keeps.

use phonenumber::country::Id;
use phonenumber::{Mode, PhoneNumber};

/// Longer input is no phone number, however it is spaced.
const MAX_TYPED: usize = 32;

/// Why a typed number can't receive codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneError {
    /// Not a complete, valid phone number (or one with an extension).
    Unreadable,
    /// A valid number, but in a country codes aren't sent to: its region
    /// code (`US`), or `+800` and the like for non-geographic numbers.
    Country(String),
}

/// Characters a typed number may have: digits and the usual separators.
fn typable(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')' | '.')
}

/// The valid number `typed` denotes: international if it starts with `+`,
/// else national in the one allowed country where it is valid. A national
/// number valid in two of them (`021 123 4567` in AU and NZ) needs its
/// country code.
fn read(typed: &str, allowed: &[Id]) -> Option<PhoneNumber> {
    let valid = |n: &PhoneNumber| n.is_valid() && n.extension().is_none();
    if typed.starts_with('+') {
        return phonenumber::parse(None, typed).ok().filter(valid);
    }
    let mut found = allowed
        .iter()
        .filter_map(|id| phonenumber::parse(Some(*id), typed).ok().filter(valid));
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

/// Reads a number the user typed (spaces and dashes allowed) and returns
/// it in E.164 if it is valid and in one of the `allowed` countries.
pub fn normalise_phone(typed: &str, allowed: &[Id]) -> Result<String, PhoneError> {
    let typed = typed.trim();
    let plus_inside = typed.rfind('+').is_some_and(|i| i > 0);
    if typed.is_empty() || typed.len() > MAX_TYPED || plus_inside || !typed.chars().all(typable) {
        return Err(PhoneError::Unreadable);
    }
    let number = read(typed, allowed).ok_or(PhoneError::Unreadable)?;
    let country = number.country();
    match country.id() {
        Some(id) if allowed.contains(&id) => Ok(number.format().mode(Mode::E164).to_string()),
        Some(id) => Err(PhoneError::Country(id.as_ref().to_owned())),
        None => Err(PhoneError::Country(format!("+{}", country.code()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonenumber::country::Id::{AU, GB, NZ};

    const ALLOWED: [Id; 3] = [AU, NZ, GB];

    fn ok(typed: &str) -> String {
        match normalise_phone(typed, &ALLOWED) {
            Ok(e164) => e164,
            Err(e) => panic!("{typed:?} refused: {e:?}"),
        }
    }

    fn err(typed: &str) -> PhoneError {
        match normalise_phone(typed, &ALLOWED) {
            Ok(e164) => panic!("{typed:?} accepted as {e164}"),
            Err(e) => e,
        }
    }

    #[test]
    fn e164_input_is_kept() {
        assert_eq!(ok("+61412345678"), "+61412345678");
        assert_eq!(ok("+64211234567"), "+64211234567");
        assert_eq!(ok("+447400123456"), "+447400123456");
    }

    #[test]
    fn spaces_and_separators_are_dropped() {
        assert_eq!(ok("+61 412 345 678"), "+61412345678");
        assert_eq!(ok("  +61 412-345-678 "), "+61412345678");
        assert_eq!(ok("+44 (0) 7400 123 456"), "+447400123456");
        assert_eq!(ok("+64 21.123.4567"), "+64211234567");
    }

    #[test]
    fn national_numbers_are_read_in_an_allowed_country() {
        assert_eq!(ok("0412 345 678"), "+61412345678");
        assert_eq!(ok("07400 123456"), "+447400123456");
        assert_eq!(
            normalise_phone("021 123 4567", &[NZ]),
            Ok("+64211234567".to_owned())
        );
    }

    #[test]
    fn other_countries_are_named() {
        assert_eq!(err("+1 201 555 0123"), PhoneError::Country("US".to_owned()));
        assert_eq!(
            err("+33 6 12 34 56 78"),
            PhoneError::Country("FR".to_owned())
        );
        assert_eq!(
            normalise_phone("+61 412 345 678", &[NZ]),
            Err(PhoneError::Country("AU".to_owned()))
        );
        assert_eq!(
            err("+800 1234 5678"),
            PhoneError::Country("+800".to_owned())
        );
    }

    #[test]
    fn unreadable_numbers_are_refused() {
        for typed in [
            "",
            "   ",
            "hello",
            "+61",
            "+61 412",
            "+61 412 345 678 999",
            "0412 345",
            "+999 123 456",
            "tel:+61412345678",
            "+61 412 345 678 ext. 12",
            "+61412345678;ext=12",
            "+61 4l2 345 678",
            "++61 412 345 678",
        ] {
            assert_eq!(err(typed), PhoneError::Unreadable, "{typed:?}");
        }
        let long = format!("+61 412 345 678{}", " ".repeat(MAX_TYPED));
        assert_eq!(err(&format!("{long}1")), PhoneError::Unreadable);
    }

    #[test]
    fn a_national_number_needs_an_allowed_country() {
        // A US number typed without +1 is not a number in AU.
        assert_eq!(
            normalise_phone("(201) 555-0123", &[AU]),
            Err(PhoneError::Unreadable)
        );
        // Valid in AU (Sydney) and in NZ (mobile): which one is unclear.
        assert_eq!(err("021 123 4567"), PhoneError::Unreadable);
        assert_eq!(
            normalise_phone("0412 345 678", &[]),
            Err(PhoneError::Unreadable)
        );
    }
}
