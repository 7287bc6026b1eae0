//! systemd's service notifications (`sd_notify(3)`): `READY=1` once the
//! broker session is up, `WATCHDOG=1` from the main loop, `STOPPING=1` at
//! shutdown.
//!
//! The protocol is one datagram of `KEY=VALUE` lines to the unix socket named
//! by `$NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace), so it
//! is implemented here in a few lines of std instead of linking libsystemd
//! or adding a crate. Outside systemd (no `$NOTIFY_SOCKET`) every call is a
//! no-op. Sends never block: a datagram the manager cannot take right now is
//! dropped (the next watchdog ping follows soon).

use crate::mqtt::Mqtt;
use std::ffi::OsStr;
use std::os::unix::net::UnixDatagram;
use std::time::Duration;
use tracing::{debug, info, warn};

/// Where to send notifications, and the watchdog period, from the
/// environment systemd sets for a `Type=notify` service.
#[derive(Debug, Default)]
pub struct SdNotify {
    target: Option<Target>,
    watchdog: Option<Duration>,
}

#[derive(Debug)]
struct Target {
    socket: UnixDatagram,
    address: std::os::unix::net::SocketAddr,
    name: String,
}

impl SdNotify {
    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID`.
    pub fn from_env() -> SdNotify {
        let socket = std::env::var_os("NOTIFY_SOCKET");
        let usec = std::env::var("WATCHDOG_USEC").ok();
        let pid = std::env::var("WATCHDOG_PID").ok();
        SdNotify::new(
            socket.as_deref(),
            usec.as_deref(),
            pid.as_deref(),
            std::process::id(),
        )
    }

    /// From the variables' values; `own_pid` is this process's id (the
    /// watchdog is for us only if `WATCHDOG_PID` is unset or names us).
    pub fn new(
        notify_socket: Option<&OsStr>,
        watchdog_usec: Option<&str>,
        watchdog_pid: Option<&str>,
        own_pid: u32,
    ) -> SdNotify {
        let target = notify_socket
            .filter(|s| !s.is_empty())
            .and_then(|s| match Target::open(s) {
                Ok(target) => Some(target),
                Err(error) => {
                    warn!(socket = ?s, %error, "NOTIFY_SOCKET unusable: no systemd notifications");
                    None
                }
            });
        let for_us = watchdog_pid.is_none_or(|p| p.trim().parse::<u32>() == Ok(own_pid));
        let watchdog = watchdog_usec
            .and_then(|u| u.trim().parse::<u64>().ok())
            .filter(|&usec| usec > 0 && for_us && target.is_some())
            .map(|usec| Duration::from_micros(usec) / 2);
        SdNotify { target, watchdog }
    }

    /// Whether a notification socket is configured.
    pub fn enabled(&self) -> bool {
        self.target.is_some()
    }

    /// How often to send `WATCHDOG=1`: half of `WATCHDOG_USEC`, as
    /// `sd_watchdog_enabled(3)` recommends; `None` when systemd does not
    /// watch this process.
    pub fn watchdog_period(&self) -> Option<Duration> {
        self.watchdog
    }

    /// Sends one notification (`KEY=VALUE` lines); a no-op outside systemd.
    pub fn notify(&self, state: &str) {
        let Some(target) = &self.target else {
            return;
        };
        if let Err(error) = target
            .socket
            .send_to_addr(state.as_bytes(), &target.address)
        {
            debug!(socket = %target.name, %error, state, "sd_notify failed");
        }
    }

    /// `READY=1` with a status line for `systemctl status`.
    pub fn ready(&self, status: &str) {
        self.notify(&format!("READY=1\nSTATUS={status}"));
    }

    /// `WATCHDOG=1`.
    pub fn watchdog(&self) {
        self.notify("WATCHDOG=1");
    }

    /// `STOPPING=1`.
    pub fn stopping(&self) {
        self.notify("STOPPING=1\nSTATUS=shutting down");
    }

    /// The main loop of a supervised gateway: until `until` resolves,
    /// reports `READY=1` once the MQTT session first comes up and sends
    /// `WATCHDOG=1` every [`SdNotify::watchdog_period`]. Each ping first
    /// takes the MQTT store's lock (reading the counters), so a gateway
    /// wedged on it stops pinging and systemd restarts it.
    pub async fn supervise(&self, mqtt: &Mqtt, until: impl Future<Output = ()>) {
        let ready = async {
            mqtt.connected().await;
            if self.enabled() {
                info!("MQTT connected: notifying systemd READY=1");
            }
            self.ready("MQTT connected; polling");
            std::future::pending::<()>().await
        };
        let watchdog = async {
            let Some(period) = self.watchdog else {
                return std::future::pending::<()>().await;
            };
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let _ = mqtt.stats();
                self.watchdog();
            }
        };
        tokio::select! {
            () = until => {}
            () = ready => {}
            () = watchdog => {}
        }
    }
}

impl Target {
    fn open(name: &OsStr) -> std::io::Result<Target> {
        let address = socket_address(name)?;
        let socket = UnixDatagram::unbound()?;
        socket.set_nonblocking(true)?;
        Ok(Target {
            socket,
            address,
            name: name.to_string_lossy().into_owned(),
        })
    }
}

/// `/run/systemd/notify` or `@abstract-name`.
fn socket_address(name: &OsStr) -> std::io::Result<std::os::unix::net::SocketAddr> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = name.as_bytes();
    match bytes.first() {
        Some(b'/') => std::os::unix::net::SocketAddr::from_pathname(name),
        #[cfg(any(target_os = "linux", target_os = "android"))]
        Some(b'@') => {
            #[cfg(target_os = "android")]
            use std::os::android::net::SocketAddrExt;
            #[cfg(target_os = "linux")]
            use std::os::linux::net::SocketAddrExt;
            std::os::unix::net::SocketAddr::from_abstract_name(&bytes[1..])
        }
        _ => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "NOTIFY_SOCKET must be an absolute path or @abstract name",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn socket() -> (UnixDatagram, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!(
            "ups2mqtt-notify-unit-{}-{:?}.sock",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_file(&path);
        let socket = UnixDatagram::bind(&path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        (socket, path)
    }

    #[test]
    fn without_socket_nothing_is_enabled() {
        let n = SdNotify::new(None, Some("1000000"), None, 1);
        assert!(!n.enabled());
        assert_eq!(n.watchdog_period(), None);
        n.ready("x");
        let n = SdNotify::new(Some(OsStr::new("relative")), None, None, 1);
        assert!(!n.enabled());
    }

    #[test]
    fn watchdog_is_half_the_interval_and_only_for_this_pid() {
        let (_socket, path) = socket();
        let p = path.as_os_str();
        let n = SdNotify::new(Some(p), Some("3000000"), None, 7);
        assert_eq!(n.watchdog_period(), Some(Duration::from_millis(1500)));
        let n = SdNotify::new(Some(p), Some("3000000"), Some("7"), 7);
        assert_eq!(n.watchdog_period(), Some(Duration::from_millis(1500)));
        let n = SdNotify::new(Some(p), Some("3000000"), Some("8"), 7);
        assert_eq!(n.watchdog_period(), None);
        let n = SdNotify::new(Some(p), Some("0"), None, 7);
        assert_eq!(n.watchdog_period(), None);
        let n = SdNotify::new(Some(p), Some("soon"), None, 7);
        assert_eq!(n.watchdog_period(), None);
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn datagrams_reach_a_path_socket() {
        let (socket, path) = socket();
        let n = SdNotify::new(Some(path.as_os_str()), None, None, 1);
        assert!(n.enabled());
        n.ready("up");
        n.watchdog();
        n.stopping();
        let mut buf = [0u8; 256];
        let mut got = Vec::new();
        for _ in 0..3 {
            let len = socket.recv(&mut buf).unwrap();
            got.push(String::from_utf8_lossy(&buf[..len]).into_owned());
        }
        assert_eq!(
            got,
            [
                "READY=1\nSTATUS=up",
                "WATCHDOG=1",
                "STOPPING=1\nSTATUS=shutting down"
            ]
        );
        let _ = std::fs::remove_file(path);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn datagrams_reach_an_abstract_socket() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("ups2mqtt-notify-unit-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let socket = UnixDatagram::bind_addr(&addr).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let n = SdNotify::new(Some(OsStr::new(&format!("@{name}"))), None, None, 1);
        n.watchdog();
        let mut buf = [0u8; 64];
        let len = socket.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"WATCHDOG=1");
    }
}
