//! Secrets and the credentials built from them. A [`Secret`] never prints itself (Debug and Display
//! say `[redacted]`) and is zeroized when dropped. Where credentials come from (keyring, environment)
//! is `profiles`' job; this module only holds them.

use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A secret string: AccessKey secret, Huawei SK, security token, private key PEM, passphrase.
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for signing. Never log or display what this returns.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `true` when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_string())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Alibaba Cloud AccessKey pair, optionally an STS token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlibabaCredentials {
    /// AccessKey id (not secret: it is sent with every request).
    pub access_key_id: String,
    /// AccessKey secret.
    pub access_key_secret: Secret,
    /// STS security token for temporary credentials.
    pub security_token: Option<Secret>,
}

/// Huawei Cloud AK/SK, optionally a security token (temporary AK/SK).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HuaweiCredentials {
    /// Access key (AK).
    pub access_key: String,
    /// Secret key (SK).
    pub secret_key: Secret,
    /// `X-Security-Token` for temporary credentials.
    pub security_token: Option<Secret>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print_themselves() {
        let creds = AlibabaCredentials {
            access_key_id: "LTAIexample".into(),
            access_key_secret: Secret::new("hunter2-very-secret"),
            security_token: Some(Secret::new("sts-token-value")),
        };
        let shown = format!("{creds:?} {}", creds.access_key_secret);
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("sts-token-value"), "{shown}");
        assert!(shown.contains("LTAIexample"));
        assert_eq!(creds.access_key_secret.expose(), "hunter2-very-secret");
    }
}
