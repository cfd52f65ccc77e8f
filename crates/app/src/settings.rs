//! Typed settings, read once at start: defaults, then `lyceum.toml`, then `LYCEUM_*` environment
//! variables (`LYCEUM_DATA_DIR`, `LYCEUM_ENGINE__KIND`, `LYCEUM_ENGINE__OPENAI__API_KEY`: double
//! underscores separate sections). Nothing else in Lyceum reads the environment or the file.

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::{Deserialize, Serialize, Serializer};

use lyceum_course::Language;

use crate::models;

/// Everything Lyceum can be configured with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Where the database, `models/` and the mail outbox live.
    pub data_dir: PathBuf,
    /// The language model.
    pub engine: EngineSettings,
    /// The database.
    pub database: DatabaseSettings,
    /// The background worker that writes courses.
    pub worker: WorkerSettings,
    /// Model downloads.
    pub models: ModelSettings,
    /// The web server of `lyceum serve`.
    pub web: WebSettings,
    /// Outgoing mail.
    pub mail: MailSettings,
}

/// Outgoing mail.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailSettings {
    /// Where messages go.
    pub transport: MailTransport,
    /// The sender, `Name <address>`.
    pub from: String,
    /// Where replies go; empty: to the sender.
    pub reply_to: String,
    /// The relay, when `transport` is `smtp`.
    pub smtp: SmtpSettings,
}

/// Where messages go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    /// Each message an `.eml` file under `<data_dir>/outbox/`.
    File,
    /// An SMTP relay (`mail.smtp`).
    Smtp,
    /// Kept in the process, for tests.
    Memory,
}

/// An SMTP relay.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpSettings {
    /// Host name, as its certificate names it.
    pub host: String,
    /// Port: 587 with STARTTLS, 465 with implicit TLS, 25 without.
    pub port: u16,
    /// `starttls`, `tls` or `none`.
    pub security: SmtpSecurity,
    /// User name; empty: no authentication.
    pub user: String,
    /// Password for `user`.
    #[serde(serialize_with = "redacted")]
    pub password: Option<SecretString>,
    /// A PEM certificate authority to trust besides the usual ones; empty: the usual ones only.
    pub ca_certificate: PathBuf,
    /// Seconds to wait for the server at each step.
    pub timeout_secs: u64,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Upgraded with STARTTLS, never sent in the clear.
    Starttls,
    /// TLS from the first byte.
    Tls,
    /// In the clear: a relay on this machine only.
    None,
}

/// The web server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSettings {
    /// The address and port to listen on.
    pub bind: String,
    /// The site's address as people reach it (`https://courses.example.org`), for canonical links, the
    /// sitemap and shared links; empty means `http://` and `bind`.
    pub public_url: String,
    /// Outlines one client address may start drafting per hour (0: no limit), until accounts and
    /// quotas arrive.
    pub drafts_per_hour: u32,
    /// Course units one client may ask for per hour (0: no limit): a draft of W weeks of U units
    /// counts W × U, since each unit, its quiz and its week's overview are written for it.
    pub units_per_hour: u32,
    /// Outlines one client (or one signed-in account) may have drafting at the same time (0: no limit).
    pub drafts_at_once: u32,
    /// Outlines one signed-in account may start in a day (0: no limit), counted in the store, so on
    /// every node; signed-in people are not held to the per-address hourly limits.
    pub drafts_per_day_per_account: u32,
    /// Live streams (an outline, a course or a unit being written) one client may hold open at once
    /// (0: no limit).
    pub streams_per_client: u32,
    /// Reverse proxies in front of Lyceum (addresses or CIDR ranges, `10.0.0.0/8`): for requests from
    /// them, the client is the last address in `X-Forwarded-For` that is not one of them. Requests
    /// from anywhere else are their own client, whatever they claim.
    pub trusted_proxies: Vec<AddressRange>,
    /// Seconds a rendered course, week or unit page is served from memory before it is rendered
    /// again (0: never cached). This process's own worker refreshes pages at once when it writes
    /// something; the limit bounds how stale a page can be when another node wrote it.
    pub page_cache_secs: u64,
    /// Replies one signed-in learner may ask the tutor for in an hour, on every node (0: no limit):
    /// each message, button and "Try again" counts.
    pub tutor_messages_per_hour: u32,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            public_url: String::new(),
            drafts_per_hour: 10,
            units_per_hour: 200,
            drafts_at_once: 2,
            drafts_per_day_per_account: 20,
            streams_per_client: 24,
            trusted_proxies: Vec::new(),
            page_cache_secs: 5,
            tutor_messages_per_hour: 60,
        }
    }
}

