//! `authorize` over every combination of need, caller kind, factor state,
//! enforcement and freshness: first the rules every cell must keep, then
//! the expected decision of each kind of cell, written out.

use super::*;

const NOW: u64 = 10_000_000;
const FRESH_FOR: Duration = Duration::from_secs(300);
const CLOCK: Clock = Clock {
    now_ms: NOW,
    fresh_for: FRESH_FOR,
};
const FRESH: u64 = NOW - 60_000;
const STALE: u64 = NOW - 301_000;

fn needs() -> Vec<Need> {
    [
        Policy::Bypass,
        Policy::OneFactor,
        Policy::TwoFactor,
        Policy::Deny,
    ]
    .map(Need::Route)
    .into_iter()
    .chain([
        Need::Sensitive(Sensitive::ReplaceAuthenticator),
        Need::Sensitive(Sensitive::Other),
    ])
    .collect()
}

fn seconds() -> Vec<Option<SecondStep>> {
    let mut all = vec![None];
    for proof in [Proof::Code, Proof::Recovery, Proof::Device] {
        for at_ms in [FRESH, STALE] {
            all.push(Some(SecondStep { proof, at_ms }));
        }
    }
    all
}

fn callers() -> Vec<Caller> {
    let mut all = vec![
        Caller::Anonymous,
        Caller::BadToken,
        Caller::Token { reaches: true },
        Caller::Token { reaches: false },
    ];
    for owed in [Owed::Nothing, Owed::Challenge, Owed::Enrollment] {
        for second in seconds() {
            for factors in [Factors::Unknown, Factors::None, Factors::Some] {
                for password_at_ms in [FRESH, STALE] {
                    all.push(Caller::User(UserCaller {
                        owed,
                        second,
                        password_at_ms,
                        factors,
                    }));
                }
            }
        }
    }
    all
}

/// An organisation with MFA off, optional, and required.
const MFA_OFF: OrgView = OrgView {
    mfa_required: false,
    mfa_offered: false,
};
const OPTIONAL: OrgView = OrgView {
    mfa_required: false,
    mfa_offered: true,
};
const REQUIRED: OrgView = OrgView {
    mfa_required: true,
    mfa_offered: true,
};

fn every_cell() -> impl Iterator<Item = (Need, Caller, OrgView, Decision)> {
    needs().into_iter().flat_map(|need| {
        callers().into_iter().flat_map(move |caller| {
            [MFA_OFF, OPTIONAL, REQUIRED]
                .map(move |org| (need, caller, org, authorize(need, &caller, org, CLOCK)))
        })
    })
}

fn is_allowed(d: Decision) -> bool {
    matches!(d, Decision::Allow | Decision::AllowSensitive(_))
}

#[test]
fn the_table_has_every_combination() {
    // 6 needs × (4 + 3 owed × 7 steps × 3 factor states × 2 passwords) × 3.
    assert_eq!(every_cell().count(), 6 * (4 + 3 * 7 * 3 * 2) * 3);
}

#[test]
fn deny_refuses_and_bypass_admits_every_caller() {
    for (need, caller, _, d) in every_cell() {
        match need {
            Need::Route(Policy::Deny) => assert_eq!(d, Decision::Forbidden, "{caller:?}"),
            Need::Route(Policy::Bypass) => assert_eq!(d, Decision::Allow, "{caller:?}"),
            _ => {}
        }
    }
}

#[test]
fn nobody_without_a_session_or_token_gets_past_a_rule() {
    for (need, caller, _, d) in every_cell() {
        if need == Need::Route(Policy::Bypass) || need == Need::Route(Policy::Deny) {
            continue;
        }
        match caller {
            Caller::Anonymous => assert_eq!(d, Decision::SignIn, "{need:?}"),
            Caller::BadToken => assert_eq!(d, Decision::InvalidToken, "{need:?}"),
            _ => {}
        }
    }
}

