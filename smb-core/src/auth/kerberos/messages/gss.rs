//! The GSS-API layer around the Kerberos messages: the token framing of RFC 2743 section 3.1
//! with the TOK_ID of RFC 4121 section 4.1, and the authenticator checksum of RFC 4121 section
//! 4.1.1 that carries the GSS flags.

#[cfg(test)]
use super::EncodeError;
use crate::auth::der;
use crate::proto::{DecodeError, Reader};

/// 1.2.840.113554.1.2.2, the Kerberos 5 mechanism (RFC 1964 section 1).
pub(crate) const OID_KRB5: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];
/// 1.2.840.48018.1.2.2, the OID Windows 2000 put in SPNEGO by mistake and Windows clients still
/// offer first (MS-KILE 3.1.5.1); some also use it inside the token.
pub(crate) const OID_MS_KRB5: &[u8] = &[0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02];
/// 1.2.840.113554.1.2.2.3, Kerberos 5 user-to-user (draft-ietf-cat-user2user, MS-KILE 3.4.5.7):
/// the framing of a KERB-TGT-REQUEST and of the exchange that follows it.
pub(crate) const OID_KRB5_U2U: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x03];

/// Which of the two Kerberos OIDs a token carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mech {
    Krb5,
    MsKrb5,
    /// User-to-user: only inside the token, never a SPNEGO mechanism of its own.
    Krb5U2u,
}

impl Mech {
    pub(crate) fn oid(self) -> &'static [u8] {
        match self {
            Mech::Krb5 => OID_KRB5,
            Mech::MsKrb5 => OID_MS_KRB5,
            Mech::Krb5U2u => OID_KRB5_U2U,
        }
    }
}

/// RFC 4121 section 4.1 TOK_ID values of the context-establishment tokens.
pub(crate) mod tok_id {
    pub(crate) const AP_REQ: [u8; 2] = [0x01, 0x00];
    pub(crate) const AP_REP: [u8; 2] = [0x02, 0x00];
    pub(crate) const KRB_ERROR: [u8; 2] = [0x03, 0x00];
    /// KERB-TGT-REQUEST and KERB-TGT-REPLY (draft-ietf-cat-user2user section 6).
    pub(crate) const TGT_REQ: [u8; 2] = [0x04, 0x00];
    pub(crate) const TGT_REP: [u8; 2] = [0x04, 0x01];
}

/// RFC 2743 section 3.1 InitialContextToken as RFC 4121 section 4.1 fills it:
/// `[APPLICATION 0] IMPLICIT SEQUENCE { thisMech OID, TOK_ID (2 bytes), innerToken }`, where
/// TOK_ID and innerToken are raw bytes, not DER elements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GssToken<'a> {
    pub mech: Mech,
    pub tok_id: [u8; 2],
    /// The Kerberos message (AP-REQ, AP-REP or KRB-ERROR).
    pub inner: &'a [u8],
}

