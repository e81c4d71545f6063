//! `sigillo`: the desktop app. Everything is in the library.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    sigillo_desktop::run()
}