#[test]
fn a_token_reaches_its_apps_routes_and_no_sensitive_action() {
    for (need, caller, _, d) in every_cell() {
        let Caller::Token { reaches } = caller else {
            continue;
        };
        let want = match need {
            Need::Route(Policy::Bypass) => Decision::Allow,
            Need::Route(Policy::Deny) | Need::Sensitive(_) => Decision::Forbidden,
            Need::Route(_) if reaches => Decision::Allow,
            Need::Route(_) => Decision::Forbidden,
        };
        assert_eq!(d, want, "{need:?} {caller:?}");
    }
}

#[test]
fn a_session_owing_a_step_reaches_nothing_but_bypass() {
    for (need, caller, org, d) in every_cell() {
        let Caller::User(user) = caller else { continue };
        if matches!(need, Need::Route(Policy::Bypass | Policy::Deny)) {
            continue;
        }
        match user.owed {
            Owed::Challenge if org.mfa_offered => {
                assert_eq!(d, Decision::Challenge, "{need:?} {user:?}")
            }
            Owed::Enrollment if org.mfa_required => {
                assert_eq!(d, Decision::Enroll, "{need:?} {user:?}")
            }
            _ => {}
        }
    }
}

#[test]
fn under_enforcement_a_session_without_a_second_step_or_factor_must_enroll() {
    for (need, caller, org, d) in every_cell() {
        let Caller::User(user) = caller else { continue };
        if !org.mfa_required || matches!(need, Need::Route(Policy::Bypass | Policy::Deny)) {
            continue;
        }
        if user.owed != Owed::Challenge && (user.second.is_none() || user.factors == Factors::None)
        {
            assert_eq!(d, Decision::Enroll, "{need:?} {user:?}");
        }
    }
}

#[test]
fn where_mfa_is_off_nobody_is_asked_for_a_code_or_to_enroll() {
    for (need, caller, org, d) in every_cell() {
        if org != MFA_OFF {
            continue;
        }
        assert!(
            !matches!(d, Decision::Challenge | Decision::Enroll),
            "{need:?} {caller:?}: {d:?}"
        );
        // A two-factor route stays closed to a session without a second
        // step: the organisation's choice doesn't weaken an app's rule.
        if let (Need::Route(Policy::TwoFactor), Caller::User(user)) = (need, caller) {
            if user.second.is_none() {
                assert_eq!(d, Decision::MfaOff, "{user:?}");
            }
        }
    }
}

#[test]
fn two_factor_routes_need_a_second_step_done_on_this_session() {
    for (need, caller, org, d) in every_cell() {
        if !org.mfa_offered {
            continue;
        }
        let Caller::User(user) = caller else { continue };
        if need == Need::Route(Policy::TwoFactor) && is_allowed(d) {
            assert!(user.second.is_some(), "{user:?}");
            assert_ne!(user.owed, Owed::Challenge, "{user:?}");
        }
        if need == Need::Route(Policy::TwoFactor)
            && user.owed == Owed::Nothing
            && user.second.is_none()
            && d != Decision::Enroll
        {
            assert_eq!(d, Decision::Challenge, "{user:?}");
        }
    }
}

#[test]
fn sensitive_actions_need_a_fresh_code_and_never_a_remembered_browser() {
    for (need, caller, _, d) in every_cell() {
        let (Need::Sensitive(action), Caller::User(user)) = (need, caller) else {
            continue;
        };
        let Decision::AllowSensitive(proof) = d else {
            continue;
        };
        match proof {
            ProofUsed::Password => {
                assert_eq!(user.factors, Factors::None, "{user:?}");
                assert_eq!(user.password_at_ms, FRESH, "{user:?}");
            }
            ProofUsed::Code | ProofUsed::RecoveryCode => {
                let step = user.second.expect("an allowed proof has a step");
                assert_eq!(step.at_ms, FRESH, "{user:?}");
                assert_ne!(step.proof, Proof::Device, "{user:?}");
                if step.proof == Proof::Recovery {
                    assert_eq!(action, Sensitive::ReplaceAuthenticator, "{user:?}");
                    assert_eq!(proof, ProofUsed::RecoveryCode);
                }
            }
        }
    }
}

