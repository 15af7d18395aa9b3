//! An enrollment racing a reset or "sign out everywhere" keeps no factor.
//!
//! Over HTTP the steps can't be made to interleave on demand: a request
//! checks its session first. So these drive the enrollment's step-up on a
//! gateway built in-process (memory sessions, a SQLite store in a temporary
//! folder), with the racing action run between the factor's write and the
//! step-up, where a real race would put it.

use super::super::test_support::{confirm_app, gateway, signed_in, store_url, IP};
use super::{step_up, NotSteppedUp};
use crate::auth::lifecycle::UserAction;
use crate::auth::mfa::Factor;
use crate::gateway::Gateway;
use crate::notify::Channel;
use crate::session::now_ms;
use crate::store::{AuditFilter, Store};

async fn enrolled(gw: &Gateway) -> bool {
    gw.mfa.status("alice").await.expect("status").is_enrolled()
}

async fn last_event(gw: &Gateway) -> (String, String, Option<String>) {
    let newest = gw.mfa.audit_page(&AuditFilter::default(), None, 1).await;
    let e = newest.expect("audit").entries.remove(0);
    (e.event, e.outcome, e.detail)
}

#[tokio::test]
async fn an_enrollment_stepped_up_in_time_keeps_its_factor() {
    let (gw, _dir) = gateway();
    let alice = signed_in(&gw).await;
    confirm_app(&gw, 0).await;

    let id = step_up(&gw, &alice, Factor::App, IP)
        .await
        .expect("step up");

    assert_ne!(id, alice.id, "the id changes at the step up");
    let session = gw.sessions.get(&id, gw.expiry).await.unwrap().unwrap();
    assert!(session.mfa_done());
    assert!(enrolled(&gw).await);
    let event = last_event(&gw).await;
    assert_eq!(
        event,
        ("mfa_enrolled".into(), "ok".into(), Some("app".into()))
    );
}

#[tokio::test]
async fn an_enrollment_whose_sessions_were_ended_meanwhile_keeps_no_factor_or_codes() {
    let (gw, _dir) = gateway();
    let alice = signed_in(&gw).await;
    confirm_app(&gw, 0).await;
    // "Sign out everywhere", from another tab, as the code was checked.
    gw.sessions.delete_user("alice").await.expect("sign out");

    let refused = step_up(&gw, &alice, Factor::App, IP).await;

    assert!(matches!(refused, Err(NotSteppedUp::Ended)), "{refused:?}");
    assert!(!enrolled(&gw).await, "the authenticator was taken back");
    assert_eq!(gw.mfa.recovery_remaining("alice").await.unwrap(), 0);
    let event = last_event(&gw).await;
    assert_eq!(
        event,
        (
            "mfa_enrolled".into(),
            "ended_meanwhile".into(),
            Some("app".into())
        )
    );
    // Nothing was lost for good: she signs in again and enrolls, with the
    // next code, as the one she typed was used.
    let again = signed_in(&gw).await;
    confirm_app(&gw, 1).await;
    step_up(&gw, &again, Factor::App, IP)
        .await
        .expect("step up");
    assert!(enrolled(&gw).await);
}

#[tokio::test]
async fn a_factor_written_after_a_reset_removed_the_factors_is_taken_back() {
    let (gw, dir) = gateway();
    let alice = signed_in(&gw).await;
    // Her emailed code checked out; then an admin resets her MFA before
    // the factor is written.
    gw.lifecycle()
        .apply("alice", UserAction::ResetMfa)
        .await
        .expect("reset");
    let store = Store::connect(&store_url(&dir)).await.expect("store");
    store
        .contact_confirm("alice", "email", now_ms() as i64)
        .await
        .expect("the enrollment's write lands late");
    assert!(enrolled(&gw).await);

    let refused = step_up(&gw, &alice, Factor::Contact(Channel::Email), IP).await;

    assert!(matches!(refused, Err(NotSteppedUp::Ended)), "{refused:?}");
    assert!(!enrolled(&gw).await, "the reset stands");
}
