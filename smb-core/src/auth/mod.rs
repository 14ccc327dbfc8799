//! Authentication of SESSION_SETUP: SPNEGO carrying NTLMv2, checked against EdgeShare's local
//! users, or Kerberos, checked against the service's keytab. A step function: each client token
//! in, the next server token (or a verdict) out.

pub(crate) mod der;
pub mod kerberos;
pub mod ntlm;
pub(crate) mod spnego;

use std::sync::Mutex;

use zeroize::Zeroizing;

use self::kerberos::acceptor::{self, Accepted, Policy};
use self::kerberos::crypto::Key;
use self::kerberos::keytab::Keytab;
use self::kerberos::messages::gss::{Mech, OID_KRB5, OID_MS_KRB5};
use self::kerberos::mic;
use self::kerberos::replay::ReplayCache;
use self::kerberos::service_ticket::ServiceTicket;
use self::ntlm::{Rejection, flags};
use self::spnego::{ClientToken, NegState, NegTokenResp, OID_NTLMSSP};
use crate::engine::clock::Now;
use crate::engine::shared::lock;
use crate::proto::NtStatus;

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
    /// No mechanism the server accepts now.
    NoCommonMechanism,
    /// NTLM, which the server's policy refuses.
    NtlmRefused,
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
    /// A refused Kerberos AP-REQ, or a Kerberos context that could not finish; `client` is the
    /// ticket's client when the ticket could be read.
    Kerberos {
        client: Option<String>,
        reason: &'static str,
        status: NtStatus,
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
            Failure::Kerberos { client, .. } => client.as_deref(),
            _ => None,
        }
    }

    pub(crate) fn reason(&self) -> String {
        match self {
            Failure::Malformed(why) => format!("malformed security token: {why}"),
            Failure::NoCommonMechanism => "the client offered no mechanism the server accepts".into(),
            Failure::NtlmRefused => "NTLM is refused by the server's policy; only Kerberos may sign in".into(),
            Failure::Anonymous => "anonymous and guest sign-in are not allowed".into(),
            Failure::UnknownUser { .. } => "unknown or disabled user".into(),
            Failure::WrongPassword { .. } => "wrong password".into(),
            Failure::NotNtlmV2 { .. } => "the client used NTLMv1 or LM, which the server refuses".into(),
            Failure::BadMic { .. } => "the NTLM message integrity check failed".into(),
            Failure::BadMechListMic { .. } => "the SPNEGO mechanism list integrity check failed".into(),
            Failure::Kerberos { reason, .. } => format!("Kerberos: {reason}"),
        }
    }

    /// The NT status the client gets; the caller turns lockout into ACCOUNT_LOCKED_OUT.
    pub(crate) fn status(&self) -> NtStatus {
        match self {
            Failure::Malformed(_) => NtStatus::INVALID_PARAMETER,
            Failure::Kerberos { status, .. } => *status,
            _ => NtStatus::LOGON_FAILURE,
        }
    }
}

/// Who signed in.
pub(crate) enum Client {
    /// A local user by NTLM, the name as the client typed it.
    Local(String),
    /// A Kerberos principal, its ticket checked.
    Kerberos(Box<Accepted>),
}

/// A successful authentication.
pub(crate) struct Authenticated {
    pub client: Client,
    /// The key SMB 3 derives its keys from: NTLM's 16 bytes, or the Kerberos context key
    /// (32 bytes for AES-256: MS-SMB2 3.3.5.5.3 FullSessionKey).
    pub session_key: Zeroizing<Vec<u8>>,
    /// The last token for the client (SPNEGO accept-completed with our mechListMIC, or the
    /// AP-REP).
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

/// What Kerberos needs: the service keys, the acceptor's policy and the server's replay cache.
pub(crate) struct KerberosInputs<'a> {
    pub keytab: &'a Keytab,
    /// Our TGTs, for user-to-user clients ([`kerberos::service_ticket`]).
    pub tgts: &'a [ServiceTicket],
    pub policy: Policy,
    pub replay: &'a Mutex<ReplayCache>,
}

/// Everything a step may read besides the token.
pub(crate) struct Inputs<'a> {
    pub identity: &'a ServerIdentity,
    pub users: &'a dyn UserLookup,
    pub now: Now,
    /// Fresh randomness from the caller for the NTLM CHALLENGE (the core draws none itself).
    pub server_challenge: [u8; 8],
    /// Whether NTLM is accepted ([`crate::engine::config::NtlmPolicy`]).
    pub ntlm: bool,
    /// `None`: Kerberos is not offered (no keytab).
    pub kerberos: Option<KerberosInputs<'a>>,
    /// Fills buffers with fresh random bytes (the Kerberos AP-REP's subkey and confounder).
    pub random: &'a mut dyn FnMut(&mut [u8]),
}

