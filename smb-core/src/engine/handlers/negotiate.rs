//! NEGOTIATE (MS-SMB2 3.3.5.3 / 3.3.5.4): dialect, capabilities, and for 3.1.1 the preauth
//! integrity, cipher, signing algorithm and transport-security contexts.

use crate::crypto::PreauthHash;
use crate::engine::connection::{Connection, Negotiated};
use crate::engine::dispatch::{Done, Error, Outcome, Preauth, Request};
use crate::engine::events::Transport;
use crate::proto::negotiate::{
    ACCEPT_TRANSPORT_LEVEL_SECURITY, Cipher, Dialect, HASH_SHA512, NegotiateContext, NegotiateRequest,
    NegotiateResponse, SigningAlgorithm, capabilities, security_mode,
};
use crate::proto::{NtStatus, Writer};

/// The dialects this connection may use: the configured range, and 3.1.1 alone over QUIC.
fn allowed(conn: &Connection) -> (Dialect, Dialect) {
    let settings = &conn.shared.runtime().config.server;
    if conn.info.transport == Transport::Quic {
        (Dialect::SMB3_1_1, Dialect::SMB3_1_1)
    } else {
        (settings.min_dialect, settings.max_dialect)
    }
}

pub(crate) fn handle(conn: &mut Connection, req: &Request<'_>, out: &mut Writer) -> Result<Outcome, Error> {
    if conn.negotiated.is_some() {
        // MS-SMB2 3.3.5.3.1: a second NEGOTIATE on a connection ends it.
        conn.close = true;
        return Ok(Outcome::NoResponse);
    }
    let request = NegotiateRequest::decode(req.message)?;
    let (min, max) = allowed(conn);
    let Some(dialect) =
        request.dialects.iter().copied().filter(|d| *d >= min && *d <= max && Dialect::ALL.contains(d)).max()
    else {
        tracing::info!(connection = %conn.info.id, offered = ?request.dialects, "no common dialect");
        conn.close = true;
        return Err(NtStatus::NOT_SUPPORTED.into());
    };
    let runtime = conn.shared.runtime();
    let settings = &runtime.config.server;
    let mut preauth = PreauthHash::default();
    let mut contexts = Vec::new();
    let mut cipher = None;
    let mut signing_algorithm = SigningAlgorithm::AES_CMAC;
    let mut transport_security = false;
    if dialect == Dialect::SMB3_1_1 {
        let count = |t: u16| request.contexts.iter().filter(|c| c.context_type() == t).count();
        use crate::proto::negotiate::context_type as ct;
        if count(ct::PREAUTH_INTEGRITY_CAPABILITIES) != 1
            || count(ct::ENCRYPTION_CAPABILITIES) > 1
            || count(ct::SIGNING_CAPABILITIES) > 1
        {
            return Err(NtStatus::INVALID_PARAMETER.into());
        }
        for context in &request.contexts {
            match context {
                NegotiateContext::PreauthIntegrity { hash_algorithms, salt: _ } => {
                    if !hash_algorithms.contains(&HASH_SHA512) {
                        return Err(NtStatus::SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP.into());
                    }
                }
                NegotiateContext::Encryption { ciphers } => {
                    cipher = settings.ciphers.iter().copied().find(|c| ciphers.contains(c));
                }
                NegotiateContext::Signing { algorithms } => {
                    if algorithms.is_empty() {
                        return Err(NtStatus::INVALID_PARAMETER.into());
                    }
                    signing_algorithm = settings
                        .signing_algorithms
                        .iter()
                        .copied()
                        .find(|a| algorithms.contains(a))
                        .unwrap_or(SigningAlgorithm::AES_CMAC);
                }
                NegotiateContext::TransportCapabilities { flags } => {
                    transport_security = conn.info.transport_secure && flags & ACCEPT_TRANSPORT_LEVEL_SECURITY != 0;
                }
                _ => {}
            }
        }
        preauth.update(req.message);
        contexts.push(NegotiateContext::PreauthIntegrity {
            hash_algorithms: vec![HASH_SHA512],
            salt: conn.random::<[u8; 32]>().to_vec(),
        });
        if request.contexts.iter().any(|c| matches!(c, NegotiateContext::Encryption { .. })) {
            // MS-SMB2 3.3.5.4: no common cipher is answered with cipher 0.
            contexts.push(NegotiateContext::Encryption { ciphers: vec![cipher.unwrap_or(Cipher(0))] });
        }
        if request.contexts.iter().any(|c| matches!(c, NegotiateContext::Signing { .. })) {
            contexts.push(NegotiateContext::Signing { algorithms: vec![signing_algorithm] });
        }
        if transport_security {
            contexts.push(NegotiateContext::TransportCapabilities { flags: ACCEPT_TRANSPORT_LEVEL_SECURITY });
        }
    } else if dialect.is_smb3()
        && request.capabilities & capabilities::ENCRYPTION != 0
        && settings.ciphers.contains(&Cipher::AES_128_CCM)
    {
        // SMB 3.0 and 3.0.2 know only AES-128-CCM, announced by the capability bit.
        cipher = Some(Cipher::AES_128_CCM);
    }
    let mut server_capabilities = 0;
    if dialect != Dialect::SMB2_0_2 {
        server_capabilities |= capabilities::LARGE_MTU | capabilities::LEASING;
    }
    if matches!(dialect, Dialect::SMB3_0 | Dialect::SMB3_0_2) && cipher.is_some() {
        server_capabilities |= capabilities::ENCRYPTION;
    }
    // Persistent handles, for SMB 3 clients that support them, when the server keeps a journal
    // of them (MS-SMB2 3.3.5.4).
    if dialect.is_smb3()
        && request.capabilities & capabilities::PERSISTENT_HANDLES != 0
        && conn.shared.keeps_persistent_opens()
    {
        server_capabilities |= capabilities::PERSISTENT_HANDLES;
    }
    // Multichannel: other connections of the client may bind its sessions (MS-SMB2 3.3.5.4).
    if dialect.is_smb3() && request.capabilities & capabilities::MULTI_CHANNEL != 0 && settings.multichannel {
        server_capabilities |= capabilities::MULTI_CHANNEL;
    }
    let server_security_mode =
        security_mode::SIGNING_ENABLED | if settings.signing_required { security_mode::SIGNING_REQUIRED } else { 0 };
    let max_io = if dialect == Dialect::SMB2_0_2 { 65536 } else { settings.max_io };
    NegotiateResponse {
        security_mode: server_security_mode,
        dialect,
        server_guid: settings.server_guid,
        capabilities: server_capabilities,
        max_transact_size: max_io,
        max_read_size: max_io,
        max_write_size: max_io,
        system_time: conn.now.filetime(),
        server_start_time: 0,
        security_buffer: runtime.negotiate_hint(),
        contexts,
    }
    .encode(out);
    conn.negotiated = Some(Negotiated {
        dialect,
        client_guid: request.client_guid,
        client_capabilities: request.capabilities,
        client_security_mode: request.security_mode,
        client_dialects: request.dialects,
        server_security_mode,
        server_capabilities,
        cipher,
        signing_algorithm,
        preauth,
        transport_security,
        max_io,
    });
    Ok(Outcome::Done(Done {
        preauth: (dialect == Dialect::SMB3_1_1).then_some(Preauth::Connection),
        ..Done::default()
    }))
}

