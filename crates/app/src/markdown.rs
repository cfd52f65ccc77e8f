//! Model-written Markdown to safe HTML: rendered with pulldown-cmark (TeX between `$…$` and `$$…$$`
//! becomes MathML, fenced code is highlighted with syntect as `hl-` CSS classes), then sanitised with
//! ammonia, which keeps only known-harmless tags and attributes (no scripts, no event handlers, no
//! `javascript:` URLs, no styles, and only `language-` and `hl-` classes). A unit's article is rendered
//! once per version and kept in a [`RenderCache`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, LazyLock, Mutex};

use latex2mathml::DisplayStyle;
use pulldown_cmark::{CodeBlockKind, CowStr, Event, Options, Parser, Tag, TagEnd};
use syntect::html::{ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

/// The MathML elements formulas render to, and the presentation attributes they need.
const MATH_TAGS: &[&str] = &[
    "math",
    "semantics",
    "annotation",
    "mrow",
    "mi",
    "mn",
    "mo",
    "ms",
    "mtext",
    "mspace",
    "mfrac",
    "msqrt",
    "mroot",
    "msub",
    "msup",
    "msubsup",
    "munder",
    "mover",
    "munderover",
    "mtable",
    "mtr",
    "mtd",
    "mstyle",
    "mpadded",
    "mphantom",
    "menclose",
];
const MATH_ATTRIBUTES: &[&str] = &[
    "display",
    "mathvariant",
    "displaystyle",
    "scriptlevel",
    "stretchy",
    "fence",
    "separator",
    "lspace",
    "rspace",
    "largeop",
    "movablelimits",
    "accent",
    "accentunder",
    "form",
    "width",
    "linethickness",
    "columnalign",
    "notation",
    "encoding",
];

/// Renders Markdown to sanitised HTML.
pub fn render(markdown: &str) -> String {
    render_with(markdown, true)
}

/// Renders a tutor's reply: as [`render`], without links or images, since no address the model
/// wrote reaches the page (a link's text stays, as text).
pub fn render_tutor(markdown: &str) -> String {
    render_with(markdown, false)
}

/// Renders Markdown for an email: as [`render`], with the styles on each element, since mail
/// clients drop style sheets.
pub fn render_for_mail(markdown: &str) -> String {
    inline_styles(&render(markdown))
}

/// The look of each element in mail, as inline styles.
pub const MAIL_STYLES: &[(&str, &str)] = &[
    (
        "p",
        "margin:0 0 16px;font-family:Georgia,serif;font-size:17px;line-height:1.6;color:#1f2328",
    ),
    (
        "h1",
        "margin:24px 0 12px;font-family:Helvetica,Arial,sans-serif;font-size:24px;color:#1f2328",
    ),
    (
        "h2",
        "margin:24px 0 12px;font-family:Helvetica,Arial,sans-serif;font-size:20px;color:#1f2328",
    ),
    (
        "h3",
        "margin:20px 0 8px;font-family:Helvetica,Arial,sans-serif;font-size:18px;color:#1f2328",
    ),
    (
        "h4",
        "margin:16px 0 8px;font-family:Helvetica,Arial,sans-serif;font-size:16px;color:#1f2328",
    ),
    (
        "ul",
        "margin:0 0 16px;padding-left:24px;font-family:Georgia,serif;font-size:17px;line-height:1.6;color:#1f2328",
    ),
    (
        "ol",
        "margin:0 0 16px;padding-left:24px;font-family:Georgia,serif;font-size:17px;line-height:1.6;color:#1f2328",
    ),
    ("li", "margin:0 0 6px"),
    ("a", "color:#0b57d0"),
    (
        "blockquote",
        "margin:0 0 16px;padding:0 16px;border-left:4px solid #d0d7de;color:#57606a",
    ),
    (
        "pre",
        "margin:0 0 16px;padding:12px;background:#f6f8fa;border-radius:6px;overflow:auto;font-size:14px;line-height:1.45",
    ),
    (
        "code",
        "font-family:Menlo,Consolas,monospace;font-size:0.9em;background:#f6f8fa",
    ),
    (
        "table",
        "margin:0 0 16px;border-collapse:collapse;font-family:Georgia,serif;font-size:15px",
    ),
    (
        "th",
        "border:1px solid #d0d7de;padding:6px 10px;background:#f6f8fa;text-align:left",
    ),
    ("td", "border:1px solid #d0d7de;padding:6px 10px"),
    ("img", "max-width:100%"),
];

/// Sanitised HTML with [`MAIL_STYLES`] on its elements. It reads the markup as markup: a tag's name
/// only where a tag starts, never inside an attribute's quoted value or the text.
pub fn inline_styles(html: &str) -> String {
    let mut out = String::with_capacity(html.len() * 2);
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let tag = &rest[start..];
        // The tag runs to the first `>` outside quotes.
        let mut quote = None;
        let end = tag
            .char_indices()
            .find(|&(_, c)| match (quote, c) {
                (None, '"' | '\'') => {
                    quote = Some(c);
                    false
                }
                (Some(open), c) if c == open => {
                    quote = None;
                    false
                }
                (None, '>') => true,
                _ => false,
            })
            .map_or(tag.len(), |(at, _)| at + 1);
        let (whole, after) = tag.split_at(end);
        let name_end = whole[1..]
            .find(|c: char| !c.is_ascii_alphanumeric())
            .map_or(whole.len(), |at| at + 1);
        let name = &whole[1..name_end];
        match MAIL_STYLES.iter().find(|(tag, _)| *tag == name) {
            Some((_, style)) => {
                out.push_str(&whole[..name_end]);
                out.push_str(" style=\"");
                out.push_str(style);
                out.push('"');
                out.push_str(&whole[name_end..]);
            }
            None => out.push_str(whole),
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

fn render_with(markdown: &str, links: bool) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_MATH;
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::InlineMath(tex) => math(&tex, DisplayStyle::Inline, Event::InlineHtml),
        Event::DisplayMath(tex) => math(&tex, DisplayStyle::Block, Event::Html),
        other => other,
    });
    pulldown_cmark::html::push_html(&mut html, highlighted(events));
    let mut sanitizer = ammonia::Builder::default();
    sanitizer
        .link_rel(Some("noopener noreferrer nofollow"))
        // `language-rust` on code blocks and `hl-keyword` on their parts: a class cannot run anything,
        // styles come only from us, and no other class of the site can be borrowed.
        .add_tag_attributes("code", &["class"])
        .add_tag_attributes("span", &["class"])
        .attribute_filter(|element, attribute, value| match (element, attribute) {
            ("code", "class") => classes_with_prefix(value, "language-"),
            ("span", "class") => classes_with_prefix(value, "hl-"),
            _ => Some(value.into()),
        })
        .add_tags(MATH_TAGS);
    for tag in MATH_TAGS {
        sanitizer.add_tag_attributes(tag, MATH_ATTRIBUTES);
    }
    if !links {
        sanitizer.rm_tags(["a", "img"]);
    }
    sanitizer.clean(&html).to_string()
}

