//! The one request type every engine receives, validated when it is built so engines never re-check.

use std::num::NonZeroU32;
use std::sync::Arc;

use crate::LlmError;

/// Who wrote a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Instructions for the model.
    System,
    /// The person (or the application on their behalf).
    User,
    /// The model's earlier answers.
    Assistant,
}

impl Role {
    /// The role's name in chat templates and the OpenAI API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Who wrote it.
    pub role: Role,
    /// What it says.
    pub content: String,
}

impl Message {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: Role::System,
            content: content.into(),
        }
    }
    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }
    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// A JSON Schema that has been checked against its meta-schema; also validates answers.
#[derive(Clone)]
pub struct JsonSchema {
    value: serde_json::Value,
    validator: Arc<jsonschema::Validator>,
}

impl std::fmt::Debug for JsonSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("JsonSchema").field(&self.value).finish()
    }
}

impl JsonSchema {
    /// Accepts a schema that is a JSON object and valid JSON Schema.
    pub fn new(value: serde_json::Value) -> Result<Self, LlmError> {
        if !value.is_object() {
            return Err(LlmError::InvalidRequest(
                "the JSON schema must be a JSON object such as {\"type\": \"object\", ...}".into(),
            ));
        }
        let validator = jsonschema::validator_for(&value).map_err(|error| {
            LlmError::InvalidRequest(format!(
                "not a valid JSON Schema: {error} (at {})",
                error.schema_path
            ))
        })?;
        Ok(Self {
            value,
            validator: Arc::new(validator),
        })
    }

    /// Parses schema text, saying whether it is not JSON or not JSON Schema.
    pub fn parse(text: &str) -> Result<Self, LlmError> {
        let value = serde_json::from_str(text).map_err(|error| {
            LlmError::InvalidRequest(format!("the JSON schema is not JSON: {error}"))
        })?;
        Self::new(value)
    }

    /// The schema document.
    pub fn value(&self) -> &serde_json::Value {
        &self.value
    }

    /// Parses an answer and checks it against the schema.
    pub fn check_output(&self, text: &str) -> Result<serde_json::Value, LlmError> {
        let value: serde_json::Value = serde_json::from_str(text.trim())
            .map_err(|error| LlmError::InvalidOutput(format!("not JSON: {error}")))?;
        let problems: Vec<String> = self
            .validator
            .iter_errors(&value)
            .take(3)
            .map(|error| format!("{error} (at {})", error.instance_path))
            .collect();
        if problems.is_empty() {
            Ok(value)
        } else {
            Err(LlmError::InvalidOutput(problems.join("; ")))
        }
    }
}

/// Who waits for an answer, which decides what runs first when the engine is busy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Priority {
    /// Work nobody watches token by token (a course being written): runs in the slots the engine
    /// gives such work, in the order it came.
    #[default]
    Background,
    /// A person is waiting for the text (a tutor's answer, the unit they opened): starts ahead of any
    /// waiting background work, in slots background work may not take, and its prompt is decoded first.
    Interactive,
}

/// A validated generation request. Build it with [`Request::new`] and the `with_*` methods.
#[derive(Debug, Clone)]
pub struct Request {
    messages: Vec<Message>,
    max_tokens: NonZeroU32,
    temperature: f32,
    stop: Vec<String>,
    seed: Option<u32>,
    schema: Option<JsonSchema>,
    frequency_penalty: f32,
    loop_guard: bool,
    priority: Priority,
}

/// More stop strings than this are refused: OpenAI's API takes at most four.
const MAX_STOP_STRINGS: usize = 4;

impl Request {
    /// A request with at least one message and a token limit above zero, at temperature 0.7.
    pub fn new(messages: Vec<Message>, max_tokens: u32) -> Result<Self, LlmError> {
        if messages.is_empty() {
            return Err(LlmError::InvalidRequest(
                "a request needs at least one message".into(),
            ));
        }
        let max_tokens = NonZeroU32::new(max_tokens)
            .ok_or_else(|| LlmError::InvalidRequest("max_tokens must be at least 1".into()))?;
        Ok(Self {
            messages,
            max_tokens,
            temperature: 0.7,
            stop: Vec::new(),
            seed: None,
            schema: None,
            frequency_penalty: 0.0,
            loop_guard: false,
            priority: Priority::Background,
        })
    }

    /// Sampling temperature, 0 (always the likeliest token) to 2.
    pub fn with_temperature(mut self, temperature: f32) -> Result<Self, LlmError> {
        if !(0.0..=2.0).contains(&temperature) {
            return Err(LlmError::InvalidRequest(format!(
                "temperature must be between 0 and 2, not {temperature}"
            )));
        }
        self.temperature = temperature;
        Ok(self)
    }

    /// Strings that end the generation; they are not part of the answer.
    pub fn with_stop(mut self, stop: Vec<String>) -> Result<Self, LlmError> {
        if stop.len() > MAX_STOP_STRINGS {
            return Err(LlmError::InvalidRequest(format!(
                "at most {MAX_STOP_STRINGS} stop strings, not {}",
                stop.len()
            )));
        }
        if stop.iter().any(String::is_empty) {
            return Err(LlmError::InvalidRequest(
                "stop strings must not be empty".into(),
            ));
        }
        self.stop = stop;
        Ok(self)
    }

