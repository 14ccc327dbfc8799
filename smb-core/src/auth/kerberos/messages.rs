//! The RFC 4120 section 5 messages a Kerberos acceptor reads and writes: AP-REQ with its Ticket
//! and Authenticator, AP-REP, KRB-ERROR ([`error`]), KerberosTime ([`time`]) and the GSS-API
//! framing around them ([`gss`]).
//!
//! Decoding is strict: every element's tag is checked, context tags must come in order, the
//! protocol version must be 5 and the message type must match, and nothing may trail a
//! structure. All of it reads through [`der`] and the bounds-checked [`Reader`], so any input
//! gives a value or an error, never a panic. Encoders write DER (definite lengths, the fields
//! in tag order, integers in their shortest form, optional fields left out when `None`) and are
//! total too: a value the wire cannot carry is an [`EncodeError`] (microseconds past 999,999,
//! elements past der.rs's three length bytes), except times, which are clamped to the years
//! 0000 to 9999 of KerberosTime ([`time::encode_kerberos_time`]). They write what they are
//! given even where the decoder would refuse it (an empty PrincipalName, a wrong enctype), so
//! that tests can build the requests an acceptor must refuse.

use std::fmt;

use zeroize::Zeroizing;

use super::crypto::{self, CONFOUNDER_LEN, CryptoError, Enctype, Key};
use super::keytab::{MAX_COMPONENTS, Principal};
use crate::auth::der::{self, Tlv, application, context};
use crate::proto::{DecodeError, Reader};

#[cfg(test)]
mod encoder_tests;
pub(crate) mod error;
pub(crate) mod gss;
pub(crate) mod kdc;
#[cfg(test)]
mod tests;
pub(crate) mod time;

use gss::{GSS_CHECKSUM_TYPE, GssChecksum};
#[cfg(test)]
use gss::{GssToken, Mech, tok_id, wrap};
use time::{decode_kerberos_time, encode_kerberos_time};

/// RFC 4120 section 5.5.1 `pvno` and `tkt-vno`, section 5.5.1 `authenticator-vno`.
pub(crate) const PVNO: i64 = 5;

/// RFC 4120 section 7.5.7 message types.
pub(crate) mod msg_type {
    pub(crate) const AS_REQ: i64 = 10;
    pub(crate) const AS_REP: i64 = 11;
    pub(crate) const AP_REQ: i64 = 14;
    pub(crate) const AP_REP: i64 = 15;
    pub(crate) const KRB_ERROR: i64 = 30;
    /// KERB-TGT-REQUEST and KERB-TGT-REPLY (draft-ietf-cat-user2user section 6, MS-KILE 2.2.x).
    pub(crate) const TGT_REQ: i64 = 16;
    pub(crate) const TGT_REP: i64 = 17;
}

/// RFC 4120 section 7.5.1 key usages of the AP exchange.
pub(crate) mod key_usage {
    /// PA-ENC-TIMESTAMP of an AS-REQ, under the client's long-term key.
    pub(crate) const PA_ENC_TIMESTAMP: u32 = 1;
    /// The EncASRepPart of an AS-REP, under the client's long-term key.
    pub(crate) const AS_REP_ENC_PART: u32 = 3;
    /// The ticket's EncTicketPart, under the service's long-term key.
    pub(crate) const TICKET: u32 = 2;
    /// The authenticator of an AP-REQ, under the session key.
    pub(crate) const AP_REQ_AUTHENTICATOR: u32 = 11;
    /// The EncAPRepPart of an AP-REP, under the session key.
    pub(crate) const AP_REP_ENC_PART: u32 = 12;
}

/// RFC 4120 section 7.5.4 authorization data types (and MS-PAC's).
pub(crate) mod ad_type {
    /// AD-IF-RELEVANT (RFC 4120 section 5.2.6.1): nested AuthorizationData.
    pub(crate) const IF_RELEVANT: i32 = 1;
    /// AD-WIN2K-PAC (RFC 4120 section 7.5.4, MS-PAC 2.1): the Privilege Attribute Certificate.
    pub(crate) const WIN2K_PAC: i32 = 128;
}

/// RFC 4120 section 5.5.1 APOptions, as the bits of a 32-bit KerberosFlags (bit 0 is the most
/// significant).
pub(crate) mod ap_options {
    pub(crate) const USE_SESSION_KEY: u32 = 0x4000_0000;
    pub(crate) const MUTUAL_REQUIRED: u32 = 0x2000_0000;
}

/// RFC 4120 section 5.3 TicketFlags, as the bits of a 32-bit KerberosFlags.
#[allow(dead_code)] // the specification's whole table; not every value is read
pub(crate) mod ticket_flags {
    pub(crate) const FORWARDABLE: u32 = 0x4000_0000;
    pub(crate) const FORWARDED: u32 = 0x2000_0000;
    pub(crate) const PROXIABLE: u32 = 0x1000_0000;
    pub(crate) const PROXY: u32 = 0x0800_0000;
    pub(crate) const MAY_POSTDATE: u32 = 0x0400_0000;
    pub(crate) const POSTDATED: u32 = 0x0200_0000;
    pub(crate) const INVALID: u32 = 0x0100_0000;
    pub(crate) const RENEWABLE: u32 = 0x0080_0000;
    pub(crate) const INITIAL: u32 = 0x0040_0000;
    pub(crate) const PRE_AUTHENT: u32 = 0x0020_0000;
    pub(crate) const HW_AUTHENT: u32 = 0x0010_0000;
    pub(crate) const TRANSITED_POLICY_CHECKED: u32 = 0x0008_0000;
    pub(crate) const OK_AS_DELEGATE: u32 = 0x0004_0000;
}

