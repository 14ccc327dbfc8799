//! The cryptography of SMB 2 and 3: key derivation (MS-SMB2 3.1.4.2), preauthentication
//! integrity (3.3.5.4), signing (3.1.4.1) and encryption (3.1.4.3). Pure functions over bytes.
//!
//! AES-GCM, GMAC, HMAC-SHA256 and SHA-512 come from aws-lc-rs (several times faster than the
//! portable implementations here); AES-CCM and AES-CMAC, which it lacks, from RustCrypto.

use aes::cipher::KeyInit;
use aws_lc_rs::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::{digest, hmac};
use zeroize::Zeroizing;

use crate::proto::negotiate::{Cipher, Dialect, SigningAlgorithm};

/// A secret key, wiped from memory when dropped.
pub type Key = Zeroizing<Vec<u8>>;

/// SP800-108 key derivation in counter mode with HMAC-SHA256, as MS-SMB2 3.1.4.2 uses it:
/// `HMAC(key, [1]_32 || label || 0x00 || context || [L]_32)`, truncated to `length` bytes (16 or 32).
pub fn kdf(key: &[u8], label: &[u8], context: &[u8], length: usize) -> Key {
    debug_assert!(length == 16 || length == 32);
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut context_bytes = hmac::Context::with_key(&key);
    context_bytes.update(&1u32.to_be_bytes());
    context_bytes.update(label);
    context_bytes.update(&[0]);
    context_bytes.update(context);
    context_bytes.update(&((length * 8) as u32).to_be_bytes());
    let tag = context_bytes.sign();
    Zeroizing::new(tag.as_ref()[..length].to_vec())
}

/// The keys of one session (MS-SMB2 3.2.5.3.1 / 3.3.5.5.3).
pub struct SessionKeys {
    pub signing: Key,
    /// Client-to-server: what the server decrypts with.
    pub decryption: Key,
    /// Server-to-client: what the server encrypts with.
    pub encryption: Key,
    pub application: Key,
}

impl SessionKeys {
    /// Derives the keys from the authentication's session key. `preauth_hash` is the session's
    /// preauthentication hash (3.1.1 only); `cipher` decides the encryption key length.
    pub fn derive(dialect: Dialect, session_key: &[u8], preauth_hash: &[u8], cipher: Option<Cipher>) -> SessionKeys {
        // Session.SessionKey is the first 16 bytes of the authentication's key, zero-padded if
        // shorter; Session.FullSessionKey the whole key, which 3.1.1 derives the AES-256 cipher
        // keys from (3.3.5.5.3). NTLM's key has 16 bytes; Kerberos AES-256 sessions' 32.
        let full_key = session_key;
        let mut padded = Zeroizing::new([0; 16]);
        let head = session_key.len().min(16);
        padded[..head].copy_from_slice(&session_key[..head]);
        let session_key = &padded[..];
        let key_len = cipher.map_or(16, Cipher::key_len);
        if dialect == Dialect::SMB3_1_1 {
            let cipher_key = if key_len == 32 { full_key } else { session_key };
            SessionKeys {
                signing: kdf(session_key, b"SMBSigningKey\0", preauth_hash, 16),
                decryption: kdf(cipher_key, b"SMBC2SCipherKey\0", preauth_hash, key_len),
                encryption: kdf(cipher_key, b"SMBS2CCipherKey\0", preauth_hash, key_len),
                application: kdf(session_key, b"SMBAppKey\0", preauth_hash, 16),
            }
        } else if dialect.is_smb3() {
            SessionKeys {
                signing: kdf(session_key, b"SMB2AESCMAC\0", b"SmbSign\0", 16),
                decryption: kdf(session_key, b"SMB2AESCCM\0", b"ServerIn \0", 16),
                encryption: kdf(session_key, b"SMB2AESCCM\0", b"ServerOut\0", 16),
                application: kdf(session_key, b"SMB2APP\0", b"SmbRpc\0", 16),
            }
        } else {
            // SMB 2.x signs with the session key itself and has no encryption.
            SessionKeys {
                signing: Zeroizing::new(session_key.to_vec()),
                decryption: Zeroizing::new(Vec::new()),
                encryption: Zeroizing::new(Vec::new()),
                application: Zeroizing::new(session_key.to_vec()),
            }
        }
    }
}