/// An address, or a range of them in CIDR notation (`10.0.0.0/8`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AddressRange {
    network: std::net::IpAddr,
    prefix: u8,
}

impl AddressRange {
    /// Whether `address` is in the range (an IPv4 address in its IPv6-mapped form too).
    pub fn contains(&self, address: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, address) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(network) & mask == u32::from(address) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(network) & mask == u128::from(address) & mask
            }
            _ => false,
        }
    }
}

impl TryFrom<String> for AddressRange {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let problem = || {
            format!("\"{text}\" is not an address or a CIDR range such as 10.0.0.0/8 or fd00::/8")
        };
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let network: std::net::IpAddr = address.parse().map_err(|_| problem())?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= bits)
                .ok_or_else(problem)?,
        };
        Ok(Self { network, prefix })
    }
}

impl From<AddressRange> for String {
    fn from(range: AddressRange) -> Self {
        format!("{}/{}", range.network, range.prefix)
    }
}

/// The database.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` or `postgres://…`; empty means `<data_dir>/lyceum.db`.
    #[serde(serialize_with = "redacted_url")]
    pub url: String,
}

/// The background worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerSettings {
    /// Jobs run at once; 0 means as many as the engine takes at once.
    pub concurrency: usize,
    /// Seconds a claimed job stays reserved without a heartbeat before another worker may take it.
    pub lease_secs: u64,
    /// Tries of a job before its item is marked failed.
    pub max_attempts: u32,
    /// Seconds before the first retry of a failed job; doubled for each further try.
    pub retry_backoff_secs: u64,
    /// Times at most an article that loops, mixes scripts or is in another language is written
    /// again (with a new seed) before it is kept as written; 0 keeps the first.
    pub rewrites: u32,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            concurrency: 0,
            lease_secs: 60,
            max_attempts: 3,
            retry_backoff_secs: 10,
            rewrites: 2,
        }
    }
}

/// Which engine answers, and how.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineSettings {
    /// `local` (llama.cpp in this process) or `openai` (an OpenAI-compatible server).
    pub kind: EngineKind,
    /// Generations allowed to wait for a free slot before more are refused as overloaded.
    pub max_queued: usize,
    /// The local engine.
    pub local: LocalSettings,
    /// The OpenAI-compatible engine.
    pub openai: OpenAiSettings,
}

/// The engine kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// llama.cpp with a GGUF model.
    Local,
    /// Any OpenAI-compatible `/v1/chat/completions` server.
    Openai,
}

/// The local llama.cpp engine.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalSettings {
    /// A GGUF file; empty means the default model in `<data_dir>/models/`.
    pub model: PathBuf,
    /// CPU threads; 0 means one per core.
    pub threads: usize,
    /// Background generations decoded together in one batch, as far as the cache holds them.
    pub max_sequences: usize,
    /// Slots besides those, only for interactive generations (a person waiting), at least 1.
    pub interactive_sequences: usize,
    /// Tokens (prompt and answer) one generation may hold.
    pub context_per_sequence: u32,
    /// Tokens of cache all generations share: what sets the engine's memory.
    pub cache_tokens: u32,
    /// How those tokens' keys and values are stored: `f16`, or `q8_0` (half the memory).
    pub kv_cache: lyceum_llm::local::KvCache,
    /// `shared`: one cache of `cache_tokens` for all; `streams`: `context_per_sequence` per slot.
    pub layout: lyceum_llm::local::CacheLayout,
}

/// The OpenAI-compatible engine.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpenAiSettings {
    /// Base URL including `/v1`.
    pub base_url: String,
    /// Bearer token, if the server wants one.
    #[serde(serialize_with = "redacted")]
    pub api_key: Option<SecretString>,
    /// Model name on the server.
    pub model: String,
    /// Generations sent to the server at once.
    pub max_concurrent: usize,
    /// Retries on 429, 5xx and connect errors.
    pub max_retries: u32,
    /// Seconds to establish a connection.
    pub connect_timeout_secs: u64,
    /// Seconds the server may stay silent, before the answer starts or mid-stream.
    pub idle_timeout_secs: u64,
}

