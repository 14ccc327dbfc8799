//! Authentication of SESSION_SETUP: SPNEGO carrying NTLMv2, checked against EdgeShare's local
//! users. A step function: each client token in, the next server token (or a verdict) out.

pub(crate) mod der;
pub(crate) mod kerberos;
pub mod ntlm;
pub(crate) mod spnego;

use zeroize::Zeroizing;

use self::ntlm::{Rejection, flags};
use self::spnego::{ClientToken, NegState, NegTokenResp, OID_NTLMSSP};

/// Where the acceptor finds a user's NT hash. `None`: no such user, or the user may not sign in.
pub(crate) trait UserLookup {
    fn nt_hash(&self, user: &str) -> Option<[u8; 16]>;
}

/// Why a session setup failed: logged and turned into an event, never sent to the client
/// beyond its NT status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The token could not be parsed or came out of order.
    Malformed(String),
    /// No mechanism EdgeShare speaks (only NTLMSSP).
    NoCommonMechanism,
    /// An anonymous (null session) or guest attempt; refused by default.
    Anonymous,
    UnknownUser {
        user: String,
    },
    WrongPassword {
        user: String,
    },
    NotNtlmV2 {
        user: String,
    },
    BadMic {
        user: String,
    },
    BadMechListMic {
        user: String,
    },
}

impl Failure {
    pub(crate) fn user(&self) -> Option<&str> {
        match self {
            Failure::UnknownUser { user }
            | Failure::WrongPassword { user }
            | Failure::NotNtlmV2 { user }
            | Failure::BadMic { user }
            | Failure::BadMechListMic { user } => Some(user),
            _ => None,
        }
    }

    pub(crate) fn reason(&self) -> String {
        match self {
            Failure::Malformed(why) => format!("malformed security token: {why}"),
            Failure::NoCommonMechanism => "the client offered no mechanism the server accepts (NTLM)".into(),
            Failure::Anonymous => "anonymous and guest sign-in are not allowed".into(),
            Failure::UnknownUser { .. } => "unknown or disabled user".into(),
            Failure::WrongPassword { .. } => "wrong password".into(),
            Failure::NotNtlmV2 { .. } => "the client used NTLMv1 or LM, which the server refuses".into(),
            Failure::BadMic { .. } => "the NTLM message integrity check failed".into(),
            Failure::BadMechListMic { .. } => "the SPNEGO mechanism list integrity check failed".into(),
        }
    }
}

/// A successful authentication.
pub(crate) struct Authenticated {
    pub user: String,
    pub session_key: Zeroizing<[u8; 16]>,
    /// The last token for the client (SPNEGO accept-completed with our mechListMIC).
    pub response_token: Vec<u8>,
}

/// The outcome of one step.
pub(crate) enum Step {
    /// Send this token with STATUS_MORE_PROCESSING_REQUIRED and wait for the next one.
    Continue(Vec<u8>),
    Done(Box<Authenticated>),
    Failed(Failure),
}

/// Identity the server shows in its CHALLENGE (MS-NLMP 2.2.1.2 TargetInfo).
#[derive(Clone, Debug)]
pub(crate) struct ServerIdentity {
    /// NetBIOS-style computer name, upper case.
    pub computer: String,
    /// NetBIOS-style domain (workgroup) name, upper case.
    pub domain: String,
    pub dns_computer: String,
    pub dns_domain: String,
}

enum State {
    Start,
    Challenged {
        spnego: bool,
        mech_types_der: Vec<u8>,
        negotiate: Vec<u8>,
        challenge: Vec<u8>,
        server_challenge: [u8; 8],
        flags: u32,
    },
    Finished,
}

/// One session setup's authentication in progress.
pub(crate) struct Acceptor {
    state: State,
}

impl Default for Acceptor {
    fn default() -> Self {
        Acceptor { state: State::Start }
    }
}

/// The mechanism hint for the NEGOTIATE response's security buffer.
pub(crate) fn negotiate_hint() -> Vec<u8> {
    spnego::encode_init2(&[OID_NTLMSSP])
}

