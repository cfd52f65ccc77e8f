//! People: making accounts, checking passwords, and the sessions and API tokens that stand for a
//! signed-in person. Passwords are kept as argon2id strings (OWASP's parameters: 19 MiB, 2 passes,
//! one lane); session and token secrets are random, shown to their owner once (a cookie, a token on
//! the account page) and stored only as their SHA-256, so the database alone signs nobody in.

use std::sync::OnceLock;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use lyceum_store::{
    ApiToken, NewPasskey, NewSession, NewUser, Session, Store, StoreError, User, now_ms,
};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::dates::rfc3339;

/// A session ends this long after sign-in, however much it is used.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);
/// A session not used for this long ends.
pub const SESSION_IDLE: Duration = Duration::from_secs(7 * 24 * 3600);
/// Passwords shorter than this are refused (in characters).
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longer than this is refused too: hashing is done on every sign-in.
pub const MAX_PASSWORD_CHARS: usize = 256;
/// The least zxcvbn score (0–4) a password needs: 3 is "safely unguessable" against an offline attack
/// on a slow hash.
const MIN_PASSWORD_SCORE: zxcvbn::Score = zxcvbn::Score::Three;

/// Why an account operation was refused. The messages are for the person and say what to change;
/// none says whether another person's email has an account.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    InvalidEmail(String),
    #[error("{0}")]
    InvalidName(String),
    #[error("{0}")]
    WeakPassword(String),
    /// Sign-up with an email that has an account.
    #[error("an account with this email exists already; sign in instead")]
    EmailTaken,
    /// A passkey ceremony that was never started here, was finished already, or ran out of time.
    #[error("that passkey request ran out of time; please try again")]
    PasskeyExpired,
    /// The browser's passkey answer did not verify.
    #[error("the passkey could not be used; please try again, or use another passkey")]
    PasskeyRefused,
    /// Wrong email or password, or a disabled account: deliberately one answer for all three.
    #[error("that email and password do not match an account")]
    WrongCredentials,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for AccountError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// An email address as accounts are keyed by: trimmed and lowercased.
pub fn normalize_email(raw: &str) -> Result<String, AccountError> {
    let email = raw.trim().to_lowercase();
    let invalid = |why: &str| Err(AccountError::InvalidEmail(why.into()));
    if email.is_empty() {
        return invalid("enter your email address");
    }
    if email.chars().count() > 254 {
        return invalid("that email address is longer than 254 characters");
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid("an email address has no spaces");
    }
    match email.rsplit_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && domain.contains('.') =>
        {
            Ok(email)
        }
        _ => invalid("enter an email address like name@example.org"),
    }
}

/// A display name: trimmed, 1 to 80 characters, no control characters.
pub fn normalize_name(raw: &str) -> Result<String, AccountError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AccountError::InvalidName("enter a name to show".into()));
    }
    if name.chars().count() > 80 {
        return Err(AccountError::InvalidName(
            "a name has at most 80 characters".into(),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AccountError::InvalidName(
            "a name is one line of text".into(),
        ));
    }
    Ok(name.to_owned())
}

/// Refuses a password that is too short, too long, or easy to guess (for a person with this email
/// and name), saying why and what would do.
pub fn check_password(password: &str, email: &str, name: &str) -> Result<(), AccountError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AccountError::WeakPassword(format!(
            "use at least {MIN_PASSWORD_CHARS} characters; a few unrelated words make a strong one"
        )));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(AccountError::WeakPassword(format!(
            "use at most {MAX_PASSWORD_CHARS} characters"
        )));
    }
    let local = email.split('@').next().unwrap_or_default();
    let estimate = zxcvbn::zxcvbn(password, &[email, local, name]);
    if estimate.score() >= MIN_PASSWORD_SCORE {
        return Ok(());
    }
    let warning = estimate
        .feedback()
        .and_then(|feedback| feedback.warning())
        .map(|warning| format!("{}. ", warning.to_string().trim_end_matches('.')))
        .unwrap_or_default();
    Err(AccountError::WeakPassword(format!(
        "this password is easy to guess. {warning}Add more words, or use a passphrase of four or \
         more unrelated words"
    )))
}

/// The argon2id string of a password, with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    let mut salt = [0u8; 16];
    random(&mut salt)?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|error| AccountError::Store(StoreError::Corrupt(error.to_string())))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| AccountError::Store(StoreError::Corrupt(error.to_string())))
}

/// Whether `password` matches `hash` (an argon2id string). A hash that cannot be read matches nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash to check passwords against when the email has no account (or no password), so that the
/// answer takes as long as for one that has.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("a password that no account has").unwrap_or_default())
}