/// The SMB2 dialect to answer an SMB1 negotiate with (MS-SMB2 3.3.5.3.1): the wildcard when
/// the client offered "SMB 2.???" and the server speaks more than 2.0.2, else 2.0.2.
pub(crate) fn smb1_dialect(conn: &Connection, dialects: &[String]) -> Option<Dialect> {
    let (min, max) = allowed(conn);
    if dialects.iter().any(|d| d == "SMB 2.???") && max > Dialect::SMB2_0_2 {
        Some(Dialect::SMB2_WILDCARD)
    } else if dialects.iter().any(|d| d == "SMB 2.002") && min <= Dialect::SMB2_0_2 {
        Some(Dialect::SMB2_0_2)
    } else {
        None
    }
}

/// The NEGOTIATE response to an SMB1 negotiate. With the wildcard the client sends a real
/// SMB2 NEGOTIATE next, so the connection stays un-negotiated.
pub(crate) fn respond_to_smb1(conn: &mut Connection, dialect: Dialect, out: &mut Writer) {
    let runtime = conn.shared.runtime();
    let settings = &runtime.config.server;
    let server_security_mode =
        security_mode::SIGNING_ENABLED | if settings.signing_required { security_mode::SIGNING_REQUIRED } else { 0 };
    let max_io = 65536;
    NegotiateResponse {
        security_mode: server_security_mode,
        dialect,
        server_guid: settings.server_guid,
        capabilities: if dialect == Dialect::SMB2_WILDCARD { capabilities::LARGE_MTU } else { 0 },
        max_transact_size: max_io,
        max_read_size: max_io,
        max_write_size: max_io,
        system_time: conn.now.filetime(),
        server_start_time: 0,
        security_buffer: runtime.negotiate_hint(),
        contexts: Vec::new(),
    }
    .encode(out);
    if dialect == Dialect::SMB2_0_2 {
        conn.negotiated = Some(Negotiated {
            dialect,
            client_guid: [0; 16],
            client_capabilities: 0,
            client_security_mode: 0,
            client_dialects: vec![dialect],
            server_security_mode,
            server_capabilities: 0,
            cipher: None,
            signing_algorithm: SigningAlgorithm::HMAC_SHA256,
            preauth: PreauthHash::default(),
            transport_security: false,
            max_io,
        });
    }
}
