//! Sealing secret values: XChaCha20-Poly1305 (an AEAD from RustCrypto) with a random 192-bit
//! nonce per value, the workspace and the secret's name as associated data (so a sealed
//! value cannot be moved to another workspace or name and still open), under a 256-bit key.
//!
//! The key comes from `SECRETS_KEY` (32 bytes, base64) or, when that is unset, from the file
//! `DATA_DIR/secrets.key`, generated on first start with mode 0600. Each sealed value
//! records the id of the key that sealed it (the first 16 hex digits of the key's SHA-256).
//! Rotation: start with the new key in `SECRETS_KEY` and the old one in
//! `SECRETS_KEY_PREVIOUS`; every value sealed under an old key is sealed again under the new
//! one at start-up, after which the old key can be dropped.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};
use shared::ids::TenantId;
use std::fmt;
use std::path::Path;

/// A value as stored (and as a job carries it to a worker that holds the key): which key
/// sealed it, its nonce and the ciphertext (base64).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sealed {
    /// The sealing key's id.
    pub key_id: String,
    /// The nonce, base64.
    pub nonce: String,
    /// Ciphertext and tag, base64.
    pub ciphertext: String,
}

/// Why a sealed value did not open.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Sealed under a key this process does not have.
    #[error("the secret was sealed with key {0}, which this process does not have (set SECRETS_KEY, or SECRETS_KEY_PREVIOUS while rotating)")]
    UnknownKey(String),
    /// Tampered with, moved, or not base64.
    #[error("the secret does not open: it was changed or moved")]
    Corrupt,
}

struct Key {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl Key {
    fn new(bytes: &[u8; 32]) -> Key {
        let digest = Sha256::digest(bytes);
        let id = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        Key {
            id,
            cipher: XChaCha20Poly1305::new(bytes.into()),
        }
    }

    fn parse(raw: &str, what: &str) -> Result<Key, String> {
        let bytes = STANDARD
            .decode(raw.trim())
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw.trim()))
            .map_err(|_| format!("{what} is not base64"))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| format!("{what} must be 32 bytes (base64 of `openssl rand 32`)"))?;
        Ok(Key::new(&bytes))
    }
}

/// The keys of this process: the one that seals, and older ones that still open.
pub struct Keyring {
    current: Key,
    previous: Vec<Key>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current.id)
            .field(
                "previous",
                &self.previous.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

fn associated_data(tenant: TenantId, name: &str) -> Vec<u8> {
    format!("switchyard secret\0{tenant}\0{name}").into_bytes()
}

impl Keyring {
    /// From `key` (base64; `None` reads or creates `key_file`) and the `previous` keys.
    pub fn load(
        key: Option<&str>,
        previous: &[String],
        key_file: &Path,
    ) -> Result<Keyring, String> {
        let current = match key {
            Some(raw) => Key::parse(raw, "SECRETS_KEY")?,
            None => Key::parse(&read_or_create(key_file)?, &key_file.display().to_string())?,
        };
        let previous = previous
            .iter()
            .map(|raw| Key::parse(raw, "SECRETS_KEY_PREVIOUS"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Keyring { current, previous })
    }

    /// A keyring of one key given as bytes.
    pub fn from_bytes(key: &[u8; 32]) -> Keyring {
        Keyring {
            current: Key::new(key),
            previous: Vec::new(),
        }
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    /// Seals `value` as the secret `name` of `tenant`.
    pub fn seal(&self, tenant: TenantId, name: &str, value: &str) -> Sealed {
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = associated_data(tenant, name);
        let ciphertext = self
            .current
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: value.as_bytes(),
                    aad: &aad,
                },
            )
            // Encryption fails only for inputs of gigabytes; values are capped at 8 kB.
            .unwrap_or_default();
        Sealed {
            key_id: self.current.id.clone(),
            nonce: STANDARD.encode(nonce),
            ciphertext: STANDARD.encode(ciphertext),
        }
    }

    /// Opens the secret `name` of `tenant`.
    pub fn open(&self, tenant: TenantId, name: &str, sealed: &Sealed) -> Result<String, OpenError> {
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == sealed.key_id)
            .ok_or_else(|| OpenError::UnknownKey(sealed.key_id.clone()))?;
        let nonce = STANDARD
            .decode(&sealed.nonce)
            .map_err(|_| OpenError::Corrupt)?;
        if nonce.len() != 24 {
            return Err(OpenError::Corrupt);
        }
        let ciphertext = STANDARD
            .decode(&sealed.ciphertext)
            .map_err(|_| OpenError::Corrupt)?;
        let aad = associated_data(tenant, name);
        let plain = key
            .cipher
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| OpenError::Corrupt)?;
        String::from_utf8(plain).map_err(|_| OpenError::Corrupt)
    }
}

