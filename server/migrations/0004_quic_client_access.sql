-- Client access control of SMB over QUIC (as Windows Server 2025's Grant-/Block-SmbClientAccessToServer):
-- per server name, entries that allow or block client certificates by the SHA-256 of any
-- certificate in the client's chain, or by an issuer's distinguished name.

CREATE TABLE quic_client_access (
    name TEXT NOT NULL COLLATE NOCASE REFERENCES quic_mappings (name) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('sha256', 'issuer')),
    value TEXT NOT NULL,
    allow INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (name, kind, value, allow)
);

