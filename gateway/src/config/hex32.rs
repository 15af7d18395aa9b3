//! 32-byte values written as hex: `secrets.key` and
//! `service_tokens[].token_sha256`.

/// 32 bytes written as 64 hex characters. The value is never echoed: it may
/// be a secret.
pub(crate) fn parse_hex32(text: &str) -> Result<[u8; 32], String> {
    let text = text.trim();
    if text.len() != 64 {
        return Err(format!(
            "must be 64 hex characters (32 bytes), got {} characters",
            text.chars().count()
        ));
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out)
        .map_err(|_| "must be 64 hex characters (0-9, a-f), found another character".to_string())?;
    Ok(out)
}
