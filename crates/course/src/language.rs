//! The languages a course can be written in: a BCP-47 tag, the English name and the language's own name.

use serde::{Serialize, Serializer};

use crate::InputError;

/// A supported language. Only the entries of [`LANGUAGES`] exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Language {
    /// BCP-47 tag, e.g. `pt-BR`.
    pub tag: &'static str,
    /// English name, used in prompts.
    pub name: &'static str,
    /// The language's name for itself, shown in pickers.
    pub native: &'static str,
}

impl Serialize for Language {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.tag)
    }
}

macro_rules! languages {
    ($($tag:literal, $name:literal, $native:literal;)*) => {
        /// Every language a course can be written in, in English alphabetical order.
        pub const LANGUAGES: &[Language] = &[$(Language { tag: $tag, name: $name, native: $native }),*];
    };
}

languages! {
    "af", "Afrikaans", "Afrikaans";
    "sq", "Albanian", "Shqip";
    "am", "Amharic", "አማርኛ";
    "ar", "Arabic", "العربية";
    "hy", "Armenian", "Հայերեն";
    "az", "Azerbaijani", "Azərbaycanca";
    "eu", "Basque", "Euskara";
    "be", "Belarusian", "Беларуская";
    "bn", "Bengali", "বাংলা";
    "bs", "Bosnian", "Bosanski";
    "bg", "Bulgarian", "Български";
    "ca", "Catalan", "Català";
    "zh-Hans", "Chinese (Simplified)", "简体中文";
    "zh-Hant", "Chinese (Traditional)", "繁體中文";
    "hr", "Croatian", "Hrvatski";
    "cs", "Czech", "Čeština";
    "da", "Danish", "Dansk";
    "nl", "Dutch", "Nederlands";
    "en", "English", "English";
    "et", "Estonian", "Eesti";
    "fil", "Filipino", "Filipino";
    "fi", "Finnish", "Suomi";
    "fr", "French", "Français";
    "gl", "Galician", "Galego";
    "ka", "Georgian", "ქართული";
    "de", "German", "Deutsch";
    "el", "Greek", "Ελληνικά";
    "gu", "Gujarati", "ગુજરાતી";
    "ha", "Hausa", "Hausa";
    "he", "Hebrew", "עברית";
    "hi", "Hindi", "हिन्दी";
    "hu", "Hungarian", "Magyar";
    "is", "Icelandic", "Íslenska";
    "id", "Indonesian", "Bahasa Indonesia";
    "ga", "Irish", "Gaeilge";
    "it", "Italian", "Italiano";
    "ja", "Japanese", "日本語";
    "kn", "Kannada", "ಕನ್ನಡ";
    "kk", "Kazakh", "Қазақ тілі";
    "km", "Khmer", "ខ្មែរ";
    "ko", "Korean", "한국어";
    "lo", "Lao", "ລາວ";
    "lv", "Latvian", "Latviešu";
    "lt", "Lithuanian", "Lietuvių";
    "mk", "Macedonian", "Македонски";
    "ms", "Malay", "Bahasa Melayu";
    "ml", "Malayalam", "മലയാളം";
    "mr", "Marathi", "मराठी";
    "mn", "Mongolian", "Монгол";
    "my", "Burmese", "မြန်မာ";
    "ne", "Nepali", "नेपाली";
    "nb", "Norwegian Bokmål", "Norsk bokmål";
    "fa", "Persian", "فارسی";
    "pl", "Polish", "Polski";
    "pt-BR", "Portuguese (Brazil)", "Português (Brasil)";
    "pt-PT", "Portuguese (Portugal)", "Português (Portugal)";
    "pa", "Punjabi", "ਪੰਜਾਬੀ";
    "ro", "Romanian", "Română";
    "ru", "Russian", "Русский";
    "sr", "Serbian", "Српски";
    "si", "Sinhala", "සිංහල";
    "sk", "Slovak", "Slovenčina";
    "sl", "Slovenian", "Slovenščina";
    "es", "Spanish", "Español";
    "sw", "Swahili", "Kiswahili";
    "sv", "Swedish", "Svenska";
    "ta", "Tamil", "தமிழ்";
    "te", "Telugu", "తెలుగు";
    "th", "Thai", "ไทย";
    "tr", "Turkish", "Türkçe";
    "uk", "Ukrainian", "Українська";
    "ur", "Urdu", "اردو";
    "uz", "Uzbek", "Oʻzbekcha";
    "vi", "Vietnamese", "Tiếng Việt";
    "cy", "Welsh", "Cymraeg";
    "yo", "Yoruba", "Yorùbá";
    "zu", "Zulu", "isiZulu";
}

impl Language {
    /// English, the default.
    pub const ENGLISH: Language = Language {
        tag: "en",
        name: "English",
        native: "English",
    };

    /// Finds a language by its tag (any case, `_` or `-`) or its English name.
    pub fn parse(raw: &str) -> Result<Self, InputError> {
        let wanted = raw.trim().replace('_', "-");
        LANGUAGES
            .iter()
            .find(|language| {
                language.tag.eq_ignore_ascii_case(&wanted)
                    || language.name.eq_ignore_ascii_case(&wanted)
            })
            .or_else(|| match wanted.to_ascii_lowercase().as_str() {
                // Common tags that name a language we list under a more precise tag.
                "zh" | "zh-cn" => Language::by_tag("zh-Hans"),
                "zh-tw" | "zh-hk" => Language::by_tag("zh-Hant"),
                "pt" => Language::by_tag("pt-BR"),
                "no" | "nn" => Language::by_tag("nb"),
                "tl" => Language::by_tag("fil"),
                _ => None,
            })
            .copied()
            .ok_or_else(|| {
                InputError::new(
                    "language",
                    format!(
                        "\"{raw}\" is not a language Lyceum writes courses in; use a tag such as en, fr, pt-BR or zh-Hans (`lyceum languages` lists all {})",
                        LANGUAGES.len()
                    ),
                )
            })
    }

    fn by_tag(tag: &str) -> Option<&'static Language> {
        LANGUAGES.iter().find(|language| language.tag == tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_names_find_languages() {
        assert_eq!(
            Language::parse("pt_br").unwrap().name,
            "Portuguese (Brazil)"
        );
        assert_eq!(Language::parse("German").unwrap().tag, "de");
        assert_eq!(Language::parse("zh").unwrap().tag, "zh-Hans");
        assert_eq!(Language::parse("en").unwrap(), Language::ENGLISH);
        let error = Language::parse("klingon").unwrap_err();
        assert_eq!(error.field, "language");
        assert!(error.message.contains("pt-BR"), "{error}");
    }

    #[test]
    fn the_list_has_about_seventy_distinct_tags() {
        assert!(LANGUAGES.len() >= 70);
        let mut tags: Vec<_> = LANGUAGES.iter().map(|l| l.tag.to_lowercase()).collect();
        tags.sort();
        tags.dedup();
        assert_eq!(tags.len(), LANGUAGES.len());
    }
}