/// Model downloads.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSettings {
    /// Where `lyceum model pull` downloads from (a Hugging Face-compatible hub).
    pub hub_url: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            engine: EngineSettings::default(),
            database: DatabaseSettings::default(),
            worker: WorkerSettings::default(),
            models: ModelSettings::default(),
            web: WebSettings::default(),
            mail: MailSettings::default(),
        }
    }
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            transport: MailTransport::File,
            from: "Lyceum <lyceum@localhost>".into(),
            reply_to: String::new(),
            smtp: SmtpSettings::default(),
        }
    }
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 587,
            security: SmtpSecurity::Starttls,
            user: String::new(),
            password: None,
            ca_certificate: PathBuf::new(),
            timeout_secs: 30,
        }
    }
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            kind: EngineKind::Local,
            max_queued: 256,
            local: LocalSettings::default(),
            openai: OpenAiSettings::default(),
        }
    }
}

impl Default for LocalSettings {
    fn default() -> Self {
        Self {
            model: PathBuf::new(),
            threads: 0,
            max_sequences: 16,
            interactive_sequences: 1,
            context_per_sequence: 4096,
            cache_tokens: 20_480,
            kv_cache: lyceum_llm::local::KvCache::default(),
            layout: lyceum_llm::local::CacheLayout::default(),
        }
    }
}

impl Default for OpenAiSettings {
    fn default() -> Self {
        Self {
            base_url: "http://127.0.0.1:8000/v1".into(),
            api_key: None,
            model: "default".into(),
            max_concurrent: 16,
            max_retries: 3,
            connect_timeout_secs: 10,
            idle_timeout_secs: 120,
        }
    }
}

impl Default for ModelSettings {
    fn default() -> Self {
        Self {
            hub_url: "https://huggingface.co".into(),
        }
    }
}

/// A database URL with its password hidden: `postgres://user:[redacted]@host/db`.
/// "English", "English and German", "English, German and French".
fn language_names(tags: &[&str]) -> String {
    let names: Vec<&str> = tags
        .iter()
        .filter_map(|tag| Language::parse(tag).ok())
        .map(|language| language.name)
        .collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        Some((last, _)) => (*last).to_owned(),
        None => "no language measured".to_owned(),
    }
}

fn redacted_url<S: Serializer>(url: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&redact_url(url))
}

pub use lyceum_store::redact_url;

fn redacted<S: Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(_) => serializer.serialize_str("[redacted]"),
        None => serializer.serialize_none(),
    }
}

/// Why settings could not be read; each says which file or variable to fix.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The settings file could not be read.
    #[error("could not read the settings file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The settings file or an environment variable has a wrong key or value.
    #[error("invalid settings in {origin}: {message}")]
    Invalid {
        /// The file or variable.
        origin: String,
        /// What is wrong.
        message: String,
    },
}

/// The settings file read when none is named.
pub const DEFAULT_FILE: &str = "lyceum.toml";

