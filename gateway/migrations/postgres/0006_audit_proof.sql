-- Which fresh proof a sensitive action was allowed on: code,
-- recovery_code or password. Empty for every other event.
ALTER TABLE audit_log ADD COLUMN proof TEXT;
