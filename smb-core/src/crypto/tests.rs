use super::*;

#[test]
fn every_cipher_opens_what_it_sealed_and_refuses_a_tampered_message() {
    for (cipher, key_len) in
        [(Cipher::AES_128_CCM, 16), (Cipher::AES_128_GCM, 16), (Cipher::AES_256_CCM, 32), (Cipher::AES_256_GCM, 32)]
    {
        let key = vec![7; key_len];
        let encryptor = Encryptor::new(cipher, &key).unwrap();
        let nonce = [9; 16];
        let aad = [1; 32];
        let mut data = b"a message long enough to span blocks of sixteen bytes".to_vec();
        let tag = encryptor.seal(&nonce, &aad, &mut data);
        assert_ne!(&data[..], b"a message long enough to span blocks of sixteen bytes", "{}", cipher.name());
        let mut opened = data.clone();
        encryptor.open(&nonce, &aad, &mut opened, 0, &tag).unwrap();
        assert_eq!(&opened[..], b"a message long enough to span blocks of sixteen bytes");
        let mut tampered = data.clone();
        tampered[3] ^= 1;
        assert_eq!(
            encryptor.open(&nonce, &aad, &mut tampered, 0, &tag),
            Err(CryptoError::Authentication),
            "{}",
            cipher.name()
        );
    }
}

#[test]
fn a_key_of_the_wrong_length_is_refused() {
    assert!(Encryptor::new(Cipher::AES_256_GCM, &[0; 16]).is_err());
}

#[test]
fn gmac_signatures_depend_on_direction_and_message_id() {
    let signer = Signer::new(Dialect::SMB3_1_1, SigningAlgorithm::AES_GMAC, &[3; 16]).unwrap();
    let message = [5; 80];
    let request = signer.sign(&message, 7, false, false);
    assert_ne!(request, signer.sign(&message, 7, true, false));
    assert_ne!(request, signer.sign(&message, 8, false, false));
    assert_eq!(request, signer.sign(&message, 7, false, false));
}

#[test]
fn dialects_before_311_ignore_the_negotiated_signing_algorithm() {
    let key = [4; 16];
    let message = [6; 70];
    let smb30 = Signer::new(Dialect::SMB3_0, SigningAlgorithm::AES_GMAC, &key).unwrap();
    let cmac = Signer::new(Dialect::SMB3_1_1, SigningAlgorithm::AES_CMAC, &key).unwrap();
    assert_eq!(smb30.sign(&message, 1, false, false), cmac.sign(&message, 1, false, false));
}