/// How long a TGT must still be valid for us to hand it to a user-to-user client: long enough
/// for the client's TGS exchange and its AP-REQ.
const TGT_MARGIN: std::time::Duration = std::time::Duration::from_secs(300);

/// A mechanism SPNEGO can pick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mechanism {
    Ntlm,
    Kerberos(Mech),
}

impl Mechanism {
    fn of(oid: &[u8]) -> Option<Mechanism> {
        match oid {
            OID_NTLMSSP => Some(Mechanism::Ntlm),
            OID_KRB5 => Some(Mechanism::Kerberos(Mech::Krb5)),
            OID_MS_KRB5 => Some(Mechanism::Kerberos(Mech::MsKrb5)),
            _ => None,
        }
    }

    fn oid(self) -> &'static [u8] {
        match self {
            Mechanism::Ntlm => OID_NTLMSSP,
            Mechanism::Kerberos(mech) => mech.oid(),
        }
    }

    fn offered(self, inputs: &Inputs<'_>) -> bool {
        match self {
            Mechanism::Ntlm => inputs.ntlm,
            Mechanism::Kerberos(_) => inputs.kerberos.is_some(),
        }
    }
}

enum State {
    Start,
    /// SPNEGO picked a mechanism that was not the client's first choice (or came without a
    /// token): its first token is next, and the mechanism list must then be signed (RFC 4178
    /// section 5).
    Selected {
        mechanism: Mechanism,
        mech_types_der: Vec<u8>,
        mic: MicExchange,
    },
    Challenged {
        spnego: bool,
        mech_types_der: Vec<u8>,
        mic_required: bool,
        negotiate: Vec<u8>,
        challenge: Vec<u8>,
        server_challenge: [u8; 8],
        flags: u32,
    },
    /// Kerberos accepted and our mechListMIC sent: the client's is next.
    AwaitingMic {
        authenticated: Box<Authenticated>,
        mech_types_der: Vec<u8>,
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

/// The mechanism hint for the NEGOTIATE response's security buffer (MS-SPNG 3.2.5.2): the
/// Kerberos OIDs first when a keytab is configured (the Microsoft one first, as Windows lists
/// them), then NTLMSSP unless the policy refuses it.
pub(crate) fn negotiate_hint(kerberos: bool, ntlm: bool) -> Vec<u8> {
    let mut mechs: Vec<&[u8]> = Vec::new();
    if kerberos {
        mechs.extend([OID_MS_KRB5, OID_KRB5]);
    }
    if ntlm {
        mechs.push(OID_NTLMSSP);
    }
    spnego::encode_init2(&mechs)
}

fn reply(state: NegState, mech: Option<Mechanism>, token: Option<Vec<u8>>, mic: Option<Vec<u8>>) -> Vec<u8> {
    spnego::encode_resp(&NegTokenResp {
        neg_state: Some(state),
        supported_mech: mech.map(|m| m.oid().to_vec()),
        response_token: token,
        mech_list_mic: mic,
    })
}

impl Acceptor {
    /// Feeds the client's next token.
    pub(crate) fn step(&mut self, token: &[u8], inputs: &mut Inputs<'_>) -> Step {
        let parsed = match spnego::parse_client_token(token) {
            Ok(parsed) => parsed,
            Err(error) => return self.fail(Failure::Malformed(error.to_string())),
        };
        match (std::mem::replace(&mut self.state, State::Finished), parsed) {
            (State::Start, ClientToken::Init(init)) => {
                // RFC 4178 section 3.2 (c): the client's most preferred mechanism we accept.
                let offered: Vec<Mechanism> = init.mech_types.iter().filter_map(|oid| Mechanism::of(oid)).collect();
                let Some(chosen) = offered.iter().copied().find(|m| m.offered(inputs)) else {
                    let refused_ntlm = !inputs.ntlm && offered.contains(&Mechanism::Ntlm);
                    return self.fail(if refused_ntlm { Failure::NtlmRefused } else { Failure::NoCommonMechanism });
                };
                let first = init.mech_types.first().and_then(|oid| Mechanism::of(oid)) == Some(chosen);
                match init.mech_token {
                    // The optimistic token is for the chosen mechanism.
                    Some(token) if first => match chosen {
                        Mechanism::Ntlm => self.challenge(true, init.mech_types_der, false, &token, inputs),
                        // User-to-user: the client asks for our TGT first; its AP-REQ follows,
                        // for a ticket under the TGT's session key. Without a TGT for the name
                        // it asks for, the reply has no token and the client may go on without.
                        Mechanism::Kerberos(_) if acceptor::is_tgt_request(&token) => {
                            let tgt_reply = inputs.kerberos.as_ref().and_then(|kerberos| {
                                acceptor::tgt_reply(&token, kerberos.tgts, inputs.now, TGT_MARGIN)
                            });
                            self.state = State::Selected {
                                mechanism: chosen,
                                mech_types_der: init.mech_types_der,
                                mic: MicExchange::Ours,
                            };
                            Step::Continue(reply(NegState::AcceptIncomplete, Some(chosen), tgt_reply, None))
                        }
                        Mechanism::Kerberos(_) => {
                            let negotiation = Negotiation {
                                mechanism: chosen,
                                mech_types_der: init.mech_types_der,
                                mic: MicExchange::None,
                            };
                            self.kerberos(Some(negotiation), &token, inputs)
                        }
                    },
                    // Another mechanism's token, or none: ask for the chosen one's.
                    _ => {
                        self.state = State::Selected {
                            mechanism: chosen,
                            mech_types_der: init.mech_types_der,
                            mic: MicExchange::Both,
                        };
                        Step::Continue(reply(NegState::AcceptIncomplete, Some(chosen), None, None))
                    }
                }
            }
            (State::Start, ClientToken::RawNtlmssp(token)) if inputs.ntlm => {
                self.challenge(false, Vec::new(), false, &token, inputs)
            }
            (State::Start, ClientToken::RawNtlmssp(_)) => self.fail(Failure::NtlmRefused),
            (State::Start, ClientToken::RawKerberos(token)) if inputs.kerberos.is_some() => {
                self.kerberos(None, &token, inputs)
            }
            (State::Start, ClientToken::RawKerberos(_)) => self.fail(Failure::NoCommonMechanism),
            (State::Start, ClientToken::Resp(resp)) => match resp.response_token {
                // An NTLM NEGOTIATE without a NegTokenInit before it, as some clients send.
                Some(token) if inputs.ntlm => self.challenge(true, Vec::new(), false, &token, inputs),
                Some(_) => self.fail(Failure::NtlmRefused),
                None => self.fail(Failure::Malformed("a response token without the NTLM negotiate".into())),
            },
            (State::Selected { mechanism, mech_types_der, mic }, ClientToken::Resp(resp)) => {
                let Some(token) = resp.response_token else {
                    return self.fail(Failure::Malformed("no token for the selected mechanism".into()));
                };
                match mechanism {
                    Mechanism::Ntlm => self.challenge(true, mech_types_der, true, &token, inputs),
                    Mechanism::Kerberos(_) => {
                        let negotiation = Negotiation { mechanism, mech_types_der, mic };
                        self.kerberos(Some(negotiation), &token, inputs)
                    }
                }
            }
            (State::Selected { .. }, _) => {
                self.fail(Failure::Malformed("unexpected token after the mechanism was selected".into()))
            }
            (
                State::Challenged {
                    spnego,
                    mech_types_der,
                    mic_required,
                    negotiate,
                    challenge,
                    server_challenge,
                    flags,
                },
                token,
            ) => {
                let (authenticate, mech_list_mic) = match token {
                    ClientToken::Resp(resp) if spnego => match resp.response_token {
                        Some(token) => (token, resp.mech_list_mic),
                        None => return self.fail(Failure::Malformed("no AUTHENTICATE in the response token".into())),
                    },
                    ClientToken::RawNtlmssp(token) if !spnego => (token, None),
                    _ => return self.fail(Failure::Malformed("unexpected token after the challenge".into())),
                };
                let context =
                    Challenged { spnego, mech_types_der, mic_required, negotiate, challenge, server_challenge, flags };
                self.authenticate(context, &authenticate, mech_list_mic.as_deref(), inputs.users)
            }
            (State::AwaitingMic { authenticated, mech_types_der }, ClientToken::Resp(resp)) => {
                let Client::Kerberos(accepted) = &authenticated.client else {
                    return self.fail(Failure::Malformed("a MIC for no Kerberos context".into()));
                };
                let client = Some(accepted.client.to_string());
                let verified = match (Key::new(accepted.session_enctype, &accepted.session_key), resp.mech_list_mic) {
                    (Ok(key), Some(token)) => {
                        mic::verify_initiator_mic(&key, accepted.acceptor_subkey, &mech_types_der, &token).is_ok()
                    }
                    _ => false,
                };
                if !verified {
                    return self.fail(Failure::Kerberos {
                        client,
                        reason: "the SPNEGO mechanism list integrity check failed",
                        status: NtStatus::LOGON_FAILURE,
                    });
                }
                let mut authenticated = authenticated;
                authenticated.response_token = reply(NegState::AcceptCompleted, None, None, None);
                Step::Done(authenticated)
            }
            (State::AwaitingMic { .. }, _) => {
                self.fail(Failure::Malformed("expected the client's mechanism list MIC".into()))
            }
            (State::Finished, _) => self.fail(Failure::Malformed("the authentication is already over".into())),
        }
    }

    /// Checks a Kerberos AP-REQ, which came in SPNEGO (`negotiation`) or bare (`None`).
    fn kerberos(&mut self, negotiation: Option<Negotiation>, token: &[u8], inputs: &mut Inputs<'_>) -> Step {
        let Some(kerberos) = &inputs.kerberos else {
            return self.fail(Failure::NoCommonMechanism);
        };
        let accepted = acceptor::accept(
            token,
            kerberos.keytab,
            kerberos.tgts,
            &kerberos.policy,
            &mut lock(kerberos.replay),
            inputs.now,
            &mut inputs.random,
        );
        let accepted = match accepted {
            Ok(accepted) => accepted,
            Err(rejected) => {
                return self.fail(Failure::Kerberos { client: None, reason: rejected.reason, status: rejected.status });
            }
        };
        let Some(Negotiation { mechanism, mech_types_der, mic }) = negotiation else {
            let response_token = accepted.reply.clone().unwrap_or_default();
            let session_key = accepted.session_key.clone();
            return Step::Done(Box::new(Authenticated {
                client: Client::Kerberos(Box::new(accepted)),
                session_key,
                response_token,
            }));
        };
        let session_key = accepted.session_key.clone();
        let ours = || {
            Key::new(accepted.session_enctype, &accepted.session_key).map_err(|_| mic::MicError::Unsupported).and_then(
                |key| {
                    mic::acceptor_mic(&key, accepted.acceptor_subkey, u64::from(accepted.seq_number), &mech_types_der)
                },
            )
        };
        if mic != MicExchange::Both {
            // An RC4 context cannot sign; the exchange is optional here, so it completes without.
            let ours = if mic == MicExchange::Ours { ours().ok() } else { None };
            let response_token = reply(NegState::AcceptCompleted, Some(mechanism), accepted.reply.clone(), ours);
            return Step::Done(Box::new(Authenticated {
                client: Client::Kerberos(Box::new(accepted)),
                session_key,
                response_token,
            }));
        }
        // Kerberos was not the client's first choice: both sides sign the mechanism list
        // (RFC 4178 section 5), ours now with the AP-REP, the client's in its next token.
        let client = Some(accepted.client.to_string());
        let Ok(ours) = ours() else {
            return self.fail(Failure::Kerberos {
                client,
                reason: "an RC4 context cannot sign the SPNEGO mechanism list; the client should prefer Kerberos",
                status: NtStatus::LOGON_FAILURE,
            });
        };
        let token = reply(NegState::AcceptIncomplete, Some(mechanism), accepted.reply.clone(), Some(ours));
        self.state = State::AwaitingMic {
            authenticated: Box::new(Authenticated {
                client: Client::Kerberos(Box::new(accepted)),
                session_key,
                response_token: Vec::new(),
            }),
            mech_types_der,
        };
        Step::Continue(token)
    }

    fn fail(&mut self, failure: Failure) -> Step {
        self.state = State::Finished;
        Step::Failed(failure)
    }

    fn challenge(
        &mut self,
        spnego: bool,
        mech_types_der: Vec<u8>,
        mic_required: bool,
        negotiate_bytes: &[u8],
        inputs: &Inputs<'_>,
    ) -> Step {
        let (identity, now_filetime, server_challenge) =
            (inputs.identity, inputs.now.filetime(), inputs.server_challenge);
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
            mic_required,
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
                // it, the list (and so the choice of NTLM) could have been downgraded. So must
                // a client whose first choice was another mechanism (RFC 4178 section 5).
                None if verified.mic_present || context.mic_required => {
                    return self.fail(Failure::BadMechListMic { user });
                }
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
        let session_key = Zeroizing::new(verified.session_key.to_vec());
        Step::Done(Box::new(Authenticated { client: Client::Local(user), session_key, response_token }))
    }
}

/// The SPNEGO side of a mechanism's exchange: which mechanism the server picked from the
/// client's list (and names in supportedMech), that list as signed, and whether it must be.
struct Negotiation {
    mechanism: Mechanism,
    mech_types_der: Vec<u8>,
    mic: MicExchange,
}

/// Who signs the mechanism list when Kerberos completes (RFC 4178 section 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MicExchange {
    /// The client's first mechanism with its optimistic token: no one.
    None,
    /// Kerberos was the client's first mechanism and is ours, but its first token asked for
    /// our TGT (user-to-user): the exchange is optional (both sides' preferred mechanism), so
    /// we send our MIC for a client that checks it and complete without waiting for the
    /// client's, as the sspi-rs clients that ask for user-to-user expect.
    Ours,
    /// Not the client's first mechanism: both, ours with the AP-REP and the client's next.
    Both,
}

struct Challenged {
    spnego: bool,
    mech_types_der: Vec<u8>,
    mic_required: bool,
    negotiate: Vec<u8>,
    challenge: Vec<u8>,
    server_challenge: [u8; 8],
    flags: u32,
}

#[cfg(test)]
mod tests;
