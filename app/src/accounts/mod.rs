//! Accounts: signing up (with e-mail verification) and logging in (with a password or an
//! OAuth2 provider), password reset, and the account page (password change, signed-in
//! sessions).

mod account;
pub mod api;
mod sign_in;

pub use account::AccountPage;
pub use sign_in::{ForgotPasswordPage, LoginPage, ResetPasswordPage, SignupPage, VerifyEmailPage};

// The login, sign-up and mail-link pages stay in the main bundle: they are the first page
// most visitors see.
lazy_routes!(accounts_pages {
    /// `/account`.
    AccountRoute => AccountPage,
});
