//! The change feed: what changed, for pages that follow it live, whichever node made the change.
//!
//! On SQLite (one process) the store tells its own subscribers once a change is committed. On
//! PostgreSQL it sends `NOTIFY` after the commit; each process `LISTEN`s on one connection of its own,
//! opened for its first subscriber, and tells its subscribers. A notification carries a pointer
//! (`draft:ID`), never the data, which stays in its row: payloads stay far below PostgreSQL's
//! 8,000-byte limit, and a follower always reads the truth. A notification can be lost (a process
//! dies between commit and `NOTIFY`, a connection drops): followers are told when the feed knows it
//! missed something ([`Change::Missed`]), and read again now and then in any case.

use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::broadcast;

use crate::{Backend, Store, StoreError};

/// The PostgreSQL channel every change is sent on.
const CHANNEL: &str = "lyceum_changes";

/// Changes a slow subscriber may fall behind by before it is told it missed some.
const CAPACITY: usize = 1024;

/// Something that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Jobs were queued (or moved up the queue): idle workers look again.
    Queued,
    /// A draft changed: its id.
    Draft(String),
    /// A generated item changed status: its generation record.
    Item(i64),
    /// More text of an item being written was shared: its generation record.
    Text(i64),
    /// Something a signed-in page shows of an account changed: its sessions, name or standing, or
    /// what its person did in a course. Its id.
    Account(i64),
    /// Who may see a course changed, or it was deleted: its pages are rendered again. Its id.
    Course(i64),
    /// Changes may have been missed (the feed's connection dropped, or the subscriber fell behind):
    /// read again whatever is followed.
    Missed,
}

impl Change {
    fn encode(&self) -> String {
        match self {
            Self::Queued => "queued".into(),
            Self::Draft(id) => format!("draft:{id}"),
            Self::Item(id) => format!("item:{id}"),
            Self::Text(id) => format!("text:{id}"),
            Self::Account(id) => format!("account:{id}"),
            Self::Course(id) => format!("course:{id}"),
            Self::Missed => "missed".into(),
        }
    }

    fn decode(text: &str) -> Option<Self> {
        match text.split_once(':') {
            Some(("draft", id)) => Some(Self::Draft(id.to_owned())),
            Some(("item", id)) => id.parse().ok().map(Self::Item),
            Some(("text", id)) => id.parse().ok().map(Self::Text),
            Some(("account", id)) => id.parse().ok().map(Self::Account),
            Some(("course", id)) => id.parse().ok().map(Self::Course),
            _ if text == "queued" => Some(Self::Queued),
            _ if text == "missed" => Some(Self::Missed),
            _ => None,
        }
    }
}

/// A subscription to the feed.
pub struct Changes {
    receiver: broadcast::Receiver<Change>,
}

impl Changes {
    /// A subscription that hears of nothing: for what follows changes made elsewhere in tests of its
    /// own logic.
    pub fn none() -> Self {
        Self {
            receiver: broadcast::channel(1).1,
        }
    }

    /// The next change; [`Change::Missed`] when some were lost. `None` once the store is gone.
    pub async fn next(&mut self) -> Option<Change> {
        match self.receiver.recv().await {
            Ok(change) => Some(change),
            Err(broadcast::error::RecvError::Lagged(_)) => Some(Change::Missed),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }

    /// The next change if one came already, without waiting; [`Change::Missed`] when some were lost.
    pub fn try_next(&mut self) -> Option<Change> {
        match self.receiver.try_recv() {
            Ok(change) => Some(change),
            Err(broadcast::error::TryRecvError::Lagged(_)) => Some(Change::Missed),
            Err(broadcast::error::TryRecvError::Empty | broadcast::error::TryRecvError::Closed) => {
                None
            }
        }
    }
}

/// The feed of one store and its clones.
pub(crate) struct Feed {
    sender: broadcast::Sender<Change>,
    /// The PostgreSQL listener task, once started.
    listener: tokio::sync::Mutex<Option<tokio::task::AbortHandle>>,
}

impl Default for Feed {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(CAPACITY).0,
            listener: tokio::sync::Mutex::new(None),
        }
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        if let Some(listener) = self.listener.get_mut() {
            listener.abort();
        }
    }
}

