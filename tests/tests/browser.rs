//! A real browser: Debian's headless chromium, driven over WebDriver by
//! chromedriver, signs in, enrolls an authenticator (with a code from
//! `oathtool`), signs out, signs in again through the code challenge, and
//! as an admin resets another user's lost phone in the admin console.
//! Every page is saved as a screenshot under
//! `target/artifacts/browser/NN-page.png` for people (and CI) to look at.

use std::fmt::Display;
use std::path::PathBuf;
use std::time::Duration;

use fantoccini::{Client as Browser, ClientBuilder, Locator};
use gatehouse_tests::{target_dir, Authenticator, Backend, ChromeDriver, Stack, PASSWORD};
use hyper_util::client::legacy::connect::HttpConnector;

/// How long any one page gets to show up.
const WAIT: Duration = Duration::from_secs(20);
/// The protected page the user asks for first.
const START: &str = "/private/browser?from=test";

type Step<T> = Result<T, String>;

/// Error context for WebDriver calls: what the test was doing.
trait Doing<T> {
    fn doing(self, what: &str) -> Step<T>;
}

impl<T, E: Display> Doing<T> for Result<T, E> {
    fn doing(self, what: &str) -> Step<T> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

/// Screenshots, numbered in the order the pages appear.
struct Screenshots {
    dir: PathBuf,
    taken: Vec<PathBuf>,
}

impl Screenshots {
    fn new() -> Screenshots {
        let dir = target_dir().join("artifacts").join("browser");
        std::fs::create_dir_all(&dir).expect("create the screenshot dir");
        // Only this run's pictures: stale ones would hide a missing page.
        for entry in std::fs::read_dir(&dir).expect("list the screenshot dir") {
            let path = entry.expect("a dir entry").path();
            if path.extension().is_some_and(|e| e == "png") {
                std::fs::remove_file(&path).expect("remove an old screenshot");
            }
        }
        Screenshots {
            dir,
            taken: Vec::new(),
        }
    }

    async fn take(&mut self, browser: &Browser, page: &str) -> Step<()> {
        let png = browser.screenshot().await.doing("screenshot")?;
        let path = self
            .dir
            .join(format!("{:02}-{page}.png", self.taken.len() + 1));
        std::fs::write(&path, png).doing("save a screenshot")?;
        self.taken.push(path);
        Ok(())
    }
}

async fn wait_for(browser: &Browser, css: &str) -> Step<fantoccini::elements::Element> {
    browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .doing(&format!("waiting for {css}"))
}

async fn click(browser: &Browser, css: &str) -> Step<()> {
    let element = wait_for(browser, css).await?;
    element.click().await.doing(&format!("clicking {css}"))
}

async fn type_into(browser: &Browser, css: &str, text: &str) -> Step<()> {
    let element = wait_for(browser, css).await?;
    element
        .send_keys(text)
        .await
        .doing(&format!("typing into {css}"))
}

async fn path_and_query(browser: &Browser) -> Step<String> {
    let url = browser.current_url().await.doing("reading the URL")?;
    Ok(match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    })
}