/// The key in `path`, created (32 random bytes, base64, mode 0600) when missing.
fn read_or_create(path: &Path) -> Result<String, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => return Ok(text),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("cannot read {}: {e}", path.display()))
        }
        Err(_) => {}
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let text = STANDARD.encode(key);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    let written = options
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()));
    match written {
        Ok(()) => {
            tracing::info!(file = %path.display(), "generated the secrets key");
            Ok(text)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display())),
        Err(e) => Err(format!("cannot write {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_open_only_for_their_workspace_and_name() {
        let ring = Keyring::from_bytes(&[7; 32]);
        let (a, b) = (TenantId::new(), TenantId::new());
        let sealed = ring.seal(a, "TOKEN", "hunter2");
        assert_eq!(sealed.key_id, ring.current_id());
        assert!(!sealed.ciphertext.contains("hunter2"));
        assert_eq!(ring.open(a, "TOKEN", &sealed).as_deref(), Ok("hunter2"));
        assert_eq!(ring.open(b, "TOKEN", &sealed), Err(OpenError::Corrupt));
        assert_eq!(ring.open(a, "OTHER", &sealed), Err(OpenError::Corrupt));
        let mut tampered = sealed.clone();
        tampered.ciphertext = STANDARD.encode(b"not what was sealed at all");
        assert_eq!(ring.open(a, "TOKEN", &tampered), Err(OpenError::Corrupt));
        // Two seals of one value differ (fresh nonces).
        assert_ne!(ring.seal(a, "TOKEN", "hunter2"), sealed);
    }

    #[test]
    fn an_old_key_opens_while_rotating_and_a_missing_one_is_named() {
        let old = Keyring::from_bytes(&[1; 32]);
        let tenant = TenantId::new();
        let sealed = old.seal(tenant, "TOKEN", "v");
        let new_key = STANDARD.encode([2u8; 32]);
        let old_key = STANDARD.encode([1u8; 32]);
        let file = Path::new("/nonexistent/never-read");
        let rotating = Keyring::load(Some(&new_key), &[old_key], file).unwrap();
        assert_ne!(rotating.current_id(), old.current_id());
        assert_eq!(rotating.open(tenant, "TOKEN", &sealed).as_deref(), Ok("v"));
        let after = Keyring::load(Some(&new_key), &[], file).unwrap();
        assert_eq!(
            after.open(tenant, "TOKEN", &sealed),
            Err(OpenError::UnknownKey(old.current_id().to_owned()))
        );
        assert!(Keyring::load(Some("c2hvcnQ="), &[], file).is_err());
    }

    #[test]
    fn a_key_file_is_generated_once_and_private() {
        let dir = std::env::temp_dir().join(format!("sy-keys-{}", uuid::Uuid::new_v4().simple()));
        let file = dir.join("secrets.key");
        let first = Keyring::load(None, &[], &file).unwrap();
        let again = Keyring::load(None, &[], &file).unwrap();
        assert_eq!(first.current_id(), again.current_id());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
