//! Gatehouse's own pages, rendered server-side with maud.
//!
//! Every page is a complete HTML document that works without JavaScript.
//! User-supplied text is only ever interpolated through maud, which escapes it.
//! Portal pages share one shell (`layout::page`) and one stylesheet ([`CSS`]),
//! served by the gateway at [`CSS_PATH`]; the demo upstream app is styled
//! on its own because it stands in for "somebody else's app".

mod account;
mod account_mfa;
mod admin;
mod admin_audit;
mod admin_policy;
mod admin_tokens;
mod challenge;
mod channel;
mod components;
mod confirm;
mod demo;
mod enroll;
mod errors;
mod layout;
mod login;
mod phone;
mod recovery;
mod routes;
#[cfg(test)]
mod test_support;

pub use account::{account_page, AccountView};
pub use account_mfa::{AccountMfa, ContactFactorRow, DeviceRow};
pub use admin::{admin_page, AdminUserRow, AdminView, Enforcement, UserMfa};
pub use admin_audit::{AuditRow, AuditView};
pub use admin_policy::{mfa_switch_page, LockNote, OrgPolicyRow, Setting, SwitchView};
pub use admin_tokens::{token_created_page, TokenCreatedView, TokenRow, TokenSource};
pub use challenge::{mfa_challenge_page, recover_page, MfaChallengeView, RecoverView};
pub use channel::CodeChannel;
pub use confirm::{confirm_password_page, ConfirmPasswordView};
pub use demo::{demo_app_page, DemoView};
pub use enroll::{enroll_page, mfa_reminder_page, AppSetup, EnrollView, ReminderView};
pub use errors::{error_page, ErrorView};
pub use login::{login_page, LoginView};
pub use phone::PhoneEntry;
pub use recovery::{recovered_page, recovery_codes_page, RecoveredView, RecoveryCodesView};
pub use routes::{Methods, Route};

/// The portal stylesheet, served at [`CSS_PATH`].
pub const CSS: &str = include_str!("../static/gatehouse.css");

/// Where the gateway serves [`CSS`]; every portal page links to it.
pub const CSS_PATH: &str = "/.gatehouse/static/gatehouse.css";

