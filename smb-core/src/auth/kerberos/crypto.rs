//! Kerberos encryption and keyed checksums in RFC 3961's framework, for the enctypes an SMB
//! acceptor meets: AES-CTS with HMAC-SHA1 (RFC 3962), AES-CTS with HMAC-SHA2 (RFC 8009) and
//! RC4-HMAC (RFC 4757). Pure functions over bytes on RustCrypto primitives: the caller hands in
//! the confounder, so the core reads no randomness.

use std::fmt;

use zeroize::Zeroizing;

use self::cts::{AES_BLOCK, Aes};
#[cfg(test)]
use self::kdf::pbkdf2;
use self::kdf::{Hash, derive_random, hmac, kdf_hmac_sha2};

mod cts;
mod kdf;

/// Bytes of confounder [`encrypt`] takes: one AES block. RC4-HMAC uses the first 8 of them
/// (RFC 4757 section 5).
pub(crate) const CONFOUNDER_LEN: usize = 16;

const RC4_CONFOUNDER_LEN: usize = 8;
const RC4_CHECKSUM_LEN: usize = 16;

/// An encryption type EdgeShare accepts (RFC 3961 section 8, the IANA "Kerberos Encryption Type
/// Numbers"). DES and 3DES are deliberately absent: Windows has refused them since 2008 R2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Enctype {
    /// aes128-cts-hmac-sha1-96, 17 (RFC 3962 section 7).
    Aes128CtsHmacSha1,
    /// aes256-cts-hmac-sha1-96, 18 (RFC 3962 section 7): what Active Directory issues by default.
    Aes256CtsHmacSha1,
    /// aes128-cts-hmac-sha256-128, 19 (RFC 8009 section 5).
    Aes128CtsHmacSha256,
    /// aes256-cts-hmac-sha384-192, 20 (RFC 8009 section 5).
    Aes256CtsHmacSha384,
    /// rc4-hmac, 23 (RFC 4757 section 5): the NT hash as the key. For domains whose service
    /// accounts still have no AES keys.
    Rc4Hmac,
}

/// How each enctype encrypts and checksums.
#[derive(Clone, Copy)]
enum Profile {
    /// RFC 3961 section 5.3's simplified profile over AES-CTS and HMAC-SHA1 (RFC 3962 section 6).
    Sha1,
    /// RFC 8009: encrypt-then-MAC with keys from KDF-HMAC-SHA2.
    Sha2(Hash),
    /// RFC 4757.
    Rc4,
}

impl Enctype {
    pub(crate) const ALL: [Enctype; 5] = [
        Enctype::Aes256CtsHmacSha1,
        Enctype::Aes128CtsHmacSha1,
        Enctype::Aes256CtsHmacSha384,
        Enctype::Aes128CtsHmacSha256,
        Enctype::Rc4Hmac,
    ];

    /// The IANA number, as `etype` fields carry it (RFC 4120 section 5.2.9).
    pub(crate) fn number(self) -> i32 {
        match self {
            Enctype::Aes128CtsHmacSha1 => 17,
            Enctype::Aes256CtsHmacSha1 => 18,
            Enctype::Aes128CtsHmacSha256 => 19,
            Enctype::Aes256CtsHmacSha384 => 20,
            Enctype::Rc4Hmac => 23,
        }
    }

    /// The enctype with IANA number `number`, if EdgeShare supports it.
    pub(crate) fn from_number(number: i32) -> Option<Enctype> {
        Enctype::ALL.into_iter().find(|enctype| enctype.number() == number)
    }

