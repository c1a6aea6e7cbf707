//! Arbitrary bytes as one client connection to an in-process broker (the connection state
//! machine over an in-memory pipe, no sockets): the connection ends once its input has, the
//! broker writes only whole well-formed server packets, CONNACK first and only for a CONNECT,
//! nothing after a refusal, and every acknowledgement answers a packet the client sent.
//!
//! Body: `examples/reference-broker/tests/fuzz/harness/broker_session.rs`, which
//! `examples/reference-broker/tests/fuzz_replay.rs` also runs on stable over the committed
//! corpus in `examples/reference-broker/tests/fuzz/corpus/broker_session/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../examples/reference-broker/tests/fuzz/harness/broker_session.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::run(data));
