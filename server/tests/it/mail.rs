//! The mailer seam's conformance suite, run against both implementations: the outbox (files
//! under the data dir) and SMTP through `lettre` to a real SMTP server on loopback (PyPI
//! `aiosmtpd`, installed by `make test`, storing what it receives in a Maildir).

use server::mail::outbox::Outbox;
use server::mail::smtp::SmtpMailer;
use server::mail::{Mail, MailError, Mailer};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const FROM: &str = "Switchyard <noreply@localhost>";

/// What a mailer under test delivered, read back from wherever it went.
struct Delivered {
    from: String,
    to: String,
    subject: String,
    body: String,
}

/// The headers and body of an RFC 5322 message (CRLF or LF line ends).
fn read_message(text: &str) -> Delivered {
    let text = text.replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").expect("headers and body");
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
            })
            .unwrap_or_default()
    };
    Delivered {
        from: header("From"),
        to: header("To"),
        subject: header("Subject"),
        body: body.to_owned(),
    }
}

/// Every message file in `dir`, read back.
fn messages_in(dir: &Path) -> Vec<Delivered> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .map(|t| read_message(&t))
        .collect()
}

/// The suite: a message arrives whole with its sender, recipient and subject; a recipient
/// that would smuggle a header is refused and nothing is delivered for it.
async fn conformance(mailer: &dyn Mailer, delivered_dir: &Path) {
    let mail = Mail {
        to: "ada@example.com".into(),
        subject: "Confirm your e-mail address for Switchyard".into(),
        body: "Follow this link:\n\nhttp://127.0.0.1:3000/verify-email?token=abc123\n\nThe link works once.\n"
            .into(),
    };
    mailer
        .send(FROM, &mail)
        .await
        .expect("the message is taken");
    let mut got = Vec::new();
    for _ in 0..100 {
        got = messages_in(delivered_dir);
        if !got.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(got.len(), 1, "one message arrives");
    let m = &got[0];
    assert!(m.from.contains("noreply@localhost"), "from: {}", m.from);
    assert!(m.to.contains("ada@example.com"), "to: {}", m.to);
    assert_eq!(m.subject, mail.subject);
    assert!(
        m.body
            .contains("http://127.0.0.1:3000/verify-email?token=abc123"),
        "the link arrives intact: {:?}",
        m.body
    );

    let smuggled = Mail {
        to: "ada@example.com\r\nBcc: eve@example.com".into(),
        ..mail
    };
    let refused = mailer.send(FROM, &smuggled).await;
    assert!(matches!(refused, Err(MailError::Address(_))), "{refused:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(messages_in(delivered_dir).len(), 1, "nothing more arrived");
}

#[tokio::test]
async fn the_outbox_conforms() {
    let dir = std::env::temp_dir().join(format!("sy-outbox-{}", uuid::Uuid::new_v4().simple()));
    conformance(&Outbox::new(dir.clone()), &dir).await;
    // Only the server's account may read a message: it carries a single-use link.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let file = std::fs::read_dir(&dir)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let mode = std::fs::metadata(file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// A real SMTP server (`aiosmtpd`) on a loopback port, storing mail in a Maildir; killed
/// when dropped.
struct SmtpServer {
    child: Child,
    port: u16,
    maildir: PathBuf,
}

impl SmtpServer {
    async fn start() -> SmtpServer {
        let pythonpath = std::env::var("SMTP_TEST_PYTHONPATH").unwrap_or_else(|_| {
            format!(
                "{}/.cache/switchyard/tools/py",
                std::env::var("HOME").unwrap_or_default()
            )
        });
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            l.local_addr().expect("its address").port()
        };
        let maildir =
            std::env::temp_dir().join(format!("sy-maildir-{}", uuid::Uuid::new_v4().simple()));
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .env("PYTHONPATH", pythonpath)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs aiosmtpd (make test installs it)");
        // Killed on drop from here on, also when it never listens.
        let server = SmtpServer {
            child,
            port,
            maildir,
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "aiosmtpd did not listen on 127.0.0.1:{port} (is it installed? make test installs it)"
        );
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}

#[tokio::test]
async fn smtp_conforms() {
    let server = SmtpServer::start().await;
    let mailer = SmtpMailer::new(&format!("smtp://127.0.0.1:{}", server.port))
        .expect("an SMTP URL lettre takes");
    conformance(&mailer, &server.maildir.join("new")).await;
}

#[test]
fn a_bad_smtp_url_or_sender_is_refused_at_start() {
    assert!(SmtpMailer::new("not a url").is_err());
    let bad_from = server::mail::MailConfig::new(
        server::mail::Delivery::Outbox(std::env::temp_dir()),
        "nobody".into(),
    );
    assert!(matches!(bad_from, Err(MailError::Address(_))));
}

#[test]
fn the_outbox_file_form_reads_back() {
    let mail = Mail {
        to: "ada@example.com".into(),
        subject: "Hello".into(),
        body: "one\ntwo\n".into(),
    };
    let text = server::mail::outbox::render(FROM, &mail, "Fri, 27 Nov 2026 12:00:00 +0000");
    assert_eq!(server::mail::outbox::parse(&text), Some(mail));
}