    /// The name RFC 3962, RFC 8009 and MIT's tools (`ktutil -e`, krb5.conf) give it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Enctype::Aes128CtsHmacSha1 => "aes128-cts-hmac-sha1-96",
            Enctype::Aes256CtsHmacSha1 => "aes256-cts-hmac-sha1-96",
            Enctype::Aes128CtsHmacSha256 => "aes128-cts-hmac-sha256-128",
            Enctype::Aes256CtsHmacSha384 => "aes256-cts-hmac-sha384-192",
            Enctype::Rc4Hmac => "rc4-hmac",
        }
    }

    /// Bytes of key (RFC 3962 section 7, RFC 8009 section 5, RFC 4757 section 2).
    pub(crate) fn key_len(self) -> usize {
        match self {
            Enctype::Aes128CtsHmacSha1 | Enctype::Aes128CtsHmacSha256 | Enctype::Rc4Hmac => 16,
            Enctype::Aes256CtsHmacSha1 | Enctype::Aes256CtsHmacSha384 => 32,
        }
    }

    /// The keyed checksum that goes with this enctype (RFC 3961 section 4 "required checksum
    /// mechanism"): what a PAC made with such a key is signed with (MS-PAC 2.8.1).
    pub(crate) fn checksum_type(self) -> ChecksumType {
        match self {
            Enctype::Aes128CtsHmacSha1 => ChecksumType::HmacSha1Aes128,
            Enctype::Aes256CtsHmacSha1 => ChecksumType::HmacSha1Aes256,
            Enctype::Aes128CtsHmacSha256 => ChecksumType::HmacSha256Aes128,
            Enctype::Aes256CtsHmacSha384 => ChecksumType::HmacSha384Aes256,
            Enctype::Rc4Hmac => ChecksumType::HmacMd5,
        }
    }

    /// The PBKDF2 iteration count when the KDC sends no s2kparams (RFC 3962 section 4: 4096;
    /// RFC 8009 section 4: 32768). RC4-HMAC has none: 0.
    #[cfg(test)]
    pub(crate) fn default_iterations(self) -> u32 {
        match self.profile() {
            Profile::Sha1 => 4096,
            Profile::Sha2(_) => 32768,
            Profile::Rc4 => 0,
        }
    }

    fn profile(self) -> Profile {
        match self {
            Enctype::Aes128CtsHmacSha1 | Enctype::Aes256CtsHmacSha1 => Profile::Sha1,
            Enctype::Aes128CtsHmacSha256 => Profile::Sha2(Hash::Sha256),
            Enctype::Aes256CtsHmacSha384 => Profile::Sha2(Hash::Sha384),
            Enctype::Rc4Hmac => Profile::Rc4,
        }
    }

    /// Bytes of integrity tag after the ciphertext, and of checksum: h in RFC 3961 section 5.3
    /// (96 bits), RFC 8009 section 5 (128 or 192 bits), RFC 4757 section 5 (an HMAC-MD5).
    fn mac_len(self) -> usize {
        match self {
            Enctype::Aes128CtsHmacSha1 | Enctype::Aes256CtsHmacSha1 => 12,
            Enctype::Aes128CtsHmacSha256 | Enctype::Rc4Hmac => 16,
            Enctype::Aes256CtsHmacSha384 => 24,
        }
    }
}

impl fmt::Display for Enctype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.number())
    }
}

/// A keyed checksum type (the IANA "Kerberos Checksum Type Numbers"), each tied to one enctype.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ChecksumType {
    /// hmac-sha1-96-aes128, 15 (RFC 3962 section 7).
    HmacSha1Aes128,
    /// hmac-sha1-96-aes256, 16 (RFC 3962 section 7).
    HmacSha1Aes256,
    /// hmac-sha256-128-aes128, 19 (RFC 8009 section 5).
    HmacSha256Aes128,
    /// hmac-sha384-192-aes256, 20 (RFC 8009 section 5).
    HmacSha384Aes256,
    /// hmac-md5, -138 (RFC 4757 section 4), with RC4-HMAC keys.
    HmacMd5,
}

impl ChecksumType {
    const ALL: [ChecksumType; 5] = [
        ChecksumType::HmacSha1Aes128,
        ChecksumType::HmacSha1Aes256,
        ChecksumType::HmacSha256Aes128,
        ChecksumType::HmacSha384Aes256,
        ChecksumType::HmacMd5,
    ];

    /// The IANA number, as `cksumtype` fields and PAC signatures carry it (MS-PAC 2.8).
    pub(crate) fn number(self) -> i32 {
        match self {
            ChecksumType::HmacSha1Aes128 => 15,
            ChecksumType::HmacSha1Aes256 => 16,
            ChecksumType::HmacSha256Aes128 => 19,
            ChecksumType::HmacSha384Aes256 => 20,
            ChecksumType::HmacMd5 => -138,
        }
    }

    /// The checksum type with IANA number `number`, if EdgeShare supports it.
    pub(crate) fn from_number(number: i32) -> Option<ChecksumType> {
        ChecksumType::ALL.into_iter().find(|checksum| checksum.number() == number)
    }

