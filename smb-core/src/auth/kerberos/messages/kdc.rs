//! The messages of the one exchange EdgeShare makes with a KDC itself, and of the user-to-user
//! handshake that needs it: the AS exchange (RFC 4120 section 5.4) in which a service principal
//! gets a ticket-granting ticket with its own keytab key, and KERB-TGT-REQUEST / KERB-TGT-REPLY
//! (draft-ietf-cat-user2user section 6, MS-KILE 3.4.5.7), in which a client asks the service for
//! that TGT so that the KDC issues the service ticket under the TGT's session key.

use zeroize::Zeroizing;

use super::{
    EncodeError, EncryptedData, EncryptionKey, Fields, MessageError, PVNO, PrincipalName, Ticket, encode_application,
    encode_flags, encode_microseconds, encode_string, encode_time, expect_integer, field, flags, key_usage, msg_type,
    string, time, uint32,
};
use crate::auth::der::{self, application, context};
use crate::auth::kerberos::crypto::{CONFOUNDER_LEN, Enctype, Key};
use crate::auth::kerberos::keytab::Principal;
use crate::proto::{DecodeError, Reader};

/// RFC 4120 section 7.5.2 PA-DATA types.
pub(crate) mod pa_type {
    pub(crate) const ENC_TIMESTAMP: i32 = 2;
}

/// The request body's KDCOptions (RFC 4120 section 5.4.1): none. The TGT is neither forwarded
/// nor renewed; a fresh one is fetched before it ends.
const KDC_OPTIONS: u32 = 0;

/// What an AS-REQ asks for.
pub(crate) struct AsRequest<'a> {
    /// The service principal asking for its own TGT.
    pub client: &'a Principal,
    /// Its long-term key: the pre-authentication is made with it and the reply's enc-part comes
    /// back under it (only this key's enctype is offered). `None`: a request without
    /// pre-authentication offering every enctype, which a KDC answers with a KRB-ERROR that
    /// tells its time.
    pub key: Option<&'a Key>,
    /// Our clock (Unix seconds, microseconds) for PA-ENC-TIMESTAMP.
    pub now: (i64, u32),
    /// The end time asked for; the KDC may give less.
    pub till: i64,
    pub nonce: u32,
}

impl AsRequest<'_> {
    /// RFC 4120 section 5.4.1 `AS-REQ ::= [APPLICATION 10] KDC-REQ`: `KDC-REQ ::= SEQUENCE {
    /// pvno [1] INTEGER (5), msg-type [2] INTEGER (10), padata [3] SEQUENCE OF PA-DATA, req-body
    /// [4] KDC-REQ-BODY }`, pre-authenticated with PA-ENC-TIMESTAMP (section 5.2.7.2), which
    /// every KDC accepts and Active Directory requires.
    pub(crate) fn encode(&self, confounder: &[u8; CONFOUNDER_LEN]) -> Result<Vec<u8>, EncodeError> {
        let (seconds, micros) = self.now;
        let pa_data = match self.key {
            Some(key) => {
                let mut timestamp = field(0, &encode_time(seconds));
                timestamp.extend(field(1, &encode_microseconds(micros, "PA-ENC-TS-ENC pausec")?));
                let timestamp = Zeroizing::new(der::encode(der::SEQUENCE, &timestamp));
                let sealed = EncryptedData::seal(key, key_usage::PA_ENC_TIMESTAMP, &timestamp, confounder);
                let mut pa_data = field(1, &der::encode_integer(pa_type::ENC_TIMESTAMP.into()));
                pa_data.extend(field(2, &der::encode(der::OCTET_STRING, &sealed.encode())));
                der::encode(der::SEQUENCE, &pa_data)
            }
            None => Vec::new(),
        };

        let krbtgt = PrincipalName {
            name_type: 2, // NT-SRV-INST
            components: vec!["krbtgt".to_owned(), self.client.realm.clone()],
        };
        let mut body = field(0, &encode_flags(KDC_OPTIONS));
        body.extend(field(1, &PrincipalName::from(self.client).encode()));
        body.extend(field(2, &encode_string(&self.client.realm)));
        body.extend(field(3, &krbtgt.encode()));
        body.extend(field(5, &encode_time(self.till)));
        body.extend(field(7, &der::encode_integer(self.nonce.into())));
        let etypes: Vec<u8> = match self.key {
            Some(key) => der::encode_integer(key.enctype().number().into()),
            None => Enctype::ALL.iter().flat_map(|enctype| der::encode_integer(enctype.number().into())).collect(),
        };
        body.extend(field(8, &der::encode(der::SEQUENCE, &etypes)));

        let mut sequence = field(1, &der::encode_integer(PVNO));
        sequence.extend(field(2, &der::encode_integer(msg_type::AS_REQ)));
        if !pa_data.is_empty() {
            sequence.extend(field(3, &der::encode(der::SEQUENCE, &pa_data)));
        }
        sequence.extend(field(4, &der::encode(der::SEQUENCE, &body)));
        encode_application(10, &sequence, "AS-REQ")
    }
}

