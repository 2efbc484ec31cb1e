//! Sign-up with e-mail verification, and password reset.
//!
//! A password sign-up is pending until its link is followed with the sign-up's password:
//! the name and password hash wait in the link's token, and following the link creates the
//! account already verified. The password is asked again so that a link a stranger started
//! (with the victim's address and the stranger's password) cannot be finished by the
//! victim into an account the stranger can log in to.
//!
//! Sign-up, a new verification link and a reset request answer the same [`CheckEmail`]
//! whatever the address, and mail is sent in the background, so neither the answer nor its
//! timing says whether an address is registered; the mail itself says what happened ("you
//! already have an account"). Links work once and expire (`EMAIL_VERIFICATION_TTL_HOURS`,
//! `PASSWORD_RESET_TTL_MINUTES`); of verification and reset links only the newest works.

use super::ops::{client_key, hash_password};
use super::store::{EmailOutcome, EmailPurpose, EmailTokenRecord, FollowedLink};
use super::{Accounts, UserRecord};
use crate::auth::{passwords, secrets};
use crate::clock::now;
use crate::mail::Mail;
use shared::accounts::{check_new_password, parse_display_name, Email};
use shared::api::{
    CheckEmail, EmailRequest, ResetPasswordRequest, SignupRequest, VerifyEmailRequest,
};
use shared::contracts::{ClientInfo, SignedIn};
use shared::error::{ApiError, ApiResult};
use shared::ids::UserId;

/// The answer to anything that mails an address.
fn check_email(email: &Email, message: &str) -> CheckEmail {
    CheckEmail {
        email: email.as_str().to_owned(),
        message: message.to_owned(),
    }
}

const SIGN_UP_SENT: &str =
    "We sent you an e-mail. Follow the link in it and enter your password to finish creating your account.";
const RESET_SENT: &str =
    "If an account uses this address, we sent it a link to choose a new password.";

fn link_expired() -> ApiError {
    ApiError::field(
        "token",
        "this link has been used, has expired or was replaced by a newer one; sign up again or ask for a new one",
    )
}

/// What a mailed link is for and what its mail says.
struct LinkMail {
    /// The kind of mail, for the logs.
    what: &'static str,
    subject: &'static str,
    /// The text before the link.
    lead: &'static str,
    /// The console page the link opens.
    path: &'static str,
}

const SIGN_UP_LINK: LinkMail = LinkMail {
    what: "sign-up verification",
    subject: "Confirm your e-mail address for Switchyard",
    lead: "Someone (we hope you) started creating a Switchyard account with this address.\nFollow this link and enter the password you chose to finish:",
    path: "/verify-email",
};

const NEW_SIGN_UP_LINK: LinkMail = LinkMail {
    lead: "Here is a new link to finish creating your Switchyard account (with the password you chose):",
    ..SIGN_UP_LINK
};

const VERIFY_LINK: LinkMail = LinkMail {
    what: "address verification",
    subject: "Verify your e-mail address for Switchyard",
    lead: "Your Switchyard account's address has not been verified yet. Follow this link to verify it and sign in:",
    path: "/verify-email",
};

const RESET_LINK: LinkMail = LinkMail {
    what: "password reset",
    subject: "Choose a new Switchyard password",
    lead: "Someone (we hope you) asked to reset the password of your Switchyard account.\nFollow this link to choose a new one; every session and the API keys you created end when you do.\nIf it was not you, ignore this mail: your password stays as it is.",
    path: "/reset-password",
};

/// A token for `purpose` mailed to `email` (of `user`), before its hash and times are set.
fn token_for(purpose: EmailPurpose, email: &str, user: Option<UserId>) -> EmailTokenRecord {
    EmailTokenRecord {
        token_hash: String::new(),
        purpose,
        email: email.to_owned(),
        user_id: user,
        name: None,
        password_hash: None,
        next_path: None,
        created_at: 0,
        expires_at: 0,
    }
}