impl Feed {
    /// Stops the PostgreSQL listener task, so its connection goes back to the pool (which waits for
    /// every connection when it closes).
    pub(crate) async fn stop(&self) {
        if let Some(listener) = self.listener.lock().await.take() {
            listener.abort();
        }
    }
}

impl Store {
    /// Subscribes to every change made from now on, by any process sharing this database.
    pub async fn changes(&self) -> Result<Changes, StoreError> {
        if let Backend::Postgres(pool) = &self.backend {
            let mut listener = self.feed.listener.lock().await;
            if listener
                .as_ref()
                .is_none_or(tokio::task::AbortHandle::is_finished)
            {
                let connection = listen(pool).await?;
                let sender = self.feed.sender.clone();
                *listener = Some(tokio::spawn(relay(connection, sender)).abort_handle());
            }
        }
        Ok(Changes {
            receiver: self.feed.sender.subscribe(),
        })
    }

    /// Subscribes to every change made from now on that reaches this process, without waiting. On
    /// PostgreSQL other processes' changes reach it once anything here has called [`Store::changes`]
    /// (as serving does), until then only this process's own.
    pub fn watch(&self) -> Changes {
        Changes {
            receiver: self.feed.sender.subscribe(),
        }
    }

    /// Tells every subscriber, in this process or any other, about a change just committed. A
    /// notification that cannot be sent is logged: the change itself is stored, and followers read
    /// again on their own now and then.
    pub(crate) async fn publish(&self, change: Change) {
        match &self.backend {
            Backend::Sqlite(_) => {
                // Nobody following is fine.
                let _ = self.feed.sender.send(change);
            }
            Backend::Postgres(pool) => {
                if matches!(change, Change::Account(_) | Change::Course(_)) {
                    // This process reads its own writes to an account or a course's visibility at
                    // once; the database's echo of the notification comes later and changes nothing
                    // more.
                    let _ = self.feed.sender.send(change.clone());
                }
                let sent = sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(change.encode())
                    .execute(pool)
                    .await;
                if let Err(error) = sent {
                    tracing::warn!(%error, "could not announce a change; followers will see it later");
                }
            }
        }
    }
}

async fn listen(pool: &PgPool) -> Result<PgListener, StoreError> {
    let mut connection = PgListener::connect_with(pool).await?;
    connection.listen(CHANNEL).await?;
    Ok(connection)
}

/// Relays notifications to this process's subscribers for as long as the store lives. A lost
/// connection is opened again (`PgListener` does it on the next receive) and subscribers are told
/// they may have missed changes meanwhile.
async fn relay(mut connection: PgListener, sender: broadcast::Sender<Change>) {
    loop {
        match connection.try_recv().await {
            Ok(Some(notification)) => {
                if let Some(change) = Change::decode(notification.payload()) {
                    let _ = sender.send(change);
                }
            }
            Ok(None) => {
                tracing::warn!("the change feed's database connection was lost; reconnecting");
                let _ = sender.send(Change::Missed);
            }
            Err(error) => {
                tracing::warn!(%error, "the change feed cannot reach the database; trying again");
                let _ = sender.send(Change::Missed);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_travel_as_short_pointers_and_come_back_the_same() {
        for change in [
            Change::Queued,
            Change::Draft("0f3a".into()),
            Change::Item(7),
            Change::Text(8),
            Change::Account(9),
            Change::Course(10),
            Change::Missed,
        ] {
            assert_eq!(Change::decode(&change.encode()), Some(change));
        }
        assert_eq!(Change::decode("unit:7"), None, "a newer kind is ignored");
        assert_eq!(Change::decode("item:seven"), None);
    }
}