    /// The enctype whose keys compute it.
    pub(crate) fn enctype(self) -> Enctype {
        match self {
            ChecksumType::HmacSha1Aes128 => Enctype::Aes128CtsHmacSha1,
            ChecksumType::HmacSha1Aes256 => Enctype::Aes256CtsHmacSha1,
            ChecksumType::HmacSha256Aes128 => Enctype::Aes128CtsHmacSha256,
            ChecksumType::HmacSha384Aes256 => Enctype::Aes256CtsHmacSha384,
            ChecksumType::HmacMd5 => Enctype::Rc4Hmac,
        }
    }

    /// Bytes of checksum.
    pub(crate) fn len(self) -> usize {
        self.enctype().mac_len()
    }
}

impl fmt::Display for ChecksumType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            ChecksumType::HmacSha1Aes128 => "hmac-sha1-96-aes128",
            ChecksumType::HmacSha1Aes256 => "hmac-sha1-96-aes256",
            ChecksumType::HmacSha256Aes128 => "hmac-sha256-128-aes128",
            ChecksumType::HmacSha384Aes256 => "hmac-sha384-192-aes256",
            ChecksumType::HmacMd5 => "hmac-md5",
        };
        write!(f, "{name} ({})", self.number())
    }
}

/// A protocol key (RFC 3961 section 3) of one enctype, of the right length by construction, and
/// wiped from memory when dropped. Its `Debug` shows the enctype and length, never the bytes.
#[derive(Clone)]
pub(crate) struct Key {
    enctype: Enctype,
    bytes: Zeroizing<Vec<u8>>,
}

impl Key {
    /// A key from raw key material (a keytab's keyblock, a ticket's session key).
    pub(crate) fn new(enctype: Enctype, bytes: &[u8]) -> Result<Key, CryptoError> {
        if bytes.len() != enctype.key_len() {
            return Err(CryptoError::KeyLength { enctype, expected: enctype.key_len(), actual: bytes.len() });
        }
        Ok(Key { enctype, bytes: Zeroizing::new(bytes.to_vec()) })
    }

    pub(crate) fn enctype(&self) -> Enctype {
        self.enctype
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("enctype", &format_args!("{}", self.enctype))
            .field("bytes", &format_args!("<{} bytes redacted>", self.bytes.len()))
            .finish()
    }
}

/// Why a key could not be made or a ciphertext or checksum was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CryptoError {
    #[error("a {enctype} key has {expected} bytes, not {actual}")]
    KeyLength { enctype: Enctype, expected: usize, actual: usize },
    #[error("{length} bytes are too few for {enctype} ciphertext (at least {minimum})")]
    Truncated { enctype: Enctype, length: usize, minimum: usize },
    /// One error for a wrong key, a wrong key usage and altered data: they cannot be told apart.
    #[error("the integrity check failed: wrong key, wrong key usage or altered data")]
    Integrity,
    #[error("a {checksum} checksum cannot be made with a {enctype} key")]
    ChecksumType { checksum: ChecksumType, enctype: Enctype },
    #[cfg(test)]
    #[error("a PBKDF2 iteration count of 0 (RFC 3962 reads it as 2^32, which is refused)")]
    ZeroIterations,
}

/// RFC 3961 section 3 encryption of `plaintext` for key usage `usage` (RFC 4120 section 7.5.1):
/// RFC 3961 section 5.3 for enctypes 17 and 18, RFC 8009 section 5 for 19 and 20, RFC 4757
/// section 5 for 23. The confounder must be fresh randomness from the caller.
pub(crate) fn encrypt(key: &Key, usage: u32, plaintext: &[u8], confounder: &[u8; CONFOUNDER_LEN]) -> Vec<u8> {
    let enctype = key.enctype;
    match enctype.profile() {
        Profile::Sha1 => {
            let ke = derive_sha1_profile(key, usage, 0xAA);
            let ki = derive_sha1_profile(key, usage, 0x55);
            let mut data = [confounder.as_slice(), plaintext].concat();
            let tag = hmac(Hash::Sha1, &ki, &[&data]);
            cts::encrypt(&Aes::new(&ke), &mut data);
            data.extend_from_slice(&tag[..enctype.mac_len()]);
            data
        }
        Profile::Sha2(hash) => {
            let ke = derive_sha2_profile(key, hash, usage, 0xAA, enctype.key_len());
            let ki = derive_sha2_profile(key, hash, usage, 0x55, enctype.mac_len());
            let mut data = [confounder.as_slice(), plaintext].concat();
            cts::encrypt(&Aes::new(&ke), &mut data);
            // The HMAC covers the cipher state (all zeros: the default) and the ciphertext.
            let tag = hmac(hash, &ki, &[&[0; AES_BLOCK], &data]);
            data.extend_from_slice(&tag[..enctype.mac_len()]);
            data
        }
        Profile::Rc4 => {
            let k1 = hmac(Hash::Md5, &key.bytes, &[&rc4_usage(usage).to_le_bytes()]);
            let mut data = [&confounder[..RC4_CONFOUNDER_LEN], plaintext].concat();
            let checksum = hmac(Hash::Md5, &k1, &[&data]);
            let k3 = hmac(Hash::Md5, &k1, &[&checksum]);
            rc4(&k3, &mut data);
            [checksum.as_slice(), &data].concat()
        }
    }
}

