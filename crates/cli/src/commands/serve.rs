//! `lyceum serve`: the web app and the worker in one process. SIGTERM or Ctrl-C stops accepting
//! connections, lets requests in flight finish, and hands the worker's running jobs back to the queue.

use crate::commands::outln;
use std::sync::Arc;

use anyhow::Context;
use lyceum_app::worker::{Until, Worker};
use lyceum_app::{Lyceum, Settings};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Arguments of `lyceum serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address and port to listen on, instead of `web.bind` (default 127.0.0.1:8080, shown as localhost).
    #[arg(long, value_name = "ADDR")]
    bind: Option<String>,
    /// Serve pages only; `lyceum worker` writes what is queued, here or on another machine.
    #[arg(long)]
    no_worker: bool,
}

/// Runs the web app and the worker until a stop signal.
pub async fn run(settings: &Settings, args: Args) -> anyhow::Result<()> {
    let bind = args.bind.unwrap_or_else(|| settings.web.bind.clone());
    // Listen before loading the model, so a taken port is reported at once.
    let listener = TcpListener::bind(&bind)
        .await
        .with_context(|| format!("Failed to listen on {bind}"))?;
    let address = listener.local_addr()?;
    let mut settings = settings.clone();
    // Links the site makes use the address it really listens on (port 0 picks one).
    settings.web.bind = address.to_string();
    let app = Lyceum::open(settings)
        .await
        .context("Failed to start Lyceum")?;

    let (stop, stopped) = watch::channel(false);
    let worker = (!args.no_worker).then(|| {
        tokio::spawn(Worker::new(Arc::clone(&app)).run(Until::Shutdown, signalled(stopped.clone())))
    });
    outln!(
        "Lyceum is running at {}/ (Ctrl-C stops it)",
        app.settings.public_url()
    );
    lyceum_web::serve(lyceum_web::Web::new(app), listener, async move {
        stop_signal().await;
        tracing::info!("stopping: finishing requests in flight and handing back running jobs");
        let _ = stop.send(true);
    })
    .await
    .context("The web server failed")?;
    // The server only returns once the signal came; the worker stops on the same signal.
    if let Some(worker) = worker {
        worker
            .await
            .context("The worker panicked")?
            .context("The worker failed")?;
    }
    Ok(())
}

/// Completes once `stopped` turns true.
async fn signalled(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

/// Completes on Ctrl-C or SIGTERM.
async fn stop_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops the server");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
