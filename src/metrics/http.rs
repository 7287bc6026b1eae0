//! The metrics HTTP/1.1 listener: `GET /metrics`, `GET /healthz`, 404 for
//! anything else; one request per connection (`Connection: close`).
//!
//! Written on tokio directly: two routes do not need an HTTP stack in a
//! binary that must stay under 3 MiB. A client gets [`CLIENT_TIMEOUT`] to
//! send its request head (at most [`MAX_HEAD`] bytes) and to read the
//! answer, at most `max_connections` are served at once (the others wait
//! in the kernel's backlog), and a scrape is rendered on a blocking
//! thread: no client, slow or malformed, can hold up the UPS tasks.
//!
//! A scrape is streamed: rendered a [`super::CHUNK`] at a time straight
//! into the socket (the body ends when the connection closes), so 500
//! UPSes cost no 37 MB buffer.

use super::{Counters, render_to};
use crate::hub::Hub;
use crate::mqtt::Mqtt;
use crate::nut::NutStats;
use crate::trap::TrapStats;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tracing::{debug, info};

/// How long a client may take to send its request and to read the answer.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest request head read (request line and headers).
pub const MAX_HEAD: usize = 8 * 1024;

/// What the endpoint reads.
#[derive(Clone)]
pub struct Endpoint {
    pub hub: Hub,
    pub mqtt: Mqtt,
    pub traps: Option<Arc<TrapStats>>,
    pub nut: Option<Arc<NutStats>>,
}

impl Endpoint {
    fn counters(&self) -> Counters {
        Counters {
            mqtt: self.mqtt.stats(),
            mqtt_connected: self.mqtt.is_connected(),
            traps: self.traps.clone(),
            nut: self.nut.clone(),
        }
    }
}

/// Binds the listener (`metrics.listen` names the key in the error).
pub async fn bind(address: SocketAddr) -> anyhow::Result<TcpListener> {
    let listener = TcpListener::bind(address)
        .await
        .map_err(|error| anyhow::anyhow!("metrics.listen: cannot bind {address}: {error}"))?;
    info!(%address, "serving Prometheus metrics on /metrics");
    Ok(listener)
}

/// Serves until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    endpoint: Endpoint,
    max_connections: usize,
    mut stop: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(max_connections.max(1)));
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => return,
            },
            _ = stop.changed() => return,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    debug!(%error, "metrics: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        let endpoint = endpoint.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let deadline = Instant::now() + CLIENT_TIMEOUT;
            if tokio::time::timeout(CLIENT_TIMEOUT, answer(stream, &endpoint, deadline))
                .await
                .is_err()
            {
                debug!(%peer, "metrics: client too slow, connection closed");
            }
        });
    }
}

/// A parsed request line.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    Metrics,
    Health,
    NotFound,
    MethodNotAllowed,
    BadRequest,
}

async fn answer(mut stream: TcpStream, endpoint: &Endpoint, deadline: Instant) {
    let route = match read_head(&mut stream).await {
        Some(head) => route(&head),
        None => Route::BadRequest,
    };
    let (status, content_type, body) = match route {
        Route::Metrics => return stream_metrics(stream, endpoint, deadline).await,
        Route::Health if endpoint.mqtt.is_connected() => {
            ("200 OK", "text/plain; charset=utf-8", "ok\n".to_string())
        }
        Route::Health => (
            "503 Service Unavailable",
            "text/plain; charset=utf-8",
            "the MQTT broker is not connected\n".to_string(),
        ),
        Route::NotFound => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "not found: try /metrics or /healthz\n".to_string(),
        ),
        Route::MethodNotAllowed => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "only GET\n".to_string(),
        ),
        Route::BadRequest => (
            "400 Bad Request",
            "text/plain; charset=utf-8",
            "bad request\n".to_string(),
        ),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n",
        body.len(),
        if status.starts_with("405") {
            "Allow: GET\r\n"
        } else {
            ""
        },
    );
    if stream.write_all(head.as_bytes()).await.is_ok() {
        let _ = stream.write_all(body.as_bytes()).await;
    }
    let _ = stream.shutdown().await;
}

/// `200 OK` and the scrape, rendered on a blocking thread straight into
/// the socket, until `deadline` (a client reading too slowly is cut off).
async fn stream_metrics(mut stream: TcpStream, endpoint: &Endpoint, deadline: Instant) {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nConnection: close\r\n\r\n";
    if stream.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let Ok(mut stream) = stream.into_std() else {
        return;
    };
    let endpoint = endpoint.clone();
    let sent = tokio::task::spawn_blocking(move || {
        let left = deadline.saturating_duration_since(Instant::now());
        stream.set_nonblocking(false)?;
        stream.set_write_timeout(Some(left.max(Duration::from_millis(1))))?;
        let mut result = Ok(());
        render_to(&endpoint.hub, &endpoint.counters(), &mut |chunk| {
            if result.is_ok() && Instant::now() >= deadline {
                result = Err(std::io::ErrorKind::TimedOut.into());
            }
            if result.is_ok() {
                result = stream.write_all(chunk.as_bytes());
            }
        });
        let _ = stream.shutdown(std::net::Shutdown::Write);
        result
    })
    .await;
    if !matches!(sent, Ok(Ok(()))) {
        debug!("metrics: scrape not sent whole (client gone or too slow)");
    }
}

/// Reads up to the blank line ending the request head; `None` when the
/// client closes first or sends more than [`MAX_HEAD`] bytes.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(512);
    let mut buffer = [0u8; 1024];
    loop {
        let n = stream.read(&mut buffer).await.ok()?;
        if n == 0 {
            return None;
        }
        head.extend_from_slice(&buffer[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            let text = String::from_utf8_lossy(&head[..end]).into_owned();
            return Some(text);
        }
        if head.len() > MAX_HEAD {
            return None;
        }
    }
}

/// The route of a request head's first line.
fn route(head: &str) -> Route {
    let line = head.lines().next().unwrap_or("");
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Route::BadRequest;
    };
    if !version.starts_with("HTTP/1.") || parts.next().is_some() {
        return Route::BadRequest;
    }
    if method != "GET" {
        return Route::MethodNotAllowed;
    }
    let path = target.split('?').next().unwrap_or("");
    match path {
        "/metrics" => Route::Metrics,
        "/healthz" => Route::Health,
        _ => Route::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("GET /metrics HTTP/1.1\r\nHost: x"), Route::Metrics);
        assert_eq!(route("GET /metrics?x=1 HTTP/1.0"), Route::Metrics);
        assert_eq!(route("GET /healthz HTTP/1.1"), Route::Health);
        assert_eq!(route("GET / HTTP/1.1"), Route::NotFound);
        assert_eq!(route("POST /metrics HTTP/1.1"), Route::MethodNotAllowed);
        assert_eq!(route("GET /metrics"), Route::BadRequest);
        assert_eq!(route("hello"), Route::BadRequest);
    }
}
