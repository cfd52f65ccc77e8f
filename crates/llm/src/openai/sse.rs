//! Server-sent events as OpenAI-compatible servers send them: `data:` lines grouped into events by blank
//! lines, `:` comment lines as keep-alive pings, and `data: [DONE]` at the end.

/// Splits a byte stream into SSE event payloads.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    buffer: Vec<u8>,
    data: Vec<String>,
}

/// One complete event payload, or the end marker.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SseEvent {
    Data(String),
    Done,
}

impl SseParser {
    /// Feeds bytes; returns every event completed by them. A line that is not UTF-8 is an error.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, String> {
        self.buffer.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
            let raw: Vec<u8> = self.buffer.drain(..=end).collect();
            let line = std::str::from_utf8(&raw)
                .map_err(|_| "an event line is not UTF-8".to_owned())?
                .trim_end_matches(['\n', '\r']);
            self.line(line, &mut events);
        }
        Ok(events)
    }

    /// Ends the input: an event without its closing blank line still counts.
    pub(crate) fn finish(&mut self) -> Result<Vec<SseEvent>, String> {
        let mut events = self.push(b"\n")?;
        if !self.data.is_empty() {
            self.line("", &mut events);
        }
        Ok(events)
    }

    fn line(&mut self, line: &str, events: &mut Vec<SseEvent>) {
        if line.is_empty() {
            if !self.data.is_empty() {
                let data = self.data.join("\n");
                self.data.clear();
                events.push(if data == "[DONE]" {
                    SseEvent::Done
                } else {
                    SseEvent::Data(data)
                });
            }
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        if field == "data" {
            self.data
                .push(value.strip_prefix(' ').unwrap_or(value).to_owned());
        }
        // `event`, `id` and `retry` carry nothing these servers use.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_reads_are_reassembled() {
        let mut parser = SseParser::default();
        assert_eq!(parser.push(b": ping\n\ndata: {\"a\"").unwrap(), vec![]);
        assert_eq!(
            parser.push(b":1}\r\n\r\ndata: [DONE]\n\n").unwrap(),
            vec![SseEvent::Data("{\"a\":1}".into()), SseEvent::Done]
        );
    }

    #[test]
    fn multi_line_data_is_joined_and_a_missing_blank_line_is_tolerated_at_the_end() {
        let mut parser = SseParser::default();
        assert_eq!(
            parser.push(b"event: x\ndata: one\ndata: two\n").unwrap(),
            vec![]
        );
        assert_eq!(
            parser.finish().unwrap(),
            vec![SseEvent::Data("one\ntwo".into())]
        );
    }
}
