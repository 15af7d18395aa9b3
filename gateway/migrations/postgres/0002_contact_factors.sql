-- One-time codes by email or text message as a second factor. The address
-- or number itself stays in the users file (ops own it); a row here says the
-- user proved they receive codes there. Keep in step with the other backend.

CREATE TABLE contact_factors (
    username TEXT NOT NULL,
    channel TEXT NOT NULL,
    confirmed_at BIGINT NOT NULL,
    PRIMARY KEY (username, channel)
);
