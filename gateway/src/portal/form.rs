//! Reading a urlencoded form body, bounded.

use pingora::proxy::Session;

/// Portal forms are a few short fields; anything bigger is not one of ours.
const MAX_BODY: usize = 16 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum FormError {
    #[error("the form is larger than {MAX_BODY} bytes")]
    TooLarge,
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

pub async fn read(session: &mut Session) -> Result<Form, FormError> {
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
    let mut body = Vec::new();
    while let Some(chunk) = session.read_request_body().await? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(FormError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Form::parse(&body))
}
