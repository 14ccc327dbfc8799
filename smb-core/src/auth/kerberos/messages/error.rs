//! RFC 4120 section 5.9.1 KRB-ERROR and the section 7.5.9 error codes.

use std::fmt;

use super::{
    EncodeError, PVNO, PrincipalName, encode_application, encode_microseconds, encode_string, encode_time, field,
    msg_type,
};
use super::{Fields, expect_integer, int32, microseconds, octets, string, time};
use crate::auth::der;
use crate::auth::kerberos::keytab::Principal;
use crate::proto::DecodeError;

/// RFC 4120 section 7.5.9 error codes (a newtype: unknown codes are kept and shown as numbers).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ErrorCode(pub i32);

impl ErrorCode {
    pub(crate) const KDC_ERR_ETYPE_NOSUPP: ErrorCode = ErrorCode(14);
    /// The KDC wants pre-authentication (RFC 4120 section 5.2.7.2): an AS-REQ without PA-DATA.
    pub(crate) const KDC_ERR_PREAUTH_REQUIRED: ErrorCode = ErrorCode(25);
    pub(crate) const KRB_AP_ERR_BAD_INTEGRITY: ErrorCode = ErrorCode(31);
    pub(crate) const KRB_AP_ERR_TKT_EXPIRED: ErrorCode = ErrorCode(32);
    pub(crate) const KRB_AP_ERR_TKT_NYV: ErrorCode = ErrorCode(33);
    pub(crate) const KRB_AP_ERR_REPEAT: ErrorCode = ErrorCode(34);
    pub(crate) const KRB_AP_ERR_NOT_US: ErrorCode = ErrorCode(35);
    pub(crate) const KRB_AP_ERR_BADMATCH: ErrorCode = ErrorCode(36);
    pub(crate) const KRB_AP_ERR_SKEW: ErrorCode = ErrorCode(37);
    pub(crate) const KRB_AP_ERR_BADVERSION: ErrorCode = ErrorCode(39);
    pub(crate) const KRB_AP_ERR_MSG_TYPE: ErrorCode = ErrorCode(40);
    pub(crate) const KRB_AP_ERR_MODIFIED: ErrorCode = ErrorCode(41);
    pub(crate) const KRB_AP_ERR_BADKEYVER: ErrorCode = ErrorCode(44);
    pub(crate) const KRB_AP_ERR_NOKEY: ErrorCode = ErrorCode(45);
    pub(crate) const KRB_AP_ERR_INAPP_CKSUM: ErrorCode = ErrorCode(50);
    pub(crate) const KRB_ERR_GENERIC: ErrorCode = ErrorCode(60);

    const NAMES: [(ErrorCode, &'static str); 16] = [
        (ErrorCode::KDC_ERR_ETYPE_NOSUPP, "KDC_ERR_ETYPE_NOSUPP"),
        (ErrorCode::KDC_ERR_PREAUTH_REQUIRED, "KDC_ERR_PREAUTH_REQUIRED"),
        (ErrorCode::KRB_AP_ERR_BAD_INTEGRITY, "KRB_AP_ERR_BAD_INTEGRITY"),
        (ErrorCode::KRB_AP_ERR_TKT_EXPIRED, "KRB_AP_ERR_TKT_EXPIRED"),
        (ErrorCode::KRB_AP_ERR_TKT_NYV, "KRB_AP_ERR_TKT_NYV"),
        (ErrorCode::KRB_AP_ERR_REPEAT, "KRB_AP_ERR_REPEAT"),
        (ErrorCode::KRB_AP_ERR_NOT_US, "KRB_AP_ERR_NOT_US"),
        (ErrorCode::KRB_AP_ERR_BADMATCH, "KRB_AP_ERR_BADMATCH"),
        (ErrorCode::KRB_AP_ERR_SKEW, "KRB_AP_ERR_SKEW"),
        (ErrorCode::KRB_AP_ERR_BADVERSION, "KRB_AP_ERR_BADVERSION"),
        (ErrorCode::KRB_AP_ERR_MSG_TYPE, "KRB_AP_ERR_MSG_TYPE"),
        (ErrorCode::KRB_AP_ERR_MODIFIED, "KRB_AP_ERR_MODIFIED"),
        (ErrorCode::KRB_AP_ERR_BADKEYVER, "KRB_AP_ERR_BADKEYVER"),
        (ErrorCode::KRB_AP_ERR_NOKEY, "KRB_AP_ERR_NOKEY"),
        (ErrorCode::KRB_AP_ERR_INAPP_CKSUM, "KRB_AP_ERR_INAPP_CKSUM"),
        (ErrorCode::KRB_ERR_GENERIC, "KRB_ERR_GENERIC"),
    ];
}

impl fmt::Debug for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match ErrorCode::NAMES.iter().find(|(code, _)| code == self) {
            Some((_, name)) => write!(f, "{name} ({})", self.0),
            None => write!(f, "ErrorCode({})", self.0),
        }
    }
}

