//! NTLMSSP (MS-NLMP): the three messages (2.2.1), NTLMv2 verification (3.3.2), the session key
//! (3.4.5.1) and the message signatures SPNEGO's mechListMIC needs (3.4.4.2).

use hmac::{KeyInit, Mac};
use zeroize::Zeroizing;

use crate::proto::reader::slice_at;
use crate::proto::{DecodeError, Reader, Writer, utf16};

pub(crate) const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

/// MS-NLMP 2.2.2.5 NEGOTIATE flags.
pub(crate) mod flags {
    pub(crate) const UNICODE: u32 = 0x0000_0001;
    pub(crate) const REQUEST_TARGET: u32 = 0x0000_0004;
    pub(crate) const SIGN: u32 = 0x0000_0010;
    pub(crate) const SEAL: u32 = 0x0000_0020;
    pub(crate) const NTLM: u32 = 0x0000_0200;
    pub(crate) const ANONYMOUS: u32 = 0x0000_0800;
    pub(crate) const ALWAYS_SIGN: u32 = 0x0000_8000;
    pub(crate) const TARGET_TYPE_SERVER: u32 = 0x0002_0000;
    pub(crate) const EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
    pub(crate) const TARGET_INFO: u32 = 0x0080_0000;
    pub(crate) const VERSION: u32 = 0x0200_0000;
    pub(crate) const N128: u32 = 0x2000_0000;
    pub(crate) const KEY_EXCH: u32 = 0x4000_0000;
    pub(crate) const N56: u32 = 0x8000_0000;
    /// What the project's own clients ask for: Unicode NTLMv2 with a session key exchange and
    /// signing, 128-bit.
    pub(crate) const CLIENT: u32 = UNICODE | NTLM | KEY_EXCH | EXTENDED_SESSIONSECURITY | SIGN | N128;
}

/// MS-NLMP 2.2.2.1 AV_PAIR ids.
pub(crate) mod av {
    pub(crate) const EOL: u16 = 0;
    pub(crate) const NB_COMPUTER_NAME: u16 = 1;
    pub(crate) const NB_DOMAIN_NAME: u16 = 2;
    pub(crate) const DNS_COMPUTER_NAME: u16 = 3;
    pub(crate) const DNS_DOMAIN_NAME: u16 = 4;
    pub(crate) const FLAGS: u16 = 6;
    pub(crate) const TIMESTAMP: u16 = 7;
    /// MsvAvFlags bit: the AUTHENTICATE message carries a MIC.
    pub(crate) const FLAG_MIC_PRESENT: u32 = 0x0000_0002;
}

fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    let mut mac = hmac::Hmac::<md5::Md5>::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn md5(parts: &[&[u8]]) -> [u8; 16] {
    use md5::Digest;
    let mut hasher = md5::Md5::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// MS-NLMP 3.3.1 NTOWFv1: MD4 of the UTF-16LE password. What EdgeShare stores for each user.
pub fn nt_hash(password: &str) -> [u8; 16] {
    use md4::Digest;
    md4::Md4::digest(utf16::encode(password)).into()
}

/// MS-NLMP 3.3.2 NTOWFv2 from the NT hash: HMAC-MD5(hash, UTF-16(upper(user) + domain)).
/// Upper case as Windows makes it (RtlUpcaseUnicodeString): one character for one, so a
/// character whose upper case would expand (ß) stays as it is.
pub fn ntowf_v2(nt_hash: &[u8; 16], user: &str, domain: &str) -> [u8; 16] {
    let upper: String = user.chars().map(upcase).collect();
    let identity = utf16::encode(&(upper + domain));
    hmac_md5(nt_hash, &[&identity])
}

/// A character's upper case when it is a single character, else the character itself.
fn upcase(c: char) -> char {
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(single), None) => single,
        _ => c,
    }
}

fn rc4(key: &[u8], data: &mut [u8]) {
    use rc4::{KeyInit as _, StreamCipher};
    let mut cipher = rc4::Rc4::new_from_slice(key).expect("RC4 keys here are 16 bytes");
    cipher.apply_keystream(data);
}

