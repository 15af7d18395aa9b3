//! The durable store, connected on first use.
//!
//! sqlx pools spawn maintenance tasks on the runtime that creates them, and
//! Pingora gives each service its own runtime, so the pool is made lazily
//! from inside the proxy's. Start-up has already checked the store once
//! (migrations run, key read) on a throwaway runtime, so first use here
//! normally just connects.

use tokio::sync::OnceCell;

use crate::store::{Store, StoreError};

pub struct LazyStore {
    url: String,
    cell: OnceCell<Store>,
}

impl LazyStore {
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            cell: OnceCell::new(),
        }
    }

    pub async fn get(&self) -> Result<&Store, StoreError> {
        self.cell
            .get_or_try_init(|| Store::connect(&self.url))
            .await
    }
}
