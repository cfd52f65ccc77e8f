//! Stop strings: end a generation at the first occurrence of any of them, without ever sending the
//! caller text that turns out to be the start of a stop string.

/// Tracks generated text against the request's stop strings.
#[derive(Debug)]
pub(crate) struct StopMatcher {
    stops: Vec<String>,
    held: String,
}

/// What to do with the text pushed so far.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct StopStep {
    /// Text that is safe to send now.
    pub emit: String,
    /// A stop string was found: the generation ends after `emit`.
    pub stopped: bool,
}

impl StopMatcher {
    pub(crate) fn new(stops: &[String]) -> Self {
        Self {
            stops: stops.to_vec(),
            held: String::new(),
        }
    }

    /// Adds text; returns what may be sent, holding back a tail that could begin a stop string.
    pub(crate) fn push(&mut self, text: &str) -> StopStep {
        self.held.push_str(text);
        if let Some(at) = self
            .stops
            .iter()
            .filter_map(|stop| self.held.find(stop.as_str()))
            .min()
        {
            let emit = self.held[..at].to_owned();
            self.held.clear();
            return StopStep {
                emit,
                stopped: true,
            };
        }
        let keep = self.longest_stop_prefix_suffix();
        let emit = self.held[..self.held.len() - keep].to_owned();
        self.held.drain(..self.held.len() - keep);
        StopStep {
            emit,
            stopped: false,
        }
    }

    /// Text held back when the generation ends for another reason.
    pub(crate) fn finish(&mut self) -> String {
        std::mem::take(&mut self.held)
    }

    /// Length in bytes of the longest suffix of `held` that is a proper prefix of some stop string.
    fn longest_stop_prefix_suffix(&self) -> usize {
        self.held
            .char_indices()
            .map(|(at, _)| &self.held[at..])
            .find(|suffix| self.stops.iter().any(|stop| stop.starts_with(suffix)))
            .map_or(0, str::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(stops: &[&str]) -> StopMatcher {
        StopMatcher::new(&stops.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn text_without_stops_passes_through() {
        let mut m = matcher(&[]);
        assert_eq!(
            m.push("hello"),
            StopStep {
                emit: "hello".into(),
                stopped: false
            }
        );
    }

    #[test]
    fn a_stop_split_across_pushes_is_never_sent() {
        let mut m = matcher(&["END"]);
        assert_eq!(
            m.push("one two E"),
            StopStep {
                emit: "one two ".into(),
                stopped: false
            }
        );
        assert_eq!(
            m.push("N"),
            StopStep {
                emit: String::new(),
                stopped: false
            }
        );
        assert_eq!(
            m.push("Dtrailing"),
            StopStep {
                emit: String::new(),
                stopped: true
            }
        );
    }

    #[test]
    fn a_false_start_is_released() {
        let mut m = matcher(&["END"]);
        assert_eq!(
            m.push("EN"),
            StopStep {
                emit: String::new(),
                stopped: false
            }
        );
        assert_eq!(
            m.push("ough"),
            StopStep {
                emit: "ENough".into(),
                stopped: false
            }
        );
        assert_eq!(m.finish(), "");
    }

    #[test]
    fn the_earliest_of_several_stops_wins() {
        let mut m = matcher(&["zz", "b"]);
        assert_eq!(
            m.push("a b zz"),
            StopStep {
                emit: "a ".into(),
                stopped: true
            }
        );
    }

    #[test]
    fn multibyte_text_is_held_on_character_boundaries() {
        let mut m = matcher(&["éé"]);
        assert_eq!(
            m.push("café"),
            StopStep {
                emit: "caf".into(),
                stopped: false
            }
        );
        assert_eq!(m.finish(), "é");
    }
}
