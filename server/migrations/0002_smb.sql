-- SMB users, shares and their permissions, and the engine's settings.

CREATE TABLE smb_users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    -- MD4 of the UTF-16LE password (MS-NLMP NTOWFv1): password-equivalent, never leaves the server
    nt_hash BLOB NOT NULL CHECK (length(nt_hash) = 16),
    enabled INTEGER NOT NULL DEFAULT 1,
    -- Unix seconds; NULL when not locked out
    locked_until INTEGER,
    created_at INTEGER NOT NULL,
    password_changed_at INTEGER NOT NULL
);

CREATE TABLE shares (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    path TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    encrypt_data INTEGER NOT NULL DEFAULT 0,
    access_based_enumeration INTEGER NOT NULL DEFAULT 0,
    max_users INTEGER,
    created_at INTEGER NOT NULL
);

CREATE TABLE share_permissions (
    share_id INTEGER NOT NULL REFERENCES shares (id) ON DELETE CASCADE,
    -- an SMB user's name, or Everyone
    principal TEXT NOT NULL COLLATE NOCASE,
    access TEXT NOT NULL CHECK (access IN ('full', 'change', 'read', 'deny')),
    PRIMARY KEY (share_id, principal)
);

-- One row per setting; values are text. `config_version` changes with every configuration
-- change, so that a running server notices changes made by the command line.
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO settings (key, value) VALUES ('config_version', '1');
