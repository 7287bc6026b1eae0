//! Any datagram an agent or a trap sender can send: the v1/v2c message
//! decoder, the trap decoder, the inform answer, the v3 header parser and
//! the v3 trap receiver. Nothing may panic; what decodes must re-encode to
//! the same message, and an inform's answer must itself decode.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use ups2mqtt::snmp::Message;
use ups2mqtt::snmp::usm::{AuthProtocol, LocalKeys, PrivProtocol, UsmUser};
use ups2mqtt::snmp::v3::Incoming;
use ups2mqtt::trap::{V3Receiver, decode_trap, inform_response};

fn receiver() -> &'static V3Receiver {
    static RECEIVER: OnceLock<V3Receiver> = OnceLock::new();
    RECEIVER.get_or_init(|| {
        let users = vec![
            (UsmUser::new("noauth", None, None).unwrap(), None),
            (
                UsmUser::new(
                    "trapper",
                    Some((AuthProtocol::Sha256, "authpass123")),
                    Some((PrivProtocol::Aes128, "privpass123")),
                )
                .unwrap(),
                None,
            ),
        ];
        V3Receiver::new(b"\x80\x00\x00\x00\x04fuzz".to_vec(), users)
    })
}

fuzz_target!(|bytes: &[u8]| {
    if let Ok(message) = Message::decode(bytes)
        && let Ok(again) = message.try_encode()
    {
        assert_eq!(
            Message::decode(&again),
            Ok(message),
            "re-encoded {again:02x?}"
        );
    }
    let _ = decode_trap(bytes);
    if let Some(answer) = inform_response(bytes) {
        assert!(
            Message::decode(&answer).is_ok(),
            "inform answer {answer:02x?}"
        );
    }
    if let Ok(incoming) = Incoming::parse(bytes) {
        let _ = incoming.verify(&LocalKeys::none());
        let _ = incoming.scoped_pdu(&LocalKeys::none());
    }
    let _ = receiver().receive(bytes);
});
