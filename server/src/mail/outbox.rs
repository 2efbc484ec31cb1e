//! Mail for the embedded default: each message becomes a file `DATA_DIR/outbox/<time>-<id>.eml`
//! (RFC 5322 headers, a blank line, the plain-text body), readable only by the server's
//! account, and a log line names the file and the recipient. The operator reads the outbox
//! to pass a link on, until `SMTP_URL` is set.

use super::{Mail, MailError, Mailer};
use async_trait::async_trait;
use std::path::{Path, PathBuf};

/// A directory of written messages.
pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    /// An outbox in `dir` (created with the first message).
    pub fn new(dir: PathBuf) -> Outbox {
        Outbox { dir }
    }
}

/// Keeps a header value on one line.
fn one_line(value: &str) -> String {
    value.replace(['\r', '\n'], " ")
}

/// The file text of `mail` sent from `from` at `date` (RFC 2822 form).
pub fn render(from: &str, mail: &Mail, date: &str) -> String {
    format!(
        "From: {}\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}",
        one_line(from),
        one_line(&mail.to),
        one_line(&mail.subject),
        date,
        mail.body
    )
}

/// Reads back a message written by [`render`]: the recipient, the subject and the body.
pub fn parse(text: &str) -> Option<Mail> {
    let (head, body) = text.split_once("\r\n\r\n")?;
    let header = |name: &str| {
        head.split("\r\n")
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
            .map(str::to_owned)
    };
    Some(Mail {
        to: header("To")?,
        subject: header("Subject")?,
        body: body.to_owned(),
    })
}

/// Writes a new file readable only by the server's account.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[async_trait]
impl Mailer for Outbox {
    async fn send(&self, from: &str, mail: &Mail) -> Result<(), MailError> {
        if mail.to.contains(['\r', '\n']) || !mail.to.contains('@') {
            return Err(MailError::Address(mail.to.clone()));
        }
        let now = time::OffsetDateTime::now_utc();
        let date = now
            .format(&time::format_description::well_known::Rfc2822)
            .unwrap_or_default();
        let name = format!(
            "{}-{}.eml",
            now.unix_timestamp_nanos() / 1_000_000,
            uuid::Uuid::new_v4().simple()
        );
        let (dir, path) = (self.dir.clone(), self.dir.join(name));
        let text = render(from, mail, &date);
        let file = path.clone();
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)?;
            write_private(&file, &text)
        })
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))??;
        tracing::info!(to = %mail.to, subject = %mail.subject, file = %path.display(), "mail written to the outbox (set SMTP_URL to send it)");
        Ok(())
    }
}
