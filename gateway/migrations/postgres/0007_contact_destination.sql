-- The number a user typed on the enrollment page and proved with a code
-- (notify.sms.countries), in E.164. Empty for factors whose address is in
-- the users file: ops own those, and a change there moves the codes too.
-- Keep in step with the other backend.
ALTER TABLE contact_factors ADD COLUMN destination TEXT;