/// The hex SHA-256 of a secret: what the store keeps of session and token secrets.
pub fn secret_hash(secret: &str) -> String {
    crate::hex(&Sha256::digest(secret.as_bytes()))
}

/// 32 random bytes as 64 hex digits, prefixed.
pub(crate) fn new_secret(prefix: &str) -> Result<String, AccountError> {
    let mut bytes = [0u8; 32];
    random(&mut bytes)?;
    Ok(format!("{prefix}{}", crate::hex(&bytes)))
}

fn random(bytes: &mut [u8]) -> Result<(), AccountError> {
    getrandom::fill(bytes).map_err(|error| {
        AccountError::Store(StoreError::Corrupt(format!("no randomness: {error}")))
    })
}

/// Prefix of API tokens, so a leaked one is recognisable (and secret scanners can find it).
pub const API_TOKEN_PREFIX: &str = "lyceum_";

/// A new session: the secret for the cookie (never stored) and the session as stored.
#[derive(Debug)]
pub struct SignedIn {
    pub secret: String,
    pub session: Session,
    pub user: User,
}

/// What a new account needs.
#[derive(Debug, Clone, Copy)]
pub struct SignUp<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    /// None: an account without a password (an operator's, or one signing in with a passkey).
    pub password: Option<&'a str>,
    pub is_admin: bool,
}

/// Makes an account after checking what was typed; the password must be strong enough.
pub async fn create_account(store: &Store, sign_up: SignUp<'_>) -> Result<User, AccountError> {
    create_account_with(store, sign_up, None).await
}

/// The same, with the account's first passkey, stored together.
pub(crate) async fn create_account_with(
    store: &Store,
    sign_up: SignUp<'_>,
    passkey: Option<NewPasskey<'_>>,
) -> Result<User, AccountError> {
    let email = normalize_email(sign_up.email)?;
    let name = normalize_name(sign_up.display_name)?;
    let hash = match sign_up.password {
        Some(password) => {
            check_password(password, &email, &name)?;
            Some(hash_password(password)?)
        }
        None => None,
    };
    let user = store
        .create_user(
            &NewUser {
                email: &email,
                display_name: &name,
                password_hash: hash.as_deref(),
                is_admin: sign_up.is_admin,
                passkey,
            },
            now_ms(),
        )
        .await
        .map_err(|error| match error {
            StoreError::Conflict(_) => AccountError::EmailTaken,
            other => AccountError::Store(other),
        })?;
    tracing::info!(user = user.id, admin = user.is_admin, "account created");
    Ok(user)
}

/// The account this email and password belong to, if it may sign in. Always hashes once, so the
/// time taken does not tell whether the email has an account.
pub async fn check_credentials(
    store: &Store,
    email: &str,
    password: &str,
) -> Result<User, AccountError> {
    let found = match normalize_email(email) {
        Ok(email) => store.user_by_email(&email).await?,
        Err(_) => None,
    };
    let (user, hash) = match found {
        Some((user, Some(hash))) if user.disabled_at.is_none() => (Some(user), hash),
        _ => (None, decoy_hash().to_owned()),
    };
    let password = password.to_owned();
    // Hashing takes tens of milliseconds of CPU: off the async threads.
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    match user {
        Some(user) if matches => Ok(user),
        _ => Err(AccountError::WrongCredentials),
    }
}

/// Starts a session for `user`, from a browser described by `user_agent`.
pub async fn start_session(
    store: &Store,
    user: User,
    user_agent: &str,
) -> Result<SignedIn, AccountError> {
    let secret = new_secret("")?;
    let csrf_token = new_secret("")?;
    let now = now_ms();
    let session = store
        .create_session(&NewSession {
            user_id: user.id,
            secret_hash: &secret_hash(&secret),
            csrf_token: &csrf_token,
            user_agent: &describe_browser(user_agent),
            now,
            expires_at: now + SESSION_LIFETIME.as_millis() as i64,
        })
        .await?;
    tracing::info!(user = user.id, session = session.id, "signed in");
    Ok(SignedIn {
        secret,
        session,
        user,
    })
}

/// The live session a cookie's secret stands for, with its account.
pub async fn session(store: &Store, secret: &str) -> Result<Option<(Session, User)>, StoreError> {
    session_of_hash(store, &secret_hash(secret)).await
}

/// The session whose secret hashes to `hash` (see [`secret_hash`]), as [`session`] finds it.
pub async fn session_of_hash(
    store: &Store,
    hash: &str,
) -> Result<Option<(Session, User)>, StoreError> {
    let now = now_ms();
    store
        .session(hash, now, now - SESSION_IDLE.as_millis() as i64)
        .await
}

