use super::*;
use crate::auth::kerberos::crypto::{self, Enctype};
use crate::auth::kerberos::keytab::name_type;
use crate::auth::kerberos::messages::{EncryptedData, Ticket};

fn client() -> Principal {
    Principal::new("EXAMPLE.TEST", &["cifs", "fs.example.test"], name_type::PRINCIPAL)
}

fn key(byte: u8) -> Key {
    Key::new(Enctype::Aes256CtsHmacSha1, &[byte; 32]).unwrap()
}

fn tgt() -> Vec<u8> {
    let sname = PrincipalName { name_type: 2, components: vec!["krbtgt".into(), "EXAMPLE.TEST".into()] };
    let enc_part = EncryptedData { etype: 18, kvno: Some(1), cipher: vec![0xAB; 64] };
    Ticket { realm: "EXAMPLE.TEST".into(), sname, enc_part }.encode().unwrap()
}

/// An AS-REP as a KDC writes it, its EncASRepPart (tag `n`) under `key`.
fn as_rep(n: u8, key: &Key, nonce: u32, cname: &Principal) -> Vec<u8> {
    let session = EncryptionKey { keytype: 18, keyvalue: Zeroizing::new(vec![0x5A; 32]) };
    let krbtgt = PrincipalName { name_type: 2, components: vec!["krbtgt".into(), "EXAMPLE.TEST".into()] };
    let last_req = der::encode(
        der::SEQUENCE,
        &der::encode(der::SEQUENCE, &[field(0, &der::encode_integer(0)), field(1, &encode_time(0))].concat()),
    );
    let mut part = field(0, &session.encode());
    part.extend(field(1, &last_req));
    part.extend(field(2, &der::encode_integer(nonce.into())));
    part.extend(field(4, &encode_flags(0x0040_0000)));
    part.extend(field(5, &encode_time(1_800_000_000)));
    part.extend(field(7, &encode_time(1_800_036_000)));
    part.extend(field(9, &encode_string("EXAMPLE.TEST")));
    part.extend(field(10, &krbtgt.encode()));
    let part = encode_application(n, &part, "EncASRepPart").unwrap();
    let sealed = EncryptedData::seal(key, key_usage::AS_REP_ENC_PART, &part, &[3; CONFOUNDER_LEN]);
    let mut sequence = field(0, &der::encode_integer(PVNO));
    sequence.extend(field(1, &der::encode_integer(msg_type::AS_REP)));
    sequence.extend(field(3, &encode_string(&cname.realm)));
    sequence.extend(field(4, &PrincipalName::from(cname).encode()));
    sequence.extend(field(5, &tgt()));
    sequence.extend(field(6, &sealed.encode()));
    encode_application(11, &sequence, "AS-REP").unwrap()
}

#[test]
fn an_as_rep_for_our_request_gives_the_tgt_unchanged_and_its_session_key() {
    for n in [25, 26] {
        let reply = AsReply::decode(&as_rep(n, &key(1), 77, &client()), &client(), &key(1), 77).unwrap();
        assert_eq!(reply.ticket, tgt(), "EncASRepPart tag {n}");
        assert_eq!(reply.session_key.bytes(), &[0x5A; 32]);
        assert_eq!((reply.authtime, reply.endtime), (1_800_000_000, 1_800_036_000));
    }
}

#[test]
fn an_as_rep_with_another_nonce_key_or_client_is_refused() {
    let other = Principal::new("EXAMPLE.TEST", &["cifs", "other"], name_type::PRINCIPAL);
    assert!(AsReply::decode(&as_rep(25, &key(1), 78, &client()), &client(), &key(1), 77).is_err(), "nonce");
    assert!(AsReply::decode(&as_rep(25, &key(2), 77, &client()), &client(), &key(1), 77).is_err(), "key");
    assert!(AsReply::decode(&as_rep(25, &key(1), 77, &other), &client(), &key(1), 77).is_err(), "client");
    let mut truncated = as_rep(25, &key(1), 77, &client());
    truncated.truncate(truncated.len() - 1);
    assert!(AsReply::decode(&truncated, &client(), &key(1), 77).is_err(), "truncated");
}

