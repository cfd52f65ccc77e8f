//! A real headless Chromium for page tests, driven over WebDriver through Debian's `chromedriver`.
//!
//! Only what page tests use: open a URL, find, click and type, run a script, wait for a condition,
//! take screenshots, resize the window, and run axe-core. Waiting never sleeps: a condition is checked
//! in the page on every DOM change (a `MutationObserver`), and the wait ends the moment it holds.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

/// The key WebDriver names element references by.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long one wait, page load or script may take before the test fails.
const TIMEOUT: Duration = Duration::from_secs(30);

/// WebDriver's code of the Control key, for [`Browser::press`].
pub const CONTROL: &str = "\u{E009}";
/// WebDriver's code of the Enter key.
pub const ENTER: &str = "\u{E007}";
/// WebDriver's code of the Escape key.
pub const ESCAPE: &str = "\u{E00C}";
/// WebDriver's code of the down arrow.
pub const ARROW_DOWN: &str = "\u{E015}";

/// One axe-core finding.
#[derive(Debug, Clone)]
pub struct Violation {
    /// The rule, such as `color-contrast`.
    pub id: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    pub impact: String,
    /// What the rule asks for, in words.
    pub help: String,
    /// CSS selectors of the elements that break it.
    pub targets: Vec<String>,
}

/// A Chromium session; the browser and its driver stop when this is dropped.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The driver runs in its own process group, with Chromium in it: end them all.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.wait();
    }
}

/// What is missing when the browser cannot start.
fn install_hint(what: &str) -> String {
    format!(
        "{what}: page tests need Debian's chromium and chromium-driver packages \
         (./scripts/test installs them)"
    )
}