impl Accounts {
    /// Starts a sign-up: a new address gets a verification link that creates the account; a
    /// registered one gets a note that it already has an account.
    pub async fn sign_up(&self, req: SignupRequest, client: &ClientInfo) -> ApiResult<CheckEmail> {
        self.limiter.attempt_from(client_key(client))?;
        let email = Email::parse(&req.email)?;
        check_new_password(&req.password, "password")?;
        let name = parse_display_name(&req.name)?;
        // Hashed either way, so a registered address does not answer faster.
        let password_hash = hash_password(req.password).await?;
        if let Some(user) = self.store.user_by_email(email.as_str()).await? {
            self.mail_already_registered(&user);
            return Ok(check_email(&email, SIGN_UP_SENT));
        }
        let next = req
            .next
            .as_deref()
            .map(|n| shared::redirects::local_path(n, "/workspaces").to_owned());
        let pending = EmailTokenRecord {
            name: Some(name),
            password_hash: Some(password_hash),
            next_path: next,
            ..token_for(EmailPurpose::SignUp, email.as_str(), None)
        };
        self.send_link(pending, self.config.verification_ttl, &SIGN_UP_LINK);
        Ok(check_email(&email, SIGN_UP_SENT))
    }

    /// Follows a verification link: creates a pending sign-up's account (or verifies an
    /// older account's address) and signs it in. A sign-up's link also needs the password
    /// chosen when signing up.
    pub async fn verify_email(
        &self,
        req: VerifyEmailRequest,
        client: &ClientInfo,
    ) -> ApiResult<(SignedIn, String)> {
        self.limiter.attempt_from(client_key(client))?;
        let token_hash = secrets::hash(req.token.trim());
        let token = self
            .store
            .email_token(&token_hash, now())
            .await?
            .ok_or_else(link_expired)?;
        // Whoever follows the link must also know the password: the sign-up's, or the
        // older account's. A link alone proves the mailbox, not who set the password, and
        // an account whose password a stranger chose must not become "verified" (trusted
        // by OAuth and invitations) for them; its owner resets the password instead.
        let stored = match (token.purpose, token.user_id) {
            (EmailPurpose::SignUp, _) => token.password_hash.clone(),
            (_, Some(user)) => self.store.user(user).await?.and_then(|u| u.password_hash),
            (_, None) => None,
        };
        let given = req.password.unwrap_or_default();
        if given.is_empty() {
            return Err(ApiError::field(
                "password",
                "enter your password to confirm the address",
            ));
        }
        let ok = tokio::task::spawn_blocking(move || match stored {
            Some(hash) => passwords::verify(&given, &hash),
            None => {
                passwords::verify_dummy(&given);
                false
            }
        })
        .await
        .map_err(|_| ApiError::internal())?;
        if !ok {
            return Err(ApiError::field(
                "password",
                "is not the password of this sign-up or account; if you did not start it, sign up again yourself or reset the password",
            ));
        }
        let outcome = self
            .store
            .verify_email(&token_hash, now(), |user| self.session_for(user, client))
            .await?;
        match outcome {
            EmailOutcome::Done(done) => {
                let FollowedLink {
                    user,
                    session,
                    next,
                } = *done;
                tracing::info!(user = %user.id, "e-mail address verified");
                let next = next.unwrap_or_else(|| "/workspaces".to_owned());
                Ok((self.signed_in(&user, &session)?, next))
            }
            EmailOutcome::Taken => Err(ApiError::conflict(
                Some("email"),
                "this address got an account while the sign-up was pending; log in instead",
            )),
            EmailOutcome::Invalid => Err(link_expired()),
        }
    }

    /// Mails a fresh verification link: to a pending sign-up (its details kept), or to an
    /// older account whose address is not verified. Answers the same for any address.
    pub async fn resend_verification(
        &self,
        req: EmailRequest,
        client: &ClientInfo,
    ) -> ApiResult<CheckEmail> {
        self.limiter.attempt_from(client_key(client))?;
        let email = Email::parse(&req.email)?;
        match self.store.user_by_email(email.as_str()).await? {
            Some(user) if user.email_verified_at.is_none() => self.mail_verification(&user),
            Some(user) => self.mail_already_registered(&user),
            None => {
                if let Some(pending) = self.store.pending_sign_up(email.as_str(), now()).await? {
                    self.send_link(pending, self.config.verification_ttl, &NEW_SIGN_UP_LINK);
                }
            }
        }
        Ok(check_email(&email, SIGN_UP_SENT))
    }

