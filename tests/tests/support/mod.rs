//! What the browser tests share: driving chromium over WebDriver
//! ([`webdriver`]) and the steps through Gatehouse's own pages that more
//! than one walk takes ([`pages`]).

// Each test binary that says `mod support;` compiles its own copy of these
// modules and uses only some of it; what one binary leaves unused would
// otherwise be a dead-code warning (an error under `-D warnings`) there.
#![allow(dead_code)]

pub mod pages;
pub mod webdriver;