/// The classes of `value` that start with `prefix`, if any.
fn classes_with_prefix<'a>(value: &'a str, prefix: &str) -> Option<Cow<'a, str>> {
    let kept: Vec<&str> = value
        .split_whitespace()
        .filter(|class| class.starts_with(prefix))
        .collect();
    (!kept.is_empty()).then(|| kept.join(" ").into())
}

/// The grammars code blocks are highlighted with, loaded on first use.
static SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(SyntaxSet::load_defaults_newlines);

/// `events` with each code block replaced by its highlighted HTML.
fn highlighted<'a>(events: impl Iterator<Item = Event<'a>>) -> impl Iterator<Item = Event<'a>> {
    // The language and text of the code block being read.
    let mut block: Option<(String, String)> = None;
    events.filter_map(move |event| match (&mut block, event) {
        (None, Event::Start(Tag::CodeBlock(kind))) => {
            let language = match kind {
                CodeBlockKind::Fenced(info) => info.split_whitespace().next().unwrap_or("").into(),
                CodeBlockKind::Indented => String::new(),
            };
            block = Some((language, String::new()));
            None
        }
        (Some((_, code)), Event::Text(text)) => {
            code.push_str(&text);
            None
        }
        (Some(_), Event::End(TagEnd::CodeBlock)) => {
            let (language, code) = block.take()?;
            Some(Event::Html(code_block(&language, &code).into()))
        }
        (_, event) => Some(event),
    })
}

