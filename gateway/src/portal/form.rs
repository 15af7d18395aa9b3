//! Reading a urlencoded form body, bounded by `server.max_form_bytes`.

use std::time::Duration;

use pingora::proxy::Session;

/// How much of a refused body is read and dropped, and for how long, so
/// that a client still sending it reads the 413 instead of a reset
/// connection. Past either, the connection is closed instead.
const DISCARD_BYTES: usize = 64 * 1024;
const DISCARD_WITHIN: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum FormError {
    #[error("the form is larger than {max} bytes, the most this gateway accepts")]
    TooLarge { max: usize },
    #[error("the request is not a form (Content-Type must be application/x-www-form-urlencoded)")]
    NotAForm,
    #[error("reading the form: {0}")]
    Read(#[from] Box<pingora::Error>),
}

#[derive(Debug, Clone)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// The fields of a urlencoded body.
    pub fn parse(body: &[u8]) -> Form {
        Form(form_urlencoded::parse(body).into_owned().collect())
    }

    #[cfg(test)]
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Form {
        Form(pairs)
    }

    /// The `rd` field if it is a safe return path, else the default.
    pub fn rd(&self, gw: &crate::gateway::Gateway) -> String {
        gw.return_to(self.get("rd"))
    }

    /// Every value of a field, in order: checkboxes sharing a name.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a field; a missing field reads as empty.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// Reads the posted form, refusing one over `max` bytes: at once when it
/// says its length, else at the chunk that passes it.
pub async fn read(session: &mut Session, max: usize) -> Result<Form, FormError> {
    let is_form = session
        .req_header()
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    if !is_form {
        return Err(FormError::NotAForm);
    }
    let declared = session
        .req_header()
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        discard(session).await;
        return Err(FormError::TooLarge { max });
    }
    let mut body = Vec::new();
    while let Some(chunk) = session.read_request_body().await? {
        if body.len() + chunk.len() > max {
            discard(session).await;
            return Err(FormError::TooLarge { max });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Form::parse(&body))
}

/// Reads and drops the rest of a refused body, within [`DISCARD_BYTES`]
/// and [`DISCARD_WITHIN`]; a body still coming after that closes the
/// connection rather than keep reading it.
async fn discard(session: &mut Session) {
    let drained = tokio::time::timeout(DISCARD_WITHIN, async {
        let mut left = DISCARD_BYTES;
        while let Some(chunk) = session.read_request_body().await? {
            match left.checked_sub(chunk.len()) {
                Some(rest) => left = rest,
                None => return Ok(false),
            }
        }
        Ok::<bool, Box<pingora::Error>>(true)
    })
    .await;
    if !matches!(drained, Ok(Ok(true))) {
        session.set_keepalive(None);
    }
}