/// One user cell, with the owed step and factors most sessions have.
fn user(second: Option<(Proof, u64)>, factors: Factors) -> Caller {
    Caller::User(UserCaller {
        owed: Owed::Nothing,
        second: second.map(|(proof, at_ms)| SecondStep { proof, at_ms }),
        password_at_ms: STALE,
        factors,
    })
}

#[test]
fn each_kind_of_cell_decides_as_written() {
    use Decision::*;
    use Factors::{None as NoFactor, Some as HasFactor, Unknown};
    let other = Need::Sensitive(Sensitive::Other);
    let replace = Need::Sensitive(Sensitive::ReplaceAuthenticator);
    let one = Need::Route(Policy::OneFactor);
    let two = Need::Route(Policy::TwoFactor);
    let (off, on) = (OPTIONAL, REQUIRED);
    let code_fresh = Some((Proof::Code, FRESH));
    let code_stale = Some((Proof::Code, STALE));
    let recovery = Some((Proof::Recovery, FRESH));
    let device = Some((Proof::Device, FRESH));
    let rows: &[(Need, Caller, OrgView, Decision)] = &[
        (one, user(None, Unknown), off, Allow),
        (two, user(None, Unknown), off, Challenge),
        (one, user(None, Unknown), on, Enroll),
        (two, user(device, Unknown), off, Allow),
        (two, user(code_stale, Unknown), on, Allow),
        // Hole 2: factors gone under enforcement, the step no longer counts.
        (two, user(code_fresh, NoFactor), on, Enroll),
        (two, user(code_fresh, NoFactor), off, Allow),
        (
            other,
            user(code_fresh, HasFactor),
            off,
            AllowSensitive(ProofUsed::Code),
        ),
        (other, user(code_stale, HasFactor), off, Confirm),
        // Hole 1: a remembered browser alone strips nothing.
        (other, user(device, HasFactor), off, Confirm),
        (replace, user(device, HasFactor), off, Confirm),
        (other, user(recovery, HasFactor), off, Confirm),
        (
            replace,
            user(recovery, HasFactor),
            off,
            AllowSensitive(ProofUsed::RecoveryCode),
        ),
        (
            replace,
            user(code_fresh, HasFactor),
            on,
            AllowSensitive(ProofUsed::Code),
        ),
        (other, user(None, NoFactor), off, Confirm),
        (other, Caller::Token { reaches: true }, off, Forbidden),
        (other, Caller::Anonymous, off, SignIn),
        (two, user(None, Unknown), MFA_OFF, MfaOff),
        (one, user(None, HasFactor), MFA_OFF, Allow),
        (two, user(code_stale, HasFactor), MFA_OFF, Allow),
        (
            other,
            user(code_fresh, HasFactor),
            MFA_OFF,
            AllowSensitive(ProofUsed::Code),
        ),
    ];
    for (need, caller, org, want) in rows {
        assert_eq!(
            authorize(*need, caller, *org, CLOCK),
            *want,
            "{need:?} {caller:?} {org:?}"
        );
    }
    let fresh_password = Caller::User(UserCaller {
        owed: Owed::Nothing,
        second: None,
        password_at_ms: FRESH,
        factors: NoFactor,
    });
    assert_eq!(
        authorize(other, &fresh_password, off, CLOCK),
        AllowSensitive(ProofUsed::Password)
    );
}

#[test]
fn freshness_ends_exactly_at_fresh_for() {
    let at = |at_ms| user(Some((Proof::Code, at_ms)), Factors::Some);
    let need = Need::Sensitive(Sensitive::Other);
    let org = OPTIONAL;
    let edge = NOW - FRESH_FOR.as_millis() as u64;
    assert_eq!(
        authorize(need, &at(edge), org, CLOCK),
        Decision::AllowSensitive(ProofUsed::Code)
    );
    assert_eq!(
        authorize(need, &at(edge - 1), org, CLOCK),
        Decision::Confirm
    );
}