/// Why a message could not be decoded or decrypted. The acceptor maps each to a KRB-ERROR code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum MessageError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A wrong key, a wrong usage or altered ciphertext (KRB_AP_ERR_BAD_INTEGRITY).
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The data names an enctype other than the key's, or one EdgeShare does not support.
    #[error("{what} uses enctype {etype}, the key is {key}")]
    Enctype { what: &'static str, etype: i32, key: String },
}

/// Why a message could not be encoded: its fields hold a value its encoding cannot carry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum EncodeError {
    /// Microseconds (RFC 4120 section 5.2.4) are 0 to 999,999.
    #[error("{what}: {value} microseconds, more than 999,999")]
    Microseconds { what: &'static str, value: u32 },
    #[error("{what}: {length} bytes, more than {max}")]
    TooLong { what: &'static str, length: usize, max: usize },
}

/// The longest value [`der::encode`] writes a true length for (three length bytes); past it the
/// length would wrap.
pub(crate) const MAX_DER_VALUE: usize = 0xFF_FFFF;

fn check_length(length: usize, max: usize, what: &'static str) -> Result<(), EncodeError> {
    if length > max {
        return Err(EncodeError::TooLong { what, length, max });
    }
    Ok(())
}

/// `[APPLICATION n] SEQUENCE { fields }`, the outermost element of a message. An inner element
/// too long for its length bytes is still written whole, which makes every element around it
/// longer still; checking the outermost one therefore covers the whole message.
fn encode_application(n: u8, fields: &[u8], what: &'static str) -> Result<Vec<u8>, EncodeError> {
    let sequence = der::encode(der::SEQUENCE, fields);
    check_length(sequence.len(), MAX_DER_VALUE, what)?;
    Ok(der::encode(application(n), &sequence))
}

/// Microseconds, refused past 999,999 rather than clamped: a clamped cusec would no longer
/// match the authenticator it echoes or identifies.
fn encode_microseconds(value: u32, what: &'static str) -> Result<Vec<u8>, EncodeError> {
    if value > 999_999 {
        return Err(EncodeError::Microseconds { what, value });
    }
    Ok(der::encode_integer(value.into()))
}

/// The fields of one SEQUENCE, read in tag order: `[n]` EXPLICIT context tags, each wrapping
/// exactly one element.
struct Fields<'a> {
    reader: Reader<'a>,
    what: &'static str,
}

impl<'a> Fields<'a> {
    /// The fields of `[APPLICATION n] SEQUENCE`, which must be all of `bytes`.
    fn application(bytes: &'a [u8], n: u8, what: &'static str) -> Result<Fields<'a>, DecodeError> {
        let mut reader = Reader::new(bytes);
        let outer = der::expect(&mut reader, application(n), what)?;
        reader.finish(what)?;
        let mut inner = Reader::new(outer.value);
        let sequence = der::expect(&mut inner, der::SEQUENCE, what)?;
        inner.finish(what)?;
        Ok(Fields { reader: Reader::new(sequence.value), what })
    }

    fn sequence(tlv: &Tlv<'a>, what: &'static str) -> Result<Fields<'a>, DecodeError> {
        if tlv.tag != der::SEQUENCE {
            return Err(DecodeError::invalid(what, format!("tag {:#04x}, expected a SEQUENCE", tlv.tag)));
        }
        Ok(Fields { reader: Reader::new(tlv.value), what })
    }

    fn optional(&mut self, n: u8, what: &'static str) -> Result<Option<Tlv<'a>>, DecodeError> {
        if der::peek_tag(&self.reader) != Some(context(n)) {
            return Ok(None);
        }
        let field = der::read(&mut self.reader)?;
        let mut inner = Reader::new(field.value);
        let value = der::read(&mut inner)?;
        inner.finish(what)?;
        Ok(Some(value))
    }

    fn required(&mut self, n: u8, what: &'static str) -> Result<Tlv<'a>, DecodeError> {
        self.optional(n, what)?.ok_or_else(|| DecodeError::invalid(what, "missing"))
    }

    /// Fails on anything left: an unknown field or one out of order.
    fn finish(self) -> Result<(), DecodeError> {
        match der::peek_tag(&self.reader) {
            None => Ok(()),
            Some(tag) => Err(DecodeError::invalid(self.what, format!("unexpected field with tag {tag:#04x}"))),
        }
    }
}

fn expect_tag(tlv: &Tlv<'_>, tag: u8, what: &'static str) -> Result<(), DecodeError> {
    if tlv.tag != tag {
        return Err(DecodeError::invalid(what, format!("tag {:#04x}, expected {tag:#04x}", tlv.tag)));
    }
    Ok(())
}

fn int32(tlv: &Tlv<'_>, what: &'static str) -> Result<i32, DecodeError> {
    let value = der::integer(tlv, what)?;
    i32::try_from(value).map_err(|_| DecodeError::invalid(what, format!("{value} is not an Int32")))
}

/// UInt32 (RFC 4120 section 5.2.4). Negative values down to -2^31 are read as their 32-bit
/// two's complement: old Windows and Heimdal sent kvnos and sequence numbers as signed
/// integers, and MIT accepts them likewise.
fn uint32(tlv: &Tlv<'_>, what: &'static str) -> Result<u32, DecodeError> {
    let value = der::integer(tlv, what)?;
    if let Ok(unsigned) = u32::try_from(value) {
        return Ok(unsigned);
    }
    i32::try_from(value)
        .map(|signed| signed as u32)
        .map_err(|_| DecodeError::invalid(what, format!("{value} is not a UInt32")))
}

/// Microseconds (RFC 4120 section 5.2.4): 0 to 999,999.
fn microseconds(tlv: &Tlv<'_>, what: &'static str) -> Result<u32, DecodeError> {
    let value = der::integer(tlv, what)?;
    match u32::try_from(value) {
        Ok(micros) if micros <= 999_999 => Ok(micros),
        _ => Err(DecodeError::invalid(what, format!("{value} microseconds"))),
    }
}

fn expect_integer(tlv: &Tlv<'_>, expected: i64, what: &'static str) -> Result<(), DecodeError> {
    let value = der::integer(tlv, what)?;
    if value != expected {
        return Err(DecodeError::invalid(what, format!("{value}, expected {expected}")));
    }
    Ok(())
}

fn octets<'a>(tlv: &Tlv<'a>, what: &'static str) -> Result<&'a [u8], DecodeError> {
    expect_tag(tlv, der::OCTET_STRING, what)?;
    Ok(tlv.value)
}

/// KerberosString (RFC 4120 section 5.2.1): a GeneralString, read as UTF-8 as Windows writes it.
fn string(tlv: &Tlv<'_>, what: &'static str) -> Result<String, DecodeError> {
    expect_tag(tlv, der::GENERAL_STRING, what)?;
    String::from_utf8(tlv.value.to_vec()).map_err(|_| DecodeError::invalid(what, "not UTF-8"))
}

fn time(tlv: &Tlv<'_>, what: &'static str) -> Result<i64, DecodeError> {
    expect_tag(tlv, der::GENERALIZED_TIME, what)?;
    decode_kerberos_time(tlv.value)
}

/// KerberosFlags (RFC 4120 section 5.2.8): bit 0 is the most significant bit of the `u32`.
/// Shorter strings are zero-extended and bits past 31 ignored, as MIT reads them.
fn flags(tlv: &Tlv<'_>, what: &'static str) -> Result<u32, DecodeError> {
    let bits = der::bit_string(tlv, what)?;
    let mut bytes = [0; 4];
    for (byte, bit) in bytes.iter_mut().zip(bits) {
        *byte = *bit;
    }
    Ok(u32::from_be_bytes(bytes))
}

fn encode_flags(flags: u32) -> Vec<u8> {
    der::encode_bit_string(&flags.to_be_bytes())
}

fn field(n: u8, value: &[u8]) -> Vec<u8> {
    der::encode(context(n), value)
}

fn encode_string(text: &str) -> Vec<u8> {
    der::encode(der::GENERAL_STRING, text.as_bytes())
}

fn encode_time(unix: i64) -> Vec<u8> {
    der::encode(der::GENERALIZED_TIME, &encode_kerberos_time(unix))
}

/// RFC 4120 section 5.2.2 PrincipalName (the realm travels beside it in each message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PrincipalName {
    pub name_type: i32,
    pub components: Vec<String>,
}