/// Portal form targets, from the route table ([`Route`]).
pub(crate) const LOGIN_ACTION: &str = Route::Login.path();
pub(crate) const LOGOUT_ACTION: &str = Route::Logout.path();
pub(crate) const ACCOUNT_PATH: &str = Route::Account.path();
pub(crate) const MFA_PATH: &str = Route::Mfa.path();
/// Sends a one-time code by the posted `channel` during sign-in.
pub(crate) const MFA_SEND_ACTION: &str = Route::MfaSend.path();
/// Asks for a fresh proof before a sensitive action (`code`, or
/// `password` for a user with no second factor).
pub(crate) const CONFIRM_PATH: &str = Route::Confirm.path();
/// Sends a one-time code by the posted `channel` for the confirm page.
pub(crate) const CONFIRM_SEND_ACTION: &str = Route::ConfirmSend.path();
pub(crate) const ENROLL_PATH: &str = Route::Enroll.path();
/// Sends the code that confirms a new email or phone factor.
pub(crate) const ENROLL_SEND_ACTION: &str = Route::EnrollSend.path();
pub(crate) const ENROLL_RESET_ACTION: &str = Route::EnrollReset.path();
pub(crate) const RECOVER_PATH: &str = Route::Recover.path();
pub(crate) const RECOVERY_ACK_ACTION: &str = Route::RecoveryAck.path();
pub(crate) const RECOVERY_REGENERATE_ACTION: &str = Route::RecoveryRegenerate.path();
pub(crate) const MFA_DISABLE_ACTION: &str = Route::MfaDisable.path();
pub(crate) const DEVICES_FORGET_ACTION: &str = Route::DevicesForget.path();
/// Removes the email or phone factor named by the posted `channel`.
pub(crate) const FACTOR_REMOVE_ACTION: &str = Route::FactorRemove.path();
pub(crate) const ADMIN_PATH: &str = Route::Admin.path();
pub(crate) const ADMIN_ENFORCE_ACTION: &str = Route::AdminEnforce.path();
pub(crate) const ADMIN_RESET_ACTION: &str = Route::AdminReset.path();
pub(crate) const ADMIN_SIGN_OUT_ACTION: &str = Route::AdminSignOut.path();
/// Filters the audit log by the posted `user` and `event`.
pub(crate) const ADMIN_AUDIT_ACTION: &str = Route::AdminAudit.path();
/// Creates a service token from the posted `name`, `app` and `expires`.
pub(crate) const ADMIN_TOKENS_ACTION: &str = Route::AdminTokens.path();
/// Revokes the console-made service token named by the posted `name`.
pub(crate) const ADMIN_TOKEN_REVOKE_ACTION: &str = Route::AdminTokenRevoke.path();
/// Gives the console-made service token named by the posted `name` a new
/// secret; the old one works a day longer.
pub(crate) const ADMIN_TOKEN_REPLACE_ACTION: &str = Route::AdminTokenReplace.path();
/// Ends, now, the old secret of the token named by the posted `name`.
pub(crate) const ADMIN_TOKEN_END_REPLACED_ACTION: &str = Route::AdminTokenEndReplaced.path();
/// Ends every session of the signed-in user, the current one included.
pub(crate) const ACCOUNT_SIGN_OUT_EVERYWHERE_ACTION: &str = Route::SignOutEverywhere.path();

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stylesheet_is_small_and_self_contained() {
        assert!(CSS.len() < 10 * 1024, "CSS grew to {} bytes", CSS.len());
        for external in ["@import", "url(", "http:", "https:", "//fonts"] {
            assert!(!CSS.contains(external), "CSS references {external}");
        }
        assert!(CSS.contains("prefers-color-scheme: dark"));
        assert!(CSS.contains(":focus-visible"));
    }

    #[test]
    fn css_path_is_under_the_portal_prefix() {
        assert!(CSS_PATH.starts_with("/.gatehouse/static/"));
        assert!(CSS_PATH.ends_with(".css"));
    }

    /// True if the markup has an attribute like ` onclick=`.
    fn has_inline_handler(html: &str) -> bool {
        html.match_indices(" on").any(|(i, _)| {
            let rest = &html[i + 3..];
            let name_len = rest.bytes().take_while(u8::is_ascii_lowercase).count();
            name_len > 0 && rest[name_len..].starts_with('=')
        })
    }

    /// Every portal page, in a state that shows as many forms as it can.
    fn all_pages() -> Vec<String> {
        let groups = vec!["dev".to_string()];
        let headers = vec![("Host".to_string(), "app".to_string())];
        let codes = vec!["k7f3-9xq2-mp4d".to_string(); 10];
        let devices = [DeviceRow {
            label: "Firefox on Linux",
            ..DeviceRow::default()
        }];
        let channels = crate::channel::SAMPLE_CHANNELS;
        let contacts = [ContactFactorRow {
            channel: channels[0],
            since: "2025-01-03",
            removable: true,
        }];
        let mfa_on = AccountMfa {
            enabled_since: Some("2025-01-02"),
            recovery_remaining: 10,
            devices: &devices,
            remember_days: 30,
            app_since: Some("2025-01-02"),
            contact_factors: &contacts,
            can_add: true,
            ..AccountMfa::default()
        };
        let (csrf_token, rd) = ("tok", "/app");
        let users = [
            AdminUserRow {
                username: "alice",
                groups: &groups,
                mfa: UserMfa::On {
                    since: "2025-01-02",
                },
                factors: &["app", "email"],
                ..AdminUserRow::default()
            },
            AdminUserRow {
                username: "bob",
                ..AdminUserRow::default()
            },
        ];
        let audit = [AuditRow {
            event: "login",
            ..AuditRow::default()
        }];
        let tokens = [
            TokenRow {
                name: "monitoring",
                ..TokenRow::default()
            },
            TokenRow {
                name: "ci",
                source: TokenSource::Console {
                    created: "2025-01-02",
                    created_by: "alice",
                },
                ..TokenRow::default()
            },
        ];
        let admin = AdminView {
            csrf_token,
            users: &users,
            tokens: &tokens,
            token_apps: &["wiki"],
            audit: AuditView {
                rows: &audit,
                events: &["login", "logout"],
                users: &["alice", "bob"],
                older: Some("/.gatehouse/admin?audit_before=1.2#audit"),
                ..AuditView::default()
            },
            error: Some("e"),
            ..AdminView::default()
        };
        vec![
            login_page(&LoginView::default()),
            error_page(&ErrorView {
                status: 502,
                title: "Bad gateway",
                message: "m",
                action: Some(("Try again", "/")),
            }),
            account_page(&AccountView {
                groups: &groups,
                ..AccountView::default()
            }),
            account_page(&AccountView {
                mfa: mfa_on,
                is_admin: true,
                ..AccountView::default()
            }),
            admin_page(&admin),
            admin_page(&AdminView {
                enforcement: Enforcement::OnByAdmin,
                ..admin
            }),
            demo_app_page(&DemoView {
                headers: &headers,
                ..DemoView::default()
            }),
            mfa_challenge_page(&MfaChallengeView {
                csrf_token,
                rd,
                error: Some("e"),
                remember_days: 30,
                has_app: true,
                channels: &channels,
                sent: Some(channels[1]),
                code_minutes: 10,
                confirm: false,
            }),
            mfa_challenge_page(&MfaChallengeView {
                csrf_token,
                rd,
                has_app: true,
                channels: &channels,
                confirm: true,
                ..MfaChallengeView::default()
            }),
            confirm_password_page(&ConfirmPasswordView {
                csrf_token,
                rd,
                error: Some("e"),
            }),
            enroll_page(&EnrollView {
                csrf_token,
                rd,
                app: Some(AppSetup {
                    qr_svg: "<svg></svg>",
                    two_codes: true,
                    ..AppSetup::default()
                }),
                channels: &channels,
                sent: Some(channels[0]),
                ..EnrollView::default()
            }),
            enroll_page(&EnrollView {
                csrf_token,
                rd,
                channels: &channels,
                ..EnrollView::default()
            }),
            enroll_page(&EnrollView {
                csrf_token,
                rd,
                app: Some(AppSetup::default()),
                channels: &channels,
                phone: Some(PhoneEntry {
                    error: Some("e"),
                    offer_app: true,
                    ..PhoneEntry::default()
                }),
                ..EnrollView::default()
            }),
            recovery_codes_page(&RecoveryCodesView {
                codes: &codes,
                csrf_token,
                rd,
            }),
            recover_page(&RecoverView {
                csrf_token,
                rd,
                error: None,
            }),
            recovered_page(&RecoveredView {
                csrf_token,
                rd,
                remaining: 9,
            }),
            mfa_reminder_page(&ReminderView { csrf_token, rd }),
            token_created_page(&TokenCreatedView {
                name: "ci",
                token: "ght_x",
                ..TokenCreatedView::default()
            }),
        ]
    }

    #[test]
    fn no_page_needs_javascript() {
        for html in all_pages() {
            assert!(html.starts_with("<!DOCTYPE html>"));
            assert!(html.contains(r#"<html lang="en">"#));
            assert!(!html.to_ascii_lowercase().contains("<script"));
            assert!(!has_inline_handler(&html), "inline event handler in {html}");
        }
    }

    #[test]
    fn every_form_is_a_post_with_a_csrf_token() {
        for html in all_pages() {
            let forms = html.matches("<form").count();
            assert_eq!(forms, html.matches(r#"method="post""#).count(), "{html}");
            assert_eq!(
                forms,
                html.matches(r#"name="csrf_token""#).count(),
                "{html}"
            );
        }
    }
}