impl Browser {
    /// Starts headless Chromium with a fresh profile and a window of `width` × `height` CSS pixels.
    pub async fn start(width: u32, height: u32) -> Self {
        let profile = tempfile::tempdir().expect("a temporary profile folder");
        let mut driver = Command::new("chromedriver")
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|error| panic!("{}", install_hint(&format!("chromedriver: {error}"))));
        let stdout = driver.stdout.take().expect("the driver's output");
        let port = tokio::task::spawn_blocking(move || {
            let mut lines = BufReader::new(stdout).lines();
            lines.find_map(|line| {
                let line = line.ok()?;
                line.strip_prefix("ChromeDriver was started successfully on port ")?
                    .trim_end_matches('.')
                    .parse::<u16>()
                    .ok()
            })
        })
        .await
        .expect("reading the driver's output")
        .unwrap_or_else(|| panic!("{}", install_hint("chromedriver did not say its port")));

        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars",
                    format!("--user-data-dir={}", profile.path().display()),
                    format!("--window-size={width},{height}"),
                ],
            },
        }}});
        let answer: Value = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .expect("the driver answers")
            .json()
            .await
            .expect("the driver answers JSON");
        let session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("{}", install_hint(&format!("no session: {answer}"))))
            .to_owned();
        let browser = Self {
            http,
            session: format!("{base}/session/{session}"),
            driver,
            _profile: profile,
        };
        let ms = TIMEOUT.as_millis() as u64;
        browser
            .command(
                "POST",
                "timeouts",
                json!({"script": ms, "pageLoad": ms, "implicit": 0}),
            )
            .await;
        browser.resize(width, height).await;
        browser
    }

    /// One WebDriver command; its `value`, or a panic with the driver's error.
    async fn command(&self, method: &str, path: &str, body: Value) -> Value {
        self.try_command(method, path, body)
            .await
            .unwrap_or_else(|error| panic!("WebDriver {method} {path}: {error}"))
    }

    /// One WebDriver command; its `value`, or the driver's error.
    async fn try_command(&self, method: &str, path: &str, body: Value) -> Result<Value, String> {
        let url = if path.is_empty() {
            self.session.clone()
        } else {
            format!("{}/{path}", self.session)
        };
        let request = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let response = request.send().await.map_err(|error| error.to_string())?;
        let ok = response.status().is_success();
        let answer: Value = response.json().await.map_err(|error| error.to_string())?;
        if ok {
            Ok(answer["value"].clone())
        } else {
            Err(format!(
                "{}: {}",
                answer["value"]["error"],
                answer["value"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .lines()
                    .next()
                    .unwrap_or_default()
            ))
        }
    }

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.command("POST", "url", json!({ "url": url })).await;
    }

    /// The address of the page shown.
    pub async fn url(&self) -> String {
        self.command("GET", "url", Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The first element matching `css`; fails the test if there is none.
    async fn element(&self, css: &str) -> String {
        let found = self
            .try_command(
                "POST",
                "element",
                json!({"using": "css selector", "value": css}),
            )
            .await
            .unwrap_or_else(|error| panic!("no element matches {css:?} on the page: {error}"));
        found[ELEMENT]
            .as_str()
            .expect("an element reference")
            .to_owned()
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) {
        let element = self.element(css).await;
        self.command("POST", &format!("element/{element}/click"), json!({}))
            .await;
    }

    /// Clicks the link or button matching `css` and waits for the page it leads to.
    pub async fn follow(&self, css: &str) {
        self.eval("window.lyceumLeft = true;", json!([])).await;
        self.click(css).await;
        self.wait_for("!window.lyceumLeft && document.readyState !== 'loading'")
            .await;
    }

    /// Replaces the text of the field matching `css` with `text`, as typed by a person.
    pub async fn fill(&self, css: &str, text: &str) {
        let element = self.element(css).await;
        self.command("POST", &format!("element/{element}/clear"), json!({}))
            .await;
        self.command(
            "POST",
            &format!("element/{element}/value"),
            json!({ "text": text }),
        )
        .await;
    }

    /// The rendered text of the element matching `css`, found and read in one step: a live page may
    /// replace the element (a course page swaps in its syllabus as units are written) between a
    /// lookup and a read.
    pub async fn text(&self, css: &str) -> String {
        let text = self
            .eval(
                "const found = document.querySelector(arguments[0]); \
                 return found === null ? null : found.innerText;",
                json!([css]),
            )
            .await;
        match text.as_str() {
            Some(text) => text.to_owned(),
            None => panic!("no element matches {css:?} on the page"),
        }
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page; what it returns.
    pub async fn eval(&self, script: &str, args: Value) -> Value {
        self.command(
            "POST",
            "execute/sync",
            json!({ "script": script, "args": args }),
        )
        .await
    }

    /// Waits until the JavaScript expression `condition` is true in the page shown, checking it on
    /// every change to the page. A page that reloads or navigates meanwhile is checked afresh.
    pub async fn wait_for(&self, condition: &str) {
        let script = format!(
            "const done = arguments[arguments.length - 1];
             const check = () => {{ try {{ return !!({condition}); }} catch (e) {{ return false; }} }};
             if (check()) {{ done(true); return; }}
             const recheck = () => {{ if (check()) {{ observer.disconnect(); done(true); }} }};
             const observer = new MutationObserver(recheck);
             observer.observe(document, {{subtree: true, childList: true, characterData: true, attributes: true}});
             document.addEventListener('readystatechange', recheck);"
        );
        let started = std::time::Instant::now();
        for attempt in 1.. {
            match self
                .try_command(
                    "POST",
                    "execute/async",
                    json!({"script": script, "args": []}),
                )
                .await
            {
                Ok(_) => return,
                // The page was replaced while waiting (a reload or a link): check the new one.
                Err(_) if attempt < 50 && started.elapsed() < TIMEOUT => continue,
                Err(error) => panic!(
                    "waited {:.0?} for `{condition}` on {}: {error}",
                    started.elapsed(),
                    self.url().await
                ),
            }
        }
    }

    /// Gives the browser a virtual passkey authenticator (WebDriver's WebAuthn extension): a platform
    /// authenticator that keeps discoverable passkeys and verifies its user at once, as a device's
    /// fingerprint reader would. Its id.
    pub async fn add_passkey_authenticator(&self) -> String {
        let id = self
            .command(
                "POST",
                "webauthn/authenticator",
                json!({
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": true,
                    "hasUserVerification": true,
                    "isUserVerified": true,
                }),
            )
            .await;
        id.as_str().expect("an authenticator id").to_owned()
    }

    /// How many passkeys the virtual authenticator `id` holds.
    pub async fn passkeys_held(&self, id: &str) -> usize {
        let held = self
            .command(
                "GET",
                &format!("webauthn/authenticator/{id}/credentials"),
                Value::Null,
            )
            .await;
        held.as_array().map_or(0, Vec::len)
    }

    /// Presses `keys` together on the keyboard, as a person does, to whatever has the focus: each
    /// goes down in order, then all come up. Keys are characters or WebDriver's codes ([`CONTROL`],
    /// [`ENTER`], …).
    pub async fn press(&self, keys: &[&str]) {
        let down = keys
            .iter()
            .map(|key| json!({"type": "keyDown", "value": key}));
        let up = keys
            .iter()
            .rev()
            .map(|key| json!({"type": "keyUp", "value": key}));
        let actions: Vec<Value> = down.chain(up).collect();
        self.command(
            "POST",
            "actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        )
        .await;
        self.command("DELETE", "actions", Value::Null).await;
    }

    /// Presses `keys` (as [`Browser::press`]) and waits for the page they lead to.
    pub async fn press_to_follow(&self, keys: &[&str]) {
        self.eval("window.lyceumLeft = true;", json!([])).await;
        self.press(keys).await;
        self.wait_for("!window.lyceumLeft && document.readyState !== 'loading'")
            .await;
    }

    /// Sets the window's viewport to `width` × `height` CSS pixels.
    pub async fn resize(&self, width: u32, height: u32) {
        // The window's outer size includes no chrome when headless, but set it and check.
        self.command(
            "POST",
            "window/rect",
            json!({"width": width, "height": height}),
        )
        .await;
        let inner = self.eval("return window.innerWidth;", json!([])).await;
        assert_eq!(
            inner.as_u64(),
            Some(u64::from(width)),
            "the viewport is {inner} CSS pixels wide, not {width}"
        );
    }

    /// Saves a PNG of the viewport to `path`, creating its folder.
    pub async fn screenshot(&self, path: &Path) {
        let encoded = self.command("GET", "screenshot", Value::Null).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .expect("a base64 PNG");
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).expect("the screenshot folder");
        }
        std::fs::write(path, png).expect("the screenshot is written");
    }

    /// Runs axe-core (from `axe_source`, the text of `axe.min.js`) on the page shown; every violation.
    pub async fn axe(&self, axe_source: &str) -> Vec<Violation> {
        self.command(
            "POST",
            "execute/sync",
            json!({"script": format!("{axe_source}\nreturn true;"), "args": []}),
        )
        .await;
        let found = self
            .command(
                "POST",
                "execute/async",
                json!({"script": "const done = arguments[arguments.length - 1];
                    axe.run(document).then(
                      (result) => done(result.passes.length === 0
                        ? {error: 'no rule was checked'}
                        : result.violations.map((v) => ({
                            id: v.id, impact: v.impact || '', help: v.help,
                            targets: v.nodes.map((n) => n.target.join(' '))}))),
                      (error) => done({error: String(error)}));",
                       "args": []}),
            )
            .await;
        if let Some(error) = found.get("error") {
            panic!("axe-core failed: {error}");
        }
        found
            .as_array()
            .expect("a list of violations")
            .iter()
            .map(|v| Violation {
                id: v["id"].as_str().unwrap_or_default().to_owned(),
                impact: v["impact"].as_str().unwrap_or_default().to_owned(),
                help: v["help"].as_str().unwrap_or_default().to_owned(),
                targets: v["targets"]
                    .as_array()
                    .map(|targets| {
                        targets
                            .iter()
                            .filter_map(|t| t.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// Ends the session, closing the browser.
    pub async fn close(self) {
        let _ = self.try_command("DELETE", "", Value::Null).await;
    }
}

/// Where axe-core's `axe.min.js` is: `AXE_CORE_JS`, or the workspace's `node_modules` that
/// `./scripts/test` installs.
pub fn axe_core_path() -> PathBuf {
    std::env::var_os("AXE_CORE_JS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/axe-core/axe.min.js"),
        PathBuf::from,
    )
}