impl PrincipalName {
    fn decode(tlv: &Tlv<'_>, what: &'static str) -> Result<PrincipalName, DecodeError> {
        let mut fields = Fields::sequence(tlv, what)?;
        let name_type = int32(&fields.required(0, "PrincipalName name-type")?, "PrincipalName name-type")?;
        let list = fields.required(1, "PrincipalName name-string")?;
        fields.finish()?;
        expect_tag(&list, der::SEQUENCE, "PrincipalName name-string")?;
        let mut reader = Reader::new(list.value);
        let mut components = Vec::new();
        while !reader.is_empty() {
            if components.len() == MAX_COMPONENTS {
                return Err(DecodeError::invalid(what, format!("more than {MAX_COMPONENTS} components")));
            }
            components.push(string(&der::read(&mut reader)?, "PrincipalName component")?);
        }
        if components.is_empty() {
            return Err(DecodeError::invalid(what, "no components"));
        }
        Ok(PrincipalName { name_type, components })
    }

    fn encode(&self) -> Vec<u8> {
        let list: Vec<u8> = self.components.iter().flat_map(|component| encode_string(component)).collect();
        let mut sequence = field(0, &der::encode_integer(self.name_type.into()));
        sequence.extend(field(1, &der::encode(der::SEQUENCE, &list)));
        der::encode(der::SEQUENCE, &sequence)
    }

    /// The full principal, as the keytab names it.
    pub(crate) fn with_realm(&self, realm: &str) -> Principal {
        Principal { realm: realm.to_owned(), components: self.components.clone(), name_type: self.name_type }
    }
}

impl From<&Principal> for PrincipalName {
    fn from(principal: &Principal) -> PrincipalName {
        PrincipalName { name_type: principal.name_type, components: principal.components.clone() }
    }
}

/// RFC 4120 section 5.2.9 EncryptedData.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EncryptedData {
    pub etype: i32,
    pub kvno: Option<u32>,
    pub cipher: Vec<u8>,
}

impl EncryptedData {
    fn decode(tlv: &Tlv<'_>, what: &'static str) -> Result<EncryptedData, DecodeError> {
        let mut fields = Fields::sequence(tlv, what)?;
        let etype = int32(&fields.required(0, "EncryptedData etype")?, "EncryptedData etype")?;
        let kvno =
            fields.optional(1, "EncryptedData kvno")?.map(|kvno| uint32(&kvno, "EncryptedData kvno")).transpose()?;
        let cipher = octets(&fields.required(2, "EncryptedData cipher")?, "EncryptedData cipher")?.to_vec();
        fields.finish()?;
        Ok(EncryptedData { etype, kvno, cipher })
    }

    fn encode(&self) -> Vec<u8> {
        let mut sequence = field(0, &der::encode_integer(self.etype.into()));
        if let Some(kvno) = self.kvno {
            sequence.extend(field(1, &der::encode_integer(kvno.into())));
        }
        sequence.extend(field(2, &der::encode(der::OCTET_STRING, &self.cipher)));
        der::encode(der::SEQUENCE, &sequence)
    }