/// Makes an API token for `user`: the token, shown once, and its record.
pub async fn create_api_token(
    store: &Store,
    user: &User,
    name: &str,
) -> Result<(String, ApiToken), AccountError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(AccountError::InvalidName(
            "name the token in 1 to 80 characters, e.g. where it is used".into(),
        ));
    }
    let token = new_secret(API_TOKEN_PREFIX)?;
    let record = store
        .create_api_token(user.id, name, &secret_hash(&token), now_ms())
        .await?;
    tracing::info!(user = user.id, token = record.id, "API token created");
    Ok((token, record))
}

/// The account an API token stands for.
pub async fn api_token_user(store: &Store, token: &str) -> Result<Option<User>, StoreError> {
    if !token.starts_with(API_TOKEN_PREFIX) {
        return Ok(None);
    }
    store.user_by_api_token(&secret_hash(token), now_ms()).await
}

/// Renames `user`; the name as stored.
pub async fn rename(store: &Store, user: &User, raw: &str) -> Result<String, AccountError> {
    let name = normalize_name(raw)?;
    store.set_display_name(user.id, &name).await?;
    Ok(name)
}

/// Deletes `user`'s account and everything stored about them; the courses they made stay published
/// as a former learner's (`keep_courses`) or are deleted. Their sessions and tokens stop at once.
pub async fn delete_account(
    store: &Store,
    user: &User,
    keep_courses: bool,
) -> Result<(), AccountError> {
    if !store.delete_user(user.id, keep_courses).await? {
        return Err(StoreError::NotFound(format!("user {}", user.id)).into());
    }
    tracing::info!(user = user.id, keep_courses, "account deleted");
    Ok(())
}

/// Everything Lyceum stores about `user`, as the JSON of "download my data": the account, its
/// sessions, passkeys and API tokens (their names and use, not keys or tokens), drafts, the courses
/// they made (with their addresses under `public_url`), the courses they started, units done, quiz
/// attempts and their conversations with the tutor. No secret or hash is in it.
pub async fn personal_data(
    store: &Store,
    user: &User,
    public_url: &str,
) -> Result<serde_json::Value, StoreError> {
    let has_password = store
        .user_by_email(&user.email)
        .await?
        .is_some_and(|(_, hash)| hash.is_some());
    let sessions: Vec<_> = store
        .sessions(user.id, now_ms())
        .await?
        .into_iter()
        .map(|session| {
            json!({
                "browser": session.user_agent,
                "started_at": rfc3339(session.created_at),
                "last_seen_at": rfc3339(session.last_seen_at),
                "expires_at": rfc3339(session.expires_at),
            })
        })
        .collect();
    let tokens: Vec<_> = store
        .api_tokens(user.id)
        .await?
        .into_iter()
        .map(|token| {
            json!({
                "name": token.name,
                "created_at": rfc3339(token.created_at),
                "last_used_at": token.last_used_at.map(rfc3339),
            })
        })
        .collect();
    let passkeys: Vec<_> = store
        .passkeys(user.id)
        .await?
        .into_iter()
        .map(|passkey| {
            json!({
                "name": passkey.name,
                "created_at": rfc3339(passkey.created_at),
                "last_used_at": passkey.last_used_at.map(rfc3339),
            })
        })
        .collect();
    let attempts: Vec<_> = store
        .attempts(user.id, None)
        .await?
        .into_iter()
        .map(|attempt| {
            json!({
                "unit_id": attempt.unit_id,
                "quiz_version": attempt.quiz_version,
                "answers": attempt.answers,
                "score": attempt.score,
                "total": attempt.total,
                "answered_at": rfc3339(attempt.created_at),
            })
        })
        .collect();
    let started: Vec<_> = store
        .enrolments(user.id)
        .await?
        .into_iter()
        .map(|enrolment| {
            json!({
                "course_id": enrolment.course_id,
                "started_at": rfc3339(enrolment.started_at),
                "last_active_at": rfc3339(enrolment.last_active_at),
            })
        })
        .collect();
    let done: Vec<_> = store
        .units_done(user.id, None)
        .await?
        .into_iter()
        .map(|done| {
            json!({
                "unit_id": done.unit_id,
                "how": done.how.as_str(),
                "done_at": rfc3339(done.done_at),
            })
        })
        .collect();
    let drafts: Vec<_> = store
        .drafts_of(user.id)
        .await?
        .into_iter()
        .map(|draft| {
            let fields = draft.request.fields();
            json!({
                "description": fields.description,
                "weeks": draft.request.weeks.get(),
                "units_per_week": draft.request.units_per_week.get(),
                "language": fields.language,
                "level": fields.level,
                "audience": fields.audience,
                "status": draft.status.as_str(),
                "course": draft.course,
                "started_at": rfc3339(draft.created_at),
            })
        })
        .collect();
    let conversations: Vec<_> = store
        .chats_of(user.id)
        .await?
        .into_iter()
        .map(|message| {
            json!({
                "unit_id": message.unit_id,
                "from": message.role.as_str(),
                "kind": message.kind,
                "text": message.text,
                "details": message.data.and_then(|data| serde_json::from_str::<serde_json::Value>(&data).ok()),
                "sent_at": rfc3339(message.created_at),
            })
        })
        .collect();
    let courses: Vec<_> = store
        .courses_made_by(user.id)
        .await?
        .into_iter()
        .map(|summary| {
            let course = summary.course;
            json!({
                "title": course.title,
                "slug": course.slug,
                "url": format!("{public_url}/courses/{}", course.slug),
                "description": course.description,
                "created_at": rfc3339(course.created_at),
                "hidden_by_an_admin": course.hidden_at.is_some(),
            })
        })
        .collect();
    Ok(json!({
        "exported_at": rfc3339(now_ms()),
        "account": {
            "email": user.email,
            "display_name": user.display_name,
            "is_admin": user.is_admin,
            "has_password": has_password,
            "created_at": rfc3339(user.created_at),
        },
        "sessions": sessions,
        "passkeys": passkeys,
        "api_tokens": tokens,
        "drafts": drafts,
        "courses_made": courses,
        "courses_started": started,
        "units_done": done,
        "quiz_attempts": attempts,
        "tutor_messages": conversations,
    }))
}