impl Settings {
    /// Reads defaults, then the file (`file`, or `lyceum.toml` if it exists), then `LYCEUM_*` variables.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, SettingsError> {
        let mut table =
            toml::Table::try_from(Self::default()).map_err(|error| SettingsError::Invalid {
                origin: "the defaults".into(),
                message: error.to_string(),
            })?;
        let defaults = table.clone();
        let path = file.map(Path::to_path_buf).or_else(|| {
            let default = PathBuf::from(DEFAULT_FILE);
            default.exists().then_some(default)
        });
        if let Some(path) = &path {
            let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
                path: path.clone(),
                source,
            })?;
            let from_file: toml::Table =
                text.parse()
                    .map_err(|error: toml::de::Error| SettingsError::Invalid {
                        origin: path.display().to_string(),
                        message: error.message().to_owned(),
                    })?;
            merge(&mut table, from_file);
            check(&table, &path.display().to_string())?;
        }
        let mut vars: Vec<(String, String)> = env
            .into_iter()
            .filter(|(name, _)| name.starts_with(ENV_PREFIX) && name != CONFIG_VAR)
            .collect();
        vars.sort();
        for (name, raw) in vars {
            let keys: Vec<String> = name[ENV_PREFIX.len()..]
                .split("__")
                .map(str::to_lowercase)
                .collect();
            let value = env_value(&defaults, &keys, &raw);
            set(&mut table, &keys, value);
            check(&table, &name)?;
        }
        check(&table, "the settings")
    }

    /// The GGUF file the local engine loads: the default model's, a listed model's by its name
    /// (`qwen2.5-coder-1.5b`), or the file `engine.local.model` names.
    pub fn local_model_path(&self) -> PathBuf {
        match self.listed_model() {
            Some(spec) => self.models_dir().join(spec.file_name),
            None => self.engine.local.model.clone(),
        }
    }

    /// The listed model the local engine uses, unless `engine.local.model` names a file.
    pub fn listed_model(&self) -> Option<&'static models::ModelSpec> {
        let model = &self.engine.local.model;
        if model.as_os_str().is_empty() {
            return Some(&models::DEFAULT_MODEL);
        }
        model.to_str().and_then(models::named)
    }

    /// The listed model the local engine runs, when the settings choose the local engine and its model
    /// is one Lyceum lists (by name, or a file of a listed model's name wherever it lies).
    pub fn local_listed_model(&self) -> Option<&'static models::ModelSpec> {
        if self.engine.kind != EngineKind::Local {
            return None;
        }
        self.listed_model().or_else(|| {
            let file_name = self.engine.local.model.file_name()?.to_str()?;
            models::named(file_name)
        })
    }

    /// What to tell a person who asks for a course in `language` that the configured model is known
    /// to write poorly; `None` when it writes that language well, or when the model's languages were
    /// never measured here (an OpenAI-compatible server, an unlisted GGUF).
    pub fn language_caution(&self, language: Language) -> Option<String> {
        let model = self.local_listed_model()?;
        if model.writes_well.contains(&language.tag) {
            return None;
        }
        Some(format!(
            "The built-in model ({}) writes {} with mistakes of grammar and of fact, and slips into \
             English; it writes well in {} only. For {} courses worth learning from, the operator can \
             connect a larger model (engine.kind = \"openai\").",
            model.summary,
            language.name,
            language_names(model.writes_well),
            language.name,
        ))
    }

    /// For the course form: the languages the configured model writes well, when it is known to write
    /// others poorly.
    pub fn language_hint(&self) -> Option<String> {
        let model = self.local_listed_model()?;
        Some(format!(
            "The built-in model writes well in {} only; courses in other languages come out with mistakes.",
            language_names(model.writes_well)
        ))
    }

    /// The database URL: the configured one, or the SQLite file in the data folder.
    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("lyceum.db").display())
        } else {
            self.database.url.clone()
        }
    }

    /// Where models are installed.
    pub fn models_dir(&self) -> PathBuf {
        self.data_dir.join("models")
    }

    /// CPU threads for the local engine.
    pub fn local_threads(&self) -> usize {
        match self.engine.local.threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        }
    }

    /// The site's public address without a trailing slash: `web.public_url`, or `http://` and `web.bind`,
    /// where a loopback address is named `localhost`: browsers allow passkeys there, never on an IP.
    pub fn public_url(&self) -> String {
        let url = if self.web.public_url.trim().is_empty() {
            match self.web.bind.parse::<std::net::SocketAddr>() {
                Ok(address) if address.ip().is_loopback() => {
                    format!("http://localhost:{}", address.port())
                }
                _ => format!("http://{}", self.web.bind),
            }
        } else {
            self.web.public_url.trim().to_owned()
        };
        url.trim_end_matches('/').to_owned()
    }

    /// Where the file transport writes messages.
    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }

    /// The mailer's setup: the transport of `mail.transport`, Message-IDs in the site's domain.
    pub fn mail_config(&self) -> lyceum_mail::MailConfig {
        let public = self.public_url();
        let host = public
            .split_once("://")
            .map_or(public.as_str(), |(_, rest)| rest);
        let domain = host
            .split(['/', ':'])
            .next()
            .unwrap_or("localhost")
            .to_owned();
        let smtp = &self.mail.smtp;
        let transport = match self.mail.transport {
            MailTransport::File => lyceum_mail::TransportConfig::File(self.outbox_dir()),
            MailTransport::Memory => lyceum_mail::TransportConfig::Memory,
            MailTransport::Smtp => lyceum_mail::TransportConfig::Smtp(lyceum_mail::SmtpConfig {
                host: smtp.host.clone(),
                port: smtp.port,
                security: match smtp.security {
                    SmtpSecurity::Starttls => lyceum_mail::Security::StartTls,
                    SmtpSecurity::Tls => lyceum_mail::Security::Tls,
                    SmtpSecurity::None => lyceum_mail::Security::None,
                },
                user: (!smtp.user.is_empty()).then(|| smtp.user.clone()),
                password: smtp.password.clone(),
                ca_certificate: (!smtp.ca_certificate.as_os_str().is_empty())
                    .then(|| smtp.ca_certificate.clone()),
                timeout: std::time::Duration::from_secs(smtp.timeout_secs.max(1)),
            }),
        };
        lyceum_mail::MailConfig {
            from: self.mail.from.clone(),
            reply_to: (!self.mail.reply_to.trim().is_empty()).then(|| self.mail.reply_to.clone()),
            domain,
            transport,
        }
    }

    /// The effective settings as a documented TOML file, secrets redacted.
    pub fn to_documented_toml(&self) -> String {
        let mut resolved = self.clone();
        resolved.database.url = self.database_url();
        resolved.engine.local.model = self.local_model_path();
        resolved.engine.local.threads = self.local_threads();
        let table = toml::Value::Table(toml::Table::try_from(&resolved).unwrap_or_default());
        let mut out = String::from(
            "# Lyceum settings: defaults, then lyceum.toml, then LYCEUM_* variables.\n",
        );
        let mut section = "";
        for (key, doc) in DOCS {
            let (parent, name) = key.rsplit_once('.').unwrap_or(("", key));
            if parent != section {
                section = parent;
                out.push_str(&format!("\n[{section}]\n"));
            }
            out.push_str(&format!("# {doc}\n"));
            let value = key
                .split('.')
                .try_fold(&table, |value, part| value.get(part));
            match value {
                Some(value) => out.push_str(&format!("{name} = {value}\n")),
                None => out.push_str(&format!("# {name} = (not set)\n")),
            }
        }
        out
    }
}