    /// The enctype named by `etype`, if supported.
    pub(crate) fn enctype(&self) -> Option<Enctype> {
        Enctype::from_number(self.etype)
    }

    /// Decrypts with `key`, which must be of the data's enctype.
    pub(crate) fn decrypt(
        &self,
        key: &Key,
        usage: u32,
        what: &'static str,
    ) -> Result<Zeroizing<Vec<u8>>, MessageError> {
        if self.etype != key.enctype().number() {
            return Err(MessageError::Enctype { what, etype: self.etype, key: key.enctype().to_string() });
        }
        Ok(crypto::decrypt(key, usage, &self.cipher)?)
    }

    /// Encrypts `plaintext` under `key` (no kvno: session-key data carries none).
    pub(crate) fn seal(key: &Key, usage: u32, plaintext: &[u8], confounder: &[u8; CONFOUNDER_LEN]) -> EncryptedData {
        EncryptedData {
            etype: key.enctype().number(),
            kvno: None,
            cipher: crypto::encrypt(key, usage, plaintext, confounder),
        }
    }
}

/// RFC 4120 section 5.2.9 EncryptionKey: a session key or subkey as sent, of any keytype.
/// Its `Debug` never shows the key bytes.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct EncryptionKey {
    pub keytype: i32,
    pub keyvalue: Zeroizing<Vec<u8>>,
}

impl EncryptionKey {
    fn decode(tlv: &Tlv<'_>, what: &'static str) -> Result<EncryptionKey, DecodeError> {
        let mut fields = Fields::sequence(tlv, what)?;
        let keytype = int32(&fields.required(0, "EncryptionKey keytype")?, "EncryptionKey keytype")?;
        let keyvalue = octets(&fields.required(1, "EncryptionKey keyvalue")?, "EncryptionKey keyvalue")?;
        fields.finish()?;
        Ok(EncryptionKey { keytype, keyvalue: Zeroizing::new(keyvalue.to_vec()) })
    }

    fn encode(&self) -> Vec<u8> {
        let mut sequence = field(0, &der::encode_integer(self.keytype.into()));
        sequence.extend(field(1, &der::encode(der::OCTET_STRING, &self.keyvalue)));
        der::encode(der::SEQUENCE, &sequence)
    }

    pub(crate) fn from_key(key: &Key) -> EncryptionKey {
        EncryptionKey { keytype: key.enctype().number(), keyvalue: Zeroizing::new(key.bytes().to_vec()) }
    }

    /// The key for the crypto layer: fails for unsupported keytypes and wrong lengths.
    pub(crate) fn key(&self) -> Result<Key, MessageError> {
        let enctype = Enctype::from_number(self.keytype).ok_or_else(|| MessageError::Enctype {
            what: "EncryptionKey",
            etype: self.keytype,
            key: "unsupported".to_owned(),
        })?;
        Ok(Key::new(enctype, &self.keyvalue)?)
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptionKey")
            .field("keytype", &self.keytype)
            .field("keyvalue", &format_args!("<{} bytes redacted>", self.keyvalue.len()))
            .finish()
    }
}

/// RFC 4120 section 5.2.9 Checksum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Checksum {
    pub cksumtype: i32,
    pub checksum: Vec<u8>,
}

impl Checksum {
    fn decode(tlv: &Tlv<'_>, what: &'static str) -> Result<Checksum, DecodeError> {
        let mut fields = Fields::sequence(tlv, what)?;
        let cksumtype = int32(&fields.required(0, "Checksum cksumtype")?, "Checksum cksumtype")?;
        let checksum = octets(&fields.required(1, "Checksum checksum")?, "Checksum checksum")?.to_vec();
        fields.finish()?;
        Ok(Checksum { cksumtype, checksum })
    }

    #[cfg(test)]
    fn encode(&self) -> Vec<u8> {
        let mut sequence = field(0, &der::encode_integer(self.cksumtype.into()));
        sequence.extend(field(1, &der::encode(der::OCTET_STRING, &self.checksum)));
        der::encode(der::SEQUENCE, &sequence)
    }
}

/// One entry of RFC 4120 section 5.2.6 AuthorizationData, kept raw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AuthorizationDataEntry {
    pub ad_type: i32,
    pub ad_data: Vec<u8>,
}

/// AuthorizationData (`SEQUENCE OF SEQUENCE { ad-type [0] Int32, ad-data [1] OCTET STRING }`)
/// borrowing from `tlv`.
fn authorization_data<'a>(tlv: &Tlv<'a>, what: &'static str) -> Result<Vec<(i32, &'a [u8])>, DecodeError> {
    expect_tag(tlv, der::SEQUENCE, what)?;
    let mut reader = Reader::new(tlv.value);
    let mut entries = Vec::new();
    while !reader.is_empty() {
        let mut fields = Fields::sequence(&der::read(&mut reader)?, what)?;
        let ad_type = int32(&fields.required(0, "AuthorizationData ad-type")?, "AuthorizationData ad-type")?;
        let ad_data = octets(&fields.required(1, "AuthorizationData ad-data")?, "AuthorizationData ad-data")?;
        fields.finish()?;
        entries.push((ad_type, ad_data));
    }
    Ok(entries)
}

#[cfg(test)]
pub(crate) fn encode_authorization_data(entries: &[AuthorizationDataEntry]) -> Vec<u8> {
    let list: Vec<u8> = entries.iter().flat_map(|entry| typed_octets(entry.ad_type, &entry.ad_data)).collect();
    der::encode(der::SEQUENCE, &list)
}

