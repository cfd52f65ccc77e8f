//! Passkeys (WebAuthn): signing up with one, adding one to an account, and signing in with one. Each
//! is a ceremony of two steps: a challenge for the browser, kept in the store for
//! [`CEREMONY_TIME`] and used once (so any node can finish what another started), then the browser's
//! signed answer, checked against it.
//!
//! Passkeys are made discoverable (a resident key), so signing in asks for no email: the browser
//! offers the passkeys it has for this site, and the one chosen names its account by the user handle
//! the account was given with its first passkey. Browsers allow passkeys only on https or
//! `localhost`, and only for a site reached by a domain name: elsewhere [`relying_party`] is `None`
//! and passwords are the way in.

use std::time::Duration;

use lyceum_store::{
    Ceremony, NewPasskey, Passkey as StoredPasskey, Store, StoreError, User, now_ms,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    Base64UrlSafeData, CreationChallengeResponse, CredentialID, DiscoverableAuthentication,
    DiscoverableKey, Passkey, PasskeyRegistration, RequestChallengeResponse, Url, Uuid,
    WebauthnBuilder,
};
pub use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential, Webauthn};
use webauthn_rs_proto::{AuthenticatorSelectionCriteria, ResidentKeyRequirement};

use crate::accounts::{AccountError, SignUp, create_account_with, normalize_email, normalize_name};

/// How long a browser has to answer a challenge.
pub const CEREMONY_TIME: Duration = Duration::from_secs(300);

/// The site as passkeys know it, from its public address: `None` when browsers would refuse
/// passkeys there (an IP address, or plain http anywhere but `localhost`).
pub fn relying_party(public_url: &str) -> Option<Webauthn> {
    let url = Url::parse(public_url).ok()?;
    let host = url.domain()?;
    let local = host == "localhost" || host.ends_with(".localhost");
    if url.scheme() != "https" && !local {
        return None;
    }
    let builder = WebauthnBuilder::new(host, &url).ok()?;
    builder.rp_name("Lyceum").build().ok()
}

/// A ceremony's first step: its id, for the browser to send back, and the options for the browser.
#[derive(Debug, Serialize)]
pub struct Challenge<T> {
    pub ceremony: String,
    pub options: T,
}

#[derive(Serialize, Deserialize)]
struct SignUpState {
    registration: PasskeyRegistration,
    email: String,
    name: String,
    handle: Uuid,
}

#[derive(Serialize, Deserialize)]
struct AddState {
    registration: PasskeyRegistration,
    handle: Uuid,
}

/// Starts making an account with a passkey, after checking the email and name.
pub async fn start_sign_up(
    rp: &Webauthn,
    store: &Store,
    email: &str,
    name: &str,
) -> Result<Challenge<CreationChallengeResponse>, AccountError> {
    let email = normalize_email(email)?;
    let name = normalize_name(name)?;
    if store.user_by_email(&email).await?.is_some() {
        return Err(AccountError::EmailTaken);
    }
    let handle = Uuid::new_v4();
    let (options, registration) = rp
        .start_passkey_registration(handle, &email, &name, None)
        .map_err(refused)?;
    let state = SignUpState {
        registration,
        email,
        name,
        handle,
    };
    let ceremony = begin(store, Ceremony::SignUp, None, &state).await?;
    Ok(Challenge {
        ceremony,
        options: discoverable(options),
    })
}

/// Makes the account whose passkey the browser made for `ceremony`, with that passkey (named
/// `passkey_name`).
pub async fn finish_sign_up(
    rp: &Webauthn,
    store: &Store,
    ceremony: &str,
    credential: &RegisterPublicKeyCredential,
    passkey_name: &str,
) -> Result<User, AccountError> {
    let state: SignUpState = take(store, ceremony, Ceremony::SignUp, None).await?;
    let passkey = rp
        .finish_passkey_registration(credential, &state.registration)
        .map_err(refused)?;
    let (handle, stored) = (state.handle.to_string(), to_json(&passkey)?);
    let credential_id = credential_key(passkey.cred_id());
    let sign_up = SignUp {
        email: &state.email,
        display_name: &state.name,
        password: None,
        is_admin: false,
    };
    let new = NewPasskey {
        handle: &handle,
        credential_id: &credential_id,
        name: passkey_name,
        credential: &stored,
    };
    create_account_with(store, sign_up, Some(new)).await
}

/// Starts adding a passkey to `user`'s account; the browser is told which it has already.
pub async fn start_adding(
    rp: &Webauthn,
    store: &Store,
    user: &User,
) -> Result<Challenge<CreationChallengeResponse>, AccountError> {
    let handle = match store.passkey_handle(user.id).await? {
        Some(handle) => Uuid::parse_str(&handle)
            .map_err(|_| StoreError::Corrupt(format!("user {}: passkey handle", user.id)))?,
        None => Uuid::new_v4(),
    };
    let existing = store
        .passkeys(user.id)
        .await?
        .iter()
        .map(|stored| Ok(passkey(stored)?.cred_id().clone()))
        .collect::<Result<Vec<CredentialID>, AccountError>>()?;
    let (options, registration) = rp
        .start_passkey_registration(handle, &user.email, &user.display_name, Some(existing))
        .map_err(refused)?;
    let state = AddState {
        registration,
        handle,
    };
    let ceremony = begin(store, Ceremony::Add, Some(user.id), &state).await?;
    Ok(Challenge {
        ceremony,
        options: discoverable(options),
    })
}

