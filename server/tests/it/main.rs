//! Integration tests against the real server on port 0 with a temp database.

mod admin_command;
mod architecture;
mod backup;
mod device;
mod devices;
mod follow;
mod forged;
mod found_item;
mod gate_follow;
mod hardening;
mod helpers;
mod matrix;
mod mutated;
mod prepared;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod process;
mod repair;
mod routes;
mod sign_in;
mod static_files;
mod sync;
mod work_order;
