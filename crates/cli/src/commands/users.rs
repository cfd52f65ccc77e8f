//! `lyceum users`: accounts, for operators.

use std::io::BufRead;

use anyhow::Context;
use lyceum_app::Settings;
use lyceum_app::accounts::{self, AccountError, SignUp};
use lyceum_store::{Store, StoreError, now_ms};

use crate::commands::{UsageError, open_store, outln};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Make an account. Without --password-stdin it has no password yet.
    Add {
        /// Its email address.
        email: String,
        /// The name shown for it (default: the email's part before the @).
        #[arg(long)]
        name: Option<String>,
        /// May feature, hide or delete any course.
        #[arg(long)]
        admin: bool,
        /// Read its password from the first line of standard input (so it stays out of the shell's
        /// history and the process list).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List every account.
    List,
    /// Stop an account from signing in, and end its sessions and API tokens now.
    Disable {
        /// Its email address.
        email: String,
    },
}

pub async fn run(settings: &Settings, command: Command) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    match command {
        Command::Add {
            email,
            name,
            admin,
            password_stdin,
        } => {
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("Failed to read the password from standard input")?;
                Some(line.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                None
            };
            let name = name.unwrap_or_else(|| {
                email
                    .trim()
                    .split('@')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            });
            let user = accounts::create_account(
                &store,
                SignUp {
                    email: &email,
                    display_name: &name,
                    password: password.as_deref(),
                    is_admin: admin,
                },
            )
            .await
            .map_err(usage)?;
            outln!(
                "added {} ({}){}{}",
                user.email,
                user.display_name,
                if user.is_admin { ", an admin" } else { "" },
                if password.is_none() {
                    "; it has no password yet (--password-stdin sets one)"
                } else {
                    ""
                }
            );
        }
        Command::List => {
            let users = store.users().await?;
            if users.is_empty() {
                outln!("No accounts yet. Add one with: lyceum users add EMAIL");
            }
            for user in users {
                let mut marks = Vec::new();
                if user.is_admin {
                    marks.push("admin");
                }
                if user.disabled_at.is_some() {
                    marks.push("disabled");
                }
                outln!(
                    "{:40} {:30} {}",
                    user.email,
                    user.display_name,
                    marks.join(", ")
                );
            }
        }
        Command::Disable { email } => {
            let user = find_user(&store, &email).await?;
            store.disable_user(user.id, now_ms()).await?;
            outln!(
                "disabled {}; its sessions and API tokens have ended",
                user.email
            );
        }
    }
    Ok(())
}

/// The account with this email, with a hint when there is none.
async fn find_user(store: &Store, email: &str) -> anyhow::Result<lyceum_store::User> {
    let email = accounts::normalize_email(email).map_err(usage)?;
    match store.user_by_email(&email).await? {
        Some((user, _)) => Ok(user),
        None => Err(UsageError(format!(
            "there is no account for {email}; `lyceum users list` shows the accounts there are"
        ))
        .into()),
    }
}

/// What the person typed was refused: exit status 2 with the reason; a store failure stays one.
fn usage(error: AccountError) -> anyhow::Error {
    match error {
        AccountError::Store(StoreError::Database(error)) => {
            anyhow::Error::new(error).context("Failed to reach the database")
        }
        other => UsageError(other.to_string()).into(),
    }
}