/// Stores the passkey the browser made for `ceremony` on `user`'s account, named `name`.
pub async fn finish_adding(
    rp: &Webauthn,
    store: &Store,
    user: &User,
    ceremony: &str,
    credential: &RegisterPublicKeyCredential,
    name: &str,
) -> Result<StoredPasskey, AccountError> {
    let state: AddState = take(store, ceremony, Ceremony::Add, Some(user.id)).await?;
    let passkey = rp
        .finish_passkey_registration(credential, &state.registration)
        .map_err(refused)?;
    let new = NewPasskey {
        handle: &state.handle.to_string(),
        credential_id: &credential_key(passkey.cred_id()),
        name,
        credential: &to_json(&passkey)?,
    };
    let stored = store.add_passkey(user.id, &new, now_ms()).await?;
    tracing::info!(user = user.id, passkey = stored.id, "passkey added");
    Ok(stored)
}

/// Starts signing in with a passkey: the browser offers those it has for this site.
pub async fn start_sign_in(
    rp: &Webauthn,
    store: &Store,
) -> Result<Challenge<RequestChallengeResponse>, AccountError> {
    let (mut options, authentication) = rp.start_discoverable_authentication().map_err(refused)?;
    // Asked for by a button, so the browser shows its prompt at once rather than in autofill.
    options.mediation = None;
    let ceremony = begin(store, Ceremony::SignIn, None, &authentication).await?;
    Ok(Challenge { ceremony, options })
}

/// The account whose passkey signed the challenge of `ceremony`. Every failure is
/// [`AccountError::WrongCredentials`], as with a password.
pub async fn finish_sign_in(
    rp: &Webauthn,
    store: &Store,
    ceremony: &str,
    credential: &PublicKeyCredential,
) -> Result<User, AccountError> {
    let state: DiscoverableAuthentication = take(store, ceremony, Ceremony::SignIn, None).await?;
    let wrong = |why: &str| {
        tracing::info!(why, "passkey sign-in refused");
        AccountError::WrongCredentials
    };
    let (handle, credential_id) = rp
        .identify_discoverable_authentication(credential)
        .map_err(|_| wrong("no user handle"))?;
    let found = store
        .passkey_by_credential(&credential_key(credential_id))
        .await?;
    let Some((stored, user, stored_handle)) = found else {
        return Err(wrong("unknown passkey"));
    };
    if stored_handle != handle.to_string() {
        return Err(wrong("the passkey names another account"));
    }
    if user.disabled_at.is_some() {
        return Err(wrong("the account is disabled"));
    }
    let mut key = passkey(&stored)?;
    let result = rp
        .finish_discoverable_authentication(credential, state, &[DiscoverableKey::from(&key)])
        .map_err(|_| wrong("the signature does not verify"))?;
    key.update_credential(&result);
    store
        .passkey_used(stored.id, &to_json(&key)?, now_ms())
        .await?;
    Ok(user)
}

/// Asks the browser for a discoverable passkey, one it can offer at sign-in without being told
/// which: the library's passkey registration leaves that to the authenticator.
fn discoverable(mut options: CreationChallengeResponse) -> CreationChallengeResponse {
    let selection = options
        .public_key
        .authenticator_selection
        .get_or_insert_with(AuthenticatorSelectionCriteria::default);
    selection.resident_key = Some(ResidentKeyRequirement::Required);
    selection.require_resident_key = true;
    options
}

/// Keeps a ceremony's `state` in the store; its id.
async fn begin(
    store: &Store,
    kind: Ceremony,
    user_id: Option<i64>,
    state: &impl Serialize,
) -> Result<String, AccountError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|error| StoreError::Corrupt(format!("no randomness: {error}")))?;
    let id: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    let expires_at = now_ms() + CEREMONY_TIME.as_millis() as i64;
    store
        .start_ceremony(&id, kind, user_id, &to_json(state)?, expires_at)
        .await?;
    Ok(id)
}

/// Takes a ceremony's state, once.
async fn take<T: DeserializeOwned>(
    store: &Store,
    id: &str,
    kind: Ceremony,
    user_id: Option<i64>,
) -> Result<T, AccountError> {
    let state = store
        .take_ceremony(id, kind, user_id, now_ms())
        .await?
        .ok_or(AccountError::PasskeyExpired)?;
    serde_json::from_str(&state)
        .map_err(|error| StoreError::Corrupt(format!("passkey ceremony: {error}")).into())
}

/// A stored passkey as the library reads it.
fn passkey(stored: &StoredPasskey) -> Result<Passkey, AccountError> {
    serde_json::from_str(&stored.credential)
        .map_err(|error| StoreError::Corrupt(format!("passkey {}: {error}", stored.id)).into())
}

fn to_json(value: &impl Serialize) -> Result<String, AccountError> {
    serde_json::to_string(value)
        .map_err(|error| StoreError::Corrupt(format!("passkey state: {error}")).into())
}

/// A credential id as the store keys passkeys: base64url, as browsers write it.
fn credential_key(id: &[u8]) -> String {
    match serde_json::to_value(Base64UrlSafeData::from(id)) {
        Ok(serde_json::Value::String(key)) => key,
        _ => String::new(),
    }
}

/// A browser's answer that does not verify (or a challenge that cannot be made): the person is told
/// to try again, the operator's log has why.
fn refused(error: webauthn_rs::prelude::WebauthnError) -> AccountError {
    tracing::info!(%error, "passkey ceremony refused");
    AccountError::PasskeyRefused
}
