//! Mail through an SMTP server (`SMTP_URL`), with `lettre`: `smtps://user:pass@host` for
//! TLS from the start, `smtp://host:587?tls=required` for STARTTLS, `smtp://host:25` for a
//! local relay without TLS.

use super::{Mail, MailError, Mailer};
use async_trait::async_trait;
use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// A mailer speaking SMTP to one server.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl SmtpMailer {
    /// A mailer for the server at `url`; nothing connects until the first message.
    pub fn new(url: &str) -> Result<SmtpMailer, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Smtp(format!("SMTP_URL is not usable: {e}")))?
            .timeout(Some(std::time::Duration::from_secs(30)))
            .build();
        Ok(SmtpMailer { transport })
    }
}

fn mailbox(address: &str) -> Result<Mailbox, MailError> {
    address
        .parse()
        .map_err(|_| MailError::Address(address.to_owned()))
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, from: &str, mail: &Mail) -> Result<(), MailError> {
        let message = Message::builder()
            .from(mailbox(from)?)
            .to(mailbox(&mail.to)?)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| MailError::Smtp(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map_err(|e| MailError::Smtp(e.to_string()))?;
        Ok(())
    }
}
