#![allow(unreachable_pub, missing_debug_implementations)]

//! Integration tests of sca-server: one test binary; each test starts the real server on
//! 127.0.0.1:0 over a temporary SQLite file, with an injectable clock, and talks HTTP to it.

mod support;

mod flows;
mod input;
mod kill9;
mod lockout;
mod operations;
mod sessions;
