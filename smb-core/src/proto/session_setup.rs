//! MS-SMB2 2.2.5 SMB2 SESSION_SETUP Request and 2.2.6 SMB2 SESSION_SETUP Response.

use super::reader::{DecodeError, Writer};
use super::{body, expect_structure_size};

/// MS-SMB2 2.2.5 `Flags`.
pub const SESSION_BINDING: u8 = 0x01;

/// MS-SMB2 2.2.6 `SessionFlags`.
pub mod session_flags {
    pub const IS_GUEST: u16 = 0x0001;
    pub const IS_NULL: u16 = 0x0002;
    pub const ENCRYPT_DATA: u16 = 0x0004;
}

/// MS-SMB2 2.2.5 SMB2 SESSION_SETUP Request.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SessionSetupRequest {
    pub flags: u8,
    pub security_mode: u8,
    pub capabilities: u32,
    pub channel: u32,
    pub previous_session_id: u64,
    /// The GSS token (SPNEGO or raw NTLMSSP).
    pub security_buffer: Vec<u8>,
}

impl SessionSetupRequest {
    pub const STRUCTURE_SIZE: u16 = 25;

    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let mut r = body(message)?;
        expect_structure_size(&mut r, Self::STRUCTURE_SIZE, "SESSION_SETUP request")?;
        let flags = r.u8("Flags")?;
        let security_mode = r.u8("SecurityMode")?;
        let capabilities = r.u32("Capabilities")?;
        let channel = r.u32("Channel")?;
        let offset = usize::from(r.u16("SecurityBufferOffset")?);
        let length = usize::from(r.u16("SecurityBufferLength")?);
        let previous_session_id = r.u64("PreviousSessionId")?;
        let security_buffer =
            if length == 0 { Vec::new() } else { r.slice_at(offset, length, "SecurityBuffer")?.to_vec() };
        Ok(SessionSetupRequest { flags, security_mode, capabilities, channel, previous_session_id, security_buffer })
    }

    pub fn encode(&self, out: &mut Writer) {
        let offset = out.len() + 24;
        out.u16(Self::STRUCTURE_SIZE).u8(self.flags).u8(self.security_mode).u32(self.capabilities).u32(self.channel);
        out.u16(offset as u16).u16(self.security_buffer.len() as u16).u64(self.previous_session_id);
        out.bytes(&self.security_buffer);
    }
}

/// MS-SMB2 2.2.6 SMB2 SESSION_SETUP Response.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SessionSetupResponse {
    pub session_flags: u16,
    pub security_buffer: Vec<u8>,
}

impl SessionSetupResponse {
    pub const STRUCTURE_SIZE: u16 = 9;

    pub fn encode(&self, out: &mut Writer) {
        let offset = out.len() + 8;
        out.u16(Self::STRUCTURE_SIZE).u16(self.session_flags);
        out.u16(if self.security_buffer.is_empty() { 0 } else { offset as u16 }).u16(self.security_buffer.len() as u16);
        if self.security_buffer.is_empty() {
            out.u8(0);
        } else {
            out.bytes(&self.security_buffer);
        }
    }

    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let mut r = body(message)?;
        expect_structure_size(&mut r, Self::STRUCTURE_SIZE, "SESSION_SETUP response")?;
        let session_flags = r.u16("SessionFlags")?;
        let offset = usize::from(r.u16("SecurityBufferOffset")?);
        let length = usize::from(r.u16("SecurityBufferLength")?);
        let security_buffer =
            if length == 0 { Vec::new() } else { r.slice_at(offset, length, "SecurityBuffer")?.to_vec() };
        Ok(SessionSetupResponse { session_flags, security_buffer })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::header::Command;
    use crate::proto::testing::{body_hex, message};

    #[test]
    fn session_setup_request_golden_bytes_round_trip() {
        let request = SessionSetupRequest { security_mode: 1, security_buffer: vec![0x60, 0x00], ..Default::default() };
        let bytes = message(Command::SESSION_SETUP, |out| request.encode(out));
        assert_eq!(body_hex(&bytes), "1900000100000000000000005800020000000000000000006000");
        assert_eq!(SessionSetupRequest::decode(&bytes).unwrap(), request);
    }

    #[test]
    fn session_setup_response_round_trips() {
        let response =
            SessionSetupResponse { session_flags: session_flags::ENCRYPT_DATA, security_buffer: vec![0xa1, 0x00] };
        let bytes = message(Command::SESSION_SETUP, |out| response.encode(out));
        assert_eq!(body_hex(&bytes), "0900040048000200a100");
        assert_eq!(SessionSetupResponse::decode(&bytes).unwrap(), response);
    }

    #[test]
    fn a_security_buffer_beyond_the_message_is_refused() {
        let request = SessionSetupRequest { security_buffer: vec![1, 2, 3], ..Default::default() };
        let mut bytes = message(Command::SESSION_SETUP, |out| request.encode(out));
        bytes.pop();
        assert!(SessionSetupRequest::decode(&bytes).is_err());
    }
}
