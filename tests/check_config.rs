//! `ups2mqtt check-config` as a user runs it: the built binary, its exit
//! status, stdout and stderr.

mod support;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_ups2mqtt");

/// A fresh directory for one test's files.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ups2mqtt-check-config-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn check_config(config: &std::path::Path) -> Output {
    Command::new(BIN)
        .args(["check-config", "--config"])
        .arg(config)
        .env_remove("RUST_LOG")
        .output()
        .expect("run ups2mqtt")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn an_unreadable_or_missing_file_is_said_plainly() {
    let dir = temp_dir("unreadable");
    // A directory: root reads any file, nobody reads a directory as text.
    let output = check_config(&dir);
    let text = stderr(&output);
    assert!(!output.status.success(), "{text}");
    assert!(
        text.contains("--config: cannot read") && text.contains(&dir.display().to_string()),
        "{text}"
    );
    assert!(!text.contains("panicked"), "{text}");
    let missing = dir.join("nope.toml");
    let output = check_config(&missing);
    let text = stderr(&output);
    assert!(!output.status.success(), "{text}");
    assert!(text.contains("does not exist"), "{text}");
}

#[test]
fn an_empty_ups_list_is_said_plainly() {
    let dir = temp_dir("empty");
    let file = dir.join("config.toml");
    std::fs::write(&file, "[gateway]\nid = \"gw\"\n").unwrap();
    let output = check_config(&file);
    let text = stderr(&output);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("lists no UPS"), "{text}");
    assert!(text.contains("[[ups]]"), "{text}");
}

#[test]
fn config_errors_name_their_keys() {
    let dir = temp_dir("keys");
    let file = dir.join("config.toml");
    for (toml, expected) in [
        (
            "[[ups]]\nid = \"a\"\nhost = \"h\"\nmibs = [\"snmpv9\"]\n",
            ["mibs", "snmpv9"],
        ),
        (
            "[[ups]]\nid = \"rack-1\"\nhost = \"h\"\n[[ups]]\nid = \"rack_1\"\nhost = \"h\"\n",
            ["\"rack-1\"", "\"rack_1\""],
        ),
    ] {
        std::fs::write(&file, toml).unwrap();
        let output = check_config(&file);
        let text = stderr(&output);
        assert!(!output.status.success(), "{text}");
        assert!(expected.iter().all(|e| text.contains(e)), "{text}");
    }
}

#[test]
fn nut_tls_files_are_read_and_checked() {
    let pki = support::Pki::generate();
    let dir = temp_dir("nut-tls");
    let file = dir.join("config.toml");
    let missing = dir.join("missing.pem").display().to_string();
    for (cert, key, expected) in [
        (
            missing.as_str(),
            "server.key",
            &["nut.tls.cert_file", "missing.pem", "No such file"][..],
        ),
        (
            "server.key",
            "server.key",
            &["nut.tls.cert_file", "no PEM certificate"],
        ),
        (
            "server.pem",
            "server.pem",
            &["nut.tls.key_file", "no PEM private key"],
        ),
        // The CA's key with the server's certificate.
        (
            "server.pem",
            "ca.key",
            &["nut.tls:", "not the key of the certificate"],
        ),
        ("server.pem", "server.key", &[]),
    ] {
        let path = |name: &str| match name {
            "server.key" | "server.pem" | "ca.key" => pki.path(name),
            other => other.to_string(),
        };
        std::fs::write(
            &file,
            format!(
                "[nut.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
                path(cert),
                path(key)
            ),
        )
        .unwrap();
        let output = check_config(&file);
        let text = stderr(&output);
        assert_eq!(output.status.success(), expected.is_empty(), "{text}");
        assert!(expected.iter().all(|e| text.contains(e)), "{text}");
    }
}

#[test]
fn a_closed_output_pipe_ends_quietly() {
    let dir = temp_dir("pipe");
    let file = dir.join("config.toml");
    std::fs::write(&file, "[[ups]]\nid = \"a\"\nhost = \"h\"\n").unwrap();
    let mut child = Command::new(BIN)
        .args(["check-config", "--config"])
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ups2mqtt");
    // The reader goes away before the gateway writes (as `| head -1` does
    // once it has its line).
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let text = stderr(&output);
    assert!(output.status.success(), "{:?}: {text}", output.status);
    assert!(!text.contains("panicked"), "{text}");
    // The same through a shell pipe.
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{BIN}' check-config --config '{}' | head -1",
            file.display()
        ))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), "{\n");
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
}
