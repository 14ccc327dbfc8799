//! The only code that owns sockets. A transport accepts connections and moves Direct-TCP framed
//! bytes between its stream and a [`Connection`]; TCP and QUIC share [`drive`].

pub mod client_access;
mod handshakes;
pub mod quic;
pub mod tcp;

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch};

use crate::engine::connection::{Connection, ConnectionInfo, Frame, Output};
use crate::engine::events::Event;
use crate::engine::shared::{ConnectionEntry, Control, Counter, Shared, lock};
use crate::proto::framing;

/// Largest message accepted: the largest READ/WRITE plus room for headers and a compound.
fn max_message(shared: &Shared) -> usize {
    shared.runtime().config.server.max_io as usize + (1 << 20)
}

/// Where a connection's frames go, in order.
pub trait FrameSink: Send + 'static {
    /// Sends one whole frame.
    fn send(&mut self, frame: Frame) -> impl Future<Output = std::io::Result<()>> + Send;
    /// Ends the sending direction once everything sent has gone out.
    fn finish(&mut self) -> impl Future<Output = ()> + Send;
}

/// A byte stream (a TCP socket) as a frame sink: frames are copied into it.
pub struct Copying<W>(pub W);

impl<W: AsyncWrite + Unpin + Send + 'static> FrameSink for Copying<W> {
    async fn send(&mut self, frame: Frame) -> std::io::Result<()> {
        self.0.write_all(frame.as_slice()).await
    }

    async fn finish(&mut self) {
        let _ = self.0.shutdown().await;
    }
}

/// A QUIC stream as a frame sink: quinn takes the frame's buffer as it is and keeps it until the
/// peer has acknowledged it, so an 8 MiB READ response is never copied on its way out.
impl FrameSink for quinn::SendStream {
    async fn send(&mut self, frame: Frame) -> std::io::Result<()> {
        let Frame { bytes, start } = frame;
        self.write_chunk(bytes::Bytes::from(bytes).slice(start..)).await.map_err(std::io::Error::from)
    }

    async fn finish(&mut self) {
        let _ = quinn::SendStream::finish(self);
    }
}

/// Runs one connection until the client leaves, the connection must end, or `stop` turns true.
pub async fn drive<R, W>(
    reader: R,
    writer: W,
    shared: Arc<Shared>,
    info: ConnectionInfo,
    mut stop: watch::Receiver<bool>,
) where
    R: AsyncRead + Unpin + Send + 'static,
    W: FrameSink,
{
    let (control_tx, mut control_rx) = mpsc::unbounded_channel();
    lock(&shared.connections).insert(
        info.id,
        ConnectionEntry { client: info.client, transport: info.transport, control: control_tx, sessions: Vec::new() },
    );
    shared.count(Counter::Connections, 1);
    shared.emit(Event::Connected { connection: info.id, client: info.client, transport: info.transport });
    let (frames_tx, frames_rx) = mpsc::channel::<Frame>(64);
    let writer_task = tokio::spawn(write_frames(writer, frames_rx));
    let mut connection = Connection::new(shared.clone(), info.clone());
    // Requests are read ahead of the one being processed, so that receiving the next WRITE
    // overlaps writing this one to disk; buffers go back to the reader for reuse, so a stream of
    // 8 MiB writes costs no allocation (and no page faults) per message.
    let (messages_tx, mut messages) = mpsc::channel(READ_AHEAD);
    let (spare_tx, spare) = mpsc::unbounded_channel();
    let reader_task = tokio::spawn(read_messages(reader, max_message(&shared), messages_tx, spare));
    loop {
        let output = tokio::select! {
            // Control first: a break, wake-up or close decided elsewhere comes before the next
            // request of this client (which may depend on it, e.g. after a session reconnect).
            biased;
            Some(control) = control_rx.recv() => match control {
                Control::Wake { async_id } => tokio::task::block_in_place(|| connection.wake(async_id)),
                Control::CloseSession { session_id } => {
                    crate::engine::handlers::logoff::end_session(&mut connection, session_id);
                    connection.publish();
                    Output::default()
                }
                Control::CloseFile { volatile } => {
                    let session = connection.sessions.iter().find(|(_, s)| s.opens.contains_key(&volatile)).map(|(id, _)| *id);
                    if let Some(session_id) = session {
                        crate::engine::handlers::close::close_open(&mut connection, session_id, volatile);
                    }
                    let mut output = Output::default();
                    output.frames.append(&mut connection.deferred);
                    connection.publish();
                    output
                }
                Control::Break(notification) => tokio::task::block_in_place(|| connection.send_break(notification)),
                Control::Disconnect => break,
            },
            incoming = messages.recv() => match incoming {
                Some(Ok(mut buffer)) => {
                    let output = tokio::task::block_in_place(|| connection.receive(&mut buffer));
                    // Keep a large buffer for the next large message, but not for an idle client.
                    if buffer.capacity() <= SMALL_BUFFER || buffer.len() > SMALL_BUFFER {
                        let _ = spare_tx.send(buffer);
                    }
                    output
                }
                Some(Err(error)) => {
                    tracing::debug!(connection = info.id, client = %info.client, %error, "connection ended");
                    break;
                }
                None => break,
            },
            _ = stop.changed() => break,
        };
        let close = output.close;
        for frame in output.frames {
            if frames_tx.send(frame).await.is_err() {
                break;
            }
        }
        if close {
            break;
        }
    }
    reader_task.abort();
    drop(frames_tx);
    let _ = writer_task.await;
    tokio::task::block_in_place(|| connection.shutdown());
    lock(&shared.connections).remove(&info.id);
    shared.emit(Event::Disconnected { connection: info.id, client: info.client, transport: info.transport });
}

/// Messages up to this size do not keep a larger buffer alive.
const SMALL_BUFFER: usize = 64 << 10;

/// Messages read ahead of the one being processed.
const READ_AHEAD: usize = 2;

/// Reads framed messages until the end of the stream or an error (sent as the last item; a
/// clean end closes the channel), into buffers handed back through `spare` when possible.
async fn read_messages<R: AsyncRead + Unpin>(
    mut reader: R,
    limit: usize,
    messages: mpsc::Sender<std::io::Result<Vec<u8>>>,
    mut spare: mpsc::UnboundedReceiver<Vec<u8>>,
) {
    loop {
        let mut buffer = spare.try_recv().unwrap_or_default();
        let item = match read_message(&mut reader, limit, &mut buffer).await {
            Ok(true) => Ok(buffer),
            Ok(false) => return,
            Err(error) => Err(error),
        };
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
    buffer.clear();
    buffer.reserve(length);
    let mut body = reader.take(length as u64);
    while buffer.len() < length {
        if body.read_buf(buffer).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
    }
    Ok(true)
}

async fn write_frames<W: FrameSink>(mut writer: W, mut frames: mpsc::Receiver<Frame>) {
    while let Some(frame) = frames.recv().await {
        if writer.send(frame).await.is_err() {
            return;
        }
    }
    writer.finish().await;
}
