-- Replacing a console token keeps the one it replaced working for a while,
-- so the integration can move over without an outage: its hash and until
-- when (ms) it still works. NULL when there is none. Replacing again, or
-- revoking, ends it.
-- Keep in step with the other backend.

ALTER TABLE service_tokens ADD COLUMN previous_sha256 TEXT;
ALTER TABLE service_tokens ADD COLUMN previous_until BIGINT;
