//! The project's own simulated UPS card (`ups2mqtt-sim`) as a test peer:
//! started on free loopback ports, driven through its control port, killed
//! on drop.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct Sim {
    child: Child,
    port: u16,
    control: BufReader<TcpStream>,
}

impl Sim {
    /// Starts one simulated card with `args` (e.g. `["--phases", "3"]`;
    /// `--listen` replaces the default ephemeral port).
    pub fn start(args: &[&str]) -> Sim {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ups2mqtt-sim"));
        if !args.contains(&"--listen") {
            command.args(["--listen", "127.0.0.1:0"]);
        }
        let mut child = command
            .args(["--control", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start ups2mqtt-sim");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let (mut control, mut port) = (None, None);
        while port.is_none() {
            let line = rx
                .recv_timeout(Duration::from_secs(20))
                .expect("ups2mqtt-sim announces its ports");
            if let Some(addr) = line.strip_prefix("control tcp ") {
                control = Some(addr.to_string());
            } else if let Some(rest) = line.strip_prefix("listening udp ") {
                let addr = rest.split_whitespace().next().unwrap();
                port = addr.rsplit(':').next().and_then(|p| p.parse().ok());
            }
        }
        let stream = TcpStream::connect(control.expect("control line before listening"))
            .expect("control port");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Sim {
            child,
            port: port.unwrap(),
            control: BufReader::new(stream),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// One control line → its reply line (`ok ...` / `error: ...`).
    pub fn control(&mut self, line: &str) -> String {
        writeln!(self.control.get_mut(), "{line}").unwrap();
        let mut reply = String::new();
        self.control.read_line(&mut reply).expect("a reply line");
        reply.trim_end().to_string()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
