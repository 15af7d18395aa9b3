//! The Twilio Messages API stand-in, checked with a real HTTP client.

use std::io::Read;

use reqwest::blocking::Client;

use super::*;

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "test-auth-token";

fn post(provider: &SmsProvider, token: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = Client::new()
        .post(provider.messages_url())
        .basic_auth(SID, Some(token))
        .form(form)
        .send()
        .expect("POST to the SMS provider");
    let status = response.status().as_u16();
    (status, response.json().expect("a JSON reply"))
}

#[test]
fn a_good_request_is_accepted_and_recorded() {
    let provider = SmsProvider::start(SID, TOKEN);
    let (status, body) = post(
        &provider,
        TOKEN,
        &[
            ("To", "+15551234567"),
            ("From", "+15005550006"),
            ("Body", "Your Gatehouse code: 123456 & more"),
        ],
    );
    assert_eq!(status, 201, "{body}");
    let sid = body["sid"].as_str().expect("a sid");
    assert!(
        sid.len() == 34 && sid.starts_with("SM") && sid[2..].bytes().all(|b| b.is_ascii_hexdigit()),
        "sid {sid}"
    );
    assert_eq!(body["account_sid"], SID);
    assert_eq!(body["status"], "queued");
    assert_eq!(body["body"], "Your Gatehouse code: 123456 & more");
    assert_eq!(
        body["uri"],
        format!("/2010-04-01/Accounts/{SID}/Messages/{sid}.json")
    );
    let sms = provider.wait_for_sms("+15551234567", 1);
    assert_eq!(sms.from, "+15005550006");
    assert_eq!(sms.body, "Your Gatehouse code: 123456 & more");
    assert_eq!(sms.code().as_deref(), Some("123456"));
    assert!(sms.authorization.starts_with("Basic "));
    assert_eq!(provider.attempts(), 1);
    assert_eq!(provider.messages().len(), 1);
}

#[test]
fn a_wrong_token_is_rejected_and_not_recorded() {
    let provider = SmsProvider::start(SID, TOKEN);
    let form = [
        ("To", "+15551234567"),
        ("From", "+15005550006"),
        ("Body", "x"),
    ];
    let (status, body) = post(&provider, "wrong", &form);
    assert_eq!(status, 401);
    assert_eq!(body["code"], 20003);
    assert_eq!(body["message"], "Authenticate");
    let unauthenticated = Client::new()
        .post(provider.messages_url())
        .form(&form)
        .send()
        .expect("POST without auth");
    assert_eq!(unauthenticated.status().as_u16(), 401);
    assert_eq!(provider.attempts(), 2);
    assert!(provider.messages().is_empty());
}

#[test]
fn an_invalid_to_number_gets_21211() {
    let provider = SmsProvider::start(SID, TOKEN);
    let (status, body) = post(
        &provider,
        TOKEN,
        &[("To", "555-1234"), ("From", "+15005550006"), ("Body", "x")],
    );
    assert_eq!(status, 400);
    assert_eq!(body["code"], 21211);
    assert_eq!(
        body["message"],
        "The 'To' number 555-1234 is not a valid phone number."
    );
    let (status, body) = post(&provider, TOKEN, &[("To", "+15551234567"), ("Body", "x")]);
    assert_eq!((status, body["code"].clone()), (400, json!(21603)));
    let (status, body) = post(&provider, TOKEN, &[("From", "+15005550006"), ("Body", "x")]);
    assert_eq!((status, body["code"].clone()), (400, json!(21604)));
    assert!(provider.messages().is_empty());
}

#[test]
fn another_account_and_other_paths_get_404() {
    let provider = SmsProvider::start(SID, TOKEN);
    let other = Client::new()
        .post(format!(
            "{}/2010-04-01/Accounts/ACother/Messages.json",
            provider.url()
        ))
        .basic_auth(SID, Some(TOKEN))
        .form(&[
            ("To", "+15551234567"),
            ("From", "+15005550006"),
            ("Body", "x"),
        ])
        .send()
        .expect("POST to another account");
    assert_eq!(other.status().as_u16(), 404);
    let body: Value = other.json().expect("JSON");
    assert_eq!(body["code"], 20404);
    let get = Client::new()
        .get(provider.messages_url())
        .send()
        .expect("GET");
    assert_eq!(get.status().as_u16(), 404);
    assert_eq!(provider.attempts(), 1);
}

#[test]
fn an_outage_answers_503_and_counts_the_attempt() {
    let provider = SmsProvider::start(SID, TOKEN);
    let form = [
        ("To", "+15551234567"),
        ("From", "+15005550006"),
        ("Body", "x"),
    ];
    provider.set_outage(true);
    let (status, body) = post(&provider, TOKEN, &form);
    assert_eq!(status, 503);
    assert_eq!(body["code"], 20503);
    assert_eq!(provider.attempts(), 1);
    assert!(provider.messages().is_empty());
    provider.set_outage(false);
    let (status, _) = post(&provider, TOKEN, &form);
    assert_eq!(status, 201);
    assert_eq!(provider.attempts(), 2);
    assert_eq!(provider.messages_to("+15551234567").len(), 1);
}

#[test]
fn keep_alive_and_connection_close_both_work() {
    let provider = SmsProvider::start(SID, TOKEN);
    let mut stream = TcpStream::connect(provider.addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let auth = format!(
        "Basic {}",
        // "AC0123456789abcdef0123456789abcdef:test-auth-token"
        "QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjp0ZXN0LWF1dGgtdG9rZW4="
    );
    let form = "To=%2B15551234567&From=%2B15005550006&Body=code+654321";
    let request = |connection: &str| {
        format!(
            "POST /2010-04-01/Accounts/{SID}/Messages.json HTTP/1.1\r\nhost: x\r\n\
             authorization: {auth}\r\ncontent-type: application/x-www-form-urlencoded\r\n\
             content-length: {}\r\n{connection}\r\n{form}",
            form.len()
        )
    };
    stream
        .write_all(request("").as_bytes())
        .expect("first request");
    stream
        .write_all(request("connection: close\r\n").as_bytes())
        .expect("second request on the same connection");
    let mut replies = String::new();
    // EOF proves the server closed after the second reply.
    stream.read_to_string(&mut replies).expect("both replies");
    assert_eq!(
        replies.matches("HTTP/1.1 201 Created").count(),
        2,
        "{replies}"
    );
    assert_eq!(provider.messages().len(), 2);
    assert_eq!(provider.messages()[0].body, "code 654321");
    assert_eq!(provider.messages()[1].authorization, auth);
}

#[test]
fn helpers_decode_what_clients_send() {
    assert_eq!(
        basic_credentials("Basic QUMxOnRvazplbg=="),
        Some(("AC1".into(), "tok:en".into()))
    );
    assert_eq!(basic_credentials("Bearer abc"), None);
    assert_eq!(form_decode("a+b%2Bc%26%zz%"), "a b+c&%zz%");
    assert!(is_e164("+15551234567"));
    assert!(!is_e164("15551234567"));
    assert!(!is_e164("+1555"));
    assert!(!is_e164("+1234567890123456"));
    assert_eq!(rfc2822(1_282_161_700), "Wed, 18 Aug 2010 20:01:40 +0000");
    assert_eq!(rfc2822(0), "Thu, 01 Jan 1970 00:00:00 +0000");
    assert_eq!(rfc2822(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
}
