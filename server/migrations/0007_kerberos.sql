-- Kerberos: the realms the server belongs to and their KDCs, the service keys of imported keytabs,
-- Kerberos principals mapped to local SMB users, and the domain users and groups (name and SID)
-- that share permissions may name.

CREATE TABLE kerberos_realms (
    -- upper case, e.g. CORP.EXAMPLE.COM
    name TEXT PRIMARY KEY,
    -- the realm's KDCs as host or host:port (port 88 when absent), comma-separated, in order
    kdcs TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE kerberos_keys (
    -- cifs/fs.example.com@EXAMPLE.COM, as RFC 1964 writes it
    principal TEXT NOT NULL,
    realm TEXT NOT NULL REFERENCES kerberos_realms (name) ON DELETE RESTRICT,
    -- the name's components as a JSON array of strings
    components TEXT NOT NULL,
    kvno INTEGER NOT NULL,
    -- RFC 3961 enctype number (17, 18, 19, 20, 23)
    enctype INTEGER NOT NULL,
    -- the long-term key: password-equivalent for the service, never leaves the server
    key BLOB NOT NULL,
    -- when the keytab's writer made the entry (Unix seconds)
    key_timestamp INTEGER NOT NULL,
    imported_at INTEGER NOT NULL,
    -- the file it came from, as the administrator named it
    source TEXT NOT NULL,
    PRIMARY KEY (principal, kvno, enctype)
);

CREATE TABLE kerberos_principal_map (
    -- user@REALM
    principal TEXT NOT NULL,
    principal_key TEXT NOT NULL UNIQUE,
    smb_user TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE domain_names (
    -- DOMAIN\name, as share permissions write it
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    -- S-1-5-21-...
    sid TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
