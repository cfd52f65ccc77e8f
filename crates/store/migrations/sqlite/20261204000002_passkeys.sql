-- Passkeys (WebAuthn). An account that has one carries a random user handle, which its passkeys hold
-- and give back at sign-in; each passkey is its public key and signature counter, as the WebAuthn
-- library serialises them. Times are Unix milliseconds.
ALTER TABLE users ADD COLUMN passkey_handle TEXT;
CREATE UNIQUE INDEX users_by_passkey_handle ON users (passkey_handle) WHERE passkey_handle IS NOT NULL;

CREATE TABLE passkeys (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id TEXT    NOT NULL UNIQUE, -- base64url, as the authenticator names it
    name          TEXT   NOT NULL,        -- the person's name for it ("laptop")
    credential    TEXT   NOT NULL,        -- JSON: the public key and counter, never a secret
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
);
CREATE INDEX passkeys_by_user ON passkeys (user_id);

-- A passkey ceremony under way: the challenge sent to a browser and what finishing it needs, kept for
-- minutes and used once, so any web node can finish what another started.
CREATE TABLE passkey_ceremonies (
    id         TEXT   PRIMARY KEY, -- random; the browser sends it back with its answer
    kind       TEXT   NOT NULL,    -- sign_up | sign_in | add
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE, -- the account adding a passkey
    state      TEXT   NOT NULL,    -- JSON, for the application only
    expires_at INTEGER NOT NULL
);
CREATE INDEX passkey_ceremonies_by_expiry ON passkey_ceremonies (expires_at);
