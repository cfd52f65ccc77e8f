//! A BERT sentence encoder as Hugging Face ships it (`config.json`, `tokenizer.json`,
//! `model.safetensors`), rewritten as the GGUF file llama.cpp loads as its `bert` architecture. Done
//! once, at install time: the weights are copied as they are (F32 or F16), the tensors renamed, the
//! WordPiece vocabulary spelled as llama.cpp's tokenizer reads it.

use std::collections::HashMap;
use std::io::Write;

use serde::Deserialize;
use serde_json::Value;

/// Why a model folder could not be converted.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// One of the three files is not what a BERT model ships.
    #[error("{file} is not usable: {reason}")]
    Invalid { file: &'static str, reason: String },
    /// Writing the GGUF file failed.
    #[error("could not write the converted model: {0}")]
    Io(#[from] std::io::Error),
}

fn invalid(file: &'static str, reason: impl Into<String>) -> ConvertError {
    ConvertError::Invalid {
        file,
        reason: reason.into(),
    }
}

/// The part of `config.json` the conversion needs.
#[derive(Debug, Deserialize)]
struct Config {
    model_type: String,
    hidden_size: u32,
    intermediate_size: u32,
    num_hidden_layers: u32,
    num_attention_heads: u32,
    max_position_embeddings: u32,
    layer_norm_eps: f32,
    #[serde(default = "two")]
    type_vocab_size: u32,
    #[serde(default)]
    hidden_act: Option<String>,
    #[serde(default)]
    position_embedding_type: Option<String>,
}

fn two() -> u32 {
    2
}

/// GGUF value types used here.
const UINT32: u32 = 4;
const INT32: u32 = 5;
const FLOAT32: u32 = 6;
const BOOL: u32 = 7;
const STRING: u32 = 8;
const ARRAY: u32 = 9;

/// ggml tensor types the weights may have.
const GGML_F32: u32 = 0;
const GGML_F16: u32 = 1;

/// Offsets of tensor data are aligned to this (GGUF's default `general.alignment`).
const ALIGNMENT: usize = 32;

/// llama.cpp's token type of a special token (`[CLS]`), and of any other.
const TOKEN_CONTROL: i32 = 3;
const TOKEN_NORMAL: i32 = 1;

/// Mean pooling, as sentence-transformers pools MiniLM.
const POOLING_MEAN: u32 = 1;

/// Writes the GGUF form of the BERT model given by its `config.json`, `tokenizer.json` and
/// `model.safetensors` bytes, named `name`, to `out`.
pub fn bert_to_gguf(
    name: &str,
    config: &[u8],
    tokenizer: &[u8],
    weights: &[u8],
    out: &mut impl Write,
) -> Result<(), ConvertError> {
    let config: Config = serde_json::from_slice(config)
        .map_err(|error| invalid("config.json", error.to_string()))?;
    if config.model_type != "bert" {
        return Err(invalid(
            "config.json",
            format!(
                "model_type is {:?}; only \"bert\" is supported",
                config.model_type
            ),
        ));
    }
    if let Some(kind) = config
        .position_embedding_type
        .as_deref()
        .filter(|kind| *kind != "absolute")
    {
        return Err(invalid(
            "config.json",
            format!("position_embedding_type is {kind:?}; only \"absolute\" is supported"),
        ));
    }
    if let Some(act) = config.hidden_act.as_deref().filter(|act| *act != "gelu") {
        return Err(invalid(
            "config.json",
            format!("hidden_act is {act:?}; only \"gelu\" is supported"),
        ));
    }
    let vocab = Vocab::read(tokenizer)?;
    let tensors = tensors(weights)?;

    let mut header = Vec::new();
    header.extend_from_slice(b"GGUF");
    put_u32(&mut header, 3);
    put_u64(&mut header, tensors.len() as u64);
    let mut kv = Metadata::default();
    kv.string("general.architecture", "bert");
    kv.string("general.name", name);
    kv.u32("bert.context_length", config.max_position_embeddings);
    kv.u32("bert.embedding_length", config.hidden_size);
    kv.u32("bert.feed_forward_length", config.intermediate_size);
    kv.u32("bert.block_count", config.num_hidden_layers);
    kv.u32("bert.attention.head_count", config.num_attention_heads);
    kv.f32("bert.attention.layer_norm_epsilon", config.layer_norm_eps);
    kv.bool("bert.attention.causal", false);
    kv.u32("bert.pooling_type", POOLING_MEAN);
    kv.string("tokenizer.ggml.model", "bert");
    kv.strings("tokenizer.ggml.tokens", &vocab.tokens);
    kv.i32s("tokenizer.ggml.token_type", &vocab.types);
    kv.u32("tokenizer.ggml.token_type_count", config.type_vocab_size);
    for (key, token) in [
        ("tokenizer.ggml.cls_token_id", "[CLS]"),
        ("tokenizer.ggml.seperator_token_id", "[SEP]"),
        ("tokenizer.ggml.unknown_token_id", "[UNK]"),
        ("tokenizer.ggml.padding_token_id", "[PAD]"),
        ("tokenizer.ggml.mask_token_id", "[MASK]"),
    ] {
        let id = vocab
            .special(token)
            .ok_or_else(|| invalid("tokenizer.json", format!("it has no {token} token")))?;
        kv.u32(key, id);
    }
    put_u64(&mut header, kv.count);
    header.extend_from_slice(&kv.bytes);

    let mut offset = 0usize;
    for tensor in &tensors {
        put_string(&mut header, &tensor.name);
        put_u32(&mut header, tensor.dims.len() as u32);
        // ggml counts dimensions innermost first, the reverse of PyTorch's shape.
        for dim in tensor.dims.iter().rev() {
            put_u64(&mut header, *dim);
        }
        put_u32(&mut header, tensor.kind);
        put_u64(&mut header, offset as u64);
        offset = aligned(offset + tensor.data.len());
    }
    header.resize(aligned(header.len()), 0);
    out.write_all(&header)?;
    for tensor in &tensors {
        out.write_all(tensor.data)?;
        let padding = aligned(tensor.data.len()) - tensor.data.len();
        out.write_all(&[0; ALIGNMENT][..padding])?;
    }
    out.flush()?;
    Ok(())
}

fn aligned(offset: usize) -> usize {
    offset.div_ceil(ALIGNMENT) * ALIGNMENT
}

/// The vocabulary as llama.cpp's WordPiece tokenizer reads it: a word's first piece starts with
/// U+2581 (a space), a continuation ("##ing") loses its marks, special tokens stay as they are.
struct Vocab {
    tokens: Vec<String>,
    types: Vec<i32>,
    ids: HashMap<String, u32>,
}

impl Vocab {
    fn read(tokenizer: &[u8]) -> Result<Self, ConvertError> {
        let file = "tokenizer.json";
        let json: Value =
            serde_json::from_slice(tokenizer).map_err(|error| invalid(file, error.to_string()))?;
        if json["model"]["type"] != "WordPiece" {
            return Err(invalid(file, "its model is not WordPiece"));
        }
        let entries = json["model"]["vocab"]
            .as_object()
            .ok_or_else(|| invalid(file, "model.vocab is not a map of tokens to ids"))?;
        let mut tokens = vec![None; entries.len()];
        let mut ids = HashMap::with_capacity(entries.len());
        for (token, id) in entries {
            let id = id
                .as_u64()
                .and_then(|id| u32::try_from(id).ok())
                .filter(|id| (*id as usize) < tokens.len())
                .ok_or_else(|| invalid(file, format!("the id of {token:?} is out of range")))?;
            if tokens[id as usize].replace(token.clone()).is_some() {
                return Err(invalid(file, format!("id {id} is given twice")));
            }
            ids.insert(token.clone(), id);
        }
        let special: Vec<&str> = json["added_tokens"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|token| token["special"] == true)
            .filter_map(|token| token["content"].as_str())
            .collect();
        let mut spelled = Vec::with_capacity(tokens.len());
        let mut types = Vec::with_capacity(tokens.len());
        for token in tokens {
            let token = token.ok_or_else(|| invalid(file, "its ids have a gap"))?;
            if special.contains(&token.as_str()) {
                spelled.push(token);
                types.push(TOKEN_CONTROL);
            } else {
                spelled.push(match token.strip_prefix("##") {
                    Some(rest) if !rest.is_empty() => rest.to_owned(),
                    _ => format!("\u{2581}{token}"),
                });
                types.push(TOKEN_NORMAL);
            }
        }
        Ok(Self {
            tokens: spelled,
            types,
            ids,
        })
    }

    fn special(&self, token: &str) -> Option<u32> {
        self.ids.get(token).copied()
    }
}

/// One weight, renamed, with its bytes in the safetensors file.
struct Tensor<'a> {
    name: String,
    dims: Vec<u64>,
    kind: u32,
    data: &'a [u8],
}

