//! Driving Debian's headless chromium over WebDriver (chromedriver, through
//! fantoccini): waits, clicks, typing, reading, and numbered screenshots
//! of every page under `target/artifacts/browser/<walk>/`.

use std::fmt::Display;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client as Browser, ClientBuilder, Locator};
use gatehouse_tests::{target_dir, ChromeDriver};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

/// How long any one page gets to show up.
pub const WAIT: Duration = Duration::from_secs(20);
/// How often a wait looks again (fantoccini's own waits use 250 ms).
pub const POLL: Duration = Duration::from_millis(50);

pub type Step<T> = Result<T, String>;

/// Error context for WebDriver calls: what the test was doing.
pub trait Doing<T> {
    fn doing(self, what: &str) -> Step<T>;
}

impl<T, E: Display> Doing<T> for Result<T, E> {
    fn doing(self, what: &str) -> Step<T> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

/// Screenshots, numbered in the order the pages appear, one directory per
/// walk (the walks run in parallel).
pub struct Screenshots {
    dir: PathBuf,
    taken: Vec<PathBuf>,
}

impl Screenshots {
    pub fn new(walk: &str) -> Screenshots {
        let dir = target_dir().join("artifacts").join("browser").join(walk);
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

    pub async fn take(&mut self, browser: &Browser, page: &str) -> Step<()> {
        let png = browser.screenshot().await.doing("screenshot")?;
        let path = self
            .dir
            .join(format!("{:02}-{page}.png", self.taken.len() + 1));
        std::fs::write(&path, png).doing("save a screenshot")?;
        self.taken.push(path);
        Ok(())
    }
}

pub async fn wait_for(browser: &Browser, css: &str) -> Step<Element> {
    browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .doing(&format!("waiting for {css}"))
}

pub async fn click(browser: &Browser, css: &str) -> Step<()> {
    let element = wait_for(browser, css).await?;
    element.click().await.doing(&format!("clicking {css}"))
}

/// Clicks what submits a form, then waits until the next page has replaced
/// this one. Until then, what is read next could still be this page's (its
/// h1, a notice from the last action) or go stale half-way through.
pub async fn click_to_next_page(browser: &Browser, css: &str) -> Step<()> {
    let page = this_page(browser).await?;
    click(browser, css).await?;
    gone(page, css).await
}

/// Follows the link that reads `text` inside the element at `within`, and
/// waits, as [`click_to_next_page`] does, for the page it leads to.
pub async fn follow_link(browser: &Browser, within: &str, text: &str) -> Step<()> {
    let what = format!("the link {text:?} in {within}");
    let link = wait_for(browser, within)
        .await?
        .find(Locator::LinkText(text))
        .await
        .doing(&format!("finding {what}"))?;
    let page = this_page(browser).await?;
    link.click().await.doing(&format!("clicking {what}"))?;
    gone(page, &what).await
}

/// The root of the page shown now.
async fn this_page(browser: &Browser) -> Step<Element> {
    browser
        .find(Locator::Css("html"))
        .await
        .doing("finding the page")
}

/// Waits until `page`, left by clicking `what`, is gone.
async fn gone(page: Element, what: &str) -> Step<()> {
    let deadline = Instant::now() + WAIT;
    // Once the old page is gone its root can't be read: chromium says
    // "stale element", or, mid-swap, that the node left the document. Any
    // other failure (the browser gone) shows up at the next step's read.
    while page.tag_name().await.is_ok() {
        if Instant::now() > deadline {
            return Err(format!("{what} led to no new page within {WAIT:?}"));
        }
        tokio::time::sleep(POLL).await;
    }
    Ok(())
}

pub async fn type_into(browser: &Browser, css: &str, text: &str) -> Step<()> {
    let element = wait_for(browser, css).await?;
    element
        .send_keys(text)
        .await
        .doing(&format!("typing into {css}"))
}

pub async fn text_of(browser: &Browser, css: &str) -> Step<String> {
    wait_for(browser, css)
        .await?
        .text()
        .await
        .doing(&format!("reading {css}"))
}

/// Scrolls the element at `css` to the top of the window, for a screenshot
/// of a part of the page below the fold.
pub async fn scroll_to(browser: &Browser, css: &str) -> Step<()> {
    wait_for(browser, css).await?;
    browser
        .execute(
            "document.querySelector(arguments[0]).scrollIntoView({block: 'start'});",
            vec![json!(css)],
        )
        .await
        .doing(&format!("scrolling to {css}"))?;
    Ok(())
}

pub async fn path_and_query(browser: &Browser) -> Step<String> {
    let url = browser.current_url().await.doing("reading the URL")?;
    Ok(match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    })
}

/// Runs blocking harness code (its HTTP client, the mail sink, the store
/// readers) on a thread of its own: some of it starts a runtime, which the
/// WebDriver client's runtime thread may not. A panic there comes back as
/// this step's error, so the browser session still gets closed.
pub fn off_runtime<T: Send>(what: &str, work: impl FnOnce() -> T + Send) -> Step<T> {
    std::thread::scope(|scope| scope.spawn(work).join()).map_err(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        format!("{what}: {message}")
    })
}

/// Starts chromedriver and a chromium session, runs `walk` in it with
/// screenshots in `target/artifacts/browser/{pictures}/`, and closes the
/// session. Panics with the step that failed, the page, the driver's log
/// and the screenshots; otherwise returns the screenshots' file names
/// after checking each is a PNG picture.
pub fn in_chromium(
    pictures: &str,
    walk: impl AsyncFnOnce(&Browser, &mut Screenshots) -> Step<()>,
) -> Vec<String> {
    let driver = ChromeDriver::start();
    let mut shots = Screenshots::new(pictures);
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
        let walked = walk(&browser, &mut shots).await;
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
    for path in &shots.taken {
        let png = std::fs::read(path).expect("read a screenshot back");
        assert!(
            png.len() > 1000 && png.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{} is not a PNG picture",
            path.display()
        );
    }
    shots
        .taken
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}
