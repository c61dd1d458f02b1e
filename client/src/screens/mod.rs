//! The screens that are not a record kind's own: sign-in, the home of each role, the office
//! list, a record's frame, the account and the admin screen.

pub mod account;
pub mod admin;
pub mod home;
pub mod office;
pub mod record;
pub mod sign_in;
