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
    }
}
