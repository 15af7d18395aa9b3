//! The config loader.

use gatehouse::fuzzing::config as load;

/// A users file with one user, whose hash is a well-formed argon2id PHC
/// string: the loader checks its shape, and hashes nothing.
const USERS: &str = "users:\n  alice:\n    password: \"$argon2id$v=19$m=19456,t=2,p=1$+P32n9A/HzotkzDJ87OoWA$+0+MuylEQPLmYknOjtJjpgGymdkubity3cMcpgXwOOA\"\n    groups: [admins]\n";

/// The input is the config text; the users file it may name is
/// `users.yaml` beside it.
pub fn config(data: &[u8]) {
    let Ok(yaml) = std::str::from_utf8(data) else {
        return;
    };
    match load(yaml, USERS) {
        Ok(settings) => {
            let limits = settings.server.request_limits;
            assert!((256..=65536).contains(&limits.request_line));
            assert!((8..=256).contains(&limits.headers));
            for app in &settings.apps {
                assert!(app.path.starts_with('/'), "app path {:?}", app.path);
                for rule in &app.rules {
                    assert!(
                        rule.path.starts_with(&app.path) || app.path == "/",
                        "rule {:?} outside its app's path {:?}",
                        rule.path,
                        app.path
                    );
                }
            }
        }
        Err(e) => {
            // Every problem is one line that says what is wrong.
            let lines = e.lines();
            assert!(!lines.is_empty(), "refused without a reason");
            for line in lines {
                assert!(!line.trim().is_empty(), "an empty problem line");
                assert!(
                    !line.contains('\n'),
                    "a problem over several lines: {line:?}"
                );
            }
        }
    }
}
