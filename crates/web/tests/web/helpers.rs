//! `spawn_web`: the real application on a fresh SQLite database with the scripted model server as its
//! engine, and its router, driven in process.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode};
use lyceum_app::Lyceum;
use lyceum_app::worker::{Until, Worker};
use lyceum_course::{CourseRequest, Description, UnitsPerWeek, Weeks};
use lyceum_store::Course;
use lyceum_testkit::ScriptedModel;
use lyceum_web::Web;
use tower::ServiceExt;

pub struct TestWeb {
    pub app: Arc<Lyceum>,
    /// What the router's handlers share.
    pub web: Web,
    pub model: ScriptedModel,
    router: axum::Router,
    _dir: tempfile::TempDir,
}

/// A page as a browser would get it.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub html: String,
}

pub async fn spawn_web() -> TestWeb {
    spawn_web_with(|_| {}).await
}

/// The same, with settings changed by `configure`.
pub async fn spawn_web_with(configure: impl FnOnce(&mut lyceum_app::Settings)) -> TestWeb {
    let model = ScriptedModel::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = model.settings(dir.path());
    // One job at a time, so the order the queue is worked in shows in the model's calls.
    settings.worker.concurrency = 1;
    configure(&mut settings);
    let app = Lyceum::open(settings).await.unwrap();
    serve(app, model, dir)
}

/// The same, with settings that say the built-in model answers while the scripted server still does:
/// what the pages say about the local model, without loading one.
pub async fn spawn_web_said_local() -> TestWeb {
    let opened = spawn_web().await;
    let mut settings = opened.app.settings.clone();
    settings.engine.kind = lyceum_app::settings::EngineKind::Local;
    let app = Lyceum::new(
        settings,
        opened.app.store.clone(),
        Arc::clone(&opened.app.engine),
    )
    .expect("app");
    serve(app, opened.model, opened._dir)
}

fn serve(app: Arc<Lyceum>, model: ScriptedModel, dir: tempfile::TempDir) -> TestWeb {
    // Every request comes from one client address, as the per-address limit sees it.
    let web = Web::new(Arc::clone(&app));
    let router = lyceum_web::router(web.clone()).layer(MockConnectInfo(
        std::net::SocketAddr::from(([203, 0, 113, 7], 40000)),
    ));
    TestWeb {
        app,
        web,
        model,
        router,
        _dir: dir,
    }
}

impl TestWeb {
    async fn response(&self, path: &str) -> axum::response::Response {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    async fn send(&self, request: Request<Body>) -> axum::response::Response {
        self.router.clone().oneshot(request).await.unwrap()
    }

    pub async fn get(&self, path: &str) -> Page {
        Self::page(self.response(path).await).await
    }

    /// `path` read with these request headers.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Page {
        let mut request = Request::get(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Self::page(self.send(request.body(Body::empty()).unwrap()).await).await
    }

    /// A form posted to `path` from a page of this site, with owned fields.
    pub async fn post_fields(&self, path: &str, fields: &[(String, String)]) -> Page {
        let fields: Vec<(&str, &str)> = fields
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        self.post_form(path, &fields).await
    }

    /// A form posted to `path` from a page of this site: `fields` URL-encoded.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.post(
            path,
            &[
                ("sec-fetch-site", "same-origin"),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            form_body(fields),
        )
        .await
    }

    /// A request posted to `path` with these headers and body.
    pub async fn post(&self, path: &str, headers: &[(&str, &str)], body: String) -> Page {
        self.call("POST", path, headers, body).await
    }

    /// A request of any method to `path` with these headers and body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: String,
    ) -> Page {
        let mut request = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Self::page(self.send(request.body(Body::from(body)).unwrap()).await).await
    }

    async fn page(response: axum::response::Response) -> Page {
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        Page {
            status,
            headers,
            html: String::from_utf8(body.to_vec()).unwrap(),
        }
    }

    /// A response that streams: its content type and body.
    pub async fn stream(&self, path: &str) -> (String, Body) {
        let response = self.response(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        (content_type, response.into_body())
    }

    /// The application, to work its queue from another task.
    pub fn clone_app(&self) -> Arc<Lyceum> {
        Arc::clone(&self.app)
    }

    /// Drafts and confirms a course on `topic`, `weeks` × `units`, not written yet.
    pub async fn course(&self, topic: &str, weeks: u32, units: u32) -> Course {
        let mut request = CourseRequest::new(Description::parse(topic).unwrap());
        request.weeks = Weeks::new(weeks).unwrap();
        request.units_per_week = UnitsPerWeek::new(units).unwrap();
        let draft = self.app.draft_outline(&request, |_| {}).await.unwrap();
        self.app
            .confirm_course(&request, draft.outline, &draft.stats)
            .await
            .unwrap()
    }

    /// Runs the queue to empty.
    pub async fn drain_jobs(&self) {
        drain(self.clone_app()).await;
    }

    /// The events of the stream at `path` up to the first named `until`, while a worker runs the
    /// queue to empty beside it (drafting what was started, as `lyceum serve` does).
    pub async fn follow_while_working(&self, path: &str, until: &str) -> Vec<(String, String)> {
        let (content_type, body) = self.stream(path).await;
        assert_eq!(content_type, "text/event-stream", "{path}");
        let ((), events) = tokio::join!(self.drain_jobs(), crate::live::read_events(body, until));
        events
    }
}

