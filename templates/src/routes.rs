//! Every portal route, once: its path and the methods it takes. The
//! gateway dispatches and answers 405 from this table, builds its
//! redirects from it, and the pages take their form targets from it, so a
//! path can't be spelt two ways.

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

/// A page or action under `/.gatehouse/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    Root,
    Healthz,
    Readyz,
    Css,
    Login,
    Logout,
    Mfa,
    MfaSend,
    Confirm,
    ConfirmSend,
    Sso,
    Recover,
    Remind,
    Enroll,
    EnrollSend,
    EnrollReset,
    RecoveryAck,
    RecoveryRegenerate,
    MfaDisable,
    DevicesForget,
    FactorRemove,
    Account,
    SignOutEverywhere,
    Admin,
    AdminEnforce,
    /// An organisation's MFA switch: its confirmation page, and the switch.
    AdminMfa,
    /// The other parts of an organisation's policy.
    AdminPolicy,
    AdminReset,
    AdminSignOut,
    AdminAudit,
    AdminTokens,
    AdminTokenRevoke,
    AdminTokenReplace,
    AdminTokenEndReplaced,
    /// Forward auth for Traefik's forwardAuth and Caddy's forward_auth.
    AuthForward,
    /// Forward auth for nginx's `auth_request`.
    AuthRequest,
}

/// The methods a route takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Methods {
    /// A page or resource: GET and HEAD.
    Get,
    /// A form target: POST only.
    Post,
    /// A page with its own form: GET, HEAD and POST.
    GetPost,
    /// Any method, body unread: nginx's `auth_request` asks with the
    /// original request's method.
    Any,
}

impl Methods {
    /// The `Allow` header of a 405.
    pub const fn allow(self) -> &'static str {
        match self {
            Methods::Get => "GET, HEAD",
            Methods::Post => "POST",
            Methods::GetPost => "GET, HEAD, POST",
            Methods::Any => "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
        }
    }

    pub const fn get(self) -> bool {
        matches!(self, Methods::Get | Methods::GetPost)
    }

    /// Whether every method is taken (and no body read).
    pub const fn any(self) -> bool {
        matches!(self, Methods::Any)
    }

    pub const fn post(self) -> bool {
        matches!(self, Methods::Post | Methods::GetPost)
    }
}

impl Route {
    pub const ALL: [Route; 36] = [
        Route::Root,
        Route::Healthz,
        Route::Readyz,
        Route::Css,
        Route::Login,
        Route::Logout,
        Route::Mfa,
        Route::MfaSend,
        Route::Confirm,
        Route::ConfirmSend,
        Route::Sso,
        Route::Recover,
        Route::Remind,
        Route::Enroll,
        Route::EnrollSend,
        Route::EnrollReset,
        Route::RecoveryAck,
        Route::RecoveryRegenerate,
        Route::MfaDisable,
        Route::DevicesForget,
        Route::FactorRemove,
        Route::Account,
        Route::SignOutEverywhere,
        Route::Admin,
        Route::AdminEnforce,
        Route::AdminMfa,
        Route::AdminPolicy,
        Route::AdminReset,
        Route::AdminSignOut,
        Route::AdminAudit,
        Route::AdminTokens,
        Route::AdminTokenRevoke,
        Route::AdminTokenReplace,
        Route::AdminTokenEndReplaced,
        Route::AuthForward,
        Route::AuthRequest,
    ];

