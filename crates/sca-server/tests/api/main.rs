#![allow(unreachable_pub, missing_debug_implementations)]
// Test support code panics on purpose: a failed step is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! Integration tests of sca-server: one test binary; each test starts the real server on
//! 127.0.0.1:0 over a temporary SQLite file, with an injectable clock, and talks HTTP to it.

mod support;
mod tls;

mod audit_tail;
mod cards;
mod device_self;
mod edges;
mod enumeration;
mod first_access;
mod flows;
mod input;
mod instances;
mod keys;
mod kill9;
mod legacy;
mod lockout;
mod login_rate;
mod messages;
mod migrations;
mod operations;
mod pages;
mod pagopa;
mod password;
mod postgres;
mod races;
mod replay;
mod restart;
mod resync;
mod schemathesis;
mod sessions;
mod sms_limits;
mod threeds;