/// RFC 4120 section 5.9.1 KRB-ERROR (`[APPLICATION 30]`): what the acceptor returns, framed with
/// TOK_ID 03 00 (RFC 4121 section 4.1), when it refuses an AP-REQ (KRB_AP_ERR_SKEW, ...).
/// MS-KILE 3.4.5.1: Windows clients retry with a corrected clock after KRB_AP_ERR_SKEW, reading
/// the server's time from stime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KrbError {
    pub ctime: Option<i64>,
    pub cusec: Option<u32>,
    pub stime: i64,
    pub susec: u32,
    pub error_code: ErrorCode,
    pub crealm: Option<String>,
    pub cname: Option<PrincipalName>,
    pub realm: String,
    pub sname: PrincipalName,
    pub e_text: Option<String>,
    pub e_data: Option<Vec<u8>>,
}

impl KrbError {
    /// The usual acceptor error: the server's time and name, no client fields.
    pub(crate) fn new(error_code: ErrorCode, stime: i64, susec: u32, server: &Principal) -> KrbError {
        KrbError {
            ctime: None,
            cusec: None,
            stime,
            susec,
            error_code,
            crealm: None,
            cname: None,
            realm: server.realm.clone(),
            sname: server.into(),
            e_text: None,
            e_data: None,
        }
    }

    /// Its DER; fails for a cusec or susec past 999,999 (the acceptor takes susec from its
    /// clock's subsecond microseconds, which never are) and past
    /// [`MAX_DER_VALUE`](super::MAX_DER_VALUE) bytes.
    pub(crate) fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut sequence = field(0, &der::encode_integer(PVNO));
        sequence.extend(field(1, &der::encode_integer(msg_type::KRB_ERROR)));
        if let Some(ctime) = self.ctime {
            sequence.extend(field(2, &encode_time(ctime)));
        }
        if let Some(cusec) = self.cusec {
            sequence.extend(field(3, &encode_microseconds(cusec, "KRB-ERROR cusec")?));
        }
        sequence.extend(field(4, &encode_time(self.stime)));
        sequence.extend(field(5, &encode_microseconds(self.susec, "KRB-ERROR susec")?));
        sequence.extend(field(6, &der::encode_integer(self.error_code.0.into())));
        if let Some(crealm) = &self.crealm {
            sequence.extend(field(7, &encode_string(crealm)));
        }
        if let Some(cname) = &self.cname {
            sequence.extend(field(8, &cname.encode()));
        }
        sequence.extend(field(9, &encode_string(&self.realm)));
        sequence.extend(field(10, &self.sname.encode()));
        if let Some(e_text) = &self.e_text {
            sequence.extend(field(11, &encode_string(e_text)));
        }
        if let Some(e_data) = &self.e_data {
            sequence.extend(field(12, &der::encode(der::OCTET_STRING, e_data)));
        }
        encode_application(30, &sequence, "KRB-ERROR")
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<KrbError, DecodeError> {
        let mut fields = Fields::application(bytes, 30, "KRB-ERROR")?;
        expect_integer(&fields.required(0, "KRB-ERROR pvno")?, PVNO, "KRB-ERROR pvno")?;
        expect_integer(&fields.required(1, "KRB-ERROR msg-type")?, msg_type::KRB_ERROR, "KRB-ERROR msg-type")?;
        let ctime = fields.optional(2, "KRB-ERROR ctime")?.map(|tlv| time(&tlv, "KRB-ERROR ctime")).transpose()?;
        let cusec =
            fields.optional(3, "KRB-ERROR cusec")?.map(|tlv| microseconds(&tlv, "KRB-ERROR cusec")).transpose()?;
        let stime = time(&fields.required(4, "KRB-ERROR stime")?, "KRB-ERROR stime")?;
        let susec = microseconds(&fields.required(5, "KRB-ERROR susec")?, "KRB-ERROR susec")?;
        let error_code = ErrorCode(int32(&fields.required(6, "KRB-ERROR error-code")?, "KRB-ERROR error-code")?);
        let crealm = fields.optional(7, "KRB-ERROR crealm")?.map(|tlv| string(&tlv, "KRB-ERROR crealm")).transpose()?;
        let cname = fields
            .optional(8, "KRB-ERROR cname")?
            .map(|tlv| PrincipalName::decode(&tlv, "KRB-ERROR cname"))
            .transpose()?;
        let realm = string(&fields.required(9, "KRB-ERROR realm")?, "KRB-ERROR realm")?;
        let sname = PrincipalName::decode(&fields.required(10, "KRB-ERROR sname")?, "KRB-ERROR sname")?;
        let e_text =
            fields.optional(11, "KRB-ERROR e-text")?.map(|tlv| string(&tlv, "KRB-ERROR e-text")).transpose()?;
        let e_data = fields
            .optional(12, "KRB-ERROR e-data")?
            .map(|tlv| octets(&tlv, "KRB-ERROR e-data").map(<[u8]>::to_vec))
            .transpose()?;
        fields.finish()?;
        Ok(KrbError { ctime, cusec, stime, susec, error_code, crealm, cname, realm, sname, e_text, e_data })
    }
}