/// The tensors of a safetensors file under llama.cpp's names, those the encoder does not use left
/// out (the pooler, the position ids).
fn tensors(weights: &[u8]) -> Result<Vec<Tensor<'_>>, ConvertError> {
    let file = "model.safetensors";
    let length = weights
        .get(..8)
        .map(|bytes| u64::from_le_bytes(bytes.try_into().unwrap_or_default()) as usize)
        .ok_or_else(|| invalid(file, "it is shorter than its header"))?;
    let header = weights
        .get(8..8usize.saturating_add(length))
        .ok_or_else(|| invalid(file, "its header runs past its end"))?;
    let data = &weights[8 + length..];
    let header: HashMap<String, Value> =
        serde_json::from_slice(header).map_err(|error| invalid(file, error.to_string()))?;
    let mut found = Vec::new();
    for (name, info) in &header {
        if name == "__metadata__" {
            continue;
        }
        let Some(renamed) = gguf_name(name).map_err(|reason| invalid(file, reason))? else {
            continue;
        };
        let kind = match info["dtype"].as_str() {
            Some("F32") => GGML_F32,
            Some("F16") => GGML_F16,
            other => {
                return Err(invalid(
                    file,
                    format!("{name} is {other:?}; only F32 and F16 weights are supported"),
                ));
            }
        };
        let numbers = |value: &Value| -> Option<Vec<u64>> {
            value.as_array()?.iter().map(Value::as_u64).collect()
        };
        let dims =
            numbers(&info["shape"]).ok_or_else(|| invalid(file, format!("{name} has no shape")))?;
        let span = numbers(&info["data_offsets"])
            .filter(|span| span.len() == 2 && span[0] <= span[1])
            .ok_or_else(|| invalid(file, format!("{name} has no data offsets")))?;
        let bytes = data
            .get(span[0] as usize..span[1] as usize)
            .ok_or_else(|| invalid(file, format!("{name} runs past the end of the file")))?;
        let size = if kind == GGML_F32 { 4 } else { 2 };
        if dims.iter().product::<u64>() * size != bytes.len() as u64 {
            return Err(invalid(
                file,
                format!("{name} has {} bytes for shape {dims:?}", bytes.len()),
            ));
        }
        found.push(Tensor {
            name: renamed,
            dims,
            kind,
            data: bytes,
        });
    }
    if !found
        .iter()
        .any(|tensor| tensor.name == "token_embd.weight")
    {
        return Err(invalid(file, "it has no word embeddings"));
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// llama.cpp's name for a Hugging Face BERT weight; `None` for one the encoder does not use, an
/// error for one it does not know.
fn gguf_name(name: &str) -> Result<Option<String>, String> {
    let name = name.strip_prefix("bert.").unwrap_or(name);
    let (base, part) = name
        .rsplit_once('.')
        .ok_or_else(|| format!("{name} is not a BERT weight"))?;
    let part = match part {
        "gamma" => "weight",
        "beta" => "bias",
        "weight" | "bias" => part,
        _ if base == "embeddings" && part == "position_ids" => return Ok(None),
        _ => return Err(format!("{name} is not a BERT weight")),
    };
    if base.starts_with("pooler.") {
        return Ok(None);
    }
    let renamed = match base {
        "embeddings.word_embeddings" => "token_embd".to_owned(),
        "embeddings.token_type_embeddings" => "token_types".to_owned(),
        "embeddings.position_embeddings" => "position_embd".to_owned(),
        "embeddings.LayerNorm" => "token_embd_norm".to_owned(),
        _ => {
            let (layer, rest) = base
                .strip_prefix("encoder.layer.")
                .and_then(|rest| rest.split_once('.'))
                .filter(|(layer, _)| layer.parse::<u32>().is_ok())
                .ok_or_else(|| format!("{name} is not a BERT weight"))?;
            let block = match rest {
                "attention.self.query" => "attn_q",
                "attention.self.key" => "attn_k",
                "attention.self.value" => "attn_v",
                "attention.output.dense" => "attn_output",
                "attention.output.LayerNorm" => "attn_output_norm",
                "intermediate.dense" => "ffn_up",
                "output.dense" => "ffn_down",
                "output.LayerNorm" => "layer_output_norm",
                _ => return Err(format!("{name} is not a BERT weight")),
            };
            format!("blk.{layer}.{block}")
        }
    };
    Ok(Some(format!("{renamed}.{part}")))
}

/// GGUF's key-value section as it is written.
#[derive(Default)]
struct Metadata {
    count: u64,
    bytes: Vec<u8>,
}

impl Metadata {
    fn key(&mut self, key: &str, kind: u32) {
        self.count += 1;
        put_string(&mut self.bytes, key);
        put_u32(&mut self.bytes, kind);
    }

    fn u32(&mut self, key: &str, value: u32) {
        self.key(key, UINT32);
        put_u32(&mut self.bytes, value);
    }

    fn f32(&mut self, key: &str, value: f32) {
        self.key(key, FLOAT32);
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    fn bool(&mut self, key: &str, value: bool) {
        self.key(key, BOOL);
        self.bytes.push(u8::from(value));
    }

    fn string(&mut self, key: &str, value: &str) {
        self.key(key, STRING);
        put_string(&mut self.bytes, value);
    }

    fn strings(&mut self, key: &str, values: &[String]) {
        self.key(key, ARRAY);
        put_u32(&mut self.bytes, STRING);
        put_u64(&mut self.bytes, values.len() as u64);
        for value in values {
            put_string(&mut self.bytes, value);
        }
    }

    fn i32s(&mut self, key: &str, values: &[i32]) {
        self.key(key, ARRAY);
        put_u32(&mut self.bytes, INT32);
        put_u64(&mut self.bytes, values.len() as u64);
        for value in values {
            self.bytes.extend_from_slice(&value.to_le_bytes());
        }
    }
}

fn put_u32(bytes: &mut Vec<u8>, value: u32) {
    bytes.extend_from_slice(&value.to_le_bytes());
}

fn put_u64(bytes: &mut Vec<u8>, value: u64) {
    bytes.extend_from_slice(&value.to_le_bytes());
}

fn put_string(bytes: &mut Vec<u8>, value: &str) {
    put_u64(bytes, value.len() as u64);
    bytes.extend_from_slice(value.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hugging_face_names_become_llama_cpp_names() {
        let cases = [
            (
                "embeddings.word_embeddings.weight",
                Some("token_embd.weight"),
            ),
            (
                "bert.embeddings.LayerNorm.gamma",
                Some("token_embd_norm.weight"),
            ),
            ("embeddings.LayerNorm.bias", Some("token_embd_norm.bias")),
            (
                "encoder.layer.5.attention.self.value.bias",
                Some("blk.5.attn_v.bias"),
            ),
            (
                "encoder.layer.0.attention.output.LayerNorm.weight",
                Some("blk.0.attn_output_norm.weight"),
            ),
            (
                "encoder.layer.2.output.dense.weight",
                Some("blk.2.ffn_down.weight"),
            ),
            ("embeddings.position_ids", None),
            ("pooler.dense.weight", None),
        ];
        for (name, expected) in cases {
            assert_eq!(gguf_name(name).unwrap().as_deref(), expected, "{name}");
        }
        assert!(gguf_name("decoder.layer.0.weight").is_err());
        assert!(gguf_name("encoder.layer.x.output.dense.weight").is_err());
    }

    #[test]
    fn the_vocabulary_is_spelled_as_llama_cpp_reads_it() {
        let tokenizer = br###"{
            "added_tokens": [{"id": 0, "content": "[PAD]", "special": true}],
            "model": {"type": "WordPiece", "vocab": {"[PAD]": 0, "play": 1, "##ing": 2, "#": 3}}
        }"###;
        let vocab = Vocab::read(tokenizer).unwrap();
        assert_eq!(vocab.tokens, ["[PAD]", "\u{2581}play", "ing", "\u{2581}#"]);
        assert_eq!(
            vocab.types,
            [TOKEN_CONTROL, TOKEN_NORMAL, TOKEN_NORMAL, TOKEN_NORMAL]
        );

        let gap = br#"{"model": {"type": "WordPiece", "vocab": {"a": 0, "b": 2}}}"#;
        let error = Vocab::read(gap).err().unwrap().to_string();
        assert!(
            error.contains("out of range") || error.contains("gap"),
            "{error}"
        );
    }

    #[test]
    fn a_file_that_is_not_a_bert_model_says_what_is_wrong() {
        let config = br#"{"model_type": "gpt2", "hidden_size": 1, "intermediate_size": 1,
            "num_hidden_layers": 1, "num_attention_heads": 1, "max_position_embeddings": 1,
            "layer_norm_eps": 1e-12}"#;
        let error = bert_to_gguf("x", config, b"{}", b"", &mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(error.contains("only \"bert\" is supported"), "{error}");

        let truncated = [200u8, 0, 0, 0, 0, 0, 0, 0, b'{'];
        let error = tensors(&truncated).err().unwrap().to_string();
        assert!(error.contains("header runs past its end"), "{error}");
    }
}
