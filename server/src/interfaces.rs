//! The host's network interfaces, as multichannel clients learn them through
//! FSCTL_QUERY_NETWORK_INTERFACE_INFO (MS-SMB2 3.3.5.15.11): read at start and every
//! [`REFRESH`] after, so that a new address (a laptop-style server moving networks, a second
//! NIC) is offered without a restart.

use std::net::IpAddr;
use std::time::Duration;

use smb_core::EngineHandle;
use smb_core::proto::ioctl::{DEFAULT_LINK_SPEED, NetworkInterfaceInfo};
use tokio::task::JoinHandle;

/// How often the list is read again.
pub const REFRESH: Duration = Duration::from_secs(30);

/// The addresses of the interfaces that are up, with their index and speed. IPv6 link-local
/// addresses are left out: they need a scope a remote client cannot use.
pub fn read() -> Vec<NetworkInterfaceInfo> {
    let interfaces = match if_addrs::get_if_addrs() {
        Ok(interfaces) => interfaces,
        Err(error) => {
            tracing::warn!(%error, "cannot list the network interfaces");
            return Vec::new();
        }
    };
    let mut infos: Vec<NetworkInterfaceInfo> = interfaces
        .iter()
        .filter(|interface| interface.is_oper_up() || interface.is_loopback())
        .filter(|interface| !is_ipv6_link_local(interface.ip()))
        .map(|interface| NetworkInterfaceInfo {
            // MS-SMB2 2.2.32.5: IfIndex is never 0.
            if_index: interface.index.filter(|index| *index != 0).unwrap_or(u32::MAX),
            rss_capable: false,
            link_speed: link_speed(&interface.name).unwrap_or(DEFAULT_LINK_SPEED),
            address: interface.ip(),
        })
        .collect();
    infos.sort_by_key(|info| (info.if_index, info.address));
    infos.dedup();
    infos
}

/// Linux's `/sys/class/net/NAME/speed` (Mb/s), when the driver tells it.
fn link_speed(name: &str) -> Option<u64> {
    if name.contains(['/', '.']) {
        return None;
    }
    let text = std::fs::read_to_string(format!("/sys/class/net/{name}/speed")).ok()?;
    let megabits: i64 = text.trim().parse().ok()?;
    u64::try_from(megabits).ok().filter(|m| *m > 0).map(|m| m * 1_000_000)
}

fn is_ipv6_link_local(address: IpAddr) -> bool {
    matches!(address, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80)
}

/// Keeps the engine's list current (`engine::start` gave it the first).
pub fn keep(engine: EngineHandle) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(REFRESH);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let interfaces = tokio::task::spawn_blocking(read).await.unwrap_or_default();
            engine.shared().set_network_interfaces(interfaces);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hosts_interfaces_include_loopback_with_a_nonzero_index_and_no_link_local_ipv6() {
        let interfaces = read();
        let loopback =
            interfaces.iter().find(|i| i.address == IpAddr::from([127, 0, 0, 1])).expect("127.0.0.1 is listed");
        assert_ne!(loopback.if_index, 0);
        assert!(loopback.link_speed > 0);
        assert!(interfaces.iter().all(|i| !is_ipv6_link_local(i.address)));
    }
}