    /// A sampling seed, for repeatable answers where the engine supports it.
    pub fn with_seed(mut self, seed: u32) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Lowers the odds of tokens by how often they already appear in the answer, 0 (off) to 2: small
    /// models otherwise repeat themselves, e.g. the same option four times.
    pub fn with_frequency_penalty(mut self, penalty: f32) -> Result<Self, LlmError> {
        if !(0.0..=2.0).contains(&penalty) {
            return Err(LlmError::InvalidRequest(format!(
                "frequency_penalty must be between 0 and 2, not {penalty}"
            )));
        }
        self.frequency_penalty = penalty;
        Ok(self)
    }

    /// Penalises a sequence that would repeat one already written (llama.cpp's DRY sampler on the
    /// local engine; a server without such a sampler ignores it): small models writing long prose
    /// otherwise fall into one sentence pattern with a word changed, list after list.
    pub fn with_loop_guard(mut self) -> Self {
        self.loop_guard = true;
        self
    }

    /// Another limit on the tokens to generate.
    pub fn with_max_tokens(mut self, max_tokens: NonZeroU32) -> Self {
        self.max_tokens = max_tokens;
        self
    }

    /// Who waits for the answer ([`Priority::Background`] unless set).
    pub fn with_priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// Constrains the answer to JSON matching this schema.
    pub fn with_schema(mut self, schema: JsonSchema) -> Self {
        self.schema = Some(schema);
        self
    }

    /// The conversation.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }
    /// The most tokens to generate.
    pub fn max_tokens(&self) -> NonZeroU32 {
        self.max_tokens
    }
    /// Sampling temperature.
    pub fn temperature(&self) -> f32 {
        self.temperature
    }
    /// Stop strings.
    pub fn stop(&self) -> &[String] {
        &self.stop
    }
    /// Sampling seed.
    pub fn seed(&self) -> Option<u32> {
        self.seed
    }
    /// The frequency penalty (0 when off).
    pub fn frequency_penalty(&self) -> f32 {
        self.frequency_penalty
    }
    /// Whether repeated sequences are penalised ([`Request::with_loop_guard`]).
    pub fn loop_guard(&self) -> bool {
        self.loop_guard
    }
    /// Who waits for the answer.
    pub fn priority(&self) -> Priority {
        self.priority
    }
    /// The JSON schema the answer must follow, if any.
    pub fn schema(&self) -> Option<&JsonSchema> {
        self.schema.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn zero_max_tokens_is_refused() {
        let error = Request::new(vec![Message::user("hi")], 0).unwrap_err();
        assert!(
            error.to_string().contains("max_tokens must be at least 1"),
            "{error}"
        );
    }

    #[test]
    fn a_request_without_messages_is_refused() {
        assert!(matches!(
            Request::new(vec![], 5),
            Err(LlmError::InvalidRequest(_))
        ));
    }

    #[test]
    fn out_of_range_temperature_is_refused() {
        let request = Request::new(vec![Message::user("hi")], 5).unwrap();
        assert!(request.clone().with_temperature(2.5).is_err());
        assert_eq!(request.with_temperature(0.0).unwrap().temperature(), 0.0);
    }

    #[test]
    fn out_of_range_frequency_penalty_is_refused() {
        let request = Request::new(vec![Message::user("hi")], 5).unwrap();
        assert_eq!(request.frequency_penalty(), 0.0);
        assert!(request.clone().with_frequency_penalty(-0.1).is_err());
        assert!(request.clone().with_frequency_penalty(2.1).is_err());
        let penalised = request.with_frequency_penalty(0.4).unwrap();
        assert_eq!(penalised.frequency_penalty(), 0.4);
    }

    #[test]
    fn an_invalid_schema_is_refused_with_its_reason() {
        let error = JsonSchema::new(json!({"type": "objekt"})).unwrap_err();
        assert!(
            error.to_string().contains("not a valid JSON Schema"),
            "{error}"
        );
        let error = JsonSchema::parse("{not json").unwrap_err();
        assert!(error.to_string().contains("not JSON"), "{error}");
        assert!(JsonSchema::new(json!(["a"])).is_err());
    }

    #[test]
    fn answers_are_checked_against_the_schema() {
        let schema = JsonSchema::new(json!({
            "type": "object",
            "properties": {"n": {"type": "integer"}},
            "required": ["n"]
        }))
        .unwrap();
        assert_eq!(
            schema.check_output(" {\"n\": 3} ").unwrap(),
            json!({"n": 3})
        );
        assert!(matches!(
            schema.check_output("{\"n\": \"x\"}"),
            Err(LlmError::InvalidOutput(_))
        ));
        assert!(matches!(
            schema.check_output("{\"n\": 3"),
            Err(LlmError::InvalidOutput(_))
        ));
    }
}
