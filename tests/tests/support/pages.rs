//! Steps through Gatehouse's own pages that more than one walk takes:
//! signing in, and setting up an authenticator app.

use fantoccini::{Client as Browser, Locator};
use gatehouse_tests::{Authenticator, PASSWORD};

use super::webdriver::{click, text_of, type_into, wait_for, Doing, Screenshots, Step};

/// Fills in and submits the sign-in form shown now.
pub async fn sign_in(browser: &Browser, user: &str) -> Step<()> {
    type_into(browser, r#"input[name="username"]"#, user).await?;
    type_into(browser, r#"input[name="password"]"#, PASSWORD).await?;
    click(
        browser,
        r#"form[action="/.gatehouse/login"] button[type="submit"]"#,
    )
    .await
}

/// On the enrollment page shown now: opens "Can't scan it?", types the key
/// into the "app" and its code into the page, and saves the recovery codes.
/// Screenshots of the page, the page with the code, and the codes.
pub async fn enroll_an_app(browser: &Browser, shots: &mut Screenshots) -> Step<Authenticator> {
    wait_for(browser, "#totp-secret").await?;
    click(browser, "details.manual summary").await?;
    let key = text_of(browser, "#totp-secret").await?;
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
    save_recovery_codes(browser, shots).await?;
    Ok(app)
}

/// On the recovery codes page: ten codes, then "I have saved these codes"
/// and continue.
pub async fn save_recovery_codes(browser: &Browser, shots: &mut Screenshots) -> Step<()> {
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
    .await
}
