//! The control line protocol, on stdin and on an optional loopback TCP port.
//!
//! One command per line, one reply line per command: `ok ...` or
//! `error: ...`. A command goes to every agent unless prefixed with
//! `@N ` (agent N, counted from 0).
//!
//! ```text
//! mains off | mains on          mains failure / return
//! battery low                   battery down to its low threshold
//! overload on | overload off
//! test start                    a battery test (result after --test-duration-ms)
//! trap NAME [ROW]               send a trap of the library's table now
//! set PATH JSON                 e.g. set battery.charge 40, set input.lines.2.voltage 207
//! unpin PATH                    undo a `set` of a value the model does not compute
//! state                         the semantic state, one JSON line (an array for several agents)
//! stats                         request/trap counters, one JSON line
//! stop | start                  stop / resume answering SNMP
//! help | quit
//! ```

use crate::agent::Agent;
use crate::state::battery_test::{QUICK_BATTERY_TEST, TestKind};
use serde_json::{Value as Json, json};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, oneshot};

pub const HELP: &str = "commands: mains on|off, battery low, overload on|off, test start, trap NAME [ROW], \
set PATH JSON, unpin PATH, state, stats, stop, start, quit; prefix @N for one agent";

/// A parsed command.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Mains(bool),
    BatteryLow,
    Overload(bool),
    TestStart,
    Trap {
        name: String,
        row: Option<u32>,
    },
    Set {
        path: String,
        row: Option<u32>,
        value: Json,
    },
    Unpin {
        path: String,
    },
    State,
    Stats,
    Serve(bool),
    Help,
    Quit,
}

/// A command and the agent it is for (`None`: all).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub agent: Option<u32>,
    pub command: Command,
}

/// Parses one control line.
pub fn parse(line: &str) -> Result<Request, String> {
    let line = line.trim();
    let (agent, rest) = match line.strip_prefix('@') {
        Some(rest) => {
            let (n, rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            (
                Some(
                    n.parse::<u32>()
                        .map_err(|_| format!("bad agent number {n:?}"))?,
                ),
                rest.trim(),
            )
        }
        None => (None, line),
    };
    let (verb, after_verb) = split_word(rest);
    let (arg, tail) = split_word(after_verb);
    let (arg, tail) = (
        (!arg.is_empty()).then_some(arg),
        (!tail.is_empty()).then_some(tail),
    );
    let on_off = |what: &str| match arg {
        Some("on") => Ok(true),
        Some("off") => Ok(false),
        _ => Err(format!("usage: {what} on|off")),
    };
    let command = match verb {
        "mains" => Command::Mains(on_off("mains")?),
        "overload" => Command::Overload(on_off("overload")?),
        "battery" if arg == Some("low") => Command::BatteryLow,
        "test" if arg == Some("start") => Command::TestStart,
        "trap" => {
            let name = arg.ok_or("usage: trap NAME [ROW]")?.to_string();
            let row = tail
                .map(|r| {
                    r.trim()
                        .parse::<u32>()
                        .map_err(|_| format!("bad row {r:?}"))
                })
                .transpose()?;
            Command::Trap { name, row }
        }
        "set" => {
            let (path, row) = field_path(arg.ok_or("usage: set PATH JSON")?)?;
            let text = tail.ok_or("usage: set PATH JSON")?.trim();
            let value =
                serde_json::from_str(text).unwrap_or_else(|_| Json::String(text.to_string()));
            Command::Set { path, row, value }
        }
        "unpin" => Command::Unpin {
            path: field_path(arg.ok_or("usage: unpin PATH")?)?.0,
        },
        "state" => Command::State,
        "stats" => Command::Stats,
        "stop" => Command::Serve(false),
        "start" => Command::Serve(true),
        "help" => Command::Help,
        "quit" | "exit" => Command::Quit,
        "" => return Err("empty command".to_string()),
        other => return Err(format!("unknown command {other:?} ({HELP})")),
    };
    Ok(Request { agent, command })
}

/// The first word and the rest, both trimmed.
fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim();
    match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (text, ""),
    }
}

/// `input.lines.2.voltage` → (`input.lines.voltage`, Some(2)).
fn field_path(text: &str) -> Result<(String, Option<u32>), String> {
    let mut row = None;
    let mut parts = Vec::new();
    for part in text.split('.') {
        match part.parse::<u32>() {
            Ok(n) if row.is_none() && n > 0 => row = Some(n),
            Ok(_) => return Err(format!("bad row in {text:?}")),
            Err(_) => parts.push(part),
        }
    }
    Ok((parts.join("."), row))
}

