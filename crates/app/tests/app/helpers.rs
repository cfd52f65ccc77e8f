//! `spawn_app`: the real application on a fresh SQLite database, with the scripted model server as its
//! OpenAI-compatible engine.

use std::sync::Arc;

use lyceum_app::Lyceum;
use lyceum_app::worker::{Until, Worker};
use lyceum_course::{CourseRequest, Description, UnitsPerWeek, Weeks};
use lyceum_testkit::ScriptedModel;

pub struct TestApp {
    pub app: Arc<Lyceum>,
    pub model: ScriptedModel,
    _dir: tempfile::TempDir,
}

/// The application with `concurrency` jobs at once (0: as many as the engine takes).
pub async fn spawn_app(concurrency: usize) -> TestApp {
    spawn_app_with(|settings| settings.worker.concurrency = concurrency).await
}

/// The application with settings changed by `configure`.
pub async fn spawn_app_with(configure: impl FnOnce(&mut lyceum_app::Settings)) -> TestApp {
    let model = ScriptedModel::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = model.settings(dir.path());
    configure(&mut settings);
    let app = Lyceum::open(settings).await.unwrap();
    TestApp {
        app,
        model,
        _dir: dir,
    }
}

impl TestApp {
    /// Runs the queue to empty.
    pub async fn drain_jobs(&self) {
        Worker::new(Arc::clone(&self.app))
            .run(Until::Idle, std::future::pending())
            .await
            .unwrap();
    }

    /// Starts a worker that runs until the returned sender is used, and waits until the scripted
    /// model holds the call `key` (scripted with `Action::Hold`).
    pub async fn worker_holding(
        &self,
        key: &str,
    ) -> (
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<Result<(), lyceum_store::StoreError>>,
    ) {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let worker = tokio::spawn(
            Worker::new(Arc::clone(&self.app)).run(Until::Shutdown, async {
                let _ = stopped.await;
            }),
        );
        self.held(key).await;
        (stop, worker)
    }

    /// Waits until the scripted model holds the call `key` (scripted with `Action::Hold`).
    pub async fn held(&self, key: &str) {
        let held = tokio::time::timeout(std::time::Duration::from_secs(30), self.model.held())
            .await
            .unwrap_or_else(|_| panic!("{key} is never asked for"));
        assert_eq!(held, key);
    }

    /// The last unit of a course, in syllabus order.
    pub async fn last_unit(&self, course_id: i64) -> lyceum_store::Unit {
        let mut units = self.app.store.units(course_id).await.unwrap();
        units.pop().expect("the course has units")
    }

    /// Drafts and confirms a course of `weeks` × `units` as drafted.
    pub async fn confirmed_course(
        &self,
        weeks: u32,
        units: u32,
    ) -> (CourseRequest, lyceum_store::Course) {
        let request = request(weeks, units);
        let draft = self.app.draft_outline(&request, |_| {}).await.unwrap();
        let course = self
            .app
            .confirm_course(&request, draft.outline, &draft.stats)
            .await
            .unwrap();
        (request, course)
    }
}

pub fn request(weeks: u32, units: u32) -> CourseRequest {
    let mut request =
        CourseRequest::new(Description::parse("How bridges carry their loads").unwrap());
    request.weeks = Weeks::new(weeks).unwrap();
    request.units_per_week = UnitsPerWeek::new(units).unwrap();
    request
}
