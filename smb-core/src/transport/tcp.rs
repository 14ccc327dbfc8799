//! SMB over TCP (MS-SMB2 2.1, Direct TCP transport).

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::engine::connection::ConnectionInfo;
use crate::engine::shared::Shared;

/// Accepts connections until `stop` turns true; each runs on its own task.
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>, stop: watch::Receiver<bool>) {
    let mut stop_accepting = stop.clone();
    loop {
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "SMB over TCP: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stop_accepting.changed() => return,
        };
        let admission = match shared.admit(client.ip(), std::time::Instant::now()) {
            Ok(admission) => admission,
            Err(refusal) => {
                tracing::debug!(%client, limit = refusal.name(), "SMB over TCP: connection refused");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr().unwrap_or(client);
        let info = ConnectionInfo::tcp(shared.next_connection_id(), client, local, std::time::Instant::now());
        let (reader, writer) = stream.into_split();
        tokio::spawn(super::drive(
            reader,
            super::Copying(writer),
            shared.clone(),
            info,
            admission,
            stop.clone(),
            || {},
        ));
    }
}

/// Binds a TCP listener (with address reuse, so a restart rebinds at once).
pub(crate) fn bind(address: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if address.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(1024)
}