/// `SEQUENCE { [0] Int32, [1] OCTET STRING }`: an AuthorizationData entry, a HostAddress, a
/// TransitedEncoding.
#[cfg(test)]
fn typed_octets(kind: i32, bytes: &[u8]) -> Vec<u8> {
    let mut sequence = field(0, &der::encode_integer(kind.into()));
    sequence.extend(field(1, &der::encode(der::OCTET_STRING, bytes)));
    der::encode(der::SEQUENCE, &sequence)
}

fn owned_authorization_data(tlv: &Tlv<'_>, what: &'static str) -> Result<Vec<AuthorizationDataEntry>, DecodeError> {
    Ok(authorization_data(tlv, what)?
        .into_iter()
        .map(|(ad_type, ad_data)| AuthorizationDataEntry { ad_type, ad_data: ad_data.to_vec() })
        .collect())
}

/// The PAC of a ticket: the ad-data of the AD-WIN2K-PAC inside an AD-IF-RELEVANT (RFC 4120
/// section 5.2.6.1, MS-PAC 2.1, MS-KILE 3.3.5.6.3). `None` without one; more than one is refused
/// (a second PAC could only be there to confuse the reader of the first).
pub(crate) fn find_pac(entries: &[AuthorizationDataEntry]) -> Result<Option<&[u8]>, DecodeError> {
    let mut pac = None;
    for entry in entries.iter().filter(|entry| entry.ad_type == ad_type::IF_RELEVANT) {
        let mut reader = Reader::new(&entry.ad_data);
        let tlv = der::read(&mut reader)?;
        reader.finish("AD-IF-RELEVANT")?;
        for (ad_type, ad_data) in authorization_data(&tlv, "AD-IF-RELEVANT")? {
            if ad_type == ad_type::WIN2K_PAC {
                if pac.is_some() {
                    return Err(DecodeError::invalid("AD-WIN2K-PAC", "more than one PAC"));
                }
                pac = Some(ad_data);
            }
        }
    }
    Ok(pac)
}

/// RFC 4120 section 5.3 Ticket: `[APPLICATION 1] SEQUENCE { tkt-vno [0] INTEGER (5), realm [1],
/// sname [2] PrincipalName, enc-part [3] EncryptedData }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ticket {
    pub realm: String,
    pub sname: PrincipalName,
    /// EncTicketPart under the service's key (usage 2).
    pub enc_part: EncryptedData,
}

impl Ticket {
    fn decode(bytes: &[u8]) -> Result<Ticket, DecodeError> {
        let mut fields = Fields::application(bytes, 1, "Ticket")?;
        expect_integer(&fields.required(0, "Ticket tkt-vno")?, PVNO, "Ticket tkt-vno")?;
        let realm = string(&fields.required(1, "Ticket realm")?, "Ticket realm")?;
        let sname = PrincipalName::decode(&fields.required(2, "Ticket sname")?, "Ticket sname")?;
        let enc_part = EncryptedData::decode(&fields.required(3, "Ticket enc-part")?, "Ticket enc-part")?;
        fields.finish()?;
        Ok(Ticket { realm, sname, enc_part })
    }

    #[cfg(test)]
    pub(crate) fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut sequence = field(0, &der::encode_integer(PVNO));
        sequence.extend(field(1, &encode_string(&self.realm)));
        sequence.extend(field(2, &self.sname.encode()));
        sequence.extend(field(3, &self.enc_part.encode()));
        encode_application(1, &sequence, "Ticket")
    }

    /// A ticket for `server` holding `part` under the service's key (usage 2), as a KDC issues
    /// it; `kvno` is the key's version as the keytab lists it.
    #[cfg(test)]
    pub(crate) fn seal(
        server: &Principal,
        part: &EncTicketPart,
        service_key: &Key,
        kvno: Option<u32>,
        confounder: &[u8; CONFOUNDER_LEN],
    ) -> Result<Ticket, EncodeError> {
        let plaintext = Zeroizing::new(part.encode()?);
        let mut enc_part = EncryptedData::seal(service_key, key_usage::TICKET, &plaintext, confounder);
        enc_part.kvno = kvno;
        Ok(Ticket { realm: server.realm.clone(), sname: server.into(), enc_part })
    }

    /// The service principal the ticket is for: whose keytab key decrypts it.
    pub(crate) fn server(&self) -> Principal {
        self.sname.with_realm(&self.realm)
    }

    /// Decrypts and decodes the EncTicketPart with the service's key.
    pub(crate) fn decrypt(&self, service_key: &Key) -> Result<EncTicketPart, MessageError> {
        let plaintext = self.enc_part.decrypt(service_key, key_usage::TICKET, "Ticket enc-part")?;
        Ok(EncTicketPart::decode(&plaintext)?)
    }
}

/// RFC 4120 section 5.3 TransitedEncoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TransitedEncoding {
    pub tr_type: i32,
    pub contents: Vec<u8>,
}

/// RFC 4120 section 5.2.5 HostAddress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HostAddress {
    pub addr_type: i32,
    pub address: Vec<u8>,
}

/// RFC 4120 section 5.3 EncTicketPart (`[APPLICATION 3]`), what the ticket's enc-part holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EncTicketPart {
    /// [`ticket_flags`].
    pub flags: u32,
    /// The session key.
    pub key: EncryptionKey,
    pub crealm: String,
    pub cname: PrincipalName,
    pub transited: TransitedEncoding,
    pub authtime: i64,
    pub starttime: Option<i64>,
    pub endtime: i64,
    pub renew_till: Option<i64>,
    pub caddr: Option<Vec<HostAddress>>,
    pub authorization_data: Option<Vec<AuthorizationDataEntry>>,
}

