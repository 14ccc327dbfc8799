//! OPLOCK_BREAK acknowledgments (MS-SMB2 3.3.5.22). EdgeShare grants no oplocks or leases, so
//! there is never a break to acknowledge.

use crate::engine::connection::Connection;
use crate::engine::dispatch::{Error, Outcome, Request};
use crate::proto::oplock_break::OplockBreakAcknowledgment;
use crate::proto::{NtStatus, Writer};

pub fn handle(_conn: &mut Connection, req: &Request<'_>, _out: &mut Writer) -> Result<Outcome, Error> {
    match OplockBreakAcknowledgment::decode(req.message)? {
        OplockBreakAcknowledgment::Oplock { .. } => Err(NtStatus::INVALID_OPLOCK_PROTOCOL.into()),
        OplockBreakAcknowledgment::Lease { .. } => Err(NtStatus::OBJECT_NAME_NOT_FOUND.into()),
    }
}