/// The SHA-512 chain of MS-SMB2 3.3.5.4 / 3.3.5.5: `H = SHA-512(H || message)`.
#[derive(Clone, PartialEq, Eq)]
pub struct PreauthHash(pub [u8; 64]);

impl Default for PreauthHash {
    fn default() -> Self {
        PreauthHash([0; 64])
    }
}

impl std::fmt::Debug for PreauthHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PreauthHash({:02x?}..)", &self.0[..4])
    }
}

impl PreauthHash {
    pub fn update(&mut self, message: &[u8]) {
        let mut context = digest::Context::new(&digest::SHA512);
        context.update(&self.0);
        context.update(message);
        self.0.copy_from_slice(context.finish().as_ref());
    }
}

/// A signing key with its algorithm (MS-SMB2 3.1.4.1).
pub enum Signer {
    HmacSha256(hmac::Key),
    AesCmac(Box<cmac::Cmac<aes::Aes128>>),
    AesGmac(LessSafeKey),
}

impl Signer {
    pub fn new(dialect: Dialect, algorithm: SigningAlgorithm, key: &[u8]) -> Option<Signer> {
        let algorithm = match dialect {
            d if d == Dialect::SMB3_1_1 => algorithm,
            d if d.is_smb3() => SigningAlgorithm::AES_CMAC,
            _ => SigningAlgorithm::HMAC_SHA256,
        };
        Some(match algorithm {
            SigningAlgorithm::HMAC_SHA256 => Signer::HmacSha256(hmac::Key::new(hmac::HMAC_SHA256, key)),
            SigningAlgorithm::AES_CMAC => {
                Signer::AesCmac(Box::new(cmac::Cmac::<aes::Aes128>::new_from_slice(key).ok()?))
            }
            SigningAlgorithm::AES_GMAC => Signer::AesGmac(LessSafeKey::new(UnboundKey::new(&AES_128_GCM, key).ok()?)),
            _ => return None,
        })
    }

    /// The signature of `message`, whose signature field (bytes 48..64) must already be zero.
    /// `message_id`, `is_response` and `is_cancel` make the GMAC nonce (MS-SMB2 3.1.4.1).
    pub fn sign(&self, message: &[u8], message_id: u64, is_response: bool, is_cancel: bool) -> [u8; 16] {
        let mut signature = [0; 16];
        match self {
            Signer::HmacSha256(key) => signature.copy_from_slice(&hmac::sign(key, message).as_ref()[..16]),
            Signer::AesCmac(cmac) => {
                use cmac::Mac;
                let mut mac = (**cmac).clone();
                mac.update(message);
                signature.copy_from_slice(&mac.finalize().into_bytes());
            }
            Signer::AesGmac(key) => {
                let mut nonce = [0; 12];
                nonce[..8].copy_from_slice(&message_id.to_le_bytes());
                nonce[8] = u8::from(is_response) | (u8::from(is_cancel) << 1);
                let tag = key
                    .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(message), &mut [])
                    .expect("GMAC over an in-memory message cannot fail");
                signature.copy_from_slice(tag.as_ref());
            }
        }
        signature
    }
}

/// Why a message could not be decrypted.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("the message failed authentication")]
    Authentication,
    #[error("the key has the wrong length for the cipher")]
    Key,
}

/// Bytes an encrypted message's buffer needs past its end while it is decrypted in place.
pub const TAG_ROOM: usize = 16;

/// An encryption key with its cipher (MS-SMB2 3.1.4.3).
pub enum Encryptor {
    Gcm(LessSafeKey),
    Ccm128(Box<ccm::Ccm<aes::Aes128, ccm::consts::U16, ccm::consts::U11>>),
    Ccm256(Box<ccm::Ccm<aes::Aes256, ccm::consts::U16, ccm::consts::U11>>),
}

