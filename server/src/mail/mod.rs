//! The mailer seam: how the server sends account mail (verification links, password resets,
//! "you already have an account"). Two implementations, chosen by configuration:
//! [`smtp::SmtpMailer`] (`SMTP_URL`, through `lettre`) and, for the embedded default,
//! [`outbox::Outbox`], which writes each message as a file under `DATA_DIR/outbox` and logs
//! where it went, so the operator can read it.
//!
//! Account operations never wait for delivery: [`Postman`] hands a message to a background
//! task that retries a failed delivery a few times and logs the outcome without the body
//! (a body carries a single-use link).

pub mod outbox;
pub mod smtp;

use async_trait::async_trait;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// One plain-text message to one address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
}

/// A message could not be handed on.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The recipient or sender address is not one the mail system accepts.
    #[error("the address {0:?} cannot be used for mail")]
    Address(String),
    /// The SMTP server refused the message or could not be reached.
    #[error("the SMTP server did not take the message: {0}")]
    Smtp(String),
    /// The outbox could not be written.
    #[error("the outbox could not be written: {0}")]
    Outbox(#[from] std::io::Error),
}

/// Somewhere mail goes.
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Sends `mail` from `from`; `Ok` once the message is handed on (queued by the SMTP
    /// server, or written to the outbox).
    async fn send(&self, from: &str, mail: &Mail) -> Result<(), MailError>;
}

/// How account mail leaves the server.
#[derive(Clone, Debug)]
pub enum Delivery {
    /// Through the SMTP server at this URL (`smtp://`, `smtps://`; lettre's URL form).
    Smtp(String),
    /// Into files in this directory.
    Outbox(PathBuf),
}

/// The mail settings, with the mailer they make.
#[derive(Clone)]
pub struct MailConfig {
    /// Where mail goes.
    pub delivery: Delivery,
    /// The `From` address (`MAIL_FROM`).
    pub from: String,
    mailer: Arc<dyn Mailer>,
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // An SMTP URL may carry a password.
        let delivery = match &self.delivery {
            Delivery::Smtp(_) => "smtp".to_owned(),
            Delivery::Outbox(dir) => format!("outbox {}", dir.display()),
        };
        f.debug_struct("MailConfig")
            .field("delivery", &delivery)
            .field("from", &self.from)
            .finish()
    }
}

impl MailConfig {
    /// Settings delivering to `delivery` from `from`; refuses an SMTP URL lettre cannot use
    /// and a `from` that is not an address (nothing connects yet).
    pub fn new(delivery: Delivery, from: String) -> Result<MailConfig, MailError> {
        if from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(MailError::Address(from));
        }
        let mailer: Arc<dyn Mailer> = match &delivery {
            Delivery::Smtp(url) => Arc::new(smtp::SmtpMailer::new(url)?),
            Delivery::Outbox(dir) => Arc::new(outbox::Outbox::new(dir.clone())),
        };
        Ok(MailConfig {
            delivery,
            from,
            mailer,
        })
    }

    /// A postman for these settings.
    pub fn postman(&self) -> Postman {
        Postman::new(self.mailer.clone(), self.from.clone())
    }
}

/// Sends account mail in the background, so no request waits for (or reveals, by its
/// timing) a delivery.
#[derive(Clone)]
pub struct Postman {
    mailer: Arc<dyn Mailer>,
    from: String,
}

/// Deliveries tried before a message is given up (logged as an error).
const ATTEMPTS: u32 = 4;

impl Postman {
    /// A postman handing mail to `mailer`, sent from `from`.
    pub fn new(mailer: Arc<dyn Mailer>, from: String) -> Postman {
        Postman { mailer, from }
    }

    /// Queues `mail`; returns at once. `what` names the kind of message in the logs.
    pub fn post(&self, what: &'static str, mail: Mail) {
        let (mailer, from) = (self.mailer.clone(), self.from.clone());
        tokio::spawn(async move {
            let mut wait = Duration::from_secs(2);
            for attempt in 1..=ATTEMPTS {
                match mailer.send(&from, &mail).await {
                    Ok(()) => {
                        tracing::info!(what, attempt, "account mail sent");
                        return;
                    }
                    Err(e) if attempt < ATTEMPTS => {
                        tracing::warn!(what, attempt, error = %e, "account mail not sent; retrying");
                        tokio::time::sleep(wait).await;
                        wait *= 4;
                    }
                    Err(e) => tracing::error!(what, error = %e, "account mail given up"),
                }
            }
        });
    }
}
