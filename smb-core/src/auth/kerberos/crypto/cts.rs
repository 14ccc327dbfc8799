//! AES in CBC mode with ciphertext stealing and a zero IV, the cipher of RFC 3962 section 5 that
//! RFC 8009 reuses, written over the `aes` block cipher.

use aes::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};

pub(super) const AES_BLOCK: usize = 16;

/// AES-128 or AES-256 by key length (16 or 32 bytes, as `Key::new` and the KDFs guarantee).
pub(super) enum Aes {
    Aes128(aes::Aes128),
    Aes256(aes::Aes256),
}

impl Aes {
    pub(super) fn new(key: &[u8]) -> Aes {
        match key.len() {
            16 => Aes::Aes128(aes::Aes128::new_from_slice(key).expect("a 16-byte key")),
            _ => Aes::Aes256(aes::Aes256::new_from_slice(key).expect("a 32-byte key")),
        }
    }

    pub(super) fn encrypt(&self, block: &mut [u8; AES_BLOCK]) {
        let mut array = aes::Block::from(*block);
        match self {
            Aes::Aes128(cipher) => cipher.encrypt_block(&mut array),
            Aes::Aes256(cipher) => cipher.encrypt_block(&mut array),
        }
        *block = array.into();
    }

    pub(super) fn decrypt(&self, block: &mut [u8; AES_BLOCK]) {
        let mut array = aes::Block::from(*block);
        match self {
            Aes::Aes128(cipher) => cipher.decrypt_block(&mut array),
            Aes::Aes256(cipher) => cipher.decrypt_block(&mut array),
        }
        *block = array.into();
    }
}

fn xor(block: &mut [u8; AES_BLOCK], other: &[u8; AES_BLOCK]) {
    block.iter_mut().zip(other).for_each(|(a, b)| *a ^= b);
}

fn block_at(data: &[u8], index: usize) -> [u8; AES_BLOCK] {
    let mut block = [0; AES_BLOCK];
    block.copy_from_slice(&data[index * AES_BLOCK..(index + 1) * AES_BLOCK]);
    block
}

/// CBC with ciphertext stealing and a zero IV (RFC 3962 section 5), in place: CBC over all
/// blocks with the last one zero-padded, the last two ciphertext blocks swapped, and the
/// output cut to the input's length. One block alone is plain AES. Needs at least one block,
/// which the confounder guarantees.
pub(super) fn encrypt(cipher: &Aes, data: &mut [u8]) {
    debug_assert!(data.len() >= AES_BLOCK);
    let blocks = data.len().div_ceil(AES_BLOCK);
    let last_len = data.len() - (blocks - 1) * AES_BLOCK;
    let mut chain = [0; AES_BLOCK];
    for index in 0..blocks - 1 {
        let mut block = block_at(data, index);
        xor(&mut block, &chain);
        cipher.encrypt(&mut block);
        data[index * AES_BLOCK..(index + 1) * AES_BLOCK].copy_from_slice(&block);
        chain = block;
    }
    if blocks == 1 {
        let mut block = block_at(data, 0);
        cipher.encrypt(&mut block);
        data.copy_from_slice(&block);
        return;
    }
    // `chain` is now the next-to-last ciphertext block; it moves last, cut short.
    let mut last = [0; AES_BLOCK];
    last[..last_len].copy_from_slice(&data[(blocks - 1) * AES_BLOCK..]);
    xor(&mut last, &chain);
    cipher.encrypt(&mut last);
    data[(blocks - 2) * AES_BLOCK..(blocks - 1) * AES_BLOCK].copy_from_slice(&last);
    data[(blocks - 1) * AES_BLOCK..].copy_from_slice(&chain[..last_len]);
}

/// The inverse of [`encrypt`].
pub(super) fn decrypt(cipher: &Aes, data: &mut [u8]) {
    debug_assert!(data.len() >= AES_BLOCK);
    let blocks = data.len().div_ceil(AES_BLOCK);
    let last_len = data.len() - (blocks - 1) * AES_BLOCK;
    if blocks == 1 {
        let mut block = block_at(data, 0);
        cipher.decrypt(&mut block);
        data.copy_from_slice(&block);
        return;
    }
    let mut chain = [0; AES_BLOCK];
    for index in 0..blocks - 2 {
        let ciphertext = block_at(data, index);
        let mut block = ciphertext;
        cipher.decrypt(&mut block);
        xor(&mut block, &chain);
        data[index * AES_BLOCK..(index + 1) * AES_BLOCK].copy_from_slice(&block);
        chain = ciphertext;
    }
    // The swapped pair: a full block (the last plaintext, padded, under the stolen one), then
    // the head of the stolen block; its tail is in the padding of the full one.
    let mut padded_last = block_at(data, blocks - 2);
    cipher.decrypt(&mut padded_last);
    let mut stolen = padded_last;
    stolen[..last_len].copy_from_slice(&data[(blocks - 1) * AES_BLOCK..]);
    xor(&mut padded_last, &stolen);
    let mut next_to_last = stolen;
    cipher.decrypt(&mut next_to_last);
    xor(&mut next_to_last, &chain);
    data[(blocks - 2) * AES_BLOCK..(blocks - 1) * AES_BLOCK].copy_from_slice(&next_to_last);
    data[(blocks - 1) * AES_BLOCK..].copy_from_slice(&padded_last[..last_len]);
}