/// Fills in and submits the sign-in form shown now.
async fn sign_in(browser: &Browser) -> Step<()> {
    type_into(browser, r#"input[name="username"]"#, "alice").await?;
    type_into(browser, r#"input[name="password"]"#, PASSWORD).await?;
    click(
        browser,
        r#"form[action="/.gatehouse/login"] button[type="submit"]"#,
    )
    .await
}

/// Waits for the echo app's answer and checks it is the page first asked
/// for, reached as alice.
async fn at_the_app(browser: &Browser) -> Step<()> {
    let echo = wait_for(browser, "pre").await?.text().await.doing("echo")?;
    let here = path_and_query(browser).await?;
    if here != START || !echo.contains("/private/browser?from=test") || !echo.contains("alice") {
        return Err(format!(
            "not the app as alice at {START}: at {here}: {echo}"
        ));
    }
    Ok(())
}

async fn walk_through(browser: &Browser, gateway: &str, shots: &mut Screenshots) -> Step<()> {
    // Asking for a protected page leads to the sign-in form.
    browser
        .goto(&format!("{gateway}{START}"))
        .await
        .doing("open the app")?;
    wait_for(browser, r#"input[name="username"]"#).await?;
    let here = path_and_query(browser).await?;
    if !here.starts_with("/.gatehouse/login?rd=") {
        return Err(format!("expected the sign-in page, at {here}"));
    }
    shots.take(browser, "login").await?;

    // Password, then the reminder: set up MFA now.
    sign_in(browser).await?;
    let set_up = browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::LinkText("Set up now"))
        .await
        .doing("waiting for the reminder")?;
    shots.take(browser, "reminder").await?;
    set_up.click().await.doing("clicking Set up now")?;

    // Enrollment: open "Can't scan it?" and type the key into the "app".
    wait_for(browser, "#totp-secret").await?;
    click(browser, "details.manual summary").await?;
    let key = wait_for(browser, "#totp-secret")
        .await?
        .text()
        .await
        .doing("reading the key")?;
    if key.trim().is_empty() {
        return Err("the manual key is not visible".into());
    }
    shots.take(browser, "enroll").await?;
    let app = Authenticator::new(&key);
    type_into(browser, "input#code", &app.code()).await?;
    shots.take(browser, "enroll-code").await?;
    click(
        browser,
        r#"form[action="/.gatehouse/enroll"] button[type="submit"]"#,
    )
    .await?;

    // Recovery codes: ten, then "I have saved these codes" and continue.
    wait_for(browser, "#recovery-codes").await?;
    let codes = browser
        .find_all(Locator::Css("#recovery-codes code"))
        .await
        .doing("listing the recovery codes")?;
    if codes.len() != 10 {
        return Err(format!("{} recovery codes shown, not 10", codes.len()));
    }
    shots.take(browser, "recovery-codes").await?;
    click(browser, r#"input[name="saved"]"#).await?;
    click(
        browser,
        r#"form[action="/.gatehouse/recovery-codes/ack"] button[type="submit"]"#,
    )
    .await?;
    at_the_app(browser).await?;
    shots.take(browser, "app").await?;

    // Sign out from the account page.
    browser
        .goto(&format!("{gateway}/.gatehouse/account"))
        .await
        .doing("open the account page")?;
    wait_for(browser, r#"form[action="/.gatehouse/logout"] button"#).await?;
    shots.take(browser, "account").await?;
    click(browser, r#"form[action="/.gatehouse/logout"] button"#).await?;
    wait_for(browser, r#"input[name="username"]"#).await?;
    let source = browser.source().await.doing("page source")?;
    if !source.contains("You have been signed out.") {
        return Err("no signed-out notice".into());
    }
    shots.take(browser, "signed-out").await?;

    // Signing in again asks for a code; the app's next code gets in. (The
    // gateway accepts ±1 step, so the code for the step after the one used
    // to enroll works at once: no waiting for the phone.)
    browser
        .goto(&format!("{gateway}{START}"))
        .await
        .doing("open the app again")?;
    wait_for(browser, r#"input[name="username"]"#).await?;
    sign_in(browser).await?;
    wait_for(browser, r#"form[action="/.gatehouse/mfa"] input#code"#).await?;
    shots.take(browser, "challenge").await?;
    type_into(browser, "input#code", &app.code()).await?;
    click(
        browser,
        r#"form[action="/.gatehouse/mfa"] button[type="submit"]"#,
    )
    .await?;
    at_the_app(browser).await?;
    shots.take(browser, "app-again").await
}

/// alice, signed in with her second factor, resets bob's two-factor in the
/// admin console.
async fn admin_resets_bob(browser: &Browser, gateway: &str, shots: &mut Screenshots) -> Step<()> {
    browser
        .goto(&format!("{gateway}/.gatehouse/admin"))
        .await
        .doing("open the admin console")?;
    wait_for(browser, r#"tr[data-username="bob"][data-mfa="on"]"#).await?;
    shots.take(browser, "admin").await?;
    click(
        browser,
        r#"tr[data-username="bob"] form[action="/.gatehouse/admin/reset"] button"#,
    )
    .await?;
    let notice = wait_for(browser, "#admin-notice")
        .await?
        .text()
        .await
        .doing("reading the notice")?;
    if !notice.contains("for bob was reset") {
        return Err(format!("unexpected notice: {notice}"));
    }
    wait_for(browser, r#"tr[data-username="bob"][data-mfa="off"]"#).await?;
    shots.take(browser, "admin-reset").await
}

#[test]
fn a_browser_signs_in_enrolls_passes_the_challenge_and_resets_a_user_as_admin() {
    let stack = Stack::start(Backend::Memory);
    stack.enrolled("bob");
    let driver = ChromeDriver::start();
    let mut shots = Screenshots::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime for the WebDriver client");
    let outcome = runtime.block_on(async {
        let mut builder = ClientBuilder::new(HttpConnector::new());
        builder.capabilities(driver.capabilities());
        let browser = builder
            .connect(&driver.url())
            .await
            .doing("start a chromium session")?;
        let gateway = stack.gateway.url("");
        let walked = match walk_through(&browser, &gateway, &mut shots).await {
            Ok(()) => admin_resets_bob(&browser, &gateway, &mut shots).await,
            Err(e) => Err(e),
        };
        if walked.is_err() {
            // The page as it was, for the failure message and the artifacts.
            let _ = shots.take(&browser, "failure").await;
        }
        let source = browser.source().await.unwrap_or_default();
        let _ = browser.close().await;
        walked.map_err(|e| format!("{e}\n--- page ---\n{source}"))
    });
    if let Err(e) = outcome {
        panic!(
            "{e}\n--- chromedriver log ---\n{}\nscreenshots: {:?}",
            driver.log(),
            shots.taken
        );
    }

    let names: Vec<String> = shots
        .taken
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "01-login.png",
            "02-reminder.png",
            "03-enroll.png",
            "04-enroll-code.png",
            "05-recovery-codes.png",
            "06-app.png",
            "07-account.png",
            "08-signed-out.png",
            "09-challenge.png",
            "10-app-again.png",
            "11-admin.png",
            "12-admin-reset.png",
        ]
    );
    for path in &shots.taken {
        let png = std::fs::read(path).expect("read a screenshot back");
        assert!(
            png.len() > 1000 && png.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{} is not a PNG picture",
            path.display()
        );
    }
    assert!(
        gatehouse_tests::harness::store::totp_enrollment(&stack.gateway.store_url(), "bob")
            .is_none(),
        "bob's authenticator outlived the reset"
    );
    assert!(
        stack
            .upstream
            .requests()
            .iter()
            .all(|r| r.header("remote-user").as_deref() == Some("alice")),
        "the app saw a request without alice's identity"
    );
}
