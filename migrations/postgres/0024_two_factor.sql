-- Two-factor sign-in for staff (issue 16): each person's TOTP secret, sealed with the server's
-- key (never stored in the clear), and the last time step a code was accepted for (a code for
-- that step or an earlier one is refused: no replay). `enabled_at` is NULL while enrolment
-- waits for its first code.
CREATE TABLE two_factor (
    user_id BIGINT PRIMARY KEY REFERENCES users (id),
    secret_sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    enabled_at BIGINT,
    last_step BIGINT
);

-- Recovery codes, as the SHA-256 of each (80 random bits; shown once, at enrolment or when
-- made anew). Each signs in once: `used_at` is set when it does.
CREATE TABLE recovery_codes (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id, code_hash);

-- A sign-in half done: the password was right, the second step is still to come. Not a
-- session: nothing but the second step's pages reads it. The cookie holds a random token,
-- the table its SHA-256.
CREATE TABLE pending_sign_ins (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    next TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX pending_sign_ins_expires ON pending_sign_ins (expires_at);