/// RFC 4120 section 5.4.2 `AS-REP ::= [APPLICATION 11] KDC-REP`, with its enc-part decrypted.
pub(crate) struct AsReply {
    /// The TGT as the KDC sent it (`[APPLICATION 1] Ticket`), handed on unchanged.
    pub ticket: Vec<u8>,
    /// The TGT's session key.
    pub session_key: Key,
    pub authtime: i64,
    pub endtime: i64,
}

impl AsReply {
    /// Reads an AS-REP for `client` and decrypts its enc-part with `key`; the nonce must be
    /// the request's (RFC 4120 section 3.1.5) and the client the one that asked.
    pub(crate) fn decode(bytes: &[u8], client: &Principal, key: &Key, nonce: u32) -> Result<AsReply, MessageError> {
        let mut fields = Fields::application(bytes, 11, "AS-REP")?;
        expect_integer(&fields.required(0, "AS-REP pvno")?, PVNO, "AS-REP pvno")?;
        expect_integer(&fields.required(1, "AS-REP msg-type")?, msg_type::AS_REP, "AS-REP msg-type")?;
        fields.optional(2, "AS-REP padata")?;
        let crealm = string(&fields.required(3, "AS-REP crealm")?, "AS-REP crealm")?;
        let cname = PrincipalName::decode(&fields.required(4, "AS-REP cname")?, "AS-REP cname")?;
        let ticket = fields.required(5, "AS-REP ticket")?.raw;
        let enc_part = EncryptedData::decode(&fields.required(6, "AS-REP enc-part")?, "AS-REP enc-part")?;
        fields.finish()?;
        if !cname.with_realm(&crealm).same_name(client) {
            return Err(DecodeError::invalid("AS-REP cname", "not the client that asked").into());
        }
        Ticket::decode(ticket)?;
        let plaintext = enc_part.decrypt(key, key_usage::AS_REP_ENC_PART, "AS-REP enc-part")?;
        let part = EncKdcRepPart::decode(&plaintext)?;
        if part.nonce != nonce {
            return Err(DecodeError::invalid("EncASRepPart nonce", "not the request's").into());
        }
        Ok(AsReply {
            ticket: ticket.to_vec(),
            session_key: part.key.key()?,
            authtime: part.authtime,
            endtime: part.endtime,
        })
    }
}

/// RFC 4120 section 5.4.2 EncKDCRepPart, the fields a TGT's holder needs.
struct EncKdcRepPart {
    key: EncryptionKey,
    nonce: u32,
    authtime: i64,
    endtime: i64,
}