/// RFC 3961 section 3 decryption: checks the integrity tag (in constant time) and returns the
/// plaintext without its confounder. Anything but ciphertext made by [`encrypt`] with the same
/// key and usage is refused, never a panic.
pub(crate) fn decrypt(key: &Key, usage: u32, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let enctype = key.enctype;
    let confounder_len = match enctype.profile() {
        Profile::Rc4 => RC4_CONFOUNDER_LEN,
        _ => AES_BLOCK,
    };
    let minimum = confounder_len + enctype.mac_len();
    if ciphertext.len() < minimum {
        return Err(CryptoError::Truncated { enctype, length: ciphertext.len(), minimum });
    }
    let mut data = match enctype.profile() {
        Profile::Sha1 => {
            let (body, tag) = ciphertext.split_at(ciphertext.len() - enctype.mac_len());
            let mut data = Zeroizing::new(body.to_vec());
            cts::decrypt(&Aes::new(&derive_sha1_profile(key, usage, 0xAA)), &mut data);
            let expected = hmac(Hash::Sha1, &derive_sha1_profile(key, usage, 0x55), &[&data]);
            if !constant_time_eq(&expected[..enctype.mac_len()], tag) {
                return Err(CryptoError::Integrity);
            }
            data
        }
        Profile::Sha2(hash) => {
            let (body, tag) = ciphertext.split_at(ciphertext.len() - enctype.mac_len());
            let ki = derive_sha2_profile(key, hash, usage, 0x55, enctype.mac_len());
            let expected = hmac(hash, &ki, &[&[0; AES_BLOCK], body]);
            // Encrypt-then-MAC: nothing is decrypted before the tag holds.
            if !constant_time_eq(&expected[..enctype.mac_len()], tag) {
                return Err(CryptoError::Integrity);
            }
            let mut data = Zeroizing::new(body.to_vec());
            let ke = derive_sha2_profile(key, hash, usage, 0xAA, enctype.key_len());
            cts::decrypt(&Aes::new(&ke), &mut data);
            data
        }
        Profile::Rc4 => {
            let (checksum, body) = ciphertext.split_at(RC4_CHECKSUM_LEN);
            let k1 = hmac(Hash::Md5, &key.bytes, &[&rc4_usage(usage).to_le_bytes()]);
            let k3 = hmac(Hash::Md5, &k1, &[checksum]);
            let mut data = Zeroizing::new(body.to_vec());
            rc4(&k3, &mut data);
            if !constant_time_eq(&hmac(Hash::Md5, &k1, &[&data]), checksum) {
                return Err(CryptoError::Integrity);
            }
            data
        }
    };
    data.drain(..confounder_len);
    Ok(data)
}

/// The keyed checksum of `data` for key usage `usage`, of the key's enctype's checksum type:
/// RFC 3961 section 5.4 (types 15, 16), RFC 8009 section 5 (19, 20), RFC 4757 section 4 (-138).
pub(crate) fn checksum(key: &Key, usage: u32, data: &[u8]) -> Vec<u8> {
    let enctype = key.enctype;
    match enctype.profile() {
        Profile::Sha1 => {
            let kc = derive_sha1_profile(key, usage, 0x99);
            hmac(Hash::Sha1, &kc, &[data])[..enctype.mac_len()].to_vec()
        }
        Profile::Sha2(hash) => {
            let kc = derive_sha2_profile(key, hash, usage, 0x99, enctype.mac_len());
            hmac(hash, &kc, &[data])[..enctype.mac_len()].to_vec()
        }
        Profile::Rc4 => {
            use md5::Digest;
            let signing_key = hmac(Hash::Md5, &key.bytes, &[b"signaturekey\0"]);
            let digest = md5::Md5::new().chain_update(rc4_usage(usage).to_le_bytes()).chain_update(data).finalize();
            hmac(Hash::Md5, &signing_key, &[&digest]).to_vec()
        }
    }
}

