//! The only code that owns sockets. A transport accepts connections and moves Direct-TCP framed
//! bytes between its stream and a [`Connection`]; TCP and QUIC share [`drive`].

pub mod client_access;
mod handshakes;
pub mod quic;
pub(crate) mod tcp;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};

use crate::engine::clock::Now;
use crate::engine::config::Limits;
use crate::engine::connection::{Connection, ConnectionInfo, Frame, Output};
use crate::engine::ids::{AsyncId, ConnectionId};
use crate::engine::shared::{Admission, Control, RESPONSE_UNIT, Refusal, Shared};
use crate::proto::framing;
use crate::proto::header::Header;
use crate::proto::reader::Reader;

fn max_message(shared: &Shared) -> usize {
    shared.runtime().config.server.max_message()
}

/// The largest message a connection accepts now: small until it has an authenticated session
/// (only NEGOTIATE and SESSION_SETUP are valid before), then [`max_message`].
fn message_limit(shared: &Shared, connection: &Connection) -> usize {
    if connection.has_valid_session() {
        max_message(shared)
    } else {
        shared.runtime().config.server.limits.preauth_max_message as usize
    }
}

/// Where a connection's frames go, in order, in pieces of at most [`SEND_PIECE`] bytes.
pub(crate) trait FrameSink: Send + 'static {
    /// Sends one piece of a frame.
    fn send(&mut self, piece: Bytes) -> impl Future<Output = std::io::Result<()>> + Send;
    /// Ends the sending direction once everything sent has gone out.
    fn finish(&mut self) -> impl Future<Output = ()> + Send;
}

/// A byte stream (a TCP socket) as a frame sink: frames are copied into it.
pub(crate) struct Copying<W>(pub W);

impl<W: AsyncWrite + Unpin + Send + 'static> FrameSink for Copying<W> {
    async fn send(&mut self, piece: Bytes) -> std::io::Result<()> {
        self.0.write_all(&piece).await
    }

    async fn finish(&mut self) {
        let _ = self.0.shutdown().await;
    }
}

/// A QUIC stream as a frame sink: quinn takes each piece as it is (a view of the frame's buffer)
/// and keeps it until the peer has acknowledged it, so an 8 MiB READ response is never copied on
/// its way out.
impl FrameSink for quinn::SendStream {
    async fn send(&mut self, piece: Bytes) -> std::io::Result<()> {
        self.write_chunk(piece).await.map_err(std::io::Error::from)
    }

    async fn finish(&mut self) {
        let _ = quinn::SendStream::finish(self);
    }
}

/// Frames are handed to the sink in pieces of this size: each must be taken within the send
/// timeout, so a slow but reading client is never dropped while one that stopped reading is.
const SEND_PIECE: usize = 256 << 10;

/// A frame queued for the writer, with its share of the connection's response budget and of
/// the server's.
struct Queued {
    frame: Frame,
    budget: (OwnedSemaphorePermit, OwnedSemaphorePermit),
}

/// A frame on its way out, holding its room in the response budgets for as long as any piece of
/// it is held: by the writer, or by the transport after it took the piece (QUIC keeps what it sent
/// until the client acknowledges it). The room is given back only when the memory is.
struct Outgoing {
    bytes: Vec<u8>,
    start: usize,
    _budget: (OwnedSemaphorePermit, OwnedSemaphorePermit),
}

impl AsRef<[u8]> for Outgoing {
    fn as_ref(&self) -> &[u8] {
        &self.bytes[self.start..]
    }
}

/// When a connection without a session must have shown progress: the pre-authentication
/// deadline until it first has a session, the idle timeout after its sessions ended.
fn deadline(limits: &Limits, connected: Instant, authenticated_before: bool, last_activity: Instant) -> Instant {
    if authenticated_before { last_activity + limits.idle_without_session } else { connected + limits.preauth_timeout }
}

