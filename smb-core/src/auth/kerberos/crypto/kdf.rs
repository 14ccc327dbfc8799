//! The key-derivation primitives of the Kerberos profiles: HMAC, PBKDF2 (RFC 3962 section 4,
//! RFC 8009 section 4), n-fold and DR (RFC 3961 section 5.1), KDF-HMAC-SHA2 (RFC 8009 section 3).

use hmac::{Hmac, KeyInit, Mac};
use zeroize::Zeroizing;

#[cfg(test)]
use super::CryptoError;
use super::cts::{AES_BLOCK, Aes};

/// The hash under an HMAC or a PBKDF2.
#[derive(Clone, Copy)]
pub(super) enum Hash {
    Md5,
    Sha1,
    Sha256,
    Sha384,
}

/// HMAC (RFC 2104) of the concatenated `parts`.
pub(super) fn hmac(hash: Hash, key: &[u8], parts: &[&[u8]]) -> Zeroizing<Vec<u8>> {
    fn run<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Zeroizing<Vec<u8>> {
        let mut mac = <M as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
        for part in parts {
            mac.update(part);
        }
        Zeroizing::new(mac.finalize().into_bytes().to_vec())
    }
    match hash {
        Hash::Md5 => run::<Hmac<md5::Md5>>(key, parts),
        Hash::Sha1 => run::<Hmac<sha1::Sha1>>(key, parts),
        Hash::Sha256 => run::<Hmac<sha2::Sha256>>(key, parts),
        Hash::Sha384 => run::<Hmac<sha2::Sha384>>(key, parts),
    }
}

/// PBKDF2 with HMAC-`hash` as its PRF (PKCS #5 v2.0), `len` bytes: the first step of RFC 3962
/// section 4 and RFC 8009 section 4 string-to-key.
#[cfg(test)]
pub(super) fn pbkdf2(
    hash: Hash,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    len: usize,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if iterations == 0 {
        return Err(CryptoError::ZeroIterations);
    }
    let mut out = Zeroizing::new(vec![0; len]);
    match hash {
        Hash::Sha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, iterations, &mut out),
        Hash::Sha256 => pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, &mut out),
        Hash::Sha384 => pbkdf2::pbkdf2_hmac::<sha2::Sha384>(password, salt, iterations, &mut out),
        // No enctype asks for it; computing it keeps the function total.
        Hash::Md5 => pbkdf2::pbkdf2_hmac::<md5::Md5>(password, salt, iterations, &mut out),
    }
    Ok(out)
}

/// DR of RFC 3961 section 5.1 (DK too: AES's random-to-key is the identity, RFC 3962 section 6):
/// the n-folded constant encrypted, and each block encrypted again, until `len` bytes.
pub(super) fn derive_random(base: &[u8], constant: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let cipher = Aes::new(base);
    let mut block = [0; AES_BLOCK];
    block.copy_from_slice(&n_fold(constant, AES_BLOCK));
    let mut out = Zeroizing::new(Vec::with_capacity(len + AES_BLOCK));
    while out.len() < len {
        cipher.encrypt(&mut block);
        out.extend_from_slice(&block);
    }
    out.truncate(len);
    out
}

/// KDF-HMAC-SHA2 of RFC 8009 section 3 (SP 800-108 counter mode, one round, no context):
/// the first `len` bytes of HMAC(key, 00000001 | label | 00 | bits as a 32-bit big-endian).
pub(super) fn kdf_hmac_sha2(hash: Hash, key: &[u8], label: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let bits = u32::try_from(len * 8).expect("derived keys are at most 32 bytes");
    let mut out = hmac(hash, key, &[&1u32.to_be_bytes(), label, &[0], &bits.to_be_bytes()]);
    out.truncate(len);
    out
}

/// n-fold of RFC 3961 section 5.1: `input` repeated to the least common multiple of both
/// lengths, each repetition rotated 13 bits further right, then cut into `len`-byte pieces
/// added with end-around carry (ones' complement).
pub(super) fn n_fold(input: &[u8], len: usize) -> Vec<u8> {
    let input_bits = input.len() * 8;
    let total = input.len() / gcd(input.len(), len) * len;
    let mut sums = vec![0_u32; len];
    for index in 0..total {
        let rotation = 13 * (index / input.len()) % input_bits;
        let mut byte = 0_u8;
        for bit in 0..8 {
            let source = (8 * (index % input.len()) + bit + input_bits - rotation) % input_bits;
            byte |= ((input[source / 8] >> (7 - source % 8)) & 1) << (7 - bit);
        }
        sums[index % len] += u32::from(byte);
    }
    // Carries run from the last (least significant) byte up, and out of the first back in at
    // the last, until none is left.
    let mut carry = 0;
    loop {
        for sum in sums.iter_mut().rev() {
            let value = *sum + carry;
            *sum = value & 0xff;
            carry = value >> 8;
        }
        if carry == 0 {
            break;
        }
    }
    sums.into_iter().map(|sum| sum as u8).collect()
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}