/// Checks a keyed checksum of type `checksum_type` (as the message names it) in constant time.
/// A type that does not go with the key's enctype is refused rather than computed otherwise.
pub(crate) fn verify_checksum(
    key: &Key,
    checksum_type: ChecksumType,
    usage: u32,
    data: &[u8],
    expected: &[u8],
) -> Result<(), CryptoError> {
    if checksum_type != key.enctype.checksum_type() {
        return Err(CryptoError::ChecksumType { checksum: checksum_type, enctype: key.enctype });
    }
    match constant_time_eq(&checksum(key, usage, data), expected) {
        true => Ok(()),
        false => Err(CryptoError::Integrity),
    }
}

/// A long-term key from a password (RFC 3961 section 3 string-to-key): PBKDF2-HMAC-SHA1 then
/// DK(tkey, "kerberos") for 17 and 18 (RFC 3962 section 4); PBKDF2-HMAC-SHA256/384 over
/// "enctype-name | 0x00 | salt" then KDF-HMAC-SHA2(tkey, "kerberos") for 19 and 20 (RFC 8009
/// section 4); the NT hash, MD4 of the UTF-16LE password, for 23 (RFC 4757 section 2), which
/// ignores salt and iterations. The usual salt is the principal's realm and components
/// concatenated (RFC 4120 section 4; [`super::keytab::Principal::default_salt`]).
#[cfg(test)]
pub(crate) fn string_to_key(
    enctype: Enctype,
    password: &str,
    salt: &[u8],
    iterations: u32,
) -> Result<Key, CryptoError> {
    let bytes = match enctype.profile() {
        Profile::Rc4 => {
            use md4::Digest;
            let utf16 = Zeroizing::new(crate::proto::utf16::encode(password));
            Zeroizing::new(md4::Md4::digest(utf16.as_slice()).to_vec())
        }
        Profile::Sha1 => {
            let tkey = pbkdf2(Hash::Sha1, password.as_bytes(), salt, iterations, enctype.key_len())?;
            derive_random(&tkey, b"kerberos", enctype.key_len())
        }
        Profile::Sha2(hash) => {
            let saltp = [enctype.name().as_bytes(), &[0], salt].concat();
            let tkey = pbkdf2(hash, password.as_bytes(), &saltp, iterations, enctype.key_len())?;
            kdf_hmac_sha2(hash, &tkey, b"kerberos", enctype.key_len())
        }
    };
    Key::new(enctype, &bytes)
}

/// The derivation constant of RFC 3961 section 5.3 and RFC 8009 section 5: the key usage (big
/// endian) and 0x99 (checksum key Kc), 0xAA (encryption key Ke) or 0x55 (integrity key Ki).
fn usage_constant(usage: u32, purpose: u8) -> [u8; 5] {
    let [a, b, c, d] = usage.to_be_bytes();
    [a, b, c, d, purpose]
}

/// DK(base-key, usage | purpose) of RFC 3961 section 5.3, for AES keys of RFC 3962.
fn derive_sha1_profile(key: &Key, usage: u32, purpose: u8) -> Zeroizing<Vec<u8>> {
    derive_random(&key.bytes, &usage_constant(usage, purpose), key.enctype.key_len())
}

/// Kc, Ke or Ki of RFC 8009 section 5: KDF-HMAC-SHA2(base-key, usage | purpose, len).
fn derive_sha2_profile(key: &Key, hash: Hash, usage: u32, purpose: u8, len: usize) -> Zeroizing<Vec<u8>> {
    kdf_hmac_sha2(hash, &key.bytes, &usage_constant(usage, purpose), len)
}

/// RFC 4757 section 3: the message type T the RC4 key derivation uses for a Kerberos key usage.
/// Only the AS-REP's encrypted part differs (3 becomes 8). The RFC's table also maps 9 (TGS-REP
/// under a subkey) to 8; current MIT krb5 keeps 9, and so does EdgeShare, whose acceptor never
/// meets usage 9.
fn rc4_usage(usage: u32) -> u32 {
    match usage {
        3 => 8,
        other => other,
    }
}

fn rc4(key: &[u8], data: &mut [u8]) {
    use rc4::{KeyInit as _, StreamCipher};
    let mut cipher = rc4::Rc4::new_from_slice(key).expect("RC4-HMAC keys are 16 bytes");
    cipher.apply_keystream(data);
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests;
