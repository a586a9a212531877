-- Users of the page (/login): argon2 password hashes, the role and gateways their session token
-- carries (docs/operations.md, "Users"). Failed sign-ins per user and per address, so repeated
-- failures are slowed down across processes (docs/api.md, "Sign-in").
CREATE TABLE IF NOT EXISTS users (
    username text PRIMARY KEY,
    password_hash text NOT NULL,
    role text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    gateways text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS login_failures (
    key text PRIMARY KEY,            -- 'user:<name>' or 'address:<ip>'
    failures integer NOT NULL,
    last_failure timestamptz NOT NULL
);