/// A code block as HTML: its tokens in `hl-` classes when its language is known, else plain.
fn code_block(language: &str, code: &str) -> String {
    // Language names are words like `c++` or `objective-c`; anything else is dropped from the class.
    let language: String = language
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "+#-_.".contains(*c))
        .take(32)
        .collect();
    let class = if language.is_empty() {
        String::new()
    } else {
        format!(" class=\"language-{language}\"")
    };
    let syntax = (!language.is_empty())
        .then(|| SYNTAXES.find_syntax_by_token(&language))
        .flatten();
    let body = syntax
        .and_then(|syntax| {
            let mut html = ClassedHTMLGenerator::new_with_class_style(
                syntax,
                &SYNTAXES,
                ClassStyle::SpacedPrefixed { prefix: "hl-" },
            );
            for line in LinesWithEndings::from(code) {
                html.parse_html_for_line_which_includes_newline(line).ok()?;
            }
            Some(html.finalize())
        })
        .unwrap_or_else(|| escape(code));
    format!("<pre><code{class}>{body}</code></pre>\n")
}

/// `text` with the characters that mean something in HTML escaped.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// A formula as MathML; TeX that cannot be converted is shown as code (the converter marks what it
/// could not parse with "[PARSE ERROR" inside the MathML rather than failing).
fn math<'a>(
    tex: &str,
    style: DisplayStyle,
    html: impl FnOnce(CowStr<'a>) -> Event<'a>,
) -> Event<'a> {
    match latex2mathml::latex_to_mathml(tex, style) {
        Ok(mathml) if !mathml.contains("[PARSE ERROR") => html(mathml.into()),
        Ok(_) | Err(_) => Event::Code(tex.to_owned().into()),
    }
}

/// Articles rendered so far, by unit id, each with a hash of the text it was rendered from: a rewritten
/// unit is rendered again, an unchanged one never.
#[derive(Default)]
pub struct RenderCache {
    entries: Mutex<HashMap<i64, (u64, Arc<str>)>>,
}

/// Articles kept at most; past this the cache starts over (a page is rendered again on its next visit).
const MAX_ENTRIES: usize = 20_000;

impl RenderCache {
    /// The sanitised HTML of unit `id` whose text is `markdown`.
    pub fn get(&self, id: i64, markdown: &str) -> Arc<str> {
        let mut hasher = DefaultHasher::new();
        markdown.hash(&mut hasher);
        let version = hasher.finish();
        if let Some((cached, html)) = self.lock().get(&id)
            && *cached == version
        {
            return Arc::clone(html);
        }
        let html: Arc<str> = render(markdown).into();
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(id, (version, Arc::clone(&html)));
        html
    }

