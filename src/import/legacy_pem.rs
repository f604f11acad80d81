//! OpenSSL's legacy encrypted PEM keys: a `-----BEGIN RSA PRIVATE KEY-----` (or EC) block with
//! `Proc-Type: 4,ENCRYPTED` and `DEK-Info: <cipher>,<hex IV>` headers, as `openssl rsa -aes256`,
//! `openssl ec -des3`, OpenSSL 1.x `genrsa -aes256` and many CA downloads write.
//!
//! The key is OpenSSL's `EVP_BytesToKey` with MD5, one round, and the IV's first 8 bytes as salt;
//! the cipher is CBC with PKCS#7 padding. MD5 (md-5) and the block ciphers (aes, des, cbc) are
//! RustCrypto's; only their composition, as OpenSSL defines it, is here. Returns the decrypted
//! DER; knows nothing of what key it holds.

use cbc02::cipher::{BlockModeDecrypt, KeyIvInit, block_padding::Pkcs7};
use md5::{Digest, Md5};
use zeroize::Zeroizing;

/// Why a legacy encrypted PEM block could not be decrypted.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum LegacyPemError {
    /// No passphrase was given.
    NeedsPassphrase,
    /// The padding proves the passphrase wrong.
    WrongPassphrase,
    /// A cipher certdesk does not open (named).
    Unsupported(String),
    /// The headers are broken.
    Malformed(String),
}

/// The ciphers `DEK-Info` may name that certdesk opens: (key bytes, IV bytes).
fn cipher_sizes(name: &str) -> Option<(usize, usize)> {
    match name {
        "AES-128-CBC" => Some((16, 16)),
        "AES-192-CBC" => Some((24, 16)),
        "AES-256-CBC" => Some((32, 16)),
        "DES-EDE3-CBC" => Some((24, 8)),
        "DES-CBC" => Some((8, 8)),
        _ => None,
    }
}

/// `EVP_BytesToKey(cipher, MD5, salt, passphrase, count = 1)`: D₁ = MD5(pass ‖ salt),
/// Dᵢ = MD5(Dᵢ₋₁ ‖ pass ‖ salt), key = D₁ ‖ D₂ ‖ … cut to `len`.
fn bytes_to_key(passphrase: &[u8], salt: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(len + 16));
    let mut previous: Option<Zeroizing<[u8; 16]>> = None;
    while out.len() < len {
        let mut md5 = Md5::new();
        if let Some(block) = &previous {
            md5.update(block.as_slice());
        }
        md5.update(passphrase);
        md5.update(salt);
        let block: Zeroizing<[u8; 16]> = Zeroizing::new(md5.finalize().into());
        out.extend_from_slice(block.as_slice());
        previous = Some(block);
    }
    out.truncate(len);
    out
}

/// Decrypts the body of a block whose `DEK-Info` header is `dek_info`.
pub(super) fn decrypt(
    dek_info: &str,
    ciphertext: &[u8],
    passphrase: Option<&str>,
) -> Result<Zeroizing<Vec<u8>>, LegacyPemError> {
    let (cipher, iv_hex) = dek_info
        .split_once(',')
        .ok_or_else(|| LegacyPemError::Malformed("DEK-Info has no IV".into()))?;
    let cipher = cipher.trim().to_ascii_uppercase();
    let Some((key_len, iv_len)) = cipher_sizes(&cipher) else {
        return Err(LegacyPemError::Unsupported(cipher));
    };
    let iv = hex::decode(iv_hex.trim())
        .map_err(|_| LegacyPemError::Malformed("the DEK-Info IV is not hexadecimal".into()))?;
    if iv.len() != iv_len {
        return Err(LegacyPemError::Malformed(format!(
            "the DEK-Info IV is {} bytes; {cipher} needs {iv_len}",
            iv.len()
        )));
    }
    let Some(passphrase) = passphrase.filter(|p| !p.is_empty()) else {
        return Err(LegacyPemError::NeedsPassphrase);
    };
    let key = bytes_to_key(passphrase.as_bytes(), &iv[..8], key_len);
    let bad = |_| LegacyPemError::Malformed("key or IV of the wrong length".into());
    let plain = match cipher.as_str() {
        "AES-128-CBC" => cbc02::Decryptor::<aes09::Aes128>::new_from_slices(&key, &iv)
            .map_err(bad)?
            .decrypt_padded_vec::<Pkcs7>(ciphertext),
        "AES-192-CBC" => cbc02::Decryptor::<aes09::Aes192>::new_from_slices(&key, &iv)
            .map_err(bad)?
            .decrypt_padded_vec::<Pkcs7>(ciphertext),
        "AES-256-CBC" => cbc02::Decryptor::<aes09::Aes256>::new_from_slices(&key, &iv)
            .map_err(bad)?
            .decrypt_padded_vec::<Pkcs7>(ciphertext),
        "DES-EDE3-CBC" => cbc02::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
            .map_err(bad)?
            .decrypt_padded_vec::<Pkcs7>(ciphertext),
        _ => cbc02::Decryptor::<des::Des>::new_from_slices(&key, &iv)
            .map_err(bad)?
            .decrypt_padded_vec::<Pkcs7>(ciphertext),
    };
    plain
        .map(Zeroizing::new)
        .map_err(|_| LegacyPemError::WrongPassphrase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_to_key_matches_openssl() {
        // `openssl enc -aes-256-cbc -pass pass:secret -S 0102030405060708 -P -md md5`
        let key = bytes_to_key(b"secret", &[1, 2, 3, 4, 5, 6, 7, 8], 32);
        assert_eq!(
            hex::encode_upper(key.as_slice()),
            OPENSSL_KEY,
            "EVP_BytesToKey(MD5) key"
        );
    }

    /// What `openssl enc` printed for that command (OpenSSL 3.0).
    const OPENSSL_KEY: &str = "C9E5A1BD216DBE1317E230CEF48F38EE7F0E17AD64022144BCCEC4A1AA2879AB";

    #[test]
    fn unknown_ciphers_and_bad_headers_are_named() {
        assert_eq!(
            decrypt("CAMELLIA-256-CBC,00", b"", Some("x")),
            Err(LegacyPemError::Unsupported("CAMELLIA-256-CBC".into()))
        );
        assert!(matches!(
            decrypt("AES-256-CBC", b"", Some("x")),
            Err(LegacyPemError::Malformed(_))
        ));
        assert!(matches!(
            decrypt("AES-256-CBC,0011", b"", Some("x")),
            Err(LegacyPemError::Malformed(_))
        ));
        assert_eq!(
            decrypt("AES-128-CBC,000102030405060708090A0B0C0D0E0F", b"", None),
            Err(LegacyPemError::NeedsPassphrase)
        );
    }
}
