//! The words of each message: a text part a person can read in any client, and an HTML part with
//! inline styles. Everything a course's text brings is escaped or sanitised; links point only at this
//! site.

use lyceum_mail::{Address, Email};
use lyceum_store::{Course, Unit};

use super::schedule::Pace;
use crate::markdown;

/// What every message of a subscription shares: whom it is for and where its links go.
pub struct Context<'a> {
    /// The site's address, without a trailing slash.
    pub site: &'a str,
    pub to: Address,
    pub course: &'a Course,
    /// The subscription's signed page: change the pace, pause, stop; also the one-click link.
    pub manage_url: &'a str,
    pub pace: Pace,
    pub hour: i64,
    pub time_zone: &'a str,
}

impl Context<'_> {
    fn course_url(&self) -> String {
        format!("{}/courses/{}", self.site, self.course.slug)
    }

    fn unit_url(&self, unit: &Unit) -> String {
        format!(
            "{}/weeks/{}/units/{}",
            self.course_url(),
            unit.week,
            unit.number
        )
    }

    fn pace_line(&self) -> String {
        format!(
            "You get one unit of this course {} at {:02}:00 ({}).",
            self.pace.words(),
            self.hour,
            self.time_zone
        )
    }
}

/// One unit of the course, whole, with its quiz as a link and what comes next.
pub fn unit(
    context: &Context<'_>,
    unit: &Unit,
    units: usize,
    next: Option<&Unit>,
    key: String,
) -> Email {
    let course = context.course;
    let body = unit.body.as_deref().unwrap_or_default();
    let unit_url = context.unit_url(unit);
    let heading = format!(
        "Unit {} of {units} (week {}): {}",
        unit.position, unit.week, unit.title
    );
    let next_text = match next {
        Some(next) => format!(
            "Next up, in your next email: unit {} (week {}), {}.",
            next.position, next.week, next.title
        ),
        None => "This was the last unit of the course; one more email will close it.".into(),
    };
    let text = format!(
        "{title}\n{heading}\n\n{body}\n\n\
         Check yourself: this unit's quiz is on its page, {unit_url}#quiz\n\n\
         {next_text}\n\n\
         {pace}\nChange the pace, pause or stop: {manage}\n",
        title = course.title,
        body = body.trim(),
        pace = context.pace_line(),
        manage = context.manage_url,
    );
    let html = page(
        context,
        &format!(
            "{}{}<div lang=\"{lang}\">{article}</div>{quiz}{next}",
            kicker(&course.title),
            heading_html(&heading),
            lang = course.language.tag,
            article = markdown::render_for_mail(body),
            quiz = paragraph(&format!(
                "{}: each answer comes back with why it is right or wrong.",
                link(&format!("{unit_url}#quiz"), "Take this unit's quiz")
            )),
            next = paragraph(&format!("<strong>{}</strong>", escape(&next_text))),
        ),
    );
    Email {
        to: context.to.clone(),
        to_name: None,
        subject: format!("{} · {}", course.title, heading),
        text,
        html,
        key,
        unsubscribe: Some(context.manage_url.to_owned()),
    }
}

/// The last mail of a subscription: the course is over.
pub fn finished(context: &Context<'_>, units: usize, key: String) -> Email {
    let course = context.course;
    let course_url = context.course_url();
    let words = format!(
        "That was every unit of {title}: {units} in all. The course stays at {course_url}, with \
         each unit's quiz and your progress if you sign in. No more email will come for it.",
        title = course.title,
    );
    let text = format!("{}\n\n{words}\n", course.title);
    let html = page(
        context,
        &format!(
            "{}{}{}",
            kicker(&course.title),
            heading_html("You have reached the end of the course"),
            paragraph(&format!(
                "That was every unit of {}: {units} in all. The course stays {}, with each unit's \
                 quiz and your progress if you sign in. No more email will come for it.",
                escape(&course.title),
                link(&course_url, "on its page"),
            )),
        ),
    );
    Email {
        to: context.to.clone(),
        to_name: None,
        subject: format!("{}: the end of the course", course.title),
        text,
        html,
        key,
        unsubscribe: Some(context.manage_url.to_owned()),
    }
}

/// The confirmation an address given signed out gets before anything else: nothing is sent to it
/// until its link is followed.
pub fn confirm(context: &Context<'_>, confirm_url: &str, hours: i64, key: String) -> Email {
    let course = context.course;
    let text = format!(
        "Someone, hopefully you, asked for the units of \"{title}\" to come to this address by \
         email, {pace} at {hour:02}:00 ({zone}).\n\n\
         To start, confirm within {hours} hours: {confirm_url}\n\n\
         If it was not you, do nothing: without a confirmation no more email comes.\n",
        title = course.title,
        pace = context.pace.words(),
        hour = context.hour,
        zone = context.time_zone,
    );
    let html = page(
        context,
        &format!(
            "{}{}{}{}",
            heading_html("Confirm your email"),
            paragraph(&format!(
                "Someone, hopefully you, asked for the units of <strong>{}</strong> to come to \
                 this address by email, {} at {:02}:00 ({}).",
                escape(&course.title),
                context.pace.words(),
                context.hour,
                escape(context.time_zone),
            )),
            paragraph(&format!(
                "{} within {hours} hours to start.",
                link(confirm_url, "Confirm")
            )),
            paragraph("If it was not you, do nothing: without a confirmation no more email comes."),
        ),
    );
    Email {
        to: context.to.clone(),
        to_name: None,
        subject: format!("Confirm: {} by email", course.title),
        text,
        html,
        key,
        unsubscribe: None,
    }
}