impl EncTicketPart {
    pub(crate) fn decode(bytes: &[u8]) -> Result<EncTicketPart, DecodeError> {
        let mut fields = Fields::application(bytes, 3, "EncTicketPart")?;
        let flags = flags(&fields.required(0, "EncTicketPart flags")?, "EncTicketPart flags")?;
        let key = EncryptionKey::decode(&fields.required(1, "EncTicketPart key")?, "EncTicketPart key")?;
        let crealm = string(&fields.required(2, "EncTicketPart crealm")?, "EncTicketPart crealm")?;
        let cname = PrincipalName::decode(&fields.required(3, "EncTicketPart cname")?, "EncTicketPart cname")?;
        let transited = {
            let tlv = fields.required(4, "EncTicketPart transited")?;
            let mut transited = Fields::sequence(&tlv, "TransitedEncoding")?;
            let tr_type = int32(&transited.required(0, "TransitedEncoding tr-type")?, "TransitedEncoding tr-type")?;
            let contents = octets(&transited.required(1, "TransitedEncoding contents")?, "TransitedEncoding contents")?;
            transited.finish()?;
            TransitedEncoding { tr_type, contents: contents.to_vec() }
        };
        let authtime = time(&fields.required(5, "EncTicketPart authtime")?, "EncTicketPart authtime")?;
        let starttime =
            fields.optional(6, "EncTicketPart starttime")?.map(|t| time(&t, "EncTicketPart starttime")).transpose()?;
        let endtime = time(&fields.required(7, "EncTicketPart endtime")?, "EncTicketPart endtime")?;
        let renew_till = fields
            .optional(8, "EncTicketPart renew-till")?
            .map(|t| time(&t, "EncTicketPart renew-till"))
            .transpose()?;
        let caddr = fields.optional(9, "EncTicketPart caddr")?.map(|tlv| host_addresses(&tlv)).transpose()?;
        let authorization_data = fields
            .optional(10, "EncTicketPart authorization-data")?
            .map(|tlv| owned_authorization_data(&tlv, "EncTicketPart authorization-data"))
            .transpose()?;
        fields.finish()?;
        Ok(EncTicketPart {
            flags,
            key,
            crealm,
            cname,
            transited,
            authtime,
            starttime,
            endtime,
            renew_till,
            caddr,
            authorization_data,
        })
    }

    /// Its DER; fails only past [`MAX_DER_VALUE`] bytes.
    #[cfg(test)]
    pub(crate) fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut sequence = field(0, &encode_flags(self.flags));
        sequence.extend(field(1, &self.key.encode()));
        sequence.extend(field(2, &encode_string(&self.crealm)));
        sequence.extend(field(3, &self.cname.encode()));
        sequence.extend(field(4, &typed_octets(self.transited.tr_type, &self.transited.contents)));
        sequence.extend(field(5, &encode_time(self.authtime)));
        if let Some(starttime) = self.starttime {
            sequence.extend(field(6, &encode_time(starttime)));
        }
        sequence.extend(field(7, &encode_time(self.endtime)));
        if let Some(renew_till) = self.renew_till {
            sequence.extend(field(8, &encode_time(renew_till)));
        }
        if let Some(caddr) = &self.caddr {
            let list: Vec<u8> =
                caddr.iter().flat_map(|address| typed_octets(address.addr_type, &address.address)).collect();
            sequence.extend(field(9, &der::encode(der::SEQUENCE, &list)));
        }
        if let Some(entries) = &self.authorization_data {
            sequence.extend(field(10, &encode_authorization_data(entries)));
        }
        encode_application(3, &sequence, "EncTicketPart")
    }

    /// The client the KDC issued the ticket to.
    pub(crate) fn client(&self) -> Principal {
        self.cname.with_realm(&self.crealm)
    }

    /// When the ticket becomes valid: starttime, or authtime when the KDC left starttime out
    /// (RFC 4120 section 5.3; MIT does when they are equal).
    pub(crate) fn valid_from(&self) -> i64 {
        self.starttime.unwrap_or(self.authtime)
    }

    /// The PAC bytes, if the ticket carries one ([`find_pac`]).
    pub(crate) fn pac(&self) -> Result<Option<&[u8]>, DecodeError> {
        find_pac(self.authorization_data.as_deref().unwrap_or_default())
    }
}

fn host_addresses(tlv: &Tlv<'_>) -> Result<Vec<HostAddress>, DecodeError> {
    expect_tag(tlv, der::SEQUENCE, "HostAddresses")?;
    let mut reader = Reader::new(tlv.value);
    let mut addresses = Vec::new();
    while !reader.is_empty() {
        let mut fields = Fields::sequence(&der::read(&mut reader)?, "HostAddress")?;
        let addr_type = int32(&fields.required(0, "HostAddress addr-type")?, "HostAddress addr-type")?;
        let address = octets(&fields.required(1, "HostAddress address")?, "HostAddress address")?;
        fields.finish()?;
        addresses.push(HostAddress { addr_type, address: address.to_vec() });
    }
    Ok(addresses)
}

/// RFC 4120 section 5.5.1 KRB_AP_REQ: `[APPLICATION 14] SEQUENCE { pvno [0] INTEGER (5),
/// msg-type [1] INTEGER (14), ap-options [2] APOptions, ticket [3] Ticket, authenticator [4]
/// EncryptedData }`. Inside SPNEGO it arrives framed as an RFC 4121 section 4.1 token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApReq {
    /// [`ap_options`].
    pub ap_options: u32,
    pub ticket: Ticket,
    /// The Authenticator under the session key (usage 11).
    pub authenticator: EncryptedData,
}

