/* SPDX-License-Identifier: MIT
 * accounts.h - what auth.c and users.c share about user rows and sessions: the column list,
 * the user JSON, name folding, password hashing into the arena and the session store.
 * Never included outside apps/yunshui/. Must not hold handler logic.
 */
#ifndef YUNSHUI_ACCOUNTS_H
#define YUNSHUI_ACCOUNTS_H

#include "yunshui.h"

/* The columns yunshui_user_json reads, in this order (select them first). */
#define YUNSHUI_USER_COLUMNS "id, username, email, role, is_active, created_at, updated_at"

/* The password every new password must be at least as long as (code points). */
#define YUNSHUI_PASSWORD_MIN 8
#define YUNSHUI_PASSWORD_MAX 128

/* The document's example admin password: seeded in development, refused in production. */
#define YUNSHUI_ADMIN_DEFAULT_PASSWORD "password123"

/** {id, username, email, role, isActive, createdAt, updatedAt} of row r, whose first
 *  columns are YUNSHUI_USER_COLUMNS (new reference). Never the password hash. */
json_t *yunshui_user_json(const struct bt_rows *rows, size_t r);

/** s with ASCII letters lower-cased (arena-owned): the key usernames and e-mail addresses are
 *  unique and looked up by, folded in C so SQLite and PostgreSQL agree. */
char *yunshui_fold(struct bt_arena *a, const char *s);

/** Argon2id hash of pw (arena-owned) or NULL with err filled (BT_EINTERNAL). */
const char *yunshui_password_hash(struct bt_arena *a, const char *pw, struct bt_err *err);

/** Set up st over yunshui_sessions and yunshui_refresh_tokens with refresh tokens living
 *  ttl_s seconds (yunshui_auth_init; the operator CLI revokes through it too). */
int yunshui_session_store_init(struct bt_session_store *st, int64_t ttl_s, struct bt_err *err);

/** The core session store over yunshui_sessions and yunshui_refresh_tokens (set up by
 *  yunshui_auth_init). Revocation reasons stored in it are one of logout, reuse, password,
 *  disabled, reset (the CHECK in 0001_users.sql; "reuse" is written by the core). */
static inline const struct bt_session_store *yunshui_sessions(const struct bt_req *rq)
{
    return &yunshui_state(rq)->sessions;
}

#endif
