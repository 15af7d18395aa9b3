//! The account page's actions, called as the dispatch calls them, with no
//! proxy session: which proof each needs, and what a refusal leaves.

use gatehouse_templates::Route;

use super::*;
use crate::portal::form::Form;
use crate::portal::test_support::{confirm_app, gateway, location, request, signed_in_as, IP};
use crate::session::{now_ms, Proof, Session};

/// Alice's session with her second step proven by `proof`, `age_ms` ago.
fn stepped_up(proof: Proof, age_ms: u64) -> Session {
    let now = now_ms();
    Session::after_password("alice", now - age_ms, 0).with_proof(now - age_ms, proof)
}

async fn post(gw: &Gateway, route: Route, session: Session, fields: &[(&str, &str)]) -> Reply {
    let alice = signed_in_as(gw, session).await;
    let req = request(gw, "POST", route.path(), Some(&alice), fields);
    match route {
        Route::RecoveryRegenerate => regenerate(gw, &req).await,
        Route::MfaDisable => disable_mfa(gw, &req).await,
        Route::FactorRemove => remove_factor(gw, &req).await,
        Route::DevicesForget => forget_devices(gw, &req).await,
        other => panic!("not an account action: {other:?}"),
    }
}

#[tokio::test]
async fn new_recovery_codes_need_a_fresh_code_not_a_remembered_browser() {
    let (gw, _dir) = gateway();
    confirm_app(&gw, 0).await;
    let back = Route::Confirm.with_rd(HERE);
    for session in [
        stepped_up(Proof::Device, 0),
        stepped_up(Proof::Recovery, 0),
        stepped_up(Proof::Code, 10 * 60 * 1000),
    ] {
        let reply = post(&gw, Route::RecoveryRegenerate, session.clone(), &[]).await;
        assert_eq!(reply.status, 303, "{session:?}");
        assert_eq!(location(&reply), Some(back.as_str()), "{session:?}");
    }
    let fresh = post(
        &gw,
        Route::RecoveryRegenerate,
        stepped_up(Proof::Code, 0),
        &[],
    )
    .await;
    assert_eq!(fresh.status, 200, "the codes page");
}

#[tokio::test]
async fn a_wrong_code_on_the_turn_off_form_leaves_mfa_on() {
    let (gw, _dir) = gateway();
    confirm_app(&gw, 0).await;
    let reply = post(
        &gw,
        Route::MfaDisable,
        stepped_up(Proof::Code, 0),
        &[("code", "000000")],
    )
    .await;
    assert_eq!(reply.status, 401);
    assert!(gw.mfa.status("alice").await.expect("status").is_enrolled());
}

#[tokio::test]
async fn turning_mfa_off_is_refused_while_it_is_required() {
    let (gw, _dir) = gateway();
    confirm_app(&gw, 0).await;
    let required = crate::policy::Partial {
        mfa: Some(crate::policy::MfaMode::Required),
        ..Default::default()
    };
    let root = crate::orgs::OrgId::ROOT;
    gw.mfa.set_policy(root, &required).await.expect("enforce");
    let reply = post(&gw, Route::MfaDisable, stepped_up(Proof::Code, 0), &[]).await;
    assert_eq!(reply.status, 403);
    assert!(gw.mfa.status("alice").await.expect("status").is_enrolled());
}

#[tokio::test]
async fn a_forged_csrf_token_changes_nothing() {
    let (gw, _dir) = gateway();
    confirm_app(&gw, 0).await;
    let alice = signed_in_as(&gw, stepped_up(Proof::Code, 0)).await;
    let valid = request(
        &gw,
        "POST",
        Route::RecoveryRegenerate.path(),
        Some(&alice),
        &[],
    );
    let forged =
        Request::new(valid.head().clone(), IP).with_form(Ok(Form::parse(b"csrf_token=forged")));
    assert_eq!(regenerate(&gw, &forged).await.status, 403);
    assert_eq!(gw.mfa.recovery_remaining("alice").await.expect("codes"), 10);
}

#[tokio::test]
async fn forgetting_devices_needs_no_fresh_proof() {
    let (gw, _dir) = gateway();
    confirm_app(&gw, 0).await;
    let reply = post(&gw, Route::DevicesForget, stepped_up(Proof::Device, 0), &[]).await;
    assert_eq!(reply.status, 303);
    assert_eq!(
        location(&reply),
        Some("/.gatehouse/account?done=devices_forgotten")
    );
}
