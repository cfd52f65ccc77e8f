//! What `lyceum serve` logs while a person signs up, signs in, makes and uses an API token: the
//! operator's log, at its most detailed, never holds the password, the session secret, the CSRF
//! token, the API token or the whole email address.

use std::collections::HashMap;

use lyceum_testkit::ScriptedModel;
use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::redirect::Policy;

use crate::generate::scripted_env;
use crate::serve::spawn_serve_logging;

/// A browser, just enough of one: its cookies, sent back on every request.
struct Visitor {
    http: reqwest::Client,
    site: String,
    cookies: HashMap<String, String>,
}

impl Visitor {
    fn cookie(&self) -> String {
        self.cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The status and body of a GET, or of a form POSTed from this site's page.
    async fn send(&mut self, path: &str, form: Option<&[(&str, &str)]>) -> (u16, String) {
        let url = format!("{}{path}", self.site);
        let request = match form {
            Some(fields) => self
                .http
                .post(url)
                .header("sec-fetch-site", "same-origin")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(encode(fields)),
            None => self.http.get(url),
        };
        let response = request.header(COOKIE, self.cookie()).send().await.unwrap();
        for value in response.headers().get_all(SET_COOKIE) {
            let pair = value.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        (response.status().as_u16(), response.text().await.unwrap())
    }
}

fn encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(name, value)| {
            let value: String = value
                .bytes()
                .map(|byte| match byte {
                    b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                        (byte as char).to_string()
                    }
                    _ => format!("%{byte:02X}"),
                })
                .collect();
            format!("{name}={value}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The value of hidden field `name` in `html`.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name}: {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_sessions_tokens_and_emails_never_reach_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let model = ScriptedModel::start().await;
    let mut env = scripted_env(&model);
    env.push(("RUST_LOG", "debug".into()));
    let log_path = dir.path().join("serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let (served, address) = spawn_serve_logging(dir.path(), &env, &[], log).await;
    let mut visitor = Visitor {
        http: reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap(),
        site: format!("http://{address}"),
        cookies: HashMap::new(),
    };
    let (email, password) = ("ada.lovelace@example.org", "copper lantern orbit mossy");

    let (_, form) = visitor.send("/account/sign-up", None).await;
    let token = hidden(&form, "token");
    let fields = [
        ("name", "Ada"),
        ("email", email),
        ("password", password),
        ("token", token.as_str()),
    ];
    let (status, _) = visitor.send("/account/sign-up", Some(&fields)).await;
    assert_eq!(status, 303);
    let session = visitor.cookies["lyceum_session"].clone();
    let (_, account) = visitor.send("/account", None).await;
    let csrf = hidden(&account, "csrf");
    let fields = [("csrf", csrf.as_str()), ("name", "script")];
    let (_, made) = visitor.send("/account/tokens", Some(&fields)).await;
    let start = made.find("lyceum_").expect("the new token is shown");
    let api_token: String = made[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let me = visitor
        .http
        .get(format!("{}/api/me", visitor.site))
        .bearer_auth(&api_token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);

    // Out, a wrong password, then in again.
    let fields = [("csrf", csrf.as_str())];
    visitor.send("/account/sign-out", Some(&fields)).await;
    let (_, form) = visitor.send("/account/sign-in", None).await;
    let token = hidden(&form, "token");
    for attempt in ["a wrong password here", password] {
        let fields = [
            ("email", email),
            ("password", attempt),
            ("token", token.as_str()),
        ];
        visitor.send("/account/sign-in", Some(&fields)).await;
    }
    assert!(
        visitor.cookies.contains_key("lyceum_session"),
        "signed in again"
    );
    let second_session = visitor.cookies["lyceum_session"].clone();
    served.terminate().await;

    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains("signed out"),
        "the log is written, with what happened:\n{log}"
    );
    for (what, secret) in [
        ("the password", password),
        ("the wrong password", "a wrong password here"),
        ("the session secret", session.as_str()),
        ("the second session secret", second_session.as_str()),
        ("the CSRF token", csrf.as_str()),
        ("the API token", api_token.as_str()),
        ("the email address", email),
    ] {
        assert!(!log.contains(secret), "{what} is in the log:\n{log}");
    }
}