/// Runs the application's queue to empty.
pub async fn drain(app: Arc<Lyceum>) {
    Worker::new(app)
        .run(Until::Idle, std::future::pending())
        .await
        .unwrap();
}

/// Form URL encoding of `fields`.
pub fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(name, value)| format!("{name}={}", encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Form URL encoding: letters, digits and `-_.~` as they are, everything else as `%XX` bytes.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// One browser: the cookies it was given, sent back with every request.
pub struct Browser<'a> {
    web: &'a TestWeb,
    pub cookies: Vec<(String, String)>,
}

impl<'a> Browser<'a> {
    pub fn new(web: &'a TestWeb) -> Self {
        Self {
            web,
            cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, page: &Page) {
        for value in page.headers.get_all("set-cookie") {
            let value = value.to_str().unwrap();
            let (pair, attributes) = value.split_once(';').unwrap_or((value, ""));
            let (name, cookie) = pair.split_once('=').unwrap();
            self.cookies.retain(|(kept, _)| kept != name);
            if !attributes.contains("Max-Age=0") {
                self.cookies.push((name.to_owned(), cookie.to_owned()));
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let cookies = self.cookie_header();
        let page = self.web.get_with(path, &[("cookie", &cookies)]).await;
        self.keep(&page);
        page
    }

    /// A form posted from a page of this site.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.send(path, "application/x-www-form-urlencoded", form_body(fields))
            .await
    }

    /// JSON posted by a page's script.
    pub async fn post_json(&mut self, path: &str, body: &serde_json::Value) -> Page {
        self.send(path, "application/json", body.to_string()).await
    }

    /// A form posted by a page's script that reads the answer as events (`Accept: text/event-stream`).
    pub async fn post_for_events(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.send_accepting(
            path,
            "application/x-www-form-urlencoded",
            form_body(fields),
            "text/event-stream",
        )
        .await
    }

    async fn send(&mut self, path: &str, content_type: &str, body: String) -> Page {
        self.send_accepting(path, content_type, body, "text/html")
            .await
    }

    async fn send_accepting(
        &mut self,
        path: &str,
        content_type: &str,
        body: String,
        accept: &str,
    ) -> Page {
        let cookies = self.cookie_header();
        let page = self
            .web
            .post(
                path,
                &[
                    ("sec-fetch-site", "same-origin"),
                    ("content-type", content_type),
                    ("accept", accept),
                    ("cookie", &cookies),
                    (
                        "user-agent",
                        "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
                    ),
                ],
                body,
            )
            .await;
        self.keep(&page);
        page
    }

    /// The value of the first hidden field `name` on `page`.
    pub fn hidden(page: &Page, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = page
            .html
            .find(&marker)
            .unwrap_or_else(|| panic!("no field {name} in {}", page.html))
            + marker.len();
        page.html[start..].split('"').next().unwrap().to_owned()
    }

    pub async fn sign_up(&mut self, name: &str, email: &str, password: &str) -> Page {
        let form = self.get("/account/sign-up").await;
        let token = Self::hidden(&form, "token");
        self.post(
            "/account/sign-up",
            &[
                ("name", name),
                ("email", email),
                ("password", password),
                ("token", &token),
            ],
        )
        .await
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        let form = self.get("/account/sign-in").await;
        let token = Self::hidden(&form, "token");
        self.post(
            "/account/sign-in",
            &[("email", email), ("password", password), ("token", &token)],
        )
        .await
    }

    /// The account page's CSRF token.
    pub async fn csrf(&mut self) -> String {
        let page = self.get("/account").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.html);
        Self::hidden(&page, "csrf")
    }
}

pub fn location(page: &Page) -> &str {
    page.headers["location"].to_str().unwrap()
}
