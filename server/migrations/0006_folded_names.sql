-- Names unique as the engine compares them: Unicode case folded (smb_core::engine::config::
-- fold_name), where COLLATE NOCASE folds ASCII only and let 'émile' in beside 'Émile'. SQLite
-- cannot fold Unicode, so the application stores each name's folded form. lower() is that form
-- for ASCII names; at every start the server refolds the names whose form lower() missed, and
-- reports names that fold alike from before this migration (app::backend::smb::fold_stored_names).

ALTER TABLE smb_users ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
UPDATE smb_users SET name_key = lower(name);
CREATE UNIQUE INDEX smb_users_name_key ON smb_users (name_key);

ALTER TABLE shares ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
UPDATE shares SET name_key = lower(name);
CREATE UNIQUE INDEX shares_name_key ON shares (name_key);

-- A principal is an SMB user's name or Everyone.
ALTER TABLE share_permissions ADD COLUMN principal_key TEXT NOT NULL DEFAULT '';
UPDATE share_permissions SET principal_key = lower(principal);
CREATE UNIQUE INDEX share_permissions_principal_key ON share_permissions (share_id, principal_key);