/// Deletes sessions that ended and passkey challenges left unanswered; how many.
pub async fn forget_ended_sessions(store: &Store) -> Result<u64, StoreError> {
    let now = now_ms();
    let sessions = store
        .forget_sessions(now, now - SESSION_IDLE.as_millis() as i64)
        .await?;
    Ok(sessions + store.forget_ceremonies(now).await?)
}

/// A short, recognisable description of a browser from its User-Agent ("Firefox on Linux"), so that a
/// person can tell their sessions apart without the whole string being kept.
pub fn describe_browser(user_agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .into_iter()
    .find(|(mark, _)| user_agent.contains(mark))
    .map_or("A browser", |(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(mark, _)| user_agent.contains(mark))
    .map(|(_, name)| name);
    match system {
        Some(system) => format!("{browser} on {system}"),
        None => browser.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_keyed_trimmed_and_lowercased_and_nonsense_is_refused_with_a_reason() {
        assert_eq!(
            normalize_email("  Ada.Lovelace@Example.ORG ").unwrap(),
            "ada.lovelace@example.org"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.org",
            "ada@example",
            "a da@example.org",
        ] {
            let error = normalize_email(bad).unwrap_err().to_string();
            assert!(!error.is_empty(), "{bad}");
        }
    }

    #[test]
    fn short_and_guessable_passwords_are_refused_and_a_passphrase_is_taken() {
        let short = check_password("abc123", "ada@example.org", "Ada").unwrap_err();
        assert!(short.to_string().contains("at least 10"), "{short}");
        for guessable in [
            "password123",
            "qwertyuiop",
            "ada@example.org1",
            "Ada Ada Ada Ada",
        ] {
            let error = check_password(guessable, "ada@example.org", "Ada").unwrap_err();
            assert!(
                error.to_string().contains("easy to guess"),
                "{guessable}: {error}"
            );
        }
        check_password("copper lantern orbit mossy", "ada@example.org", "Ada").unwrap();
    }

    #[test]
    fn a_password_verifies_against_its_own_argon2id_hash_only() {
        let hash = hash_password("copper lantern orbit mossy").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password("copper lantern orbit mossy", &hash));
        assert!(!verify_password("copper lantern orbit moss", &hash));
        assert!(!verify_password("copper lantern orbit mossy", "not a hash"));
        assert_ne!(hash, hash_password("copper lantern orbit mossy").unwrap());
    }

    #[test]
    fn browsers_are_described_in_a_few_words() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(describe_browser(firefox), "Firefox on Linux");
        let chrome_android = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) \
                              Chrome/126.0 Mobile Safari/537.36";
        assert_eq!(describe_browser(chrome_android), "Chrome on Android");
        assert_eq!(describe_browser(""), "A browser");
    }
}