impl ApReq {
    pub(crate) fn decode(bytes: &[u8]) -> Result<ApReq, DecodeError> {
        let mut fields = Fields::application(bytes, 14, "AP-REQ")?;
        expect_integer(&fields.required(0, "AP-REQ pvno")?, PVNO, "AP-REQ pvno")?;
        expect_integer(&fields.required(1, "AP-REQ msg-type")?, msg_type::AP_REQ, "AP-REQ msg-type")?;
        let ap_options = flags(&fields.required(2, "AP-REQ ap-options")?, "AP-REQ ap-options")?;
        let ticket = Ticket::decode(fields.required(3, "AP-REQ ticket")?.raw)?;
        let authenticator =
            EncryptedData::decode(&fields.required(4, "AP-REQ authenticator")?, "AP-REQ authenticator")?;
        fields.finish()?;
        Ok(ApReq { ap_options, ticket, authenticator })
    }

    #[cfg(test)]
    pub(crate) fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut sequence = field(0, &der::encode_integer(PVNO));
        sequence.extend(field(1, &der::encode_integer(msg_type::AP_REQ)));
        sequence.extend(field(2, &encode_flags(self.ap_options)));
        sequence.extend(field(3, &self.ticket.encode()?));
        sequence.extend(field(4, &self.authenticator.encode()));
        encode_application(14, &sequence, "AP-REQ")
    }

    /// The AP-REQ framed as an RFC 4121 section 4.1 initial context token, as a client sends it.
    #[cfg(test)]
    pub(crate) fn encode_gss(&self, mech: Mech) -> Result<Vec<u8>, EncodeError> {
        let inner = self.encode()?;
        // thisMech (tag, length, OID) and TOK_ID share the framing's value with the AP-REQ.
        check_length(inner.len(), MAX_DER_VALUE - (2 + mech.oid().len() + 2), "GSS-API InitialContextToken")?;
        Ok(wrap(mech, tok_id::AP_REQ, &inner))
    }

    /// Unwraps an RFC 4121 section 4.1 initial context token (TOK_ID 01 00) and decodes the
    /// AP-REQ in it; also returns the OID the client used, for the reply.
    #[cfg(test)]
    pub(crate) fn decode_gss(bytes: &[u8]) -> Result<(Mech, ApReq), DecodeError> {
        let token = GssToken::decode_expecting(bytes, tok_id::AP_REQ)?;
        Ok((token.mech, ApReq::decode(token.inner)?))
    }

    /// Decrypts and decodes the authenticator with the ticket's session key.
    pub(crate) fn decrypt_authenticator(&self, session_key: &Key) -> Result<Authenticator, MessageError> {
        let plaintext =
            self.authenticator.decrypt(session_key, key_usage::AP_REQ_AUTHENTICATOR, "AP-REQ authenticator")?;
        Ok(Authenticator::decode(&plaintext)?)
    }
}

/// RFC 4120 section 5.5.1 Authenticator (`[APPLICATION 2]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Authenticator {
    pub crealm: String,
    pub cname: PrincipalName,
    /// For GSS-API, the RFC 4121 section 4.1.1 checksum ([`Authenticator::gss_checksum`]).
    pub cksum: Option<Checksum>,
    pub cusec: u32,
    pub ctime: i64,
    pub subkey: Option<EncryptionKey>,
    pub seq_number: Option<u32>,
    pub authorization_data: Option<Vec<AuthorizationDataEntry>>,
}

impl Authenticator {
    pub(crate) fn decode(bytes: &[u8]) -> Result<Authenticator, DecodeError> {
        let mut fields = Fields::application(bytes, 2, "Authenticator")?;
        expect_integer(
            &fields.required(0, "Authenticator authenticator-vno")?,
            PVNO,
            "Authenticator authenticator-vno",
        )?;
        let crealm = string(&fields.required(1, "Authenticator crealm")?, "Authenticator crealm")?;
        let cname = PrincipalName::decode(&fields.required(2, "Authenticator cname")?, "Authenticator cname")?;
        let cksum = fields
            .optional(3, "Authenticator cksum")?
            .map(|tlv| Checksum::decode(&tlv, "Authenticator cksum"))
            .transpose()?;
        let cusec = microseconds(&fields.required(4, "Authenticator cusec")?, "Authenticator cusec")?;
        let ctime = time(&fields.required(5, "Authenticator ctime")?, "Authenticator ctime")?;
        let subkey = fields
            .optional(6, "Authenticator subkey")?
            .map(|tlv| EncryptionKey::decode(&tlv, "Authenticator subkey"))
            .transpose()?;
        let seq_number = fields
            .optional(7, "Authenticator seq-number")?
            .map(|tlv| uint32(&tlv, "Authenticator seq-number"))
            .transpose()?;
        let authorization_data = fields
            .optional(8, "Authenticator authorization-data")?
            .map(|tlv| owned_authorization_data(&tlv, "Authenticator authorization-data"))
            .transpose()?;
        fields.finish()?;
        Ok(Authenticator { crealm, cname, cksum, cusec, ctime, subkey, seq_number, authorization_data })
    }