/// MS-NLMP 2.2.1.1 NEGOTIATE_MESSAGE (only the flags matter to a server).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Negotiate {
    pub flags: u32,
}

impl Negotiate {
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        expect_header(&mut r, 1)?;
        Ok(Negotiate { flags: r.u32("NegotiateFlags")? })
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Writer::new();
        out.bytes(SIGNATURE).u32(1).u32(self.flags).zeros(16);
        out.into_vec()
    }
}

fn expect_header(r: &mut Reader<'_>, message_type: u32) -> Result<(), DecodeError> {
    if r.take(8, "NTLMSSP Signature")? != SIGNATURE {
        return Err(DecodeError::invalid("NTLMSSP", "signature is not NTLMSSP"));
    }
    let found = r.u32("MessageType")?;
    if found != message_type {
        return Err(DecodeError::invalid("NTLMSSP", format!("message type {found}, expected {message_type}")));
    }
    Ok(())
}

/// A (Len, MaxLen, BufferOffset) field of MS-NLMP 2.2: the bytes it points at in `message`.
fn field<'a>(r: &mut Reader<'_>, message: &'a [u8], what: &'static str) -> Result<&'a [u8], DecodeError> {
    let length = usize::from(r.u16(what)?);
    r.skip(2, what)?;
    let offset = r.u32(what)? as usize;
    if length == 0 { Ok(&[]) } else { slice_at(message, offset, length, what) }
}

/// MS-NLMP 2.2.1.2 CHALLENGE_MESSAGE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Challenge {
    pub flags: u32,
    pub server_challenge: [u8; 8],
    pub target_name: String,
    pub target_info: Vec<u8>,
}

/// MS-NLMP 2.2.2.10 VERSION: 6.1 build 7600, NTLM revision 15.
const VERSION: [u8; 8] = [6, 1, 0xB0, 0x1D, 0, 0, 0, 15];

impl Challenge {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let name = utf16::encode(&self.target_name);
        let name_offset = 56;
        let info_offset = name_offset + name.len();
        let mut out = Writer::new();
        out.bytes(SIGNATURE).u32(2);
        out.u16(name.len() as u16).u16(name.len() as u16).u32(name_offset as u32);
        out.u32(self.flags).bytes(&self.server_challenge).zeros(8);
        out.u16(self.target_info.len() as u16).u16(self.target_info.len() as u16).u32(info_offset as u32);
        out.bytes(&VERSION).bytes(&name).bytes(&self.target_info);
        out.into_vec()
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        expect_header(&mut r, 2)?;
        let target_name = utf16::decode(field(&mut r, bytes, "TargetNameFields")?, "TargetName")?;
        let flags = r.u32("NegotiateFlags")?;
        let server_challenge = r.array("ServerChallenge")?;
        r.skip(8, "Reserved")?;
        let target_info = field(&mut r, bytes, "TargetInfoFields")?.to_vec();
        Ok(Challenge { flags, server_challenge, target_name, target_info })
    }
}

/// MS-NLMP 2.2.2.1 AV_PAIR list.
pub(crate) fn encode_av_pairs(pairs: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut out = Writer::new();
    for (id, value) in pairs {
        out.u16(*id).u16(value.len() as u16).bytes(value);
    }
    out.u16(av::EOL).u16(0);
    out.into_vec()
}

pub(crate) fn decode_av_pairs(bytes: &[u8]) -> Result<Vec<(u16, Vec<u8>)>, DecodeError> {
    let mut r = Reader::new(bytes);
    let mut pairs = Vec::new();
    loop {
        let id = r.u16("AvId")?;
        let length = usize::from(r.u16("AvLen")?);
        let value = r.take(length, "AV_PAIR Value")?;
        if id == av::EOL {
            return Ok(pairs);
        }
        pairs.push((id, value.to_vec()));
    }
}