    /// Mails a password reset link to the account with this address, if there is one.
    pub async fn request_password_reset(
        &self,
        req: EmailRequest,
        client: &ClientInfo,
    ) -> ApiResult<CheckEmail> {
        self.limiter.attempt_from(client_key(client))?;
        let email = Email::parse(&req.email)?;
        if let Some(user) = self.store.user_by_email(email.as_str()).await? {
            let template = token_for(EmailPurpose::Reset, &user.email, Some(user.id));
            self.send_link(template, self.config.password_reset_ttl, &RESET_LINK);
        }
        Ok(check_email(&email, RESET_SENT))
    }

    /// Sets a new password from a reset link: the address counts as verified, every session
    /// ends, the API keys the user created are revoked, and this client is signed in.
    pub async fn reset_password(
        &self,
        req: ResetPasswordRequest,
        client: &ClientInfo,
    ) -> ApiResult<SignedIn> {
        self.limiter.attempt_from(client_key(client))?;
        check_new_password(&req.new_password, "new_password")?;
        let hash = hash_password(req.new_password).await?;
        let outcome = self
            .store
            .reset_password(&secrets::hash(req.token.trim()), &hash, now(), |user| {
                self.session_for(user, client)
            })
            .await?;
        match outcome {
            EmailOutcome::Done(done) => {
                let FollowedLink { user, session, .. } = *done;
                tracing::info!(user = %user.id, "password reset; sessions and the user's API keys ended");
                self.signed_in(&user, &session)
            }
            EmailOutcome::Invalid | EmailOutcome::Taken => Err(link_expired()),
        }
    }

    /// Mails `user` (an account whose address is not verified) a link that verifies it.
    pub(super) fn mail_verification(&self, user: &UserRecord) {
        let template = token_for(EmailPurpose::Verify, &user.email, Some(user.id));
        self.send_link(template, self.config.verification_ttl, &VERIFY_LINK);
    }

    /// Stores a token made from `template` (its hash and times filled in here) and mails
    /// its link as `mail` says, in the background: the caller answers at once, so whether a
    /// token was written (a registered address or not) does not show in the answer's timing.
    /// Sends nothing when the address has had its mails for the hour.
    fn send_link(
        &self,
        template: EmailTokenRecord,
        ttl: std::time::Duration,
        mail: &'static LinkMail,
    ) {
        if !self.limiter.may_mail(&template.email) {
            return;
        }
        let token = secrets::random_token(32);
        let t = now();
        let record = EmailTokenRecord {
            token_hash: secrets::hash(&token),
            created_at: t,
            expires_at: t + ttl.as_secs() as i64,
            ..template
        };
        let mut link = self.config.public_url.clone();
        link.set_path(mail.path);
        link.set_query(Some(&format!("token={token}")));
        let lifetime = match ttl.as_secs() {
            s if s >= 7200 => format!("{} hours", s / 3600),
            s => format!("{} minutes", (s / 60).max(1)),
        };
        let (store, postman) = (self.store.clone(), self.postman.clone());
        tokio::spawn(async move {
            if let Err(e) = store.create_email_token(&record).await {
                tracing::error!(what = mail.what, error = %e, "an account mail's link could not be stored; nothing was sent");
                return;
            }
            postman.post(
                mail.what,
                Mail {
                    to: record.email,
                    subject: mail.subject.to_owned(),
                    body: format!(
                        "{}\n\n{link}\n\nThe link works once, for {lifetime}.\n",
                        mail.lead
                    ),
                },
            );
        });
    }

    /// Tells the owner of a registered address that someone tried to sign up with it.
    fn mail_already_registered(&self, user: &UserRecord) {
        if !self.limiter.may_mail(&user.email) {
            return;
        }
        let mut login = self.config.public_url.clone();
        login.set_path("/login");
        let mut forgot = self.config.public_url.clone();
        forgot.set_path("/forgot-password");
        self.postman.post(
            "already registered",
            Mail {
                to: user.email.clone(),
                subject: "You already have a Switchyard account".to_owned(),
                body: format!(
                    "Someone (we hope you) tried to create a Switchyard account with this address, but you already have one.\n\nLog in: {login}\nForgot your password? {forgot}\n\nIf it was not you, you can ignore this mail.\n"
                ),
            },
        );
    }
}