    pub const fn path(self) -> &'static str {
        match self {
            Route::Root => "/.gatehouse",
            Route::Healthz => "/.gatehouse/healthz",
            Route::Readyz => "/.gatehouse/readyz",
            Route::Css => "/.gatehouse/static/gatehouse.css",
            Route::Login => "/.gatehouse/login",
            Route::Logout => "/.gatehouse/logout",
            Route::Mfa => "/.gatehouse/mfa",
            Route::MfaSend => "/.gatehouse/mfa/send",
            Route::Confirm => "/.gatehouse/confirm",
            Route::ConfirmSend => "/.gatehouse/confirm/send",
            Route::Sso => "/.gatehouse/sso",
            Route::Recover => "/.gatehouse/recover",
            Route::Remind => "/.gatehouse/remind",
            Route::Enroll => "/.gatehouse/enroll",
            Route::EnrollSend => "/.gatehouse/enroll/send",
            Route::EnrollReset => "/.gatehouse/enroll/reset",
            Route::RecoveryAck => "/.gatehouse/recovery-codes/ack",
            Route::RecoveryRegenerate => "/.gatehouse/recovery-codes/regenerate",
            Route::MfaDisable => "/.gatehouse/mfa/disable",
            Route::DevicesForget => "/.gatehouse/devices/forget",
            Route::FactorRemove => "/.gatehouse/account/factor/remove",
            Route::Account => "/.gatehouse/account",
            Route::SignOutEverywhere => "/.gatehouse/account/sign-out-everywhere",
            Route::Admin => "/.gatehouse/admin",
            Route::AdminEnforce => "/.gatehouse/admin/enforce",
            Route::AdminMfa => "/.gatehouse/admin/mfa",
            Route::AdminPolicy => "/.gatehouse/admin/policy",
            Route::AdminReset => "/.gatehouse/admin/reset",
            Route::AdminSignOut => "/.gatehouse/admin/sign-out",
            Route::AdminAudit => "/.gatehouse/admin/audit",
            Route::AdminTokens => "/.gatehouse/admin/tokens",
            Route::AdminTokenRevoke => "/.gatehouse/admin/tokens/revoke",
            Route::AdminTokenReplace => "/.gatehouse/admin/tokens/replace",
            Route::AdminTokenEndReplaced => "/.gatehouse/admin/tokens/end-replaced",
            Route::AuthForward => "/.gatehouse/auth/forward",
            Route::AuthRequest => "/.gatehouse/auth/request",
        }
    }

    pub const fn methods(self) -> Methods {
        match self {
            Route::Root
            | Route::Healthz
            | Route::Readyz
            | Route::Css
            | Route::Remind
            | Route::Sso
            | Route::Account
            | Route::Admin
            | Route::AuthForward => Methods::Get,
            Route::AuthRequest => Methods::Any,
            Route::Login
            | Route::Mfa
            | Route::Confirm
            | Route::Recover
            | Route::Enroll
            | Route::AdminMfa => Methods::GetPost,
            Route::Logout
            | Route::MfaSend
            | Route::ConfirmSend
            | Route::EnrollSend
            | Route::EnrollReset
            | Route::RecoveryAck
            | Route::RecoveryRegenerate
            | Route::MfaDisable
            | Route::DevicesForget
            | Route::FactorRemove
            | Route::SignOutEverywhere
            | Route::AdminEnforce
            | Route::AdminPolicy
            | Route::AdminReset
            | Route::AdminSignOut
            | Route::AdminAudit
            | Route::AdminTokens
            | Route::AdminTokenRevoke
            | Route::AdminTokenReplace
            | Route::AdminTokenEndReplaced => Methods::Post,
        }
    }

    /// The route at a normalised path (`/.gatehouse/` is the root too).
    pub fn from_path(path: &str) -> Option<Route> {
        let path = match path {
            "/.gatehouse/" => "/.gatehouse",
            p => p,
        };
        Route::ALL.into_iter().find(|r| r.path() == path)
    }

    /// This route with a return path: the one way `rd` is put in a URL.
    /// Every byte but ASCII letters and digits is percent-encoded, so `/`,
    /// `?`, `&`, `#` and `%` in `rd` survive the trip. No `rd`, no query.
    pub fn with_rd(self, rd: &str) -> String {
        if rd.is_empty() {
            return self.path().to_owned();
        }
        format!(
            "{}?rd={}",
            self.path(),
            utf8_percent_encode(rd, NON_ALPHANUMERIC)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_listed_once_and_found_by_its_path() {
        for route in Route::ALL {
            assert_eq!(Route::from_path(route.path()), Some(route));
            assert!(route.path().starts_with("/.gatehouse"));
        }
        let mut paths: Vec<_> = Route::ALL.iter().map(|r| r.path()).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), Route::ALL.len());
        assert_eq!(Route::from_path("/.gatehouse/"), Some(Route::Root));
        assert_eq!(Route::from_path("/.gatehouse/nope"), None);
    }

    #[test]
    fn a_return_path_is_percent_encoded_whole() {
        assert_eq!(
            Route::Login.with_rd("/a b?x=1&y=/z"),
            "/.gatehouse/login?rd=%2Fa%20b%3Fx%3D1%26y%3D%2Fz"
        );
        assert_eq!(Route::Mfa.with_rd(""), "/.gatehouse/mfa");
    }

    #[test]
    fn a_form_target_takes_only_post_and_a_page_takes_get() {
        assert_eq!(Route::Logout.methods().allow(), "POST");
        assert_eq!(Route::Account.methods().allow(), "GET, HEAD");
        assert_eq!(Route::Login.methods().allow(), "GET, HEAD, POST");
        assert!(Route::AuthRequest.methods().any() && !Route::AuthRequest.methods().post());
    }
}