/// What an agent answers to a command: the reply, and trap datagrams to
/// send from its socket.
pub struct Outcome {
    pub reply: Result<Json, String>,
    pub datagrams: Vec<(SocketAddr, Vec<u8>)>,
}

impl Outcome {
    fn text(reply: Result<String, String>) -> Outcome {
        Outcome {
            reply: reply.map(Json::String),
            datagrams: Vec::new(),
        }
    }
}

/// Runs a command on one agent (in the agent's task).
pub fn execute(agent: &mut Agent, command: &Command) -> Outcome {
    let changed = |did: bool, what: &str| {
        Ok(if did {
            what.to_string()
        } else {
            format!("{what} (no change)")
        })
    };
    match command {
        Command::Mains(on) => Outcome::text(changed(
            agent.state.set_mains(*on),
            if *on { "mains on" } else { "mains off" },
        )),
        Command::BatteryLow => {
            agent.state.battery_low();
            Outcome::text(Ok(format!("battery low ({:.1} %)", agent.state.charge())))
        }
        Command::Overload(on) => Outcome::text(changed(
            agent.state.set_overload(*on),
            if *on { "overload on" } else { "overload off" },
        )),
        Command::TestStart => Outcome::text(
            agent
                .state
                .start_test(TestKind::Battery, QUICK_BATTERY_TEST)
                .map(|()| "test started".to_string()),
        ),
        Command::Trap { name, row } => match agent.trap_now(name, *row) {
            Ok(datagrams) => Outcome {
                reply: Ok(json!(format!(
                    "trap {name} sent to {} sink(s)",
                    datagrams.len()
                ))),
                datagrams,
            },
            Err(e) => Outcome::text(Err(e)),
        },
        Command::Set { path, row, value } => {
            Outcome::text(agent.state.set_field(path, *row, value))
        }
        Command::Unpin { path } => Outcome::text(agent.state.unpin(path)),
        Command::State => Outcome {
            reply: Ok(agent.state.to_json()),
            datagrams: Vec::new(),
        },
        Command::Stats => Outcome {
            reply: Ok(agent.stats.to_json()),
            datagrams: Vec::new(),
        },
        Command::Serve(on) => {
            agent.serving = *on;
            Outcome::text(Ok(if *on {
                "answering SNMP"
            } else {
                "stopped answering SNMP"
            }
            .to_string()))
        }
        Command::Help | Command::Quit => Outcome::text(Ok(String::new())),
    }
}

/// A command sent to an agent's task.
pub struct ControlMsg {
    pub command: Command,
    pub reply: oneshot::Sender<Result<Json, String>>,
}

/// Dispatches control lines to the agents.
pub struct Controller {
    agents: Vec<mpsc::Sender<ControlMsg>>,
    shutdown: Arc<Notify>,
}

impl Controller {
    pub fn new(agents: Vec<mpsc::Sender<ControlMsg>>, shutdown: Arc<Notify>) -> Controller {
        Controller { agents, shutdown }
    }

    /// Runs one line and returns its reply line.
    pub async fn run_line(&self, line: &str) -> String {
        match parse(line) {
            Ok(request) => self.run(request).await,
            Err(e) => format!("error: {e}"),
        }
    }

    async fn run(&self, request: Request) -> String {
        match request.command {
            Command::Help => return format!("ok {HELP}"),
            Command::Quit => {
                self.shutdown.notify_one();
                return "ok bye".to_string();
            }
            _ => {}
        }
        let targets: Vec<usize> = match request.agent {
            Some(n) if (n as usize) < self.agents.len() => vec![n as usize],
            Some(n) => return format!("error: no agent {n} (there are {})", self.agents.len()),
            None => (0..self.agents.len()).collect(),
        };
        let mut replies = Vec::with_capacity(targets.len());
        for &i in &targets {
            replies.push(self.ask(i, request.command.clone()).await);
        }
        summarize(&request.command, &targets, replies)
    }

    async fn ask(&self, agent: usize, command: Command) -> Result<Json, String> {
        let (reply, answer) = oneshot::channel();
        self.agents[agent]
            .send(ControlMsg { command, reply })
            .await
            .map_err(|_| format!("agent {agent} has stopped"))?;
        answer
            .await
            .map_err(|_| format!("agent {agent} did not answer"))?
    }
}

