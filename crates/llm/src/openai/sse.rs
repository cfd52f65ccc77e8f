//! Server-sent events as OpenAI-compatible servers send them: `data:` lines grouped into events by blank
//! lines, `:` comment lines as keep-alive pings, and `data: [DONE]` at the end.

/// The longest event a server may send: a chunk of a chat completion is a few hundred bytes.
pub(crate) const MAX_EVENT_BYTES: usize = 1 << 20;

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
    /// Feeds bytes; returns every event completed by them. A line that is not UTF-8 is an error, and
    /// so is a line or an event longer than [`MAX_EVENT_BYTES`]: a server cannot make Lyceum hold
    /// an endless line in memory.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, String> {
        // Only the new bytes can hold the next line end: earlier ones were searched already.
        let searched = self.buffer.len();
        self.buffer.extend_from_slice(bytes);
        let mut events = Vec::new();
        let mut from = searched;
        while let Some(end) = self.buffer[from..].iter().position(|&b| b == b'\n') {
            let raw: Vec<u8> = self.buffer.drain(..=from + end).collect();
            from = 0;
            let line = std::str::from_utf8(&raw)
                .map_err(|_| "an event line is not UTF-8".to_owned())?
                .trim_end_matches(['\n', '\r']);
            self.line(line, &mut events);
        }
        let held = self.buffer.len() + self.data.iter().map(String::len).sum::<usize>();
        if held > MAX_EVENT_BYTES {
            return Err(format!("an event is longer than {MAX_EVENT_BYTES} bytes"));
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

    #[test]
    fn an_endless_line_is_an_error_not_unbounded_memory() {
        let mut parser = SseParser::default();
        let chunk = vec![b'x'; 64 * 1024];
        let mut result = Ok(Vec::new());
        for _ in 0..20 {
            result = parser.push(&chunk);
            if result.is_err() {
                break;
            }
        }
        assert!(result.unwrap_err().contains("longer than"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        #[test]
        fn any_bytes_in_any_chunks_never_panic(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
            cut in 0usize..400,
        ) {
            let mut parser = SseParser::default();
            let cut = cut.min(bytes.len());
            let _ = parser.push(&bytes[..cut]).and_then(|_| parser.push(&bytes[cut..])).and_then(|_| parser.finish());
        }

        #[test]
        fn events_come_out_whole_whatever_the_chunking(
            payloads in proptest::collection::vec("[ -~]{0,40}", 1..6),
            sizes in proptest::collection::vec(1usize..16, 1..40),
        ) {
            let payloads: Vec<String> = payloads
                .into_iter()
                .map(|payload| payload.trim_start().to_owned())
                .filter(|payload| !payload.is_empty() && payload != "[DONE]")
                .collect();
            let mut stream = String::from(": ping\n\n");
            for payload in &payloads {
                stream.push_str(&format!("data: {payload}\r\n\r\n"));
            }
            stream.push_str("data: [DONE]\n\n");
            let mut parser = SseParser::default();
            let mut events = Vec::new();
            let mut rest = stream.as_bytes();
            for size in sizes.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (now, later) = rest.split_at((*size).min(rest.len()));
                events.extend(parser.push(now).unwrap());
                rest = later;
            }
            events.extend(parser.finish().unwrap());
            let mut expected: Vec<SseEvent> = payloads.into_iter().map(SseEvent::Data).collect();
            expected.push(SseEvent::Done);
            proptest::prop_assert_eq!(events, expected);
        }
    }
}
