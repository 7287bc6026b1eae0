//! `ups2mqtt-sim`: a simulated Schneider Electric / MGE / APC UPS network
//! card, for tests, the zero-setup demo and dashboards built before the
//! hardware arrives.
//!
//! It is a real SNMP v1/v2c agent (GET, GETNEXT, GETBULK, SET) serving the
//! RFC 1628, MG-SNMP-UPS-MIB and PowerNet-MIB points of the library's point
//! table from a live UPS model, sends traps on state changes, and is driven
//! from outside with a line protocol (stdin, or `--control`). Everything
//! lives in this binary's modules; the gateway binary links none of it.
//!
//! Modules: [`cli`] (flags), [`card`] (what all agents share), [`state`]
//! (the UPS model), [`view`] (the OID view from the point table),
//! [`agent`] (SNMP semantics), [`server`] (UDP tasks), [`traps`] (sending
//! the library's traps), [`control`] (the line protocol), plus [`defaults`],
//! [`layout`], [`snmprec`], [`wire`] and [`rng`].

mod agent;
mod card;
mod cli;
mod control;
mod defaults;
mod layout;
mod rng;
mod server;
mod snmprec;
mod state;
mod traps;
mod view;
mod wire;

use anyhow::Context;
use clap::Parser;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use tokio::sync::Notify;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("ups2mqtt-sim: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ups2mqtt-sim: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr; `RUST_LOG` filters (info by default).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

async fn run(args: cli::Args) -> anyhow::Result<()> {
    let options = args.card_options().context("reading --walk")?;
    let card = Arc::new(card::Card::build(options));
    tracing::info!(oids = card.plan.len(), mibs = ?card.mibs, layout = ?card.layout(), "card built");
    let fleet = server::start(
        card,
        Arc::new(args.agent_config()),
        args.listen,
        args.agents,
    )
    .await?;
    let shutdown = Arc::new(Notify::new());
    let controller = Arc::new(control::Controller::new(fleet.controls, shutdown.clone()));
    if let Some(addr) = args.control {
        let listener = control::bind(addr).await?;
        println!(
            "control tcp {}",
            listener.local_addr().context("control port address")?
        );
        tokio::spawn(control::serve_tcp(listener, controller.clone()));
    }
    control::spawn_stdin(controller.clone());
    println!(
        "listening udp {} (agents {})",
        fleet.addrs[0],
        fleet.addrs.len()
    );
    tokio::select! {
        () = shutdown.notified() => tracing::info!("quit"),
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupted"),
    }
    drop(controller);
    Ok(())
}
