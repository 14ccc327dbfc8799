-- Continuously available shares, and the journal of their persistent opens: each open's state
-- (MS-SMB2 3.3.1.10: its ids, user, share, path, access, sharing, caching and byte-range locks),
-- written before its client hears of it and read back when the server starts again.

ALTER TABLE shares ADD COLUMN continuous_availability INTEGER NOT NULL DEFAULT 0;

CREATE TABLE persistent_opens (
    -- the open's FileId (persistent part)
    persistent_id INTEGER PRIMARY KEY,
    -- smb_core::PersistentOpen as JSON
    state TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