impl Acceptor {
    /// Feeds the client's next token. `now_filetime` stamps the CHALLENGE (MsvAvTimestamp) and
    /// `server_challenge` is fresh randomness from the caller (the core draws none itself).
    pub(crate) fn step(
        &mut self,
        token: &[u8],
        identity: &ServerIdentity,
        users: &dyn UserLookup,
        now_filetime: u64,
        server_challenge: [u8; 8],
    ) -> Step {
        let parsed = match spnego::parse_client_token(token) {
            Ok(parsed) => parsed,
            Err(error) => return self.fail(Failure::Malformed(error.to_string())),
        };
        match (std::mem::replace(&mut self.state, State::Finished), parsed) {
            (State::Start, ClientToken::Init(init)) => {
                if !init.mech_types.iter().any(|m| m == OID_NTLMSSP) {
                    return self.fail(Failure::NoCommonMechanism);
                }
                match init.mech_token {
                    // An optimistic token for another mechanism, or none: ask for NTLMSSP.
                    Some(token) if init.mech_types.first().is_some_and(|m| m == OID_NTLMSSP) => {
                        self.challenge(true, init.mech_types_der, &token, identity, now_filetime, server_challenge)
                    }
                    _ => {
                        self.state = State::Start;
                        Step::Continue(spnego::encode_resp(&NegTokenResp {
                            neg_state: Some(NegState::AcceptIncomplete),
                            supported_mech: Some(OID_NTLMSSP.to_vec()),
                            response_token: None,
                            mech_list_mic: None,
                        }))
                    }
                }
            }
            (State::Start, ClientToken::RawNtlmssp(token)) => {
                self.challenge(false, Vec::new(), &token, identity, now_filetime, server_challenge)
            }
            (State::Start, ClientToken::Resp(resp)) => match resp.response_token {
                // The NTLM NEGOTIATE after the server picked NTLMSSP on a mismatched first token.
                Some(token) => self.challenge(true, Vec::new(), &token, identity, now_filetime, server_challenge),
                None => self.fail(Failure::Malformed("a response token without the NTLM negotiate".into())),
            },
            (State::Challenged { spnego, mech_types_der, negotiate, challenge, server_challenge, flags }, token) => {
                let (authenticate, mech_list_mic) = match token {
                    ClientToken::Resp(resp) if spnego => match resp.response_token {
                        Some(token) => (token, resp.mech_list_mic),
                        None => return self.fail(Failure::Malformed("no AUTHENTICATE in the response token".into())),
                    },
                    ClientToken::RawNtlmssp(token) if !spnego => (token, None),
                    _ => return self.fail(Failure::Malformed("unexpected token after the challenge".into())),
                };
                let context = Challenged { spnego, mech_types_der, negotiate, challenge, server_challenge, flags };
                self.authenticate(context, &authenticate, mech_list_mic.as_deref(), users)
            }
            (State::Finished, _) => self.fail(Failure::Malformed("the authentication is already over".into())),
        }
    }

    fn fail(&mut self, failure: Failure) -> Step {
        self.state = State::Finished;
        Step::Failed(failure)
    }

    fn challenge(
        &mut self,
        spnego: bool,
        mech_types_der: Vec<u8>,
        negotiate_bytes: &[u8],
        identity: &ServerIdentity,
        now_filetime: u64,
        server_challenge: [u8; 8],
    ) -> Step {
        let negotiate = match ntlm::Negotiate::decode(negotiate_bytes) {
            Ok(negotiate) => negotiate,
            Err(error) => return self.fail(Failure::Malformed(error.to_string())),
        };
        let wanted = flags::UNICODE
            | flags::SIGN
            | flags::SEAL
            | flags::ALWAYS_SIGN
            | flags::EXTENDED_SESSIONSECURITY
            | flags::VERSION
            | flags::N128
            | flags::KEY_EXCH
            | flags::N56;
        let flags = (negotiate.flags & wanted)
            | flags::REQUEST_TARGET
            | flags::NTLM
            | flags::TARGET_INFO
            | flags::TARGET_TYPE_SERVER;
        use crate::proto::utf16::encode as utf16;
        let target_info = ntlm::encode_av_pairs(&[
            (ntlm::av::NB_DOMAIN_NAME, utf16(&identity.domain)),
            (ntlm::av::NB_COMPUTER_NAME, utf16(&identity.computer)),
            (ntlm::av::DNS_DOMAIN_NAME, utf16(&identity.dns_domain)),
            (ntlm::av::DNS_COMPUTER_NAME, utf16(&identity.dns_computer)),
            (ntlm::av::TIMESTAMP, now_filetime.to_le_bytes().to_vec()),
        ]);
        let challenge =
            ntlm::Challenge { flags, server_challenge, target_name: identity.computer.clone(), target_info }.encode();
        let token = if spnego {
            spnego::encode_resp(&NegTokenResp {
                neg_state: Some(NegState::AcceptIncomplete),
                supported_mech: Some(OID_NTLMSSP.to_vec()),
                response_token: Some(challenge.clone()),
                mech_list_mic: None,
            })
        } else {
            challenge.clone()
        };
        self.state = State::Challenged {
            spnego,
            mech_types_der,
            negotiate: negotiate_bytes.to_vec(),
            challenge,
            server_challenge,
            flags,
        };
        Step::Continue(token)
    }