    /// How many articles are cached.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, (u64, Arc<str>)>> {
        // A panic while holding the lock leaves a map that is still consistent.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_html_carries_its_styles_on_each_element_and_nowhere_else() {
        let html = render_for_mail(
            "## Cells\n\nA [link](https://example.org \"<p onclick=x>\") and `<p>`.\n\n> one < two\n",
        );
        assert!(html.contains("<h2 style=\"margin:24px"), "{html}");
        assert!(
            html.contains("<a style=\"color:#0b57d0\" href=\"https://example.org\""),
            "{html}"
        );
        assert!(html.contains("<code style="), "{html}");
        assert!(html.contains("<blockquote style="), "{html}");
        // What looks like a tag inside an attribute or the text stays text, unstyled.
        assert!(html.contains("title=\"&lt;p onclick=x&gt;\""), "{html}");
        assert!(html.contains("&lt;p&gt;</code>"), "{html}");
        assert!(html.contains("one &lt; two"), "{html}");
        assert_eq!(html.matches("<p style=").count(), 2, "{html}");
        assert_eq!(html.matches("style=").count(), 6, "{html}");
    }

    #[test]
    fn headings_lists_tables_and_code_survive() {
        let html = render(
            "## Loads\n\n- dead\n- live\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```rust\nlet x = 1;\n```\n",
        );
        assert!(html.contains("<h2>Loads</h2>"), "{html}");
        assert!(html.contains("<li>dead</li>"), "{html}");
        assert!(html.contains("<td>2</td>"), "{html}");
        assert!(html.contains("<code class=\"language-rust\">"), "{html}");
        assert!(html.contains(">let</span>"), "{html}");
    }

    /// The text of `html` without its tags.
    fn text_of(html: &str) -> String {
        let mut text = String::new();
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                _ if !in_tag => text.push(c),
                _ => {}
            }
        }
        text
    }

    #[test]
    fn code_is_highlighted_on_the_server_and_stays_escaped() {
        let html = render(
            "```python\ndef area(r):\n    return 3.14 * r * r  # a circle <b>\n```\n\n\
             ```klingon\nQapla' <script>alert(1)</script>\n```\n\n\
             ```rust\" onclick=\"alert(2)\nfn main() {}\n```\n",
        );
        // Python's keywords, numbers and comments each get their classes; the text reads as written.
        assert!(
            html.contains("<span class=\"hl-storage hl-type hl-function hl-python\">def</span>"),
            "{html}"
        );
        assert!(html.contains("hl-constant hl-numeric"), "{html}");
        assert!(html.contains("hl-comment"), "{html}");
        assert!(
            text_of(&html).contains("def area(r):\n    return 3.14 * r * r  # a circle &lt;b&gt;"),
            "{html}"
        );
        // An unknown language is plain, escaped code; a hostile info string loses what is not a name.
        assert!(
            html.contains(
                "<code class=\"language-klingon\">Qapla' &lt;script&gt;alert(1)&lt;/script&gt;"
            ),
            "{html}"
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onclick"), "{html}");
        assert!(html.contains("class=\"language-rust\""), "{html}");
    }

    #[test]
    fn model_html_keeps_only_highlighting_classes() {
        let html = render(
            "<span class=\"skip primary hl-keyword\">a</span> <span class=\"theme\">b</span> \
             <code class=\"language-js site\">c</code>",
        );
        assert!(
            html.contains("<span class=\"hl-keyword\">a</span>"),
            "{html}"
        );
        assert!(html.contains("<span>b</span>"), "{html}");
        assert!(
            html.contains("<code class=\"language-js\">c</code>"),
            "{html}"
        );
    }

    #[test]
    fn scripts_handlers_and_javascript_links_are_removed() {
        let html = render(
            "Hello <script>alert(1)</script>\n\n<img src=x onerror=\"alert(2)\">\n\n\
             [click](javascript:alert(3)) <a href=\"javascript:alert(4)\">there</a>\n\n\
             <iframe src=\"https://example.org\"></iframe><p style=\"color:red\" onclick=\"x()\">hi</p>",
        );
        for bad in [
            "<script",
            "alert(1)",
            "onerror",
            "javascript:",
            "<iframe",
            "onclick",
            "style=",
        ] {
            assert!(!html.contains(bad), "{bad} survived: {html}");
        }
        assert!(html.contains("Hello"), "{html}");
        assert!(html.contains("hi"), "{html}");
    }

    #[test]
    fn formulas_become_mathml_and_bad_tex_stays_readable() {
        let html = render("Energy is $E = mc^2$.\n\n$$\\frac{a}{b}$$\n\nBroken: $\\frac{a}$\n");
        assert!(html.contains("<math"), "{html}");
        assert!(html.contains("<msup><mi>c</mi><mn>2</mn></msup>"), "{html}");
        assert!(html.contains("<mfrac>"), "{html}");
        assert!(html.contains("display=\"block\""), "{html}");
        assert!(html.contains("<code>\\frac{a}</code>"), "{html}");
        let hostile = render(
            "$x$ <math><mi onclick=\"alert(1)\">x</mi><maction actiontype=\"statusline\">y</maction></math>",
        );
        assert!(!hostile.contains("onclick"), "{hostile}");
        assert!(!hostile.contains("maction"), "{hostile}");
    }

    #[test]
    fn an_article_is_rendered_once_per_version() {
        let cache = RenderCache::default();
        let first = cache.get(7, "# One");
        let again = cache.get(7, "# One");
        assert!(
            Arc::ptr_eq(&first, &again),
            "the same text is not rendered twice"
        );
        let changed = cache.get(7, "# Two");
        assert!(changed.contains("Two"));
        assert_eq!(cache.len(), 1);
    }

    /// Every tag of `html`, from `<` to `>` (ammonia escapes `>` inside attribute values).
    fn tags(html: &str) -> impl Iterator<Item = &str> {
        html.match_indices('<')
            .filter_map(|(at, _)| html[at..].find('>').map(|end| &html[at..=at + end]))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        #[test]
        fn no_model_answer_renders_a_script_a_handler_or_a_script_url(
            pieces in proptest::collection::vec(proptest::prop_oneof![
                proptest::prelude::any::<String>(),
                proptest::prelude::Just("<script>alert(1)</script>".to_owned()),
                proptest::prelude::Just("<img src=x onerror=alert(1)>".to_owned()),
                proptest::prelude::Just("<svg><g onload=\"alert(1)\"/></svg>".to_owned()),
                proptest::prelude::Just("[a](javascript:alert(1))".to_owned()),
                proptest::prelude::Just("[a]( JaVaScRiPt:alert(1) )".to_owned()),
                proptest::prelude::Just("<a href=\"java&#115;cript:alert(1)\">a</a>".to_owned()),
                proptest::prelude::Just("<a href=\"vbscript:x\">a</a><a href=\"data:text/html,x\">b</a>".to_owned()),
                proptest::prelude::Just("![i](javascript:alert(1))".to_owned()),
                proptest::prelude::Just("<math><mi href=\"javascript:x\" onclick=x>m</mi></math>".to_owned()),
                proptest::prelude::Just("<iframe src=//x></iframe><object data=x></object><embed src=x>".to_owned()),
                proptest::prelude::Just("<style>*{}</style><link rel=stylesheet href=x><meta http-equiv=refresh content=0>".to_owned()),
                proptest::prelude::Just("<form action=x><input onfocus=x autofocus><button formaction=javascript:x>".to_owned()),
                proptest::prelude::Just("<span class=\"primary hl-x\" style=\"x\">s</span>".to_owned()),
                proptest::prelude::Just("```html\n<script>x</script>\n```\n".to_owned()),
                proptest::prelude::Just("```\"><script>x</script>\nx\n```\n".to_owned()),
                proptest::prelude::Just("$$\\href{javascript:x}{y}$$ $\\unicode{x}$".to_owned()),
                proptest::prelude::Just("\n\n| a | b |\n|---|---|\n| <b onmouseover=x>c</b> | d |\n".to_owned()),
                proptest::prelude::Just("# h\n\n* l\n\n> q\n\n`c` **b** _i_\n".to_owned()),
            ], 0..8),
        ) {
            let html = render(&pieces.concat());
            for tag in tags(&html) {
                let lower = tag.to_ascii_lowercase();
                for name in ["<script", "<iframe", "<object", "<embed", "<style", "<link", "<meta", "<form", "<input", "<button", "<svg"] {
                    proptest::prop_assert!(!lower.starts_with(name), "{tag} in {html}");
                }
                for url in ["javascript:", "vbscript:", "data:"] {
                    proptest::prop_assert!(!lower.contains(url), "{tag} in {html}");
                }
                proptest::prop_assert!(!lower.contains(" style="), "{tag} in {html}");
                let handler = lower.split_whitespace().skip(1).any(|attribute| {
                    attribute.starts_with("on") && attribute.contains('=')
                });
                proptest::prop_assert!(!handler, "{tag} in {html}");
            }
        }
    }
}
