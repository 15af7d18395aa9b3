-- Gatehouse durable state (SQLite). Keep in step with ../postgres/0001_initial.sql:
-- the same tables and columns, only the audit id type differs.
-- Times are unix milliseconds (BIGINT); there are no BLOBs so the SQL stays portable.

CREATE TABLE settings (
    key TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE totp_enrollments (
    username TEXT NOT NULL PRIMARY KEY,
    secret_sealed TEXT NOT NULL,
    confirmed_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE recovery_codes (
    username TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (username, code_hash)
);

CREATE TABLE remembered_devices (
    id TEXT NOT NULL PRIMARY KEY,
    username TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX remembered_devices_username ON remembered_devices (username, expires_at);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms BIGINT NOT NULL,
    username TEXT,
    ip TEXT,
    event TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX audit_log_at ON audit_log (at_ms);
CREATE INDEX audit_log_username_at ON audit_log (username, at_ms);