impl<'a> GssToken<'a> {
    /// Unwraps a framed token; bytes after the framing are refused.
    pub(crate) fn decode(bytes: &'a [u8]) -> Result<GssToken<'a>, DecodeError> {
        let mut reader = Reader::new(bytes);
        let outer = der::expect(&mut reader, der::application(0), "GSS-API InitialContextToken")?;
        reader.finish("GSS-API InitialContextToken")?;
        let mut inner = Reader::new(outer.value);
        let oid = der::expect(&mut inner, der::OID, "GSS-API thisMech")?;
        let mech = match oid.value {
            OID_KRB5 => Mech::Krb5,
            OID_MS_KRB5 => Mech::MsKrb5,
            OID_KRB5_U2U => Mech::Krb5U2u,
            other => return Err(DecodeError::invalid("GSS-API thisMech", format!("not Kerberos 5: {other:02x?}"))),
        };
        let tok_id = inner.array("GSS-API TOK_ID")?;
        Ok(GssToken { mech, tok_id, inner: inner.rest() })
    }

    /// Unwraps a token and checks its TOK_ID.
    #[cfg(test)]
    pub(crate) fn decode_expecting(bytes: &'a [u8], tok_id: [u8; 2]) -> Result<GssToken<'a>, DecodeError> {
        let token = GssToken::decode(bytes)?;
        if token.tok_id != tok_id {
            return Err(DecodeError::invalid(
                "GSS-API TOK_ID",
                format!("{:02x?}, expected {tok_id:02x?}", token.tok_id),
            ));
        }
        Ok(token)
    }
}

/// Frames a Kerberos message: what the acceptor sends back (AP-REP with [`tok_id::AP_REP`],
/// KRB-ERROR with [`tok_id::KRB_ERROR`]).
pub(crate) fn wrap(mech: Mech, tok_id: [u8; 2], inner: &[u8]) -> Vec<u8> {
    let mut value = der::encode(der::OID, mech.oid());
    value.extend_from_slice(&tok_id);
    value.extend_from_slice(inner);
    der::encode(der::application(0), &value)
}

/// The checksum type of RFC 4121 section 4.1.1: not a cryptographic checksum but the GSS flags
/// and channel bindings (the authenticator's encryption protects them).
pub(crate) const GSS_CHECKSUM_TYPE: i32 = 0x8003;

/// Flags of the RFC 4121 section 4.1.1.1 checksum (the GSS_C_*_FLAG values of RFC 2744).
#[allow(dead_code)] // the specification's whole table; not every value is read
pub(crate) mod gss_flags {
    pub(crate) const DELEG: u32 = 0x01;
    pub(crate) const MUTUAL: u32 = 0x02;
    pub(crate) const REPLAY: u32 = 0x04;
    pub(crate) const SEQUENCE: u32 = 0x08;
    pub(crate) const CONF: u32 = 0x10;
    pub(crate) const INTEG: u32 = 0x20;
    /// GSS_C_TRANS_FLAG (RFC 2744): MIT sets it; it means nothing on the wire.
    pub(crate) const TRANS: u32 = 0x100;
    /// MS-KILE 3.2.5.2 (RFC 4757 section 7.1): DCE-style three-leg exchange.
    pub(crate) const DCE_STYLE: u32 = 0x1000;
    /// MS-KILE 3.2.5.2: identify-level impersonation only.
    pub(crate) const IDENTIFY: u32 = 0x2000;
    /// MS-KILE 3.2.5.2: the client accepts KRB-ERROR with extended errors.
    pub(crate) const EXTENDED_ERROR: u32 = 0x4000;
}

/// RFC 4121 section 4.1.1 authenticator checksum, all integers little-endian:
/// `Lgth (4) = 16 | Bnd (16) | Flags (4) | [DlgOpt (2) = 1 | Dlgth (2) | Deleg] | [Exts]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GssChecksum {
    /// MD5 of the channel bindings (RFC 4121 section 4.1.1.2), zeros when there are none.
    pub bindings: [u8; 16],
    pub flags: u32,
    /// The KRB-CRED of a delegated TGT (present only with [`gss_flags::DELEG`]).
    pub delegation: Option<Vec<u8>>,
    /// What follows (RFC 6542 section 5 extensions), unparsed.
    pub extensions: Vec<u8>,
}

/// The delegation option code of RFC 4121 section 4.1.1 (KRB5_GSS_FOR_CREDS_OPTION).
const DELEGATION_OPTION: u16 = 1;

impl GssChecksum {
    pub(crate) fn decode(bytes: &[u8]) -> Result<GssChecksum, DecodeError> {
        let mut reader = Reader::new(bytes);
        let length = reader.u32("GSS checksum Lgth")?;
        if length != 16 {
            return Err(DecodeError::invalid("GSS checksum Lgth", format!("{length}, not 16")));
        }
        let bindings = reader.array("GSS checksum Bnd")?;
        let flags = reader.u32("GSS checksum Flags")?;
        // With DELEG set but nothing after the flags, no credentials follow: MIT's acceptor
        // reads them only if bytes remain, and clients that could not forward leave them out.
        let delegation = if flags & gss_flags::DELEG != 0 && !reader.is_empty() {
            let option = reader.u16("GSS checksum DlgOpt")?;
            if option != DELEGATION_OPTION {
                return Err(DecodeError::invalid("GSS checksum DlgOpt", format!("{option}, not 1")));
            }
            let length = reader.u16("GSS checksum Dlgth")?;
            Some(reader.take(usize::from(length), "GSS checksum Deleg")?.to_vec())
        } else {
            None
        };
        Ok(GssChecksum { bindings, flags, delegation, extensions: reader.rest().to_vec() })
    }

    /// Its bytes; fails if the delegated credentials exceed 65,535 bytes (Dlgth is 16 bits).
    #[cfg(test)]
    pub(crate) fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = 16_u32.to_le_bytes().to_vec();
        out.extend_from_slice(&self.bindings);
        out.extend_from_slice(&self.flags.to_le_bytes());
        if let Some(credentials) = &self.delegation {
            let length = u16::try_from(credentials.len()).map_err(|_| EncodeError::TooLong {
                what: "GSS checksum Deleg",
                length: credentials.len(),
                max: usize::from(u16::MAX),
            })?;
            out.extend_from_slice(&DELEGATION_OPTION.to_le_bytes());
            out.extend_from_slice(&length.to_le_bytes());
            out.extend_from_slice(credentials);
        }
        out.extend_from_slice(&self.extensions);
        Ok(out)
    }
}