/// MS-NLMP 2.2.1.3 AUTHENTICATE_MESSAGE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticate {
    pub lm_response: Vec<u8>,
    pub nt_response: Vec<u8>,
    pub domain: String,
    pub user: String,
    pub workstation: String,
    pub encrypted_session_key: Vec<u8>,
    pub flags: u32,
    /// Where the 16-byte MIC sits in the message, when it has one.
    pub mic_offset: Option<usize>,
}

impl Authenticate {
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        expect_header(&mut r, 3)?;
        let mut offsets = Vec::new();
        let mut next_field = |r: &mut Reader<'_>, what| -> Result<&[u8], DecodeError> {
            let mut peek = r.clone();
            let length = peek.u16(what)?;
            peek.skip(2, what)?;
            let offset = peek.u32(what)? as usize;
            if length > 0 {
                offsets.push(offset);
            }
            field(r, bytes, what)
        };
        let lm_response = next_field(&mut r, "LmChallengeResponseFields")?.to_vec();
        let nt_response = next_field(&mut r, "NtChallengeResponseFields")?.to_vec();
        let domain_bytes = next_field(&mut r, "DomainNameFields")?;
        let user_bytes = next_field(&mut r, "UserNameFields")?;
        let workstation_bytes = next_field(&mut r, "WorkstationFields")?;
        let encrypted_session_key = next_field(&mut r, "EncryptedRandomSessionKeyFields")?.to_vec();
        let flags = r.u32("NegotiateFlags")?;
        let text = |b: &[u8], what| {
            if flags & flags::UNICODE != 0 {
                utf16::decode(b, what)
            } else {
                Ok(String::from_utf8_lossy(b).into_owned())
            }
        };
        // The payload starts after the fixed fields; Version (8) and MIC (16) sit between when the
        // payload begins late enough to leave room for them (MS-NLMP 2.2.1.3).
        let payload_start = offsets.iter().copied().min().unwrap_or(bytes.len());
        let mic_offset = (payload_start >= 88 && bytes.len() >= 88).then_some(72);
        Ok(Authenticate {
            lm_response,
            nt_response,
            domain: text(domain_bytes, "DomainName")?,
            user: text(user_bytes, "UserName")?,
            workstation: text(workstation_bytes, "Workstation")?,
            encrypted_session_key,
            flags,
            mic_offset,
        })
    }

    /// Encodes with a zero MIC field (the client fills it in afterwards with [`Authenticate::set_mic`]).
    pub fn encode(&self) -> Vec<u8> {
        let fields: [Vec<u8>; 6] = [
            self.lm_response.clone(),
            self.nt_response.clone(),
            utf16::encode(&self.domain),
            utf16::encode(&self.user),
            utf16::encode(&self.workstation),
            self.encrypted_session_key.clone(),
        ];
        let mut out = Writer::new();
        out.bytes(SIGNATURE).u32(3);
        let mut offset = 88;
        for value in &fields {
            out.u16(value.len() as u16).u16(value.len() as u16).u32(offset as u32);
            offset += value.len();
        }
        out.u32(self.flags).bytes(&VERSION).zeros(16);
        for value in &fields {
            out.bytes(value);
        }
        out.into_vec()
    }

    pub fn set_mic(message: &mut [u8], mic: &[u8; 16]) {
        message[72..88].copy_from_slice(mic);
    }
}

/// What the server learns from a verified AUTHENTICATE message.
pub struct Verified {
    /// MS-NLMP 3.2.5.1.2 ExportedSessionKey.
    pub session_key: Zeroizing<[u8; 16]>,
    /// The client said (MsvAvFlags) and proved that the message carries a MIC: SPNEGO must then
    /// carry a mechListMIC too (MS-SPNG 3.1.5.1, as Windows and Samba require).
    pub mic_present: bool,
}

/// Why an AUTHENTICATE message was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The response does not prove knowledge of the password.
    WrongPassword,
    /// Only NTLMv2 is accepted; this was an NTLMv1 or LM response.
    NotNtlmV2,
    /// The MIC did not match: the messages were tampered with.
    BadMic,
    /// The NTLMv2 client challenge is not well formed (its AV pairs do not parse).
    Malformed,
}

