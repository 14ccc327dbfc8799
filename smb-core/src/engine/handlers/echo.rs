//! ECHO (MS-SMB2 3.3.5.17): a keep-alive.

use crate::engine::connection::Connection;
use crate::engine::dispatch::{Error, Outcome, Request};
use crate::proto::Writer;
use crate::proto::echo::{EchoRequest, EchoResponse};

pub(crate) fn handle(_conn: &mut Connection, req: &Request<'_>, out: &mut Writer) -> Result<Outcome, Error> {
    EchoRequest::decode(req.message)?;
    EchoResponse::default().encode(out);
    Outcome::ok()
}
