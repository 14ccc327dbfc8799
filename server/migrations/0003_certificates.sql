-- The certificate store of SMB over QUIC and its server-name mappings.

CREATE TABLE certificates (
    -- SHA-1 of the DER certificate, upper-case hex: the thumbprint Windows shows
    thumbprint TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    issuer TEXT NOT NULL,
    serial TEXT NOT NULL,
    -- Unix seconds
    not_before INTEGER NOT NULL,
    not_after INTEGER NOT NULL,
    -- the DNS names of the subject alternative name extension, comma-separated
    dns_names TEXT NOT NULL,
    is_ca INTEGER NOT NULL,
    -- leaf first
    chain_pem TEXT NOT NULL,
    -- never leaves the server; the database file is readable by its owner only
    key_pem TEXT,
    -- 'imported', 'generated' (self-signed), 'issued' (by a local CA), 'local-ca'
    origin TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE quic_mappings (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    thumbprint TEXT NOT NULL REFERENCES certificates (thumbprint) ON DELETE RESTRICT,
    require_client_auth INTEGER NOT NULL DEFAULT 0,
    skip_client_access_check INTEGER NOT NULL DEFAULT 0,
    allow_named_pipes INTEGER NOT NULL DEFAULT 0,
    -- answers clients that send no server name (at most one row)
    is_default INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX quic_mappings_one_default ON quic_mappings (is_default) WHERE is_default = 1;
