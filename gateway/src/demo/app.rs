//! The demo's upstream: a "legacy app" that shows the headers it received,
//! so you can see exactly what Gatehouse forwards.

use async_trait::async_trait;
use gatehouse_templates::{demo_app_page, DemoView};
use http::Response;
use pingora::apps::http_app::{HttpServer, ServeHttp};
use pingora::protocols::http::ServerSession;
use pingora::services::listening::Service;

pub struct DemoApp;

#[async_trait]
impl ServeHttp for DemoApp {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        let req = session.req_header();
        let headers: Vec<(String, String)> = req
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let path = req.uri.path_and_query().map_or("/", |p| p.as_str());
        let body = demo_app_page(&DemoView {
            method: req.method.as_str(),
            path,
            headers: &headers,
            logout_csrf: None,
        })
        .into_bytes();
        Response::builder()
            .status(200)
            .header(http::header::CONTENT_TYPE, "text/html; charset=utf-8")
            .header(http::header::CONTENT_LENGTH, body.len())
            .body(body)
            .unwrap_or_default()
    }
}

/// The demo app as a Pingora service listening on `addr`.
pub fn demo_app_service(addr: &str) -> Service<HttpServer<DemoApp>> {
    let mut service = Service::new("demo app".to_owned(), HttpServer::new_app(DemoApp));
    service.add_tcp(addr);
    service
}