/// The frame every message of a subscription shares: a readable column, and a footer with the pace
/// and the way out.
fn page(context: &Context<'_>, content: &str) -> String {
    frame(
        content,
        &format!(
            "{} {}",
            escape(&context.pace_line()),
            link(context.manage_url, "Change the pace, pause or stop")
        ),
    )
}

/// A column of readable width with `footer` (HTML) under a rule.
fn frame(content: &str, footer: &str) -> String {
    format!(
        "<!doctype html><html><body style=\"margin:0;padding:0;background:#ffffff\">\
         <div style=\"max-width:640px;margin:0 auto;padding:24px 16px\">{content}\
         <hr style=\"border:0;border-top:1px solid #d0d7de;margin:32px 0 16px\">\
         <p style=\"margin:0;font-family:Helvetica,Arial,sans-serif;font-size:13px;line-height:1.5;color:#57606a\">\
         {footer}</p></div></body></html>"
    )
}

/// What account mail shares: whom it is for and the site.
pub struct AccountContext<'a> {
    /// The site's address, without a trailing slash.
    pub site: &'a str,
    pub to: Address,
    pub name: &'a str,
}

impl AccountContext<'_> {
    fn footer(&self) -> String {
        format!(
            "You get this because an account at {} has this address.",
            link(self.site, self.site)
        )
    }

    fn email(&self, subject: String, text: String, html: String, key: String) -> Email {
        Email {
            to: self.to.clone(),
            to_name: Some(self.name.to_owned()),
            subject,
            text,
            html,
            key,
            unsubscribe: None,
        }
    }
}

/// To a course's maker: every unit is written. `stop_url` ends these emails for the account.
pub fn ready(
    account: &AccountContext<'_>,
    course: &Course,
    units: usize,
    stop_url: &str,
    key: String,
) -> Email {
    let course_url = format!("{}/courses/{}", account.site, course.slug);
    let text = format!(
        "Every unit of \"{title}\" is written: {units} units, each with a quiz.\n\n\
         Start here: {course_url}\n\n\
         Its page can also send you one unit at a time by email.\n\n\
         No more emails like this: {stop_url}\n",
        title = course.title,
    );
    let html = frame(
        &format!(
            "{}{}{}",
            heading_html("Your course is ready"),
            paragraph(&format!(
                "Every unit of <strong>{}</strong> is written: {units} units, each with a quiz.",
                escape(&course.title)
            )),
            paragraph(&format!(
                "{}. Its page can also send you one unit at a time by email.",
                link(&course_url, "Start the course")
            )),
        ),
        &format!(
            "{} {}",
            account.footer(),
            link(stop_url, "No more emails when a course is ready")
        ),
    );
    let mut email = account.email(
        format!("Your course is ready: {}", course.title),
        text,
        html,
        key,
    );
    email.unsubscribe = Some(stop_url.to_owned());
    email
}

/// The link that confirms an account's address.
pub fn verify(account: &AccountContext<'_>, url: &str, hours: i64, key: String) -> Email {
    let text = format!(
        "Confirm that this address is yours for your Lyceum account at {site}: {url}\n\n\
         The link works for {hours} hours. If you made no account, do nothing.\n",
        site = account.site,
    );
    let html = frame(
        &format!(
            "{}{}{}",
            heading_html("Confirm your address"),
            paragraph(&format!(
                "{} that this address is yours for your Lyceum account. The link works for {hours} hours.",
                link(url, "Confirm")
            )),
            paragraph("If you made no account, do nothing."),
        ),
        &account.footer(),
    );
    account.email("Confirm your address".into(), text, html, key)
}

/// The link that sets a new password.
pub fn reset(account: &AccountContext<'_>, url: &str, minutes: i64, key: String) -> Email {
    let text = format!(
        "Someone, hopefully you, asked for a new password for your Lyceum account at {site}.\n\n\
         Choose one here within {minutes} minutes: {url}\n\n\
         The link works once. If you did not ask, do nothing: your password stays as it is.\n",
        site = account.site,
    );
    let html = frame(
        &format!(
            "{}{}{}",
            heading_html("A new password"),
            paragraph(&format!(
                "Someone, hopefully you, asked for a new password for your Lyceum account. {} \
                 within {minutes} minutes; the link works once.",
                link(url, "Choose one")
            )),
            paragraph("If you did not ask, do nothing: your password stays as it is."),
        ),
        &account.footer(),
    );
    account.email("A new password for Lyceum".into(), text, html, key)
}

fn kicker(text: &str) -> String {
    format!(
        "<p style=\"margin:0 0 4px;font-family:Helvetica,Arial,sans-serif;font-size:13px;\
         text-transform:uppercase;letter-spacing:0.05em;color:#57606a\">{}</p>",
        escape(text)
    )
}

fn heading_html(text: &str) -> String {
    format!(
        "<h1 style=\"margin:0 0 20px;font-family:Helvetica,Arial,sans-serif;font-size:26px;\
         line-height:1.25;color:#1f2328\">{}</h1>",
        escape(text)
    )
}

fn paragraph(html: &str) -> String {
    format!(
        "<p style=\"margin:0 0 16px;font-family:Georgia,serif;font-size:17px;line-height:1.6;\
         color:#1f2328\">{html}</p>"
    )
}

fn link(url: &str, text: &str) -> String {
    format!(
        "<a href=\"{}\" style=\"color:#0b57d0\">{}</a>",
        escape(url),
        escape(text)
    )
}

/// Text for HTML content or a quoted attribute.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