/// Verifies an NTLMv2 response (MS-NLMP 3.3.2) for a user whose NT hash is `nt_hash`, and
/// recovers the exported session key. `messages` are the raw NEGOTIATE, CHALLENGE and
/// AUTHENTICATE messages, for the MIC.
pub fn verify(
    auth: &Authenticate,
    nt_hash: &[u8; 16],
    server_challenge: &[u8; 8],
    messages: [&[u8]; 3],
) -> Result<Verified, Rejection> {
    if auth.nt_response.len() < 16 + 28 {
        return Err(Rejection::NotNtlmV2);
    }
    let (proof, blob) = auth.nt_response.split_at(16);
    // MS-NLMP 2.2.2.7 NTLMv2_CLIENT_CHALLENGE: 28 fixed bytes, then AV pairs up to MsvAvEOL.
    if decode_av_pairs(&blob[28..]).is_err() {
        return Err(Rejection::Malformed);
    }
    // Clients compute NTOWFv2 with the domain they sent; some send it in another case or none.
    let candidates = [auth.domain.clone(), auth.domain.to_uppercase(), String::new()];
    let response_key = candidates
        .iter()
        .map(|domain| ntowf_v2(nt_hash, &auth.user, domain))
        .find(|key| constant_time_eq(&hmac_md5(key, &[server_challenge, blob]), proof))
        .ok_or(Rejection::WrongPassword)?;
    let session_base_key = hmac_md5(&response_key, &[proof]);
    let mut exported = Zeroizing::new(session_base_key);
    if auth.flags & flags::KEY_EXCH != 0 && auth.encrypted_session_key.len() == 16 {
        exported.copy_from_slice(&auth.encrypted_session_key);
        rc4(&session_base_key, exported.as_mut());
    }
    let mic_present = blob_says_mic_present(blob);
    if mic_present {
        // The client's own (signed) AV pairs say there is a MIC: a message without room for one
        // has had it removed, and fails as a wrong MIC would (MS-NLMP 3.3.5.1.2).
        let offset = auth.mic_offset.ok_or(Rejection::BadMic)?;
        let [negotiate, challenge, authenticate] = messages;
        let mut zeroed = authenticate.to_vec();
        let mic = zeroed.get(offset..offset + 16).map(<[u8]>::to_vec).ok_or(Rejection::BadMic)?;
        zeroed[offset..offset + 16].fill(0);
        let expected = hmac_md5(exported.as_ref(), &[negotiate, challenge, &zeroed]);
        if !constant_time_eq(&expected, &mic) {
            return Err(Rejection::BadMic);
        }
    }
    Ok(Verified { session_key: exported, mic_present })
}

