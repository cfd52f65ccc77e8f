//! `lyceum mail`: outgoing mail, for operators.

use lyceum_app::Settings;
use lyceum_mail::{Address, MailError};

use crate::commands::{UsageError, outln};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Send a test message to ADDRESS through the configured transport (mail.transport) and print
    /// what the server said, or where the file went.
    Test {
        /// Where to send it.
        address: String,
    },
    /// List the newest messages Lyceum sent or means to send, with where each stands and what the
    /// server said; addresses are masked.
    Outbox {
        /// How many to list, newest first.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

pub async fn run(settings: &Settings, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Test { address } => {
            let address =
                Address::parse(&address).map_err(|error| UsageError(error.to_string()))?;
            let mailer = lyceum_mail::Mailer::new(&settings.mail_config())
                .map_err(|error| UsageError(error.to_string()))?;
            let email = lyceum_app::mail::test_message(settings, address, lyceum_store::now_ms());
            match mailer.send(&email).await {
                Ok(sent) => {
                    outln!("sent {} to {}", sent.message_id, email.to);
                    outln!("{}", sent.reply);
                    Ok(())
                }
                Err(error @ MailError::Invalid(_)) => Err(UsageError(error.to_string()).into()),
                Err(error) => Err(anyhow::anyhow!("{error}")),
            }
        }
        Command::Outbox { limit } => {
            let store = crate::commands::open_store(settings).await?;
            let entries = store.outbox(i64::from(limit.max(1))).await?;
            if entries.is_empty() {
                outln!("no mail yet");
            }
            for entry in entries {
                let delivery = &entry.delivery;
                outln!(
                    "{}  {:<9}  {:<8}  {:<24}  {:<24}  {}{}",
                    lyceum_app::dates::utc_minute(delivery.sent_at.unwrap_or(delivery.created_at)),
                    delivery.state.as_str(),
                    delivery.kind.as_str(),
                    entry
                        .email
                        .as_deref()
                        .map(lyceum_mail::masked)
                        .unwrap_or_else(|| "-".into()),
                    entry.course_slug.as_deref().unwrap_or("-"),
                    delivery.key,
                    delivery
                        .reply
                        .as_deref()
                        .map(|reply| format!("  {reply}"))
                        .unwrap_or_default(),
                );
            }
            Ok(())
        }
    }
}