#[test]
fn an_as_req_is_pre_authenticated_with_a_timestamp_only_the_key_decrypts() {
    let request = AsRequest {
        client: &client(),
        key: Some(&key(1)),
        now: (1_800_000_000, 250_000),
        till: 1_800_036_000,
        nonce: 9,
    };
    let bytes = request.encode(&[4; CONFOUNDER_LEN]).unwrap();
    let mut fields = Fields::application(&bytes, 10, "AS-REQ").unwrap();
    expect_integer(&fields.required(1, "pvno").unwrap(), PVNO, "pvno").unwrap();
    expect_integer(&fields.required(2, "msg-type").unwrap(), msg_type::AS_REQ, "msg-type").unwrap();
    let padata = fields.required(3, "padata").unwrap();
    let mut list = Reader::new(padata.value);
    let mut pa = Fields::sequence(&der::read(&mut list).unwrap(), "PA-DATA").unwrap();
    let kind = der::integer(&pa.required(1, "padata-type").unwrap(), "padata-type").unwrap();
    assert_eq!(kind, i64::from(pa_type::ENC_TIMESTAMP));
    let value = pa.required(2, "padata-value").unwrap();
    let mut inner = Reader::new(value.value);
    let sealed = EncryptedData::decode(&der::read(&mut inner).unwrap(), "PA-ENC-TIMESTAMP").unwrap();
    let plaintext = sealed.decrypt(&key(1), key_usage::PA_ENC_TIMESTAMP, "PA-ENC-TIMESTAMP").unwrap();
    let mut timestamp = Fields::sequence(&der::read(&mut Reader::new(&plaintext)).unwrap(), "PA-ENC-TS-ENC").unwrap();
    assert_eq!(time(&timestamp.required(0, "patimestamp").unwrap(), "patimestamp").unwrap(), 1_800_000_000);
    assert!(crypto::decrypt(&key(2), key_usage::PA_ENC_TIMESTAMP, &sealed.cipher).is_err());
    fields.required(4, "req-body").unwrap();
    fields.finish().unwrap();
}

#[test]
fn a_tgt_request_round_trips_and_the_reply_carries_the_ticket_as_issued() {
    let request = TgtRequest {
        server_name: Some(PrincipalName { name_type: 2, components: vec!["cifs".into(), "fs.example.test".into()] }),
        realm: None,
    };
    assert_eq!(TgtRequest::decode(&request.encode()).unwrap(), request);
    let reply = encode_tgt_reply(&tgt());
    let mut reader = Reader::new(&reply);
    let mut fields = Fields::sequence(&der::read(&mut reader).unwrap(), "KERB-TGT-REPLY").unwrap();
    expect_integer(&fields.required(0, "pvno").unwrap(), PVNO, "pvno").unwrap();
    expect_integer(&fields.required(1, "msg-type").unwrap(), msg_type::TGT_REP, "msg-type").unwrap();
    assert_eq!(fields.required(2, "ticket").unwrap().raw, tgt().as_slice());
    assert!(TgtRequest::decode(&reply).is_err(), "a reply is not a request");
    assert!(TgtRequest::decode(&[0x30, 0x03, 0xa0, 0x01]).is_err(), "truncated");
}

#[test]
fn an_as_req_without_a_key_has_no_pre_authentication_and_offers_every_enctype() {
    let request = AsRequest { client: &client(), key: None, now: (1_800_000_000, 0), till: 1_800_000_060, nonce: 1 };
    let bytes = request.encode(&[0; CONFOUNDER_LEN]).unwrap();
    let mut fields = Fields::application(&bytes, 10, "AS-REQ").unwrap();
    fields.required(1, "pvno").unwrap();
    fields.required(2, "msg-type").unwrap();
    assert!(fields.optional(3, "padata").unwrap().is_none());
    let body = fields.required(4, "req-body").unwrap();
    let mut body = Fields::sequence(&body, "KDC-REQ-BODY").unwrap();
    for n in [0, 1, 2, 3, 5, 7] {
        body.required(n, "field").unwrap();
    }
    let etypes = body.required(8, "etype").unwrap();
    let mut reader = Reader::new(etypes.value);
    let mut offered = Vec::new();
    while !reader.is_empty() {
        offered.push(der::integer(&der::read(&mut reader).unwrap(), "etype").unwrap());
    }
    assert_eq!(offered.len(), Enctype::ALL.len());
}