    fn authenticate(
        &mut self,
        context: Challenged,
        authenticate_bytes: &[u8],
        mech_list_mic: Option<&[u8]>,
        users: &dyn UserLookup,
    ) -> Step {
        let auth = match ntlm::Authenticate::decode(authenticate_bytes) {
            Ok(auth) => auth,
            Err(error) => return self.fail(Failure::Malformed(error.to_string())),
        };
        if auth.user.is_empty() || auth.flags & flags::ANONYMOUS != 0 {
            return self.fail(Failure::Anonymous);
        }
        let user = auth.user.clone();
        // A name that is no account is checked too, against a hash no password has: it then
        // fails where and as slowly as a wrong password would, so that neither the status nor
        // the time tells a client which names are accounts.
        let hash = users.nt_hash(&user);
        let verified = match (
            ntlm::verify(
                &auth,
                &hash.unwrap_or([0; 16]),
                &context.server_challenge,
                [&context.negotiate, &context.challenge, authenticate_bytes],
            ),
            hash,
        ) {
            (Err(Rejection::NotNtlmV2), _) => return self.fail(Failure::NotNtlmV2 { user }),
            (Err(Rejection::Malformed), _) => {
                return self.fail(Failure::Malformed("an NTLMv2 client challenge whose AV pairs do not parse".into()));
            }
            (_, None) => return self.fail(Failure::UnknownUser { user }),
            (Ok(verified), Some(_)) => verified,
            (Err(Rejection::WrongPassword), Some(_)) => return self.fail(Failure::WrongPassword { user }),
            (Err(Rejection::BadMic), Some(_)) => return self.fail(Failure::BadMic { user }),
        };
        let negotiated = context.flags & auth.flags;
        let mut server_mic = None;
        if context.spnego && !context.mech_types_der.is_empty() {
            match mech_list_mic {
                Some(mic) => {
                    let mut client = ntlm::SealingKeys::client_to_server(&verified.session_key, negotiated);
                    if !client.verify(&context.mech_types_der, mic) {
                        return self.fail(Failure::BadMechListMic { user });
                    }
                }
                // A client whose NTLM message has a MIC also signs the mechanism list: without
                // it, the list (and so the choice of NTLM) could have been downgraded.
                None if verified.mic_present => return self.fail(Failure::BadMechListMic { user }),
                None => {}
            }
            // Sent even when the client sent none: clients that compute a MIC require one back.
            let mut server = ntlm::SealingKeys::server_to_client(&verified.session_key, negotiated);
            server_mic = Some(server.sign(&context.mech_types_der).to_vec());
        }
        let response_token = if context.spnego {
            spnego::encode_resp(&NegTokenResp {
                neg_state: Some(NegState::AcceptCompleted),
                supported_mech: None,
                response_token: None,
                mech_list_mic: server_mic,
            })
        } else {
            Vec::new()
        };
        self.state = State::Finished;
        Step::Done(Box::new(Authenticated { user, session_key: verified.session_key, response_token }))
    }
}

struct Challenged {
    spnego: bool,
    mech_types_der: Vec<u8>,
    negotiate: Vec<u8>,
    challenge: Vec<u8>,
    server_challenge: [u8; 8],
    flags: u32,
}

#[cfg(test)]
mod tests;
