//! The UDP side: one tokio task per agent, each owning its socket, its
//! state and its control inbox. Agents share only the immutable card, so
//! hundreds of them cost little more than their sockets and states.

use crate::agent::{Agent, AgentConfig};
use crate::card::Card;
use crate::control::{self, ControlMsg};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// Requests larger than this are truncated (and then dropped as
/// malformed); real managers send far less.
const RECV_BUFFER: usize = 8 * 1024;
/// Pending control commands per agent.
const CONTROL_QUEUE: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot bind agent {index} to udp {addr}: {source}")]
    Bind {
        index: u32,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{count} agents from port {port} would run past port 65535")]
    Ports { port: u16, count: u32 },
}

/// The running agents.
pub struct Fleet {
    /// Where each agent listens.
    pub addrs: Vec<SocketAddr>,
    /// Each agent's control inbox.
    pub controls: Vec<mpsc::Sender<ControlMsg>>,
}

/// Binds `count` agents on consecutive ports from `listen` (each on an
/// ephemeral port when `listen` has port 0) and starts their tasks.
pub async fn start(
    card: Arc<Card>,
    config: Arc<AgentConfig>,
    listen: SocketAddr,
    count: u32,
) -> Result<Fleet, ServerError> {
    let mut sockets = Vec::with_capacity(count as usize);
    for index in 0..count {
        let addr = agent_addr(listen, index)?;
        let socket = UdpSocket::bind(addr)
            .await
            .map_err(|source| ServerError::Bind {
                index,
                addr,
                source,
            })?;
        sockets.push(socket);
    }
    let mut fleet = Fleet {
        addrs: Vec::with_capacity(sockets.len()),
        controls: Vec::with_capacity(sockets.len()),
    };
    let now = Instant::now();
    for (index, socket) in (0u32..).zip(sockets) {
        let local = socket.local_addr().unwrap_or(listen);
        let mut agent = Agent::new(index, card.clone(), config.clone(), now);
        agent.agent_addr = match local.ip() {
            IpAddr::V4(ip) if !ip.is_unspecified() => ip.octets(),
            _ => [127, 0, 0, 1],
        };
        let (tx, rx) = mpsc::channel(CONTROL_QUEUE);
        tokio::spawn(run(agent, socket, rx));
        fleet.addrs.push(local);
        fleet.controls.push(tx);
    }
    Ok(fleet)
}

fn agent_addr(listen: SocketAddr, index: u32) -> Result<SocketAddr, ServerError> {
    if listen.port() == 0 {
        return Ok(listen);
    }
    let port = u32::from(listen.port()) + index;
    let port = u16::try_from(port).map_err(|_| ServerError::Ports {
        port: listen.port(),
        count: index + 1,
    })?;
    Ok(SocketAddr::new(listen.ip(), port))
}

/// One agent's task: requests, control commands and timers, one at a time.
async fn run(mut agent: Agent, socket: UdpSocket, mut inbox: mpsc::Receiver<ControlMsg>) {
    let mut buffer = vec![0u8; RECV_BUFFER];
    // With no controller left (stdin closed, no control port) the agent
    // keeps serving.
    let mut controlled = true;
    loop {
        let wakeup = agent.next_wakeup().map(tokio::time::Instant::from_std);
        tokio::select! {
            received = socket.recv_from(&mut buffer) => match received {
                Ok((len, peer)) => {
                    agent.advance(Instant::now());
                    if let Some(response) = agent.handle(&buffer[..len]) {
                        send(&socket, &response, peer).await;
                    }
                }
                // ICMP errors from earlier sends surface here on Linux.
                Err(error) => tracing::debug!(agent = agent.index, %error, "udp receive error"),
            },
            message = inbox.recv(), if controlled => {
                let Some(message) = message else {
                    controlled = false;
                    continue;
                };
                agent.advance(Instant::now());
                let outcome = control::execute(&mut agent, &message.command);
                for (addr, datagram) in &outcome.datagrams {
                    send(&socket, datagram, *addr).await;
                }
                let _ = message.reply.send(outcome.reply);
            }
            () = sleep_until(wakeup) => agent.advance(Instant::now()),
        }
        for (addr, datagram) in agent.drain_traps() {
            send(&socket, &datagram, addr).await;
        }
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn send(socket: &UdpSocket, datagram: &[u8], to: SocketAddr) {
    if let Err(error) = socket.send_to(datagram, to).await {
        tracing::debug!(%to, %error, "udp send failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_ports() {
        let listen: SocketAddr = "127.0.0.1:1161".parse().unwrap();
        assert_eq!(agent_addr(listen, 3).unwrap().port(), 1164);
        let zero: SocketAddr = "127.0.0.1:0".parse().unwrap();
        assert_eq!(agent_addr(zero, 3).unwrap().port(), 0);
        let high: SocketAddr = "127.0.0.1:65535".parse().unwrap();
        assert!(agent_addr(high, 1).is_err());
    }
}