/// One reply line for the replies of several agents.
fn summarize(command: &Command, targets: &[usize], replies: Vec<Result<Json, String>>) -> String {
    if let Some((i, Err(e))) = targets.iter().zip(&replies).find(|(_, r)| r.is_err()) {
        return if targets.len() == 1 {
            format!("error: {e}")
        } else {
            format!("error: agent {i}: {e}")
        };
    }
    let values: Vec<Json> = replies.into_iter().filter_map(Result::ok).collect();
    match (command, values.as_slice()) {
        (Command::State | Command::Stats, [one]) => format!("ok {one}"),
        (Command::State | Command::Stats, many) => format!("ok {}", Json::Array(many.to_vec())),
        (_, [Json::String(one)]) => format!("ok {one}"),
        (_, [Json::String(first), ..]) => format!("ok {first} ({} agents)", values.len()),
        (_, _) => "ok".to_string(),
    }
}

/// Reads control lines from stdin (a thread: tokio's stdin is not enabled
/// in this build) and prints the replies on stdout. End of input is not a
/// quit: the simulator keeps running.
pub fn spawn_stdin(controller: Arc<Controller>) {
    let (lines, mut rx) = mpsc::channel::<String>(16);
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if lines.blocking_send(line).is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            if line.trim().is_empty() {
                continue;
            }
            println!("{}", controller.run_line(&line).await);
        }
    });
}

/// Binds the TCP control port; loopback only (there is no authentication).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ControlError> {
    if !addr.ip().is_loopback() {
        return Err(ControlError::NotLoopback(addr));
    }
    TcpListener::bind(addr)
        .await
        .map_err(|source| ControlError::Bind { addr, source })
}

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("the control port must be on a loopback address, not {0}")]
    NotLoopback(SocketAddr),
    #[error("cannot bind the control port {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Serves control connections, one task per connection.
pub async fn serve_tcp(listener: TcpListener, controller: Arc<Controller>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let controller = controller.clone();
                tokio::spawn(async move {
                    if let Err(error) = serve_connection(stream, &controller).await {
                        tracing::debug!(%peer, %error, "control connection ended");
                    }
                });
            }
            Err(error) => tracing::warn!(%error, "control accept failed"),
        }
    }
}

async fn serve_connection(stream: TcpStream, controller: &Controller) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    while let Some(line) = lines.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        let mut reply = controller.run_line(&line).await;
        reply.push('\n');
        write.write_all(reply.as_bytes()).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(line: &str) -> Command {
        parse(line).unwrap().command
    }

    #[test]
    fn parses_every_command() {
        assert_eq!(command("mains off"), Command::Mains(false));
        assert_eq!(command("  mains   on "), Command::Mains(true));
        assert_eq!(command("battery low"), Command::BatteryLow);
        assert_eq!(command("overload on"), Command::Overload(true));
        assert_eq!(command("test start"), Command::TestStart);
        assert_eq!(
            command("trap upsmgOnBattery"),
            Command::Trap {
                name: "upsmgOnBattery".into(),
                row: None
            }
        );
        assert_eq!(
            command("trap upsmgOffComplete 2"),
            Command::Trap {
                name: "upsmgOffComplete".into(),
                row: Some(2)
            }
        );
        assert_eq!(
            command("set battery.charge 40"),
            Command::Set {
                path: "battery.charge".into(),
                row: None,
                value: json!(40)
            }
        );
        assert_eq!(
            command("set input.lines.2.voltage 207.5"),
            Command::Set {
                path: "input.lines.voltage".into(),
                row: Some(2),
                value: json!(207.5)
            }
        );
        assert_eq!(
            command("set general.model Big UPS"),
            Command::Set {
                path: "general.model".into(),
                row: None,
                value: json!("Big UPS")
            }
        );
        assert_eq!(command("state"), Command::State);
        assert_eq!(command("stop"), Command::Serve(false));
        assert_eq!(command("start"), Command::Serve(true));
        assert_eq!(command("quit"), Command::Quit);
        assert_eq!(
            parse("@3 mains off").unwrap(),
            Request {
                agent: Some(3),
                command: Command::Mains(false)
            }
        );
    }

    #[test]
    fn rejects_bad_lines() {
        for line in [
            "",
            "mains",
            "mains sideways",
            "fly",
            "set battery.charge",
            "@x state",
            "trap",
            "trap x y",
        ] {
            assert!(parse(line).is_err(), "{line:?}");
        }
    }

    #[test]
    fn replies_are_one_line() {
        let ok = summarize(
            &Command::Mains(false),
            &[0, 1],
            vec![Ok(json!("mains off")), Ok(json!("mains off"))],
        );
        assert_eq!(ok, "ok mains off (2 agents)");
        let state = summarize(&Command::State, &[0], vec![Ok(json!({"mains": true}))]);
        assert_eq!(state, r#"ok {"mains":true}"#);
        let err = summarize(
            &Command::TestStart,
            &[0, 1],
            vec![Ok(json!("x")), Err("busy".into())],
        );
        assert_eq!(err, "error: agent 1: busy");
    }
}
