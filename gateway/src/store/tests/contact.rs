//! Email and SMS factors.

use super::{connect, T0};

on_both_backends!(
    contact_factors_are_confirmed_listed_and_removed,
    factor_overview_names_contact_factors,
    a_typed_destination_is_kept_with_its_factor,
);

async fn contact_factors_are_confirmed_listed_and_removed(url: String) {
    let store = connect(&url).await;
    assert!(store.contact_list("dave").await.unwrap().is_empty());
    store.contact_confirm("dave", "sms", T0).await.unwrap();
    store
        .contact_confirm("dave", "email", T0 + 1)
        .await
        .unwrap();
    store
        .contact_confirm("dave", "email", T0 + 2)
        .await
        .unwrap();
    store.contact_confirm("erin", "email", T0).await.unwrap();
    assert_eq!(
        store.contact_list("dave").await.unwrap(),
        vec![("email".to_owned(), T0 + 1), ("sms".to_owned(), T0)],
        "a repeat keeps the first confirmation"
    );
    assert!(store.contact_delete("dave", "sms").await.unwrap());
    assert!(!store.contact_delete("dave", "sms").await.unwrap());
    assert_eq!(store.contact_list("dave").await.unwrap().len(), 1);
    assert_eq!(store.contact_delete_all("dave").await.unwrap(), 1);
    assert!(store.contact_list("dave").await.unwrap().is_empty());
    assert_eq!(
        store.contact_list("erin").await.unwrap().len(),
        1,
        "other users keep theirs"
    );
    store.close().await;
}

async fn factor_overview_names_contact_factors(url: String) {
    let store = connect(&url).await;
    store.contact_confirm("dave", "sms", T0).await.unwrap();
    store
        .contact_confirm("dave", "email", T0 + 5)
        .await
        .unwrap();
    let all = store.factor_overview(T0).await.unwrap();
    let dave = &all["dave"];
    assert_eq!(dave.totp_confirmed_at, None);
    assert_eq!(
        dave.contact,
        vec![("email".to_owned(), T0 + 5), ("sms".to_owned(), T0)]
    );
    assert_eq!(dave.mfa_since(), Some(T0));
    store.close().await;
}

async fn a_typed_destination_is_kept_with_its_factor(url: String) {
    let store = connect(&url).await;
    store
        .contact_confirm_to("dave", "sms", Some("+61412345678"), T0)
        .await
        .unwrap();
    store.contact_confirm("dave", "email", T0).await.unwrap();
    // A second confirmation keeps the number the first one proved.
    store
        .contact_confirm_to("dave", "sms", Some("+64211234567"), T0 + 1)
        .await
        .unwrap();
    assert_eq!(
        store.contact_destinations("dave").await.unwrap(),
        vec![("sms".to_owned(), "+61412345678".to_owned())],
        "the users file's address is not copied into the store"
    );
    assert_eq!(store.contact_list("dave").await.unwrap().len(), 2);
    assert!(store.contact_delete("dave", "sms").await.unwrap());
    assert!(store.contact_destinations("dave").await.unwrap().is_empty());
    store.close().await;
}