/// Every key with its documentation, in the order `lyceum config` prints them.
const DOCS: &[(&str, &str)] = &[
    (
        "data_dir",
        "Where the database, models/ and the mail outbox live. Env: LYCEUM_DATA_DIR.",
    ),
    (
        "engine.kind",
        "\"local\" (llama.cpp in this process) or \"openai\" (an OpenAI-compatible server).",
    ),
    (
        "engine.max_queued",
        "Generations that may wait for a free slot; more are refused as overloaded.",
    ),
    (
        "engine.local.model",
        "The GGUF model file, or a model `lyceum model list` names (qwen2.5-coder-1.5b, fast) under <data_dir>/models/; unset: the default model.",
    ),
    (
        "engine.local.threads",
        "CPU threads for llama.cpp; 0 means one per core.",
    ),
    (
        "engine.local.max_sequences",
        "Background generations (writing courses) decoded together in one batch, as many as cache_tokens holds.",
    ),
    (
        "engine.local.interactive_sequences",
        "Slots besides those for interactive generations (a person waiting for the text), at least 1; background work leaves context_per_sequence tokens of cache free for each.",
    ),
    (
        "engine.local.context_per_sequence",
        "Tokens (prompt and answer) one generation may hold.",
    ),
    (
        "engine.local.cache_tokens",
        "Tokens of cache (keys and values) all generations share; this, not max_sequences, sets the engine's memory (f16: about 28 KiB a token on the default model). A generation starts when its prompt and reserved answer fit (a person's longest, half a background one's); background work that outgrows it pauses and resumes.",
    ),
    (
        "engine.local.kv_cache",
        "How the cache of those tokens is stored: f16, or q8_0 (8 bits: half the memory, so twice the sequences fit, but the default model writes somewhat worse with it).",
    ),
    (
        "engine.local.layout",
        "shared: one cache of cache_tokens for every generation, read with flash attention (a shared prompt start is held once). streams: a cache of context_per_sequence tokens for each slot (max_sequences + interactive_sequences of them: that, not cache_tokens, sets memory), read with plain attention, which generates 2-2.5x faster at course prompt lengths on a CPU; needs kv_cache = f16.",
    ),
    (
        "engine.openai.base_url",
        "Base URL of the server, including /v1.",
    ),
    (
        "engine.openai.api_key",
        "Bearer token, if the server needs one. Env: LYCEUM_ENGINE__OPENAI__API_KEY.",
    ),
    ("engine.openai.model", "Model name on the server."),
    (
        "engine.openai.max_concurrent",
        "Generations sent to the server at once.",
    ),
    (
        "engine.openai.max_retries",
        "Retries on 429, 5xx and connection errors, with exponential backoff.",
    ),
    (
        "engine.openai.connect_timeout_secs",
        "Seconds to establish a connection.",
    ),
    (
        "engine.openai.idle_timeout_secs",
        "Seconds the server may stay silent before the answer or mid-stream.",
    ),
    (
        "database.url",
        "sqlite://PATH or postgres://USER:PASSWORD@HOST/DB; unset means <data_dir>/lyceum.db. Env: LYCEUM_DATABASE__URL.",
    ),
    (
        "worker.concurrency",
        "Jobs run at once; 0 means as many as the engine takes (engine.local.max_sequences or engine.openai.max_concurrent).",
    ),
    (
        "worker.lease_secs",
        "Seconds a claimed job stays reserved without a heartbeat; then another worker takes it over.",
    ),
    (
        "worker.max_attempts",
        "Tries of a job (a failing engine, a crashed worker) before its item is marked failed.",
    ),
    (
        "worker.retry_backoff_secs",
        "Seconds before retrying a failed job, doubled for each further try.",
    ),
    (
        "worker.rewrites",
        "Times at most an article that loops (over 15% of its 4-word sequences repeated), mixes scripts or is in another language is written again with a new seed; 0 keeps the first. Each costs a unit's time.",
    ),
    (
        "models.hub_url",
        "Where `lyceum model pull` downloads from.",
    ),
    (
        "web.public_url",
        "The site's address as people reach it, for canonical links and the sitemap; empty: http:// and web.bind.",
    ),
    (
        "web.drafts_per_hour",
        "Outlines one client address may start drafting per hour; 0 for no limit.",
    ),
    (
        "web.units_per_hour",
        "Course units one client address may ask for per hour (a draft of W weeks of U units counts W x U); 0 for no limit.",
    ),
    (
        "web.drafts_at_once",
        "Outlines one client address (or signed-in account) may have drafting at the same time; 0 for no limit.",
    ),
    (
        "web.drafts_per_day_per_account",
        "Outlines one signed-in account may start in a day, on every node together; 0 for no limit.",
    ),
    (
        "web.streams_per_client",
        "Live streams one client address may hold open at once; 0 for no limit.",
    ),
    (
        "web.trusted_proxies",
        "Reverse proxies in front of Lyceum (addresses or CIDR ranges); only their X-Forwarded-For is believed. Env: LYCEUM_WEB__TRUSTED_PROXIES='[\"10.0.0.0/8\"]'.",
    ),
    (
        "web.page_cache_secs",
        "Seconds a rendered page is kept when another node may have changed its course; 0: never cached.",
    ),
    (
        "web.tutor_messages_per_hour",
        "Replies one learner may ask the tutor for in an hour (messages, buttons, retries), counted in the database; 0 for no limit.",
    ),
    (
        "web.bind",
        "Address and port `lyceum serve` listens on; 0.0.0.0:8080 for every interface. Env: LYCEUM_WEB__BIND.",
    ),
    (
        "mail.transport",
        "\"file\" (each message an .eml file under data_dir/outbox, to open and read), \"smtp\" (mail.smtp) or \"memory\" (tests).",
    ),
    ("mail.from", "The sender of every message, Name <address>."),
    ("mail.reply_to", "Where replies go; empty: to the sender."),
    (
        "mail.smtp.host",
        "The SMTP relay's host name, as its certificate names it.",
    ),
    (
        "mail.smtp.port",
        "587 with STARTTLS, 465 with implicit TLS, 25 without.",
    ),
    (
        "mail.smtp.security",
        "\"starttls\" (never falls back to plain text), \"tls\" (from the first byte) or \"none\" (a relay on this machine only).",
    ),
    ("mail.smtp.user", "User name; empty: no authentication."),
    (
        "mail.smtp.password",
        "Password for mail.smtp.user. Env: LYCEUM_MAIL__SMTP__PASSWORD.",
    ),
    (
        "mail.smtp.ca_certificate",
        "A PEM file of a certificate authority to trust besides the usual ones; empty: the usual ones.",
    ),
    (
        "mail.smtp.timeout_secs",
        "Seconds to wait for the relay at each step of a conversation.",
    ),
];