impl EncKdcRepPart {
    /// `EncASRepPart ::= [APPLICATION 25]`, or `[APPLICATION 26]` (EncTGSRepPart), which some
    /// KDCs send in AS-REPs too and RFC 4120 section 5.4.2 tells clients to accept.
    fn decode(bytes: &[u8]) -> Result<EncKdcRepPart, DecodeError> {
        let tag = Reader::new(bytes).array::<1>("EncASRepPart").map(|[tag]| tag)?;
        let n = if tag == application(26) { 26 } else { 25 };
        let mut fields = Fields::application(bytes, n, "EncASRepPart")?;
        let key = EncryptionKey::decode(&fields.required(0, "EncASRepPart key")?, "EncASRepPart key")?;
        fields.required(1, "EncASRepPart last-req")?;
        let nonce = uint32(&fields.required(2, "EncASRepPart nonce")?, "EncASRepPart nonce")?;
        fields.optional(3, "EncASRepPart key-expiration")?;
        flags(&fields.required(4, "EncASRepPart flags")?, "EncASRepPart flags")?;
        let authtime = time(&fields.required(5, "EncASRepPart authtime")?, "EncASRepPart authtime")?;
        fields.optional(6, "EncASRepPart starttime")?;
        let endtime = time(&fields.required(7, "EncASRepPart endtime")?, "EncASRepPart endtime")?;
        fields.optional(8, "EncASRepPart renew-till")?;
        string(&fields.required(9, "EncASRepPart srealm")?, "EncASRepPart srealm")?;
        PrincipalName::decode(&fields.required(10, "EncASRepPart sname")?, "EncASRepPart sname")?;
        fields.optional(11, "EncASRepPart caddr")?;
        fields.optional(12, "EncASRepPart encrypted-pa-data")?;
        fields.finish()?;
        Ok(EncKdcRepPart { key, nonce, authtime, endtime })
    }
}

/// `KERB-TGT-REQUEST ::= SEQUENCE { pvno [0] INTEGER, msg-type [1] INTEGER (16), server-name
/// [2] PrincipalName OPTIONAL, realm [3] Realm OPTIONAL }`: a client asking for our TGT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TgtRequest {
    pub server_name: Option<PrincipalName>,
    pub realm: Option<String>,
}

impl TgtRequest {
    pub(crate) fn decode(bytes: &[u8]) -> Result<TgtRequest, DecodeError> {
        let mut reader = Reader::new(bytes);
        let sequence = der::expect(&mut reader, der::SEQUENCE, "KERB-TGT-REQUEST")?;
        reader.finish("KERB-TGT-REQUEST")?;
        let mut fields = Fields::sequence(&sequence, "KERB-TGT-REQUEST")?;
        expect_integer(&fields.required(0, "KERB-TGT-REQUEST pvno")?, PVNO, "KERB-TGT-REQUEST pvno")?;
        let kind = fields.required(1, "KERB-TGT-REQUEST msg-type")?;
        expect_integer(&kind, msg_type::TGT_REQ, "KERB-TGT-REQUEST msg-type")?;
        let server_name = fields
            .optional(2, "KERB-TGT-REQUEST server-name")?
            .map(|tlv| PrincipalName::decode(&tlv, "KERB-TGT-REQUEST server-name"))
            .transpose()?;
        let realm = fields
            .optional(3, "KERB-TGT-REQUEST realm")?
            .map(|tlv| string(&tlv, "KERB-TGT-REQUEST realm"))
            .transpose()?;
        fields.finish()?;
        Ok(TgtRequest { server_name, realm })
    }

    #[cfg(test)]
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut sequence = field(0, &der::encode_integer(PVNO));
        sequence.extend(field(1, &der::encode_integer(msg_type::TGT_REQ)));
        if let Some(name) = &self.server_name {
            sequence.extend(field(2, &name.encode()));
        }
        if let Some(realm) = &self.realm {
            sequence.extend(field(3, &encode_string(realm)));
        }
        der::encode(der::SEQUENCE, &sequence)
    }
}

/// `KERB-TGT-REPLY ::= SEQUENCE { pvno [0] INTEGER, msg-type [1] INTEGER (17), ticket [2]
/// Ticket }`, carrying the TGT exactly as the KDC issued it.
pub(crate) fn encode_tgt_reply(ticket: &[u8]) -> Vec<u8> {
    let mut sequence = field(0, &der::encode_integer(PVNO));
    sequence.extend(field(1, &der::encode_integer(msg_type::TGT_REP)));
    sequence.extend(der::encode(context(2), ticket));
    der::encode(der::SEQUENCE, &sequence)
}

#[cfg(test)]
mod tests;