/// Whether the NTLMv2 blob's AV pairs carry MsvAvFlags with the MIC bit (MS-NLMP 2.2.2.7).
fn blob_says_mic_present(blob: &[u8]) -> bool {
    blob.get(28..)
        .and_then(|pairs| decode_av_pairs(pairs).ok())
        .and_then(|pairs| pairs.into_iter().find(|(id, _)| *id == av::FLAGS))
        .and_then(|(_, value)| value.get(..4).map(|v| u32::from_le_bytes([v[0], v[1], v[2], v[3]])))
        .is_some_and(|flags| flags & av::FLAG_MIC_PRESENT != 0)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// NTLM session security for one direction (MS-NLMP 3.4.4.2, extended session security): what
/// signs SPNEGO's mechListMIC.
pub(crate) struct SealingKeys {
    signing_key: [u8; 16],
    sealing: Option<rc4::Rc4>,
    sequence: u32,
}

impl SealingKeys {
    fn new(session_key: &[u8; 16], flags: u32, client_to_server: bool) -> Self {
        use rc4::KeyInit as _;
        let (sign, seal): (&[u8], &[u8]) = if client_to_server {
            (
                b"session key to client-to-server signing key magic constant\0",
                b"session key to client-to-server sealing key magic constant\0",
            )
        } else {
            (
                b"session key to server-to-client signing key magic constant\0",
                b"session key to server-to-client sealing key magic constant\0",
            )
        };
        let sealing_key = md5(&[session_key, seal]);
        SealingKeys {
            signing_key: md5(&[session_key, sign]),
            sealing: (flags & flags::KEY_EXCH != 0)
                .then(|| rc4::Rc4::new_from_slice(&sealing_key).expect("16-byte key")),
            sequence: 0,
        }
    }

    pub(crate) fn client_to_server(session_key: &[u8; 16], flags: u32) -> Self {
        Self::new(session_key, flags, true)
    }

    pub(crate) fn server_to_client(session_key: &[u8; 16], flags: u32) -> Self {
        Self::new(session_key, flags, false)
    }

    /// MS-NLMP 3.4.4.2 MAC: version 1, the (sealed) checksum, the sequence number.
    pub(crate) fn sign(&mut self, message: &[u8]) -> [u8; 16] {
        use rc4::StreamCipher;
        let sequence = self.sequence.to_le_bytes();
        self.sequence = self.sequence.wrapping_add(1);
        let mut checksum = [0_u8; 8];
        checksum.copy_from_slice(&hmac_md5(&self.signing_key, &[&sequence, message])[..8]);
        if let Some(sealing) = &mut self.sealing {
            sealing.apply_keystream(&mut checksum);
        }
        let mut signature = [0; 16];
        signature[..4].copy_from_slice(&1u32.to_le_bytes());
        signature[4..12].copy_from_slice(&checksum);
        signature[12..].copy_from_slice(&sequence);
        signature
    }

    pub(crate) fn verify(&mut self, message: &[u8], signature: &[u8]) -> bool {
        constant_time_eq(&self.sign(message), signature)
    }
}

/// The client side of NTLMv2 (MS-NLMP 3.1.5): for the project's tests and test clients.
pub mod client {
    use super::*;

    pub struct Outcome {
        pub authenticate: Vec<u8>,
        pub session_key: [u8; 16],
        pub flags: u32,
    }

    /// Answers `challenge` for `user` with `password`, with a MIC over the three messages.
    pub fn authenticate(
        negotiate: &[u8],
        challenge_bytes: &[u8],
        user: &str,
        domain: &str,
        password: &str,
        client_challenge: [u8; 8],
        random_session_key: [u8; 16],
    ) -> Result<Outcome, DecodeError> {
        let challenge = Challenge::decode(challenge_bytes)?;
        let mut pairs = decode_av_pairs(&challenge.target_info)?;
        let timestamp =
            pairs.iter().find(|(id, _)| *id == av::TIMESTAMP).map(|(_, v)| v.clone()).unwrap_or_else(|| vec![0; 8]);
        pairs.retain(|(id, _)| *id != av::FLAGS);
        pairs.push((av::FLAGS, av::FLAG_MIC_PRESENT.to_le_bytes().to_vec()));
        let mut blob = vec![1, 1, 0, 0, 0, 0, 0, 0];
        blob.extend_from_slice(&timestamp);
        blob.extend_from_slice(&client_challenge);
        blob.extend_from_slice(&[0; 4]);
        blob.extend_from_slice(&encode_av_pairs(&pairs));
        blob.extend_from_slice(&[0; 4]);
        let key = ntowf_v2(&nt_hash(password), user, domain);
        let proof = hmac_md5(&key, &[&challenge.server_challenge, &blob]);
        let session_base_key = hmac_md5(&key, &[&proof]);
        let mut encrypted = random_session_key;
        rc4(&session_base_key, &mut encrypted);
        let mut nt_response = proof.to_vec();
        nt_response.extend_from_slice(&blob);
        let flags = challenge.flags | flags::KEY_EXCH;
        let message = Authenticate {
            lm_response: vec![0; 24],
            nt_response,
            domain: domain.to_owned(),
            user: user.to_owned(),
            workstation: "EDGESHARE-TEST".to_owned(),
            encrypted_session_key: encrypted.to_vec(),
            flags,
            mic_offset: Some(72),
        };
        let mut authenticate = message.encode();
        let mic = hmac_md5(&random_session_key, &[negotiate, challenge_bytes, &authenticate]);
        Authenticate::set_mic(&mut authenticate, &mic);
        Ok(Outcome { authenticate, session_key: random_session_key, flags })
    }

    /// A client signing in with NTLMv2 inside SPNEGO, as Windows and Samba clients do (MS-SPNG
    /// 3.1.5): the first token offers NTLMSSP with its NEGOTIATE message; the second answers the
    /// server's challenge, with the mechListMIC.
    pub struct SpnegoSignIn {
        negotiate: Vec<u8>,
    }

    impl SpnegoSignIn {
        /// Starts a sign-in; returns it and the first SESSION_SETUP's security buffer.
        pub fn start() -> (SpnegoSignIn, Vec<u8>) {
            use crate::auth::spnego::{OID_NTLMSSP, encode_init};
            let negotiate = Negotiate { flags: flags::CLIENT }.encode();
            let token = encode_init(&[OID_NTLMSSP], &negotiate);
            (SpnegoSignIn { negotiate }, token)
        }

        /// The second security buffer, answering `server_token` (the server's first SPNEGO
        /// answer), and the session key.
        pub fn answer(
            &self,
            server_token: &[u8],
            user: &str,
            domain: &str,
            password: &str,
        ) -> Result<(Vec<u8>, [u8; 16]), String> {
            use crate::auth::spnego::{OID_NTLMSSP, encode_client_resp, mech_types_der, parse_server_token};
            let token = parse_server_token(server_token).map_err(|e| e.to_string())?;
            let challenge = token.response_token.ok_or("the server sent no NTLM challenge")?;
            let outcome =
                authenticate(&self.negotiate, &challenge, user, domain, password, rand::random(), rand::random())
                    .map_err(|e| e.to_string())?;
            let mic = SealingKeys::client_to_server(&outcome.session_key, outcome.flags)
                .sign(&mech_types_der(&[OID_NTLMSSP]));
            Ok((encode_client_resp(&outcome.authenticate, Some(&mic)), outcome.session_key))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_challenge_with_unparsable_av_pairs_is_malformed_not_a_wrong_password() {
        // The NTLMv2 response of Samba bug 14932 (a network diagnostics tool's): AV pairs that
        // claim more bytes than there are.
        let mut nt_response = vec![0xAB; 16];
        nt_response.extend_from_slice(&[1, 1, 0, 0, 0, 0, 0, 0]);
        nt_response.extend_from_slice(&[0x3F; 8]);
        nt_response.extend_from_slice(&[0xB8, 0x82, 0x3A, 0xF1, 0xB3, 0xDD, 0x08, 0x15, 0, 0, 0, 0]);
        nt_response.extend_from_slice(&[0x11, 0xA2, 0x08, 0x81, 0x50, 0x38, 0x22, 0x78]);
        let auth = Authenticate {
            lm_response: vec![0; 24],
            nt_response,
            domain: String::new(),
            user: "alice".into(),
            workstation: String::new(),
            encrypted_session_key: Vec::new(),
            flags: 0,
            mic_offset: None,
        };
        let result = verify(&auth, &nt_hash("x"), &[0; 8], [&[], &[], &[]]);
        assert!(matches!(result, Err(Rejection::Malformed)));
    }

    #[test]
    fn ntowf_v2_upper_cases_one_character_for_one_as_windows_does() {
        let hash = nt_hash("Password");
        assert_eq!(ntowf_v2(&hash, "straße", "D"), ntowf_v2(&hash, "STRAßE", "D"));
        assert_ne!(ntowf_v2(&hash, "straße", "D"), ntowf_v2(&hash, "STRASSE", "D"), "ß does not become SS");
        assert_eq!(ntowf_v2(&hash, "émile", "D"), ntowf_v2(&hash, "ÉMILE", "D"));
    }

    #[test]
    fn the_nt_hash_of_password_is_the_published_one() {
        // MS-NLMP 4.2.1: NTOWFv1("Password").
        assert_eq!(hex::encode(nt_hash("Password")), "a4f49c406510bdcab6824ee7c30fd852");
    }

    /// The parsed AUTHENTICATE, the three raw messages, the server challenge and the session key.
    type Exchange = (Authenticate, Vec<u8>, Vec<u8>, Vec<u8>, [u8; 8], [u8; 16]);

    fn exchange(password: &str) -> Exchange {
        let negotiate = Negotiate { flags: flags::UNICODE | flags::NTLM | flags::KEY_EXCH }.encode();
        let challenge = Challenge {
            flags: flags::UNICODE | flags::NTLM | flags::TARGET_INFO | flags::EXTENDED_SESSIONSECURITY,
            server_challenge: [1, 2, 3, 4, 5, 6, 7, 8],
            target_name: "SERVER".into(),
            target_info: encode_av_pairs(&[
                (av::NB_COMPUTER_NAME, utf16::encode("SERVER")),
                (av::TIMESTAMP, vec![0; 8]),
            ]),
        };
        let challenge_bytes = challenge.encode();
        let outcome =
            client::authenticate(&negotiate, &challenge_bytes, "alice", "WORKGROUP", password, [9; 8], [7; 16])
                .unwrap();
        let auth = Authenticate::decode(&outcome.authenticate).unwrap();
        (auth, negotiate, challenge_bytes, outcome.authenticate, challenge.server_challenge, outcome.session_key)
    }

    #[test]
    fn the_right_password_verifies_and_yields_the_clients_session_key() {
        let (auth, negotiate, challenge, authenticate, server_challenge, session_key) = exchange("s3cret password");
        assert_eq!(auth.user, "alice");
        assert_eq!(auth.mic_offset, Some(72));
        let verified =
            verify(&auth, &nt_hash("s3cret password"), &server_challenge, [&negotiate, &challenge, &authenticate])
                .unwrap();
        assert_eq!(*verified.session_key, session_key);
    }

    #[test]
    fn a_wrong_password_is_rejected() {
        let (auth, negotiate, challenge, authenticate, server_challenge, _) = exchange("guess");
        let result =
            verify(&auth, &nt_hash("s3cret password"), &server_challenge, [&negotiate, &challenge, &authenticate]);
        assert!(matches!(result, Err(Rejection::WrongPassword)));
    }

    #[test]
    fn a_tampered_message_fails_the_mic() {
        let (auth, negotiate, challenge, mut authenticate, server_challenge, _) = exchange("s3cret password");
        let last = authenticate.len() - 1;
        authenticate[last] ^= 0x55; // inside the workstation name, outside the proof
        let result =
            verify(&auth, &nt_hash("s3cret password"), &server_challenge, [&negotiate, &challenge, &authenticate]);
        assert!(matches!(result, Err(Rejection::BadMic)));
    }

    #[test]
    fn ntlm_v1_responses_are_refused() {
        let (mut auth, negotiate, challenge, authenticate, server_challenge, _) = exchange("s3cret password");
        auth.nt_response.truncate(24);
        let result =
            verify(&auth, &nt_hash("s3cret password"), &server_challenge, [&negotiate, &challenge, &authenticate]);
        assert!(matches!(result, Err(Rejection::NotNtlmV2)));
    }

    #[test]
    fn each_direction_verifies_its_own_signatures() {
        let key = [5; 16];
        let mut client = SealingKeys::client_to_server(&key, flags::KEY_EXCH);
        let mut server_view = SealingKeys::client_to_server(&key, flags::KEY_EXCH);
        let signature = client.sign(b"mech list");
        assert!(server_view.verify(b"mech list", &signature));
        let mut other = SealingKeys::server_to_client(&key, flags::KEY_EXCH);
        assert!(!other.verify(b"mech list", &signature));
    }

    #[test]
    fn malformed_messages_are_refused() {
        for bytes in [&b"NTLMSSP\0"[..], b"NTLMSSX\0\x03\0\0\0", &[0; 4]] {
            assert!(Authenticate::decode(bytes).is_err());
        }
        let mut auth = exchange("x").3;
        auth[12] = 0xFF; // LM response length beyond the message
        auth[13] = 0xFF;
        assert!(Authenticate::decode(&auth).is_err());
    }
}
