-- Service tokens created in the admin console. Tokens in the config file
-- stay there; these sit beside them. Only the SHA-256 of a token is kept
-- (hex), so the store never holds a usable token. `app` limits a token to
-- one app by name; NULL means every app that takes console tokens. When a
-- token was last used is read from the audit log (`token_used`).
-- Keep in step with the other backend.

CREATE TABLE service_tokens (
    name TEXT NOT NULL PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,
    app TEXT,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    expires_at BIGINT
);
