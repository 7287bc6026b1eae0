//! The gateway over MQTT 5 and over TLS (rustls, a CA made here with
//! openssl): the same retained pages, bridge state and discovery arrive.

mod support;

use std::process::Command;
use std::time::Duration;
use support::gateway::{Gateway, json, wait_retained};
use support::{Mosquitto, Pki, Snmpsim, Subscriber};

fn assert_pages_arrive(broker: &Mosquitto, gateway: &Gateway) {
    let battery = json(&wait_retained(
        broker,
        "ups2mqtt/rack1/battery",
        |_| true,
        gateway,
    ));
    assert_eq!(battery["charge"], 91);
    gateway.wait_online(broker);
    wait_retained(
        broker,
        "homeassistant/device/gwtest_rack1/config",
        |_| true,
        gateway,
    );
}

#[test]
fn mqtt5_carries_pages_discovery_and_commands() {
    let broker = Mosquitto::start();
    let sim = Snmpsim::start("eaton-mgeups_9pxle");
    let ups = support::gateway::ups_toml("rack1", "127.0.0.1", sim.port(), "");
    let gateway = Gateway::start_with_mqtt(&broker, &ups, "protocol = \"5\"\n");
    assert_pages_arrive(&broker, &gateway);
    let log = broker.log();
    let connect = log
        .lines()
        .find(|l| l.contains("as ups2mqtt-gwtest"))
        .expect("the gateway's connect line");
    assert!(connect.contains("(p5,"), "not an MQTT 5 session: {connect}");
    // Subscriptions work over v5 too: a command gets its response.
    let responses = Subscriber::start(broker.port(), "ups2mqtt/rack1/response");
    let status = Command::new("mosquitto_pub")
        .args([
            "-p",
            &broker.port().to_string(),
            "-t",
            "ups2mqtt/rack1/command",
            "-m",
            "warp.drive",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let response = responses
        .wait_message(|_| true, Duration::from_secs(15))
        .expect("a response over MQTT 5");
    assert!(
        json(&response.payload)["error"]
            .as_str()
            .unwrap()
            .contains("unknown command")
    );
}

#[test]
fn tls_to_the_broker_with_a_private_ca() {
    let pki = Pki::generate();
    let d = pki.dir().display();
    let broker = Mosquitto::start_with(&format!(
        "cafile {d}/ca.pem\ncertfile {d}/server.pem\nkeyfile {d}/server.key"
    ));
    let sim = Snmpsim::start("eaton-mgeups_9pxle");
    let ups = support::gateway::ups_toml("rack1", "127.0.0.1", sim.port(), "");
    let gateway = Gateway::start_with_mqtt(
        &broker,
        &ups,
        &format!("host = \"localhost\"\ntls = {{ ca_file = \"{d}/ca.pem\" }}\n"),
    );
    // Read back over TLS too (mosquitto_sub with the CA).
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let out = Command::new("mosquitto_sub")
            .args([
                "-h",
                "localhost",
                "-p",
                &broker.port().to_string(),
                "--cafile",
                &format!("{d}/ca.pem"),
            ])
            .args(["-t", "ups2mqtt/rack1/battery", "-C", "1", "-W", "2"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        if text.contains("\"charge\":91") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no page over TLS: {text}\n{}",
            gateway.log()
        );
    }
}