impl Encryptor {
    pub fn new(cipher: Cipher, key: &[u8]) -> Result<Encryptor, CryptoError> {
        Ok(match cipher {
            Cipher::AES_128_GCM => {
                Encryptor::Gcm(LessSafeKey::new(UnboundKey::new(&AES_128_GCM, key).map_err(|_| CryptoError::Key)?))
            }
            Cipher::AES_256_GCM => {
                Encryptor::Gcm(LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(|_| CryptoError::Key)?))
            }
            Cipher::AES_128_CCM => {
                Encryptor::Ccm128(Box::new(ccm::Ccm::new_from_slice(key).map_err(|_| CryptoError::Key)?))
            }
            Cipher::AES_256_CCM => {
                Encryptor::Ccm256(Box::new(ccm::Ccm::new_from_slice(key).map_err(|_| CryptoError::Key)?))
            }
            _ => return Err(CryptoError::Key),
        })
    }

    /// Bytes of the transform header's 16-byte nonce field this cipher uses.
    pub fn nonce_len(&self) -> usize {
        match self {
            Encryptor::Gcm(_) => 12,
            _ => 11,
        }
    }

    /// Encrypts `data` in place; returns the 16-byte tag. `nonce` holds at least
    /// [`Encryptor::nonce_len`] bytes.
    pub fn seal(&self, nonce: &[u8], aad: &[u8], data: &mut [u8]) -> [u8; 16] {
        let mut signature = [0; 16];
        match self {
            Encryptor::Gcm(key) => {
                let mut n = [0; 12];
                n.copy_from_slice(&nonce[..12]);
                let tag = key
                    .seal_in_place_separate_tag(Nonce::assume_unique_for_key(n), Aad::from(aad), data)
                    .expect("AES-GCM over an in-memory message cannot fail");
                signature.copy_from_slice(tag.as_ref());
            }
            Encryptor::Ccm128(cipher) => signature.copy_from_slice(&ccm_seal(cipher.as_ref(), nonce, aad, data)),
            Encryptor::Ccm256(cipher) => signature.copy_from_slice(&ccm_seal(cipher.as_ref(), nonce, aad, data)),
        }
        signature
    }

    /// Decrypts `buffer[start..]` in place after checking `tag`. The buffer grows by the tag
    /// for a moment (AES-GCM wants ciphertext and tag together) and shrinks back.
    pub fn open(
        &self,
        nonce: &[u8],
        aad: &[u8],
        buffer: &mut Vec<u8>,
        start: usize,
        tag: &[u8; 16],
    ) -> Result<(), CryptoError> {
        match self {
            Encryptor::Gcm(key) => {
                let mut n = [0; 12];
                n.copy_from_slice(&nonce[..12]);
                buffer.extend_from_slice(tag);
                let result = key
                    .open_in_place(Nonce::assume_unique_for_key(n), Aad::from(aad), &mut buffer[start..])
                    .map(|_| ());
                buffer.truncate(buffer.len() - tag.len());
                result.map_err(|_| CryptoError::Authentication)
            }
            Encryptor::Ccm128(cipher) => ccm_open(cipher.as_ref(), nonce, aad, &mut buffer[start..], tag),
            Encryptor::Ccm256(cipher) => ccm_open(cipher.as_ref(), nonce, aad, &mut buffer[start..], tag),
        }
    }
}

fn ccm_seal<C: ccm::aead::AeadInOut + ccm::aead::AeadCore>(
    cipher: &C,
    nonce: &[u8],
    aad: &[u8],
    data: &mut [u8],
) -> Vec<u8> {
    let nonce = ccm::aead::Nonce::<C>::try_from(&nonce[..11]).expect("CCM nonces are 11 bytes");
    let tag =
        cipher.encrypt_inout_detached(&nonce, aad, data.into()).expect("CCM over an in-memory message cannot fail");
    tag.to_vec()
}

fn ccm_open<C: ccm::aead::AeadInOut + ccm::aead::AeadCore>(
    cipher: &C,
    nonce: &[u8],
    aad: &[u8],
    data: &mut [u8],
    tag: &[u8; 16],
) -> Result<(), CryptoError> {
    let nonce = ccm::aead::Nonce::<C>::try_from(&nonce[..11]).map_err(|_| CryptoError::Key)?;
    let tag = ccm::aead::Tag::<C>::try_from(&tag[..]).map_err(|_| CryptoError::Authentication)?;
    cipher.decrypt_inout_detached(&nonce, aad, data.into(), &tag).map_err(|_| CryptoError::Authentication)
}

#[cfg(test)]
mod tests;