/// Runs one connection until the client leaves, the connection must end, or `stop` turns true.
/// `admission` is the connection's place in the server's budget, given back when it ends;
/// `on_first_session` runs once the client first has a session (QUIC then widens its receive
/// window).
pub(crate) async fn drive<R, W>(
    reader: R,
    writer: W,
    shared: Arc<Shared>,
    info: ConnectionInfo,
    admission: Admission,
    mut stop: watch::Receiver<bool>,
    on_first_session: impl FnOnce() + Send,
) where
    R: AsyncRead + Unpin + Send + 'static,
    W: FrameSink,
{
    let mut on_first_session = Some(on_first_session);
    let mut control_rx = shared.attach(&info);
    let limits = shared.runtime().config.server.limits;
    // Responses queued for the client, in units: past the budget, no request is processed until
    // the client reads (one whole response always fits).
    let budget_units = (limits.max_queued_response_bytes as usize).max(max_message(&shared)).div_ceil(RESPONSE_UNIT);
    let budget = Arc::new(Semaphore::new(budget_units));
    let (frames_tx, frames_rx) = mpsc::unbounded_channel::<Queued>();
    let writer_task = tokio::spawn(write_frames(
        writer,
        frames_rx,
        budget.clone(),
        limits.send_timeout,
        shared.clone(),
        info.id,
        info.client.ip(),
    ));
    let mut connection = Connection::new(shared.clone(), info.clone(), Now::read());
    // Deadlines of async requests the engine asked to be woken at (see `Output::timers`).
    let mut timers: BinaryHeap<Reverse<(Instant, AsyncId)>> = BinaryHeap::new();
    // Requests are read ahead of the one being processed, so that receiving the next WRITE
    // overlaps writing this one to disk; buffers go back to the reader for reuse, so a stream of
    // 8 MiB writes costs no allocation (and no page faults) per message.
    let (messages_tx, mut messages) = mpsc::channel(READ_AHEAD);
    let (spare_tx, spare) = mpsc::unbounded_channel();
    let limit = Arc::new(AtomicUsize::new(message_limit(&shared, &connection)));
    let reader_task =
        tokio::spawn(read_messages(reader, limit.clone(), shared.clone(), info.client.ip(), messages_tx, spare));
    let mut authenticated_before = false;
    'connection: loop {
        let has_session = connection.has_valid_session();
        authenticated_before |= has_session;
        if has_session && let Some(first) = on_first_session.take() {
            first();
        }
        let expires = (!has_session).then(|| {
            deadline(
                &shared.runtime().config.server.limits,
                info.connected,
                authenticated_before,
                connection.last_activity,
            )
        });
        let expired = async {
            match expires {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        // While the server's response budget is under pressure, a connection whose answers are
        // still queued reads no further request until they are sent: a client that reads nothing
        // then holds one batch of answers, not its whole budget, and is dropped at the short send
        // timeout, while clients that read go on.
        let next_timer = timers.peek().map(|Reverse((at, _))| *at);
        let timer = async {
            match next_timer {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        let pressure = shared.responses_under_pressure();
        let hold = pressure && budget.available_permits() < budget_units;
        let mut reserved: Option<OwnedSemaphorePermit> = None;
        let output = tokio::select! {
            // Control first: a break, wake-up or close decided elsewhere comes before the next
            // request of this client (which may depend on it, e.g. after a session reconnect).
            biased;
            Some(control) = control_rx.recv() => match control {
                Control::Wake { async_id } => tokio::task::block_in_place(|| connection.wake(async_id, Now::read())),
                Control::CloseSession { session_id } => {
                    tokio::task::block_in_place(|| connection.close_session(session_id, false, Now::read()));
                    Output::default()
                }
                Control::ExpireSession { session_id } => {
                    tokio::task::block_in_place(|| connection.close_session(session_id, true, Now::read()));
                    Output::default()
                }
                Control::CloseFile { volatile } => {
                    tokio::task::block_in_place(|| connection.close_file(volatile, Now::read()))
                }
                Control::Break(notification) => tokio::task::block_in_place(|| connection.send_break(notification)),
                Control::Publish => {
                    tokio::task::block_in_place(|| connection.publish());
                    Output::default()
                }
                Control::Disconnect => break,
            },
            () = timer => {
                let mut output = Output::default();
                let now = Now::read();
                while let Some(Reverse((at, async_id))) = timers.peek().copied() && at <= now.instant {
                    timers.pop();
                    let mut woken = tokio::task::block_in_place(|| connection.wake(async_id, now));
                    output.frames.append(&mut woken.frames);
                    output.timers.append(&mut woken.timers);
                    output.close |= woken.close;
                }
                output
            },
            drained = budget.acquire_many(budget_units as u32), if hold => match drained {
                Ok(_room) => Output::default(),
                // The writer gave up on this client.
                Err(_) => break,
            },
            () = tokio::time::sleep(STALL_CHECK), if hold => Output::default(),
            incoming = messages.recv(), if !hold => match incoming {
                Some(Ok(mut buffer)) => {
                    // Under pressure, room for the largest answer is taken from the server's
                    // budget before the request is processed: answers are never made (file data
                    // read) beyond the budget while connections wait for its room.
                    if pressure {
                        let bound = response_bound(&buffer).unwrap_or(usize::MAX).min(max_message(&shared));
                        let units = bound.div_ceil(RESPONSE_UNIT).min(shared.response_units());
                        match server_room(&shared, &budget, units as u32).await {
                            Some(permit) => reserved = Some(permit),
                            None => break,
                        }
                    }
                    let output = tokio::task::block_in_place(|| connection.receive(&mut buffer, Now::read()));
                    limit.store(message_limit(&shared, &connection), Ordering::Relaxed);
                    // Keep a large buffer for the next large message, but not for an idle client.
                    if buffer.capacity() <= SMALL_BUFFER || buffer.len() > SMALL_BUFFER {
                        let _ = spare_tx.send(buffer);
                    }
                    output
                }
                Some(Err(error)) => {
                    tracing::debug!(connection = %info.id, client = %info.client, %error, "connection ended");
                    break;
                }
                None => break,
            },
            _ = expired => {
                let refusal = if authenticated_before { Refusal::IdleWithoutSession } else { Refusal::PreauthTimeout };
                shared.refuse_client(refusal, info.client.ip(), Instant::now());
                tracing::info!(connection = %info.id, client = %info.client, limit = refusal.name(), "closing a connection without a session");
                break;
            }
            _ = stop.changed() => break,
        };
        let close = output.close;
        timers.extend(output.timers.iter().map(|timer| Reverse((timer.at, timer.async_id))));
        for frame in output.frames {
            // The response budgets, the connection's then the server's: wait (reading no further
            // request) until there is room; the writer gives up on a client that stops reading,
            // closing the connection's budget.
            let units = frame.as_slice().len().div_ceil(RESPONSE_UNIT).clamp(1, budget_units) as u32;
            let Ok(own) = budget.clone().acquire_many_owned(units).await else { break 'connection };
            let server_wide = match reserved.as_mut().filter(|room| room.num_permits() >= units as usize) {
                Some(room) => room.split(units as usize).expect("enough permits, checked"),
                None => match server_room(&shared, &budget, units).await {
                    Some(permit) => permit,
                    None => break 'connection,
                },
            };
            if frames_tx.send(Queued { frame, budget: (own, server_wide) }).is_err() {
                break 'connection;
            }
        }
        if close {
            break;
        }
    }
    reader_task.abort();
    drop(frames_tx);
    let _ = writer_task.await;
    tokio::task::block_in_place(|| connection.shutdown(Now::read()));
    drop(admission);
    shared.detach(&info);
}

/// The most a (compound) request's answers can take: each request's credit charge pays for 64 KiB
/// of answer (MS-SMB2 3.3.5.2.5, which the handlers enforce), plus room for headers. `None` for
/// what cannot be read before processing (an encrypted message).
fn response_bound(message: &[u8]) -> Option<usize> {
    let mut bound = 0;
    let mut offset = 0;
    loop {
        let header = Header::decode(&mut Reader::new(message.get(offset..)?)).ok()?;
        bound += usize::from(header.credit_charge.max(1)) * (64 << 10) + (1 << 10);
        match header.next_command as usize {
            0 => return Some(bound),
            next => offset += next,
        }
    }
}

/// `units` of the server's response budget, once there is room; `None` when the connection's own
/// budget closed meanwhile (its writer gave up on the client).
async fn server_room(shared: &Shared, budget: &Semaphore, units: u32) -> Option<OwnedSemaphorePermit> {
    loop {
        match tokio::time::timeout(STALL_CHECK, shared.responses().clone().acquire_many_owned(units)).await {
            Ok(Ok(permit)) => return Some(permit),
            Ok(Err(_)) => return None,
            Err(_) if budget.is_closed() => return None,
            Err(_) => {}
        }
    }
}

/// Messages up to this size do not keep a larger buffer alive.
const SMALL_BUFFER: usize = 64 << 10;

/// Messages read ahead of the one being processed.
const READ_AHEAD: usize = 2;

/// Reads framed messages until the end of the stream or an error (sent as the last item; a
/// clean end closes the channel), into buffers handed back through `spare` when possible.
async fn read_messages<R: AsyncRead + Unpin>(
    mut reader: R,
    limit: Arc<AtomicUsize>,
    shared: Arc<Shared>,
    client: std::net::IpAddr,
    messages: mpsc::Sender<std::io::Result<Vec<u8>>>,
    mut spare: mpsc::UnboundedReceiver<Vec<u8>>,
) {
    loop {
        let mut buffer = spare.try_recv().unwrap_or_default();
        let limit = limit.load(Ordering::Relaxed);
        let item = match read_message(&mut reader, limit, &mut buffer).await {
            Ok(true) => Ok(buffer),
            Ok(false) => return,
            Err(error) => Err(error),
        };
        if let Err(error) = &item
            && error.kind() == std::io::ErrorKind::InvalidData
            && limit < max_message(&shared)
        {
            shared.refuse_client(Refusal::PreauthMessage, client, Instant::now());
        }
        let failed = item.is_err();
        if messages.send(item).await.is_err() || failed {
            return;
        }
    }
}

/// Reads one framed message into `buffer`; `false` at a clean end of stream.
async fn read_message<R: AsyncRead + Unpin>(
    reader: &mut R,
    limit: usize,
    buffer: &mut Vec<u8>,
) -> std::io::Result<bool> {
    let mut header = [0_u8; framing::HEADER_LENGTH];
    match reader.read_exact(&mut header).await {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(false),
        Err(error) => return Err(error),
    }
    let length = framing::frame_length(header).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    if length > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("a {length}-byte message exceeds the limit"),
        ));
    }
    // Read into the buffer's spare capacity: no zeroing of what the socket overwrites anyway.
    // The room after the message takes the tag an encrypted message is decrypted with
    // (`Encryptor::open`), which would otherwise move the whole buffer.
    buffer.clear();
    buffer.reserve(length + crate::crypto::TAG_ROOM);
    let mut body = reader.take(length as u64);
    while buffer.len() < length {
        if body.read_buf(buffer).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
    }
    Ok(true)
}

/// Sends queued frames in pieces; a piece the client does not take within the send timeout
/// ends the connection (the budget closes, which stops the connection's loop). While the
/// server's response budget is under pressure, the timeout is [`Limits::PRESSURE_SEND_TIMEOUT`].
async fn write_frames<W: FrameSink>(
    mut writer: W,
    mut frames: mpsc::UnboundedReceiver<Queued>,
    budget: Arc<Semaphore>,
    send_timeout: std::time::Duration,
    shared: Arc<Shared>,
    connection: ConnectionId,
    client: std::net::IpAddr,
) {
    'frames: while let Some(Queued { frame: Frame { bytes, start }, budget: held }) = frames.recv().await {
        let bytes = Bytes::from_owner(Outgoing { bytes, start, _budget: held });
        let mut offset = 0;
        while offset < bytes.len() {
            let end = (offset + SEND_PIECE).min(bytes.len());
            let send = writer.send(bytes.slice(offset..end));
            tokio::pin!(send);
            let started = Instant::now();
            let sent = loop {
                tokio::select! {
                    sent = &mut send => break sent,
                    _ = tokio::time::sleep(STALL_CHECK) => {
                        let limit = if shared.responses_under_pressure() {
                            send_timeout.min(Limits::PRESSURE_SEND_TIMEOUT)
                        } else {
                            send_timeout
                        };
                        if started.elapsed() >= limit {
                            shared.refuse_client(Refusal::SendTimeout, client, Instant::now());
                            tracing::info!(%connection, "the client read no response for the send timeout: dropping the connection");
                            break 'frames;
                        }
                    }
                }
            };
            if sent.is_err() {
                break 'frames;
            }
            offset = end;
        }
    }
    budget.close();
    writer.finish().await;
}

/// How often a stalled send looks at its timeout.
const STALL_CHECK: std::time::Duration = std::time::Duration::from_millis(500);

#[cfg(test)]
mod tests {
    use super::response_bound;
    use crate::proto::Writer;
    use crate::proto::header::{Command, Header};

    fn request(charge: u16, next_command: u32) -> Vec<u8> {
        let mut out = Writer::new();
        Header { command: Command::READ, credit_charge: charge, next_command, ..Header::default() }.encode(&mut out);
        out.zeros(next_command.saturating_sub(64) as usize);
        out.into_vec()
    }

    #[test]
    fn a_compounds_answers_are_bounded_by_the_credits_each_request_is_charged() {
        let mut compound = request(16, 128);
        compound.extend(request(0, 0));
        assert_eq!(response_bound(&compound), Some(16 * 65536 + 1024 + 65536 + 1024));
    }

    #[test]
    fn what_cannot_be_read_before_processing_has_no_bound() {
        let mut encrypted = request(16, 0);
        encrypted[0] = 0xFD;
        assert_eq!(response_bound(&encrypted), None);
        assert_eq!(response_bound(&request(1, 4096)), None, "a next command past the end");
    }
}
