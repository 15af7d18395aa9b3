-- The console filters the audit log by event, newest first.
CREATE INDEX audit_log_event_at ON audit_log (event, at_ms);
