-- SPDX-License-Identifier: MIT
-- 0001_users.sql - yunshui users, login sessions and their refresh tokens (document 002
-- "認證 API", note yunshui.md "Users and auth"; decisions in docs/apps/yunshui.md).
-- Portable subset (SQLite >= 3.35 and PostgreSQL 15): TEXT/BIGINT/BOOLEAN only, TEXT UUID
-- keys generated in C, CHECK constraints for enums, ISO-8601 TEXT timestamps written by C
-- ("2024-01-01T00:00:00.000Z": one fixed width, so they compare correctly as text).
-- Users are disabled (is_active = FALSE), never deleted: orders keep pointing at them.

CREATE TABLE yunshui_users (
    id            TEXT PRIMARY KEY,                -- UUID v4
    username      TEXT NOT NULL,                   -- as entered, at most 50 code points
    username_key  TEXT NOT NULL UNIQUE,            -- ASCII-lower-cased username (folded in C,
                                                   -- so both engines agree on duplicates)
    email         TEXT NOT NULL UNIQUE,            -- stored ASCII-lower-cased, at most 100
    password_hash TEXT NOT NULL,                   -- Argon2id PHC string
    role          TEXT NOT NULL DEFAULT 'USER' CHECK (role IN ('ADMIN', 'USER')),
    is_active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX yunshui_users_role ON yunshui_users (role);

-- One row per login: the refresh-token family. Its id is the access tokens' "sid" claim,
-- so revoking the row (logout, refresh-token re-use, password change, disabling the user)
-- also refuses every access token of the session: the bearer check reads this row by its
-- primary key on each request.
CREATE TABLE yunshui_sessions (
    id             TEXT PRIMARY KEY,               -- UUID v4, the "sid" claim
    user_id        TEXT NOT NULL REFERENCES yunshui_users (id),
    created_at     TEXT NOT NULL,
    revoked_at     TEXT,                           -- NULL while the session is alive
    revoked_reason TEXT CHECK (revoked_reason IN ('logout', 'reuse', 'password', 'disabled',
                                                  'reset'))
);
CREATE INDEX yunshui_sessions_user ON yunshui_sessions (user_id);

-- Refresh tokens are opaque random strings (32 bytes, base64url); only their SHA-256 hex is
-- stored. A refresh exchanges a token once: rotated_at is set and a new token of the same
-- session is inserted. Presenting a token whose rotated_at is set is re-use (a stolen copy
-- or a replay) and revokes the whole session.
CREATE TABLE yunshui_refresh_tokens (
    token_hash TEXT PRIMARY KEY,                   -- SHA-256 hex of the token
    session_id TEXT NOT NULL REFERENCES yunshui_sessions (id),
    user_id    TEXT NOT NULL REFERENCES yunshui_users (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,                      -- created_at + 30 days
    rotated_at TEXT                                -- set when exchanged for a new token
);
CREATE INDEX yunshui_refresh_tokens_session ON yunshui_refresh_tokens (session_id);
CREATE INDEX yunshui_refresh_tokens_user ON yunshui_refresh_tokens (user_id, expires_at);