const ENV_PREFIX: &str = "LYCEUM_";
/// Names the settings file; it is not itself a setting.
pub const CONFIG_VAR: &str = "LYCEUM_CONFIG";

fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(inner)), toml::Value::Table(over)) => merge(inner, over),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

fn set(table: &mut toml::Table, keys: &[String], value: toml::Value) {
    let Some((last, parents)) = keys.split_last() else {
        return;
    };
    let mut current = table;
    for key in parents {
        let entry = current
            .entry(key.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        let toml::Value::Table(next) = entry else {
            return;
        };
        current = next;
    }
    current.insert(last.clone(), value);
}

/// A variable's text as the type its key has: strings stay strings (so a key like `123` is not a
/// number), other keys are read as TOML values (`8`, `true`).
fn env_value(defaults: &toml::Table, keys: &[String], raw: &str) -> toml::Value {
    let default = keys.iter().try_fold(None::<&toml::Value>, |value, key| {
        let table = match value {
            None => defaults,
            Some(toml::Value::Table(table)) => table,
            Some(_) => return None,
        };
        table.get(key).map(Some)
    });
    match default.flatten() {
        Some(toml::Value::String(_)) | None => toml::Value::String(raw.to_owned()),
        Some(_) => format!("v = {raw}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut table| table.remove("v"))
            .unwrap_or_else(|| toml::Value::String(raw.to_owned())),
    }
}

fn check(table: &toml::Table, origin: &str) -> Result<Settings, SettingsError> {
    table
        .clone()
        .try_into()
        .map_err(|error: toml::de::Error| SettingsError::Invalid {
            origin: origin.to_owned(),
            message: error.message().to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_model_is_the_default_a_listed_name_or_a_file() {
        let mut settings = Settings {
            data_dir: PathBuf::from("/srv/lyceum"),
            ..Settings::default()
        };
        assert_eq!(
            settings.local_model_path(),
            PathBuf::from("/srv/lyceum/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")
        );
        for name in ["fast", "qwen2.5-coder-0.5b"] {
            settings.engine.local.model = PathBuf::from(name);
            assert_eq!(
                settings.local_model_path(),
                PathBuf::from("/srv/lyceum/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
            );
            assert_eq!(
                settings.listed_model().map(|spec| spec.name),
                Some("qwen2.5-coder-0.5b")
            );
        }
        settings.engine.local.model = PathBuf::from("/models/mine.gguf");
        assert_eq!(
            settings.local_model_path(),
            PathBuf::from("/models/mine.gguf")
        );
        assert!(settings.listed_model().is_none());
    }

    #[test]
    fn a_language_the_built_in_model_writes_poorly_is_named_with_what_to_do() {
        let mut settings = Settings::default();
        let german = Language::parse("de").unwrap();
        assert_eq!(settings.language_caution(Language::ENGLISH), None);
        let caution = settings.language_caution(german).unwrap();
        assert!(
            caution.contains("writes German with mistakes")
                && caution.contains("in English only")
                && caution.contains("engine.kind = \"openai\""),
            "{caution}"
        );
        let hint = settings.language_hint().unwrap();
        assert!(hint.contains("well in English only"), "{hint}");
        // A listed model's file anywhere is that model; an unknown GGUF or a server was never measured.
        settings.engine.local.model =
            PathBuf::from("/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf");
        assert!(settings.language_caution(german).unwrap().contains("0.5B"));
        settings.engine.local.model = PathBuf::from("/models/mine.gguf");
        assert_eq!(settings.language_caution(german), None);
        assert_eq!(settings.language_hint(), None);
        settings.engine.local.model = PathBuf::new();
        settings.engine.kind = EngineKind::Openai;
        assert_eq!(settings.language_caution(german), None);
        assert_eq!(settings.language_hint(), None);
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_environment_overrides_the_file_which_overrides_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("lyceum.toml");
        std::fs::write(
            &file,
            "data_dir = \"/srv/lyceum\"\n[engine.local]\nmax_sequences = 4\nthreads = 3\n",
        )
        .unwrap();
        let settings = Settings::load(
            Some(&file),
            env(&[
                ("LYCEUM_ENGINE__LOCAL__THREADS", "2"),
                ("LYCEUM_ENGINE__OPENAI__MODEL", "42"),
                ("HOME", "/x"),
            ]),
        )
        .unwrap();
        assert_eq!(settings.data_dir, PathBuf::from("/srv/lyceum"));
        assert_eq!(settings.engine.local.max_sequences, 4);
        assert_eq!(settings.engine.local.threads, 2);
        assert_eq!(settings.engine.openai.model, "42");
        assert_eq!(settings.engine.local.context_per_sequence, 4096);
    }

    #[test]
    fn a_misspelt_key_is_refused_naming_where_it_came_from() {
        let error = Settings::load(None, env(&[("LYCEUM_ENGINE__KIDN", "openai")])).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("LYCEUM_ENGINE__KIDN") && message.contains("kidn"),
            "{message}"
        );
        let error = Settings::load(None, env(&[("LYCEUM_ENGINE__KIND", "remote")])).unwrap_err();
        assert!(error.to_string().contains("remote"), "{error}");
        let error =
            Settings::load(None, env(&[("LYCEUM_ENGINE__LOCAL__KV_CACHE", "q4")])).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("q4") && message.contains("f16") && message.contains("q8_0"),
            "the choices are named: {message}"
        );
        let settings =
            Settings::load(None, env(&[("LYCEUM_ENGINE__LOCAL__KV_CACHE", "q8_0")])).unwrap();
        assert_eq!(
            crate::engine::local_config(&settings).kv_cache,
            lyceum_llm::local::KvCache::Q8
        );
        let error =
            Settings::load(None, env(&[("LYCEUM_ENGINE__LOCAL__LAYOUT", "split")])).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("split") && message.contains("shared") && message.contains("streams"),
            "the choices are named: {message}"
        );
        let settings =
            Settings::load(None, env(&[("LYCEUM_ENGINE__LOCAL__LAYOUT", "streams")])).unwrap();
        assert_eq!(
            crate::engine::local_config(&settings).layout,
            lyceum_llm::local::CacheLayout::Streams
        );
    }

    #[test]
    fn the_printed_settings_document_every_key_and_hide_secrets() {
        let settings = Settings::load(
            None,
            env(&[("LYCEUM_ENGINE__OPENAI__API_KEY", "sk-very-secret")]),
        )
        .unwrap();
        assert!(!format!("{settings:?}").contains("sk-very-secret"));
        let printed = settings.to_documented_toml();
        assert!(!printed.contains("sk-very-secret"), "{printed}");
        assert!(printed.contains("api_key = \"[redacted]\""), "{printed}");
        let reparsed: toml::Table = printed.parse().unwrap();
        let serialized = toml::Table::try_from(&settings).unwrap();
        fn keys(prefix: &str, table: &toml::Table, out: &mut Vec<String>) {
            for (key, value) in table {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                match value {
                    toml::Value::Table(inner) => keys(&path, inner, out),
                    _ => out.push(path),
                }
            }
        }
        let mut all = Vec::new();
        keys("", &serialized, &mut all);
        for key in all {
            assert!(
                DOCS.iter().any(|(documented, _)| *documented == key),
                "{key} is not documented"
            );
        }
        assert_eq!(
            reparsed["engine"]["local"]["max_sequences"].as_integer(),
            Some(16)
        );
        assert_eq!(
            reparsed["engine"]["local"]["kv_cache"].as_str(),
            Some("f16")
        );
    }

    #[test]
    fn trusted_proxies_are_addresses_or_ranges_and_a_typo_says_what_to_write() {
        let settings = Settings::load(
            None,
            env(&[(
                "LYCEUM_WEB__TRUSTED_PROXIES",
                r#"["10.0.0.0/8", "192.0.2.7", "fd00::/8"]"#,
            )]),
        )
        .unwrap();
        let proxies = &settings.web.trusted_proxies;
        assert_eq!(proxies.len(), 3);
        let inside = |address: &str| {
            proxies
                .iter()
                .any(|range| range.contains(address.parse().unwrap()))
        };
        assert!(inside("10.200.3.4"));
        assert!(inside("::ffff:10.1.1.1"));
        assert!(inside("192.0.2.7"));
        assert!(!inside("192.0.2.8"));
        assert!(inside("fd12::1"));
        assert!(!inside("2001:db8::1"));
        let error = Settings::load(
            None,
            env(&[("LYCEUM_WEB__TRUSTED_PROXIES", r#"["10.0.0.0/33"]"#)]),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("CIDR range such as 10.0.0.0/8"), "{error}");
    }
}