    /// Its DER; fails for a cusec past 999,999 and past [`MAX_DER_VALUE`] bytes.
    #[cfg(test)]
    pub(crate) fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut sequence = field(0, &der::encode_integer(PVNO));
        sequence.extend(field(1, &encode_string(&self.crealm)));
        sequence.extend(field(2, &self.cname.encode()));
        if let Some(cksum) = &self.cksum {
            sequence.extend(field(3, &cksum.encode()));
        }
        sequence.extend(field(4, &encode_microseconds(self.cusec, "Authenticator cusec")?));
        sequence.extend(field(5, &encode_time(self.ctime)));
        if let Some(subkey) = &self.subkey {
            sequence.extend(field(6, &subkey.encode()));
        }
        if let Some(seq_number) = self.seq_number {
            sequence.extend(field(7, &der::encode_integer(seq_number.into())));
        }
        if let Some(entries) = &self.authorization_data {
            sequence.extend(field(8, &encode_authorization_data(entries)));
        }
        encode_application(2, &sequence, "Authenticator")
    }

    /// The authenticator encrypted under the session key (usage 11), for [`ApReq::authenticator`].
    #[cfg(test)]
    pub(crate) fn seal(
        &self,
        session_key: &Key,
        confounder: &[u8; CONFOUNDER_LEN],
    ) -> Result<EncryptedData, EncodeError> {
        let plaintext = Zeroizing::new(self.encode()?);
        Ok(EncryptedData::seal(session_key, key_usage::AP_REQ_AUTHENTICATOR, &plaintext, confounder))
    }

    pub(crate) fn client(&self) -> Principal {
        self.cname.with_realm(&self.crealm)
    }

    /// The RFC 4121 section 4.1.1 checksum, if the cksum is one (cksumtype 0x8003).
    pub(crate) fn gss_checksum(&self) -> Result<Option<GssChecksum>, DecodeError> {
        match &self.cksum {
            Some(cksum) if cksum.cksumtype == GSS_CHECKSUM_TYPE => GssChecksum::decode(&cksum.checksum).map(Some),
            _ => Ok(None),
        }
    }
}

/// RFC 4120 section 5.5.2 KRB_AP_REP: `[APPLICATION 15] SEQUENCE { pvno [0] INTEGER (5),
/// msg-type [1] INTEGER (15), enc-part [2] EncryptedData }`, the acceptor's answer to a request
/// for mutual authentication (RFC 4121 section 4.1, TOK_ID 02 00).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApRep {
    /// EncAPRepPart under the session key (usage 12).
    pub enc_part: EncryptedData,
}

impl ApRep {
    #[cfg(test)]
    pub(crate) fn decode(bytes: &[u8]) -> Result<ApRep, DecodeError> {
        let mut fields = Fields::application(bytes, 15, "AP-REP")?;
        expect_integer(&fields.required(0, "AP-REP pvno")?, PVNO, "AP-REP pvno")?;
        expect_integer(&fields.required(1, "AP-REP msg-type")?, msg_type::AP_REP, "AP-REP msg-type")?;
        let enc_part = EncryptedData::decode(&fields.required(2, "AP-REP enc-part")?, "AP-REP enc-part")?;
        fields.finish()?;
        Ok(ApRep { enc_part })
    }

    /// Its DER; fails only past [`MAX_DER_VALUE`] bytes.
    pub(crate) fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut sequence = field(0, &der::encode_integer(PVNO));
        sequence.extend(field(1, &der::encode_integer(msg_type::AP_REP)));
        sequence.extend(field(2, &self.enc_part.encode()));
        encode_application(15, &sequence, "AP-REP")
    }

    #[cfg(test)]
    pub(crate) fn decrypt(&self, session_key: &Key) -> Result<EncApRepPart, MessageError> {
        let plaintext = self.enc_part.decrypt(session_key, key_usage::AP_REP_ENC_PART, "AP-REP enc-part")?;
        Ok(EncApRepPart::decode(&plaintext)?)
    }
}

/// RFC 4120 section 5.5.2 EncAPRepPart: `[APPLICATION 27] SEQUENCE { ctime [0] KerberosTime,
/// cusec [1] Microseconds, subkey [2] EncryptionKey OPTIONAL, seq-number [3] UInt32 OPTIONAL }`.
/// ctime and cusec echo the authenticator's; RFC 4121 section 4.1 gives the acceptor's subkey
/// and initial sequence number here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EncApRepPart {
    pub ctime: i64,
    pub cusec: u32,
    pub subkey: Option<EncryptionKey>,
    pub seq_number: Option<u32>,
}

impl EncApRepPart {
    #[cfg(test)]
    pub(crate) fn decode(bytes: &[u8]) -> Result<EncApRepPart, DecodeError> {
        let mut fields = Fields::application(bytes, 27, "EncAPRepPart")?;
        let ctime = time(&fields.required(0, "EncAPRepPart ctime")?, "EncAPRepPart ctime")?;
        let cusec = microseconds(&fields.required(1, "EncAPRepPart cusec")?, "EncAPRepPart cusec")?;
        let subkey = fields
            .optional(2, "EncAPRepPart subkey")?
            .map(|tlv| EncryptionKey::decode(&tlv, "EncAPRepPart subkey"))
            .transpose()?;
        let seq_number = fields
            .optional(3, "EncAPRepPart seq-number")?
            .map(|tlv| uint32(&tlv, "EncAPRepPart seq-number"))
            .transpose()?;
        fields.finish()?;
        Ok(EncApRepPart { ctime, cusec, subkey, seq_number })
    }

    /// Its DER; fails for a cusec past 999,999 (the acceptor echoes a decoded one, which never
    /// is).
    pub(crate) fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut sequence = field(0, &encode_time(self.ctime));
        sequence.extend(field(1, &encode_microseconds(self.cusec, "EncAPRepPart cusec")?));
        if let Some(subkey) = &self.subkey {
            sequence.extend(field(2, &subkey.encode()));
        }
        if let Some(seq_number) = self.seq_number {
            sequence.extend(field(3, &der::encode_integer(seq_number.into())));
        }
        encode_application(27, &sequence, "EncAPRepPart")
    }

    /// The AP-REP carrying this part encrypted under the session key.
    pub(crate) fn seal(&self, session_key: &Key, confounder: &[u8; CONFOUNDER_LEN]) -> Result<ApRep, EncodeError> {
        let plaintext = Zeroizing::new(self.encode()?);
        Ok(ApRep { enc_part: EncryptedData::seal(session_key, key_usage::AP_REP_ENC_PART, &plaintext, confounder) })
    }
}
