//! Lyceum in a real headless Chromium, as a person uses it: `lyceum serve` with the scripted
//! OpenAI-compatible server behind it. Generate a course and watch its outline arrive, rename a unit,
//! confirm, read unit 1.1 while it is written, follow "Next up", switch the theme, and use it all at
//! phone width; axe-core checks every kind of page. Screenshots at 1280 and 390 px go to
//! `target/screenshots/` for review.

use std::path::PathBuf;

use lyceum_testkit::browser::{self, ARROW_DOWN, Browser, CONTROL, ENTER, ESCAPE, Violation};
use lyceum_testkit::{Action, ScriptedModel};
use serde_json::json;

use crate::generate::{generate_tides, scripted_env};
use crate::serve::spawn_serve;
use crate::users::add_with_password;

/// `target/screenshots/NAME.png`, next to the test binaries of this build.
fn screenshot_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/debug/deps/cli-HASH → target
    let target = exe.ancestors().nth(3).unwrap().to_path_buf();
    target.join("screenshots").join(format!("{name}.png"))
}

/// The page's serious and critical axe-core violations, named by page.
async fn serious_violations(browser: &Browser, axe: &str, page: &str) -> Vec<String> {
    browser
        .axe(axe)
        .await
        .into_iter()
        .filter(|v: &Violation| v.impact == "serious" || v.impact == "critical")
        .map(|v| format!("{page}: {} ({}) at {:?}", v.id, v.help, v.targets))
        .collect()
}

/// Fails the test with every violation axe-core found, page by page.
fn no_violations(violations: &[String]) {
    assert!(
        violations.is_empty(),
        "axe-core found serious or critical violations:\n{}",
        violations.join("\n")
    );
}

/// The page does not scroll sideways at the window's width.
async fn fits_the_width(browser: &Browser, page: &str) {
    let widths = browser
        .eval(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            json!([]),
        )
        .await;
    assert!(
        widths[0].as_u64() <= widths[1].as_u64(),
        "{page} scrolls sideways: {widths}"
    );
}

/// axe-core's script, as `./scripts/test` installs it.
fn axe_source() -> String {
    let axe_path = browser::axe_core_path();
    std::fs::read_to_string(&axe_path).unwrap_or_else(|error| {
        panic!(
            "axe-core is not at {} ({error}): ./scripts/test installs it with npm",
            axe_path.display()
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_makes_an_account_signs_out_and_back_in_in_chromium() {
    let axe = axe_source();
    let dir = tempfile::tempdir().unwrap();
    let model = ScriptedModel::start().await;
    let (_served, address) = spawn_serve(dir.path(), &scripted_env(&model)).await;
    let site = format!("http://{address}");
    let browser = Browser::start(1280, 900).await;
    let mut violations = Vec::new();

    browser.goto(&site).await;
    browser.follow("header.site a[href='/account']").await;
    assert!(browser.url().await.ends_with("/account/sign-in"));
    violations.extend(serious_violations(&browser, &axe, "sign in").await);
    browser.follow("main a[href='/account/sign-up']").await;
    violations.extend(serious_violations(&browser, &axe, "sign up").await);
    browser.fill("#name", "Ada").await;
    browser.fill("#email", "ada@example.org").await;
    // Long enough for the browser's own check, too easy to guess for the server's.
    browser.fill("#password", "password1234").await;
    browser.follow("main button[type=submit]").await;
    assert!(
        browser
            .text("main [role=alert]")
            .await
            .contains("easy to guess"),
        "a guessable password is refused with the reason"
    );
    violations.extend(serious_violations(&browser, &axe, "sign up (refused)").await);
    browser
        .fill("#password", "copper lantern orbit mossy")
        .await;
    browser.follow("main button[type=submit]").await;
    assert!(browser.url().await.ends_with("/account"));
    let account = browser.text("main").await;
    assert!(account.contains("ada@example.org"), "{account}");
    assert!(account.contains("(this browser)"), "{account}");
    violations.extend(serious_violations(&browser, &axe, "account").await);
    browser.click("#theme-toggle").await;
    violations.extend(serious_violations(&browser, &axe, "account (dark)").await);
    browser.click("#theme-toggle").await;

    browser
        .follow("form[action='/account/sign-out'] button")
        .await;
    browser.goto(&format!("{site}/account")).await;
    assert!(browser.url().await.ends_with("/account/sign-in"));
    browser.fill("#email", "ada@example.org").await;
    browser.fill("#password", "a wrong password here").await;
    browser.follow("main button[type=submit]").await;
    assert!(
        browser
            .text("main [role=alert]")
            .await
            .contains("do not match an account")
    );
    browser
        .fill("#password", "copper lantern orbit mossy")
        .await;
    browser.follow("main button[type=submit]").await;
    assert!(browser.url().await.ends_with("/account"));

    browser.resize(390, 844).await;
    for (name, path) in [("account", "/account"), ("sign in", "/account/sign-in")] {
        browser.goto(&format!("{site}{path}")).await;
        fits_the_width(&browser, name).await;
    }
    violations.extend(serious_violations(&browser, &axe, "account (390 px)").await);
    browser.screenshot(&screenshot_path("account-390")).await;
    browser.close().await;
    no_violations(&violations);
}

/// Waits until the page shown is `/account`, or the passkey box says why not (a failed test says it).
async fn passkey_lands_on_the_account_page(browser: &Browser) {
    browser
        .wait_for(
            "location.pathname === '/account' && document.readyState !== 'loading' \
             || !document.getElementById('passkey-error').hidden",
        )
        .await;
    if !browser.url().await.ends_with("/account") {
        panic!(
            "the passkey was refused: {}",
            browser.text("#passkey-error").await
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_up_and_in_with_a_passkey_while_another_uses_a_password_in_chromium() {
    let axe = axe_source();
    let dir = tempfile::tempdir().unwrap();
    let model = ScriptedModel::start().await;
    let (_served, address) = spawn_serve(dir.path(), &scripted_env(&model)).await;
    // Browsers allow passkeys on localhost but never on an IP address, so a local site names itself so.
    assert!(address.starts_with("localhost:"), "{address}");
    let site = format!("http://{address}");
    let browser = Browser::start(1280, 900).await;
    let authenticator = browser.add_passkey_authenticator().await;
    let mut violations = Vec::new();

    browser.goto(&format!("{site}/account/sign-up")).await;
    browser.fill("#name", "Grace").await;
    browser.fill("#email", "grace@example.org").await;
    violations.extend(serious_violations(&browser, &axe, "sign up (with passkeys)").await);
    browser.click("[data-passkey=sign-up]").await;
    passkey_lands_on_the_account_page(&browser).await;
    assert_eq!(browser.passkeys_held(&authenticator).await, 1);
    let account = browser.text("main").await;
    assert!(account.contains("grace@example.org"), "{account}");
    assert!(
        account.contains("last used never"),
        "the passkey is listed: {account}"
    );
    violations.extend(serious_violations(&browser, &axe, "account (a passkey)").await);
    browser.click("#theme-toggle").await;
    violations.extend(serious_violations(&browser, &axe, "account (a passkey, dark)").await);
    browser.click("#theme-toggle").await;

    // Her only passkey is her only way in: removing it is refused with the reason.
    browser
        .eval("window.confirm = () => true;", json!([]))
        .await;
    browser.follow("form[action$='/remove'] button").await;
    assert!(
        browser
            .text("main [role=alert]")
            .await
            .contains("only way to sign in"),
        "{}",
        browser.text("main").await
    );

    browser
        .follow("form[action='/account/sign-out'] button")
        .await;
    browser.goto(&format!("{site}/account/sign-in")).await;
    violations.extend(serious_violations(&browser, &axe, "sign in (with passkeys)").await);
    browser.click("[data-passkey=sign-in]").await;
    passkey_lands_on_the_account_page(&browser).await;
    let account = browser.text("main").await;
    assert!(account.contains("grace@example.org"), "{account}");
    assert!(
        !account.contains("last used never"),
        "the sign-in is recorded: {account}"
    );

    // Someone else, with a password, in a second browser session: each sees only their own account.
    let other = Browser::start(1280, 900).await;
    other.goto(&format!("{site}/account/sign-up")).await;
    other.fill("#name", "Alan").await;
    other.fill("#email", "alan@example.org").await;
    other.fill("#password", "copper lantern orbit mossy").await;
    other
        .follow("main form[action='/account/sign-up'] button[type=submit]")
        .await;
    assert!(other.url().await.ends_with("/account"));
    let theirs = other.text("main").await;
    assert!(
        theirs.contains("alan@example.org") && !theirs.contains("grace"),
        "{theirs}"
    );
    assert!(theirs.contains("No passkeys yet."), "{theirs}");
    browser.goto(&format!("{site}/account")).await;
    let hers = browser.text("main").await;
    assert!(
        hers.contains("grace@example.org") && !hers.contains("alan"),
        "{hers}"
    );

    // He adds a passkey to his password account, then removes it.
    let his_authenticator = other.add_passkey_authenticator().await;
    other.click("[data-passkey=add]").await;
    other
        .wait_for(
            "document.querySelector(\"form[action$='/remove']\") !== null \
             || !document.getElementById('passkey-error').hidden",
        )
        .await;
    assert_eq!(other.passkeys_held(&his_authenticator).await, 1);
    assert!(!other.text("main").await.contains("No passkeys yet."));
    other.eval("window.confirm = () => true;", json!([])).await;
    other.follow("form[action$='/remove'] button").await;
    assert!(other.text("main").await.contains("No passkeys yet."));
    other.close().await;

    browser.resize(390, 844).await;
    browser
        .follow("form[action='/account/sign-out'] button")
        .await;
    for (name, path) in [
        ("sign up", "/account/sign-up"),
        ("sign in", "/account/sign-in"),
        ("forgotten password", "/account/forgot"),
        ("search", "/search?q=course"),
    ] {
        browser.goto(&format!("{site}{path}")).await;
        fits_the_width(&browser, name).await;
        violations.extend(serious_violations(&browser, &axe, &format!("{name} (390 px)")).await);
        browser.click("#theme-toggle").await;
        violations
            .extend(serious_violations(&browser, &axe, &format!("{name} (390 px, dark)")).await);
        browser.click("#theme-toggle").await;
    }
    browser
        .screenshot(&screenshot_path("sign-in-passkey-390"))
        .await;
    browser.close().await;
    no_violations(&violations);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_hides_and_shows_a_course_then_deletes_their_account_in_chromium() {
    let axe = axe_source();
    let dir = tempfile::tempdir().unwrap();
    let model = ScriptedModel::start().await;
    let env = scripted_env(&model);
    generate_tides(dir.path(), &env);
    let password = "copper lantern orbit mossy";
    let (code, said) = add_with_password(
        dir.path(),
        &["root@example.org", "--admin", "--name", "Root"],
        password,
    );
    assert_eq!(code, 0, "{said}");
    let (_served, address) = spawn_serve(dir.path(), &env).await;
    let site = format!("http://{address}");
    let browser = Browser::start(1280, 900).await;
    let mut violations = Vec::new();

    browser.goto(&format!("{site}/account/sign-in")).await;
    browser.fill("#email", "root@example.org").await;
    browser.fill("#password", password).await;
    browser
        .follow("main form[action='/account/sign-in'] button[type=submit]")
        .await;
    browser.follow("main a[href='/admin/courses']").await;
    let listed = browser.text("main").await;
    assert!(listed.contains("How tides rise and fall"), "{listed}");
    violations.extend(serious_violations(&browser, &axe, "every course").await);
    browser.click("#theme-toggle").await;
    violations.extend(serious_violations(&browser, &axe, "every course (dark)").await);
    browser.click("#theme-toggle").await;

    // Hidden: gone from the catalog and its own address until shown again.
    browser.follow("main button[value=hide]").await;
    assert!(browser.text("main").await.contains("hidden"));
    let course = browser
        .eval(
            "return document.querySelector('main td strong').textContent;",
            json!([]),
        )
        .await;
    browser.goto(&format!("{site}/courses")).await;
    let catalog = browser.text("main").await;
    assert!(!catalog.contains(course.as_str().unwrap()), "{catalog}");
    browser.goto(&format!("{site}/admin/courses")).await;
    browser.follow("main button[value=show]").await;
    browser.goto(&format!("{site}/courses")).await;
    assert!(
        browser
            .text("main")
            .await
            .contains(course.as_str().unwrap())
    );

    browser.resize(390, 844).await;
    browser.goto(&format!("{site}/admin/courses")).await;
    fits_the_width(&browser, "every course").await;
    violations.extend(serious_violations(&browser, &axe, "every course (390 px)").await);
    browser
        .screenshot(&screenshot_path("admin-courses-390"))
        .await;
    browser.resize(1280, 900).await;

    // On the course's page, who can see it: made unlisted, which its page then says.
    browser.goto(&format!("{site}/courses")).await;
    browser.follow("main .card a").await;
    let course_page = browser.url().await;
    browser
        .click("input[name=visibility][value=unlisted]")
        .await;
    browser.follow("main button[value=visibility]").await;
    assert_eq!(browser.url().await, course_page);
    assert!(
        browser
            .text("main")
            .await
            .contains("Unlisted: anyone with the address")
    );
    // Deleting asks first, on a page of its own; "Keep it" keeps it.
    browser.follow("main a[href$='/delete']").await;
    assert!(
        browser
            .text("main")
            .await
            .contains("Nothing can bring it back")
    );
    for (name, width) in [("", 1280), (" (390 px)", 390)] {
        browser.resize(width, 900).await;
        for page in ["delete a course", "course, looked after"] {
            if page == "course, looked after" {
                browser.goto(&course_page).await;
            } else {
                browser.goto(&format!("{course_page}/delete")).await;
            }
            fits_the_width(&browser, page).await;
            violations.extend(serious_violations(&browser, &axe, &format!("{page}{name}")).await);
            browser.click("#theme-toggle").await;
            violations
                .extend(serious_violations(&browser, &axe, &format!("{page}{name} (dark)")).await);
            browser.click("#theme-toggle").await;
        }
    }
    browser.resize(1280, 900).await;
    browser.goto(&format!("{course_page}/delete")).await;
    browser.follow("main a:not([href$='/delete'])").await;
    assert_eq!(browser.url().await, course_page, "kept");

    // Unit 1.1 edited: previewed, then saved, and the earlier text kept below the form.
    browser.follow("a[href$='/weeks/1/units/1']").await;
    let unit_page = browser.url().await;
    browser.follow("#learner a[href$='/edit']").await;
    browser.fill("#title", "Tides, told plainly").await;
    browser
        .fill(
            "#body",
            "## Why the sea rises\n\nThe **Moon** pulls the water towards it.",
        )
        .await;
    browser.follow("main button[value=preview]").await;
    assert!(browser.text(".preview").await.contains("Why the sea rises"));
    for (name, width) in [("", 1280), (" (390 px)", 390)] {
        browser.resize(width, 900).await;
        fits_the_width(&browser, "edit a unit").await;
        violations.extend(serious_violations(&browser, &axe, &format!("edit a unit{name}")).await);
        browser.click("#theme-toggle").await;
        violations
            .extend(serious_violations(&browser, &axe, &format!("edit a unit{name} (dark)")).await);
        browser.click("#theme-toggle").await;
    }
    browser.resize(1280, 900).await;
    browser.follow("main button[value=save]").await;
    assert_eq!(browser.url().await, unit_page);
    let unit = browser.text("main").await;
    assert!(
        unit.contains("Tides, told plainly") && unit.contains("edited by Root"),
        "{unit}"
    );
    browser.goto(&format!("{unit_page}/edit")).await;
    assert!(
        browser
            .text(".versions")
            .await
            .contains("written by the model")
    );

    // Unit 1.2 written again with a wish: the page follows the new text, then shows it stored.
    let second = unit_page.replace("/units/1", "/units/2");
    browser.goto(&format!("{second}/edit")).await;
    browser.fill("#instruction", "simpler, please").await;
    browser
        .follow("form[action$='/rewrite'] button[type=submit]")
        .await;
    let following = browser
        .eval(
            "if (document.querySelector('[data-live]')) { window.lyceumLeft = true; return true; } \
             return false;",
            json!([]),
        )
        .await;
    if following == json!(true) {
        // The stream's `done` reloads the page.
        browser
            .wait_for("!window.lyceumLeft && document.readyState !== 'loading'")
            .await;
    }
    let versions = browser.text(".versions").await;
    assert!(versions.contains("written by the model"), "{versions}");
    assert!(!browser.text("main").await.contains("The model is writing"));

    // The admin leaves: typing the email again deletes the account and signs this browser out.
    browser.goto(&format!("{site}/account")).await;
    browser.fill("#confirm-email", "root@example.org").await;
    browser
        .eval("window.confirm = () => true;", json!([]))
        .await;
    browser
        .follow("form[action='/account/delete'] button.danger")
        .await;
    assert!(
        browser
            .text("main")
            .await
            .contains("Your account is deleted")
    );
    violations.extend(serious_violations(&browser, &axe, "account deleted").await);
    browser.click("#theme-toggle").await;
    violations.extend(serious_violations(&browser, &axe, "account deleted (dark)").await);
    browser.click("#theme-toggle").await;
    browser.resize(390, 844).await;
    fits_the_width(&browser, "account deleted").await;
    violations.extend(serious_violations(&browser, &axe, "account deleted (390 px)").await);
    browser.goto(&format!("{site}/account")).await;
    assert!(browser.url().await.ends_with("/account/sign-in"));
    browser.close().await;
    no_violations(&violations);
}

/// Signs Ada up with a password on the sign-up page, which leaves her signed in.
async fn sign_up_ada(browser: &Browser, site: &str) {
    browser.goto(&format!("{site}/account/sign-up")).await;
    browser.fill("#name", "Ada").await;
    browser.fill("#email", "ada@example.org").await;
    browser
        .fill("#password", "copper lantern orbit mossy")
        .await;
    browser
        .follow("main form[action='/account/sign-up'] button[type=submit]")
        .await;
}

/// Chooses, in the unit page's quiz, option `choice(question)` of every question (numbered from 1).
async fn choose(browser: &Browser, choices: &[u64]) {
    for (index, choice) in choices.iter().enumerate() {
        browser
            .click(&format!("input[name=q{}][value=\"{choice}\"]", index + 1))
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_takes_a_quiz_then_signs_in_starts_the_course_and_sees_progress_move_in_chromium()
{
    let axe = axe_source();
    let dir = tempfile::tempdir().unwrap();
    let model = ScriptedModel::start().await;
    let env = scripted_env(&model);
    generate_tides(dir.path(), &env);
    let (_served, address) = spawn_serve(dir.path(), &env).await;
    let site = format!("http://{address}");
    let browser = Browser::start(1280, 900).await;
    let mut violations = Vec::new();

    browser.goto(&format!("{site}/courses")).await;
    browser.follow("main a[href^='/courses/']").await;
    let course = browser.url().await;
    browser.follow("a[href$='/weeks/1/units/1']").await;
    let questions = browser
        .eval(
            "return document.querySelectorAll('.quiz fieldset').length;",
            json!([]),
        )
        .await
        .as_u64()
        .unwrap();
    assert!(questions >= 3, "the unit page has its quiz");
    violations.extend(serious_violations(&browser, &axe, "unit with its quiz").await);

    // Every first option: some right, some not, each with the right answer and why.
    choose(&browser, &[0].repeat(questions as usize)).await;
    browser.follow(".quiz button[type=submit]").await;
    let result = browser.text(".quiz [role=status]").await;
    assert!(result.starts_with("You got "), "{result}");
    assert!(
        result.contains(&format!(" of {questions} right.")),
        "{result}"
    );
    violations.extend(serious_violations(&browser, &axe, "quiz result").await);
    browser.click("#theme-toggle").await;
    violations.extend(serious_violations(&browser, &axe, "quiz result (dark)").await);
    browser.click("#theme-toggle").await;

    // Learn from the result: choose the answers it named, and get them all right.
    let right = browser
        .eval(
            "return [...document.querySelectorAll('.quiz fieldset')].map(set => {
               const said = set.querySelector('.outcome').textContent;
               const labels = [...set.querySelectorAll('label')];
               const chosen = labels.findIndex(l => l.querySelector('input').checked);
               if (set.querySelector('.outcome.right')) { return chosen; }
               return labels.findIndex(l => said.includes('“' + l.textContent.trim() + '”'));
             });",
            json!([]),
        )
        .await;
    let right: Vec<u64> = right
        .as_array()
        .unwrap()
        .iter()
        .map(|index| {
            index
                .as_u64()
                .expect("every right answer is one of the options")
        })
        .collect();
    choose(&browser, &right).await;
    browser.follow(".quiz button[type=submit]").await;
    let result = browser.text(".quiz [role=status]").await;
    assert!(
        result.starts_with(&format!("You got {questions} of {questions} right.")),
        "{result}"
    );

    // Signed in, the same answers move the learner's progress through the course.
    sign_up_ada(&browser, &site).await;
    browser.goto(&course).await;
    browser.follow(".learner button[type=submit]").await;
    assert!(browser.text(".learner").await.contains("0 of 2 units done"));
    browser.follow("a.continue").await;
    assert!(browser.url().await.ends_with("/weeks/1/units/1"));
    choose(&browser, &right).await;
    browser.follow(".quiz button[type=submit]").await;
    assert!(
        browser
            .text("#learner")
            .await
            .contains("Done: you passed its quiz"),
        "{}",
        browser.text("main").await
    );
    browser.goto(&course).await;
    let progress = browser.text(".learner").await;
    assert!(progress.contains("1 of 2 units done"), "{progress}");
    violations.extend(serious_violations(&browser, &axe, "course with progress").await);
    browser.click("#theme-toggle").await;
    violations.extend(serious_violations(&browser, &axe, "course with progress (dark)").await);
    browser.click("#theme-toggle").await;
    browser.follow("a.continue").await;
    assert!(browser.url().await.ends_with("/weeks/1/units/2"));
    violations.extend(serious_violations(&browser, &axe, "unit, signed in").await);
    // The home page leads back to it.
    browser.goto(&site).await;
    let mine = browser.text("main").await;
    assert!(mine.contains("Continue where you left off"), "{mine}");
    assert!(mine.contains("continue with 1.2"), "{mine}");
    violations.extend(serious_violations(&browser, &axe, "home, signed in").await);
    browser.click("#theme-toggle").await;
    violations.extend(serious_violations(&browser, &axe, "home, signed in (dark)").await);
    browser.click("#theme-toggle").await;
    browser.follow("main a[href$='/weeks/1/units/2']").await;

    browser.resize(390, 844).await;
    fits_the_width(&browser, "unit, signed in").await;
    browser.goto(&site).await;
    fits_the_width(&browser, "home, signed in").await;
    violations.extend(serious_violations(&browser, &axe, "home, signed in (390 px)").await);
    browser.goto(&course).await;
    fits_the_width(&browser, "course with progress").await;
    violations.extend(serious_violations(&browser, &axe, "course with progress (390 px)").await);
    browser
        .screenshot(&screenshot_path("course-progress-390"))
        .await;
    browser.follow("a.continue").await;
    choose(&browser, &[0].repeat(questions as usize)).await;
    browser.follow(".quiz button[type=submit]").await;
    fits_the_width(&browser, "quiz result").await;
    violations.extend(serious_violations(&browser, &axe, "quiz result (390 px)").await);
    browser
        .eval(
            "document.getElementById('quiz').scrollIntoView();",
            json!([]),
        )
        .await;
    browser.screenshot(&screenshot_path("quiz-390")).await;
    browser.close().await;
    no_violations(&violations);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_generates_edits_and_reads_a_course_in_chromium() {
    let axe = axe_source();
    let dir = tempfile::tempdir().unwrap();
    let model = ScriptedModel::start().await;
    // Week 2's units are held back, so the outline is seen arriving; unit 1.1 is held mid-answer.
    model.script("outline week 2", Action::Hold);
    model.script("unit 1.1", Action::Hold);
    let (_served, address) = spawn_serve(dir.path(), &scripted_env(&model)).await;
    let site = format!("http://{address}");
    let browser = Browser::start(1280, 900).await;
    let mut violations = Vec::new();

    // Home: the form.
    browser.goto(&site).await;
    browser
        .wait_for("!document.getElementById('theme-toggle').hidden")
        .await;
    violations.extend(serious_violations(&browser, &axe, "home").await);
    browser.screenshot(&screenshot_path("home-1280")).await;
    browser
        .fill("#description", "How bridges carry their loads")
        .await;
    browser.fill("#weeks", "2").await;
    browser.fill("#units_per_week", "2").await;
    browser.follow("form.new-course button.primary").await;

    // The outline arrives while it is written: week 1's units are shown before week 2's are asked.
    assert!(
        browser.url().await.contains("/drafts/"),
        "{}",
        browser.url().await
    );
    assert_eq!(model.held().await, "outline week 2");
    browser
        .wait_for("document.getElementById('outline').textContent.includes('Depth study 1.2')")
        .await;
    let partial = browser.text("#outline").await;
    assert!(
        partial.contains("A course on How bridges carry their loads"),
        "{partial}"
    );
    assert!(
        !partial.contains("Depth study 2.1"),
        "week 2 is not written yet: {partial}"
    );
    assert!(
        browser
            .text("#draft-status")
            .await
            .contains("being written")
    );
    violations.extend(serious_violations(&browser, &axe, "new course (drafting)").await);
    browser.screenshot(&screenshot_path("draft-1280")).await;
    model.release();

    // The page becomes the editor: rename unit 1.2 and create the course.
    browser
        .wait_for("document.querySelector('form.edit-outline')")
        .await;
    violations.extend(serious_violations(&browser, &axe, "new course (editor)").await);
    browser.screenshot(&screenshot_path("editor-1280")).await;
    browser.fill("#unit-1-2", "Arches and their thrust").await;
    browser.follow("form.edit-outline button.primary").await;
    let course_url = browser.url().await;
    assert!(course_url.contains("/courses/"), "{course_url}");
    let syllabus = browser.text(".course .syllabus").await;
    assert!(syllabus.contains("Arches and their thrust"), "{syllabus}");
    assert!(!syllabus.contains("Depth study 1.2"), "{syllabus}");
    violations.extend(serious_violations(&browser, &axe, "course").await);
    browser.screenshot(&screenshot_path("course-1280")).await;

    // The course page follows the worker: unit 1.1 shows as being written once it is.
    assert_eq!(model.held().await, "unit 1.1");
    browser
        .wait_for("document.querySelector('.course .syllabus li.unit.writing a[href$=\"/weeks/1/units/1\"]')")
        .await;

    // Unit 1.1 while it is written: the first words, then the whole stored article.
    browser
        .follow(".course .syllabus a[href$='/weeks/1/units/1']")
        .await;
    browser
        .wait_for("document.querySelector('#article[data-live]').textContent.includes('This unit')")
        .await;
    let first = browser.text("#article").await;
    assert!(
        !first.contains("Key takeaways"),
        "only the first words are written: {first}"
    );
    browser
        .screenshot(&screenshot_path("unit-writing-1280"))
        .await;
    model.release();
    browser
        .wait_for("!document.querySelector('[data-live]') && document.querySelector('#article h2')")
        .await;
    let article = browser.text("#article").await;
    assert!(article.contains("Key takeaways"), "{article}");
    assert!(
        article.len() > first.len() * 4,
        "{first:?} grew into {article:?}"
    );
    assert!(browser.text("h1").await.contains("Depth study 1.1"));
    violations.extend(serious_violations(&browser, &axe, "unit").await);
    browser.screenshot(&screenshot_path("unit-1280")).await;

    // Next up leads to the renamed unit.
    let next = browser.text("a[rel=next]").await;
    assert_eq!(next, "Next up: Arches and their thrust");
    browser.follow("a[rel=next]").await;
    assert!(browser.url().await.ends_with("/weeks/1/units/2"));
    assert!(browser.text("h1").await.contains("Arches and their thrust"));

    // The week, the catalog and About.
    browser.follow(".crumbs a[href$='/weeks/1']").await;
    assert!(browser.text("h1").await.contains("Stage 1 foundations"));
    violations.extend(serious_violations(&browser, &axe, "module").await);
    browser.screenshot(&screenshot_path("module-1280")).await;
    browser.follow("header.site a[href='/courses']").await;
    assert!(
        browser
            .text("main")
            .await
            .contains("A course on How bridges carry their loads")
    );
    violations.extend(serious_violations(&browser, &axe, "catalog").await);
    browser.screenshot(&screenshot_path("catalog-1280")).await;
    // By subject: the model chose one with the outline, and its page lists the course.
    browser.follow("header.site a[href='/categories']").await;
    violations.extend(serious_violations(&browser, &axe, "subjects").await);
    browser.follow(".subjects a").await;
    assert!(
        browser
            .text("main")
            .await
            .contains("A course on How bridges carry their loads")
    );
    violations.extend(serious_violations(&browser, &axe, "one subject").await);
    browser.follow("header.site a[href='/about']").await;
    violations.extend(serious_violations(&browser, &axe, "about").await);
    // Ctrl-K opens the search palette: results as one types, Escape closes it and the focus goes
    // back; the header's Search button opens it too, and Enter opens the chosen result.
    let palette_open = "document.getElementById('palette').open";
    browser.press(&[CONTROL, "k"]).await;
    browser
        .wait_for(&format!(
            "{palette_open} && document.activeElement.id === 'palette-input'"
        ))
        .await;
    browser.fill("#palette-input", "arches thrust").await;
    let options = "#palette-results [role=option]";
    browser
        .wait_for(&format!("document.querySelector('{options}') !== null"))
        .await;
    assert!(
        browser
            .text(&format!("{options}[aria-selected=true]"))
            .await
            .contains("Arches and their thrust"),
        "{}",
        browser.text("#palette-results").await
    );
    assert_eq!(
        browser
            .eval(
                "return document.getElementById('palette-input').getAttribute('aria-activedescendant');",
                json!([])
            )
            .await,
        json!("palette-option-0")
    );
    violations.extend(serious_violations(&browser, &axe, "search palette").await);
    browser.press(&[ESCAPE]).await;
    browser.wait_for(&format!("!{palette_open}")).await;
    browser.click("#search-open").await;
    browser.wait_for(palette_open).await;
    browser.fill("#palette-input", "foundation").await;
    browser
        .wait_for(&format!(
            "document.querySelectorAll('{options}').length > 1"
        ))
        .await;
    let selected = "return [...document.querySelectorAll(arguments[0])]\
                    .findIndex(o => o.getAttribute('aria-selected') === 'true');";
    browser.press(&[ARROW_DOWN]).await;
    let chosen = browser.eval(selected, json!([options])).await;
    assert_eq!(chosen, json!(1), "the down arrow chooses the next result");
    let index = chosen.as_u64().expect("a chosen result") as usize;
    let title = browser
        .text(&format!("#palette-option-{index} .palette-title"))
        .await;
    browser.press_to_follow(&[ENTER]).await;
    assert!(
        browser.text("h1").await.contains(&title),
        "Enter opens {title:?}: {}",
        browser.url().await
    );
    // Without the palette, the results page: the course is found, its words marked.
    browser.goto(&format!("{site}/search")).await;
    browser.fill("#search-q", "bridges loads").await;
    browser
        .follow("form[role=search] button[type=submit]")
        .await;
    assert!(browser.url().await.contains("/search?q=bridges+loads"));
    assert!(
        browser
            .text("#found-courses + ol")
            .await
            .contains("A course on How bridges carry their loads"),
        "{}",
        browser.text("main").await
    );
    violations.extend(serious_violations(&browser, &axe, "search results").await);

    // The theme: the system's (light here) until toggled, then dark on every page, after reloads too.
    let background = "return getComputedStyle(document.body).backgroundColor;";
    let light = browser.eval(background, json!([])).await;
    assert_eq!(browser.text("#theme-toggle").await, "Dark theme");
    browser.click("#theme-toggle").await;
    let dark = browser.eval(background, json!([])).await;
    assert_ne!(light, dark, "the background changes with the theme");
    assert_eq!(browser.text("#theme-toggle").await, "Light theme");
    browser.goto(&course_url).await;
    assert_eq!(browser.eval(background, json!([])).await, dark);
    violations.extend(serious_violations(&browser, &axe, "course (dark)").await);
    browser
        .screenshot(&screenshot_path("course-dark-1280"))
        .await;
    browser.goto(&format!("{course_url}/weeks/1/units/1")).await;
    violations.extend(serious_violations(&browser, &axe, "unit (dark)").await);
    browser.goto(&format!("{site}/search?q=bridges")).await;
    violations.extend(serious_violations(&browser, &axe, "search results (dark)").await);
    browser.click("#theme-toggle").await;
    assert_eq!(browser.eval(background, json!([])).await, light);

    // A phone, 390 px wide: nothing scrolls sideways, and the syllabus folds away above the article.
    browser.resize(390, 844).await;
    let unit_url = format!("{course_url}/weeks/1/units/1");
    for (name, url) in [
        ("home", site.clone()),
        ("course", course_url.clone()),
        ("module", format!("{course_url}/weeks/1")),
        ("unit", unit_url.clone()),
        ("catalog", format!("{site}/courses")),
        ("about", format!("{site}/about")),
        ("search", format!("{site}/search?q=bridges")),
    ] {
        browser.goto(&url).await;
        fits_the_width(&browser, name).await;
        browser
            .screenshot(&screenshot_path(&format!("{name}-390")))
            .await;
    }
    violations.extend(serious_violations(&browser, &axe, "about (390 px)").await);
    browser.goto(&unit_url).await;
    let folded = browser
        .eval(
            "const s = document.querySelector('.sidebar');
             return [s.open, s.getBoundingClientRect().top < document.getElementById('article').getBoundingClientRect().top];",
            json!([]),
        )
        .await;
    assert_eq!(folded, json!([false, true]), "[open, above the article]");
    browser.click(".sidebar summary").await;
    browser.follow(".sidebar a[href$='/weeks/1/units/2']").await;
    assert!(browser.text("h1").await.contains("Arches and their thrust"));
    fits_the_width(&browser, "unit 1.2").await;
    violations.extend(serious_violations(&browser, &axe, "unit (390 px)").await);

    browser.close().await;
    no_violations(&violations);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learner_s_done_marks_stay_while_the_course_page_follows_the_writing_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let model = ScriptedModel::start().await;
    // Unit 1.2 is held mid-answer, so the course is still being written while the learner reads it.
    model.script("unit 1.2", Action::Hold);
    let (_served, address) = spawn_serve(dir.path(), &scripted_env(&model)).await;
    let site = format!("http://{address}");
    let browser = Browser::start(1280, 900).await;

    sign_up_ada(&browser, &site).await;
    browser.goto(&site).await;
    browser
        .fill("#description", "How bridges carry their loads")
        .await;
    browser.fill("#weeks", "1").await;
    browser.fill("#units_per_week", "2").await;
    browser.follow("form.new-course button.primary").await;
    browser
        .wait_for("document.querySelector('form.edit-outline')")
        .await;
    browser.follow("form.edit-outline button.primary").await;
    let course = browser.url().await;
    let first = "a[href$=\"/weeks/1/units/1\"]";
    browser
        .wait_for(&format!(
            "document.querySelector('.course .syllabus li.unit.ready {first}')"
        ))
        .await;

    // Started, and unit 1.1 marked done, while unit 1.2 is still being written.
    browser.follow(".learner button[type=submit]").await;
    browser.goto(&format!("{course}/weeks/1/units/1")).await;
    browser.follow("#learner button[value=done]").await;
    browser.goto(&course).await;
    assert_eq!(model.held().await, "unit 1.2");
    let marked = "document.querySelectorAll('.course .syllabus .done').length";
    browser.wait_for(&format!("{marked} === 1")).await;

    // Unit 1.2 is written: the live syllabus replaces itself, and 1.1 is still marked done.
    model.release();
    browser
        .wait_for("document.querySelector('.course .syllabus li.unit.ready a[href$=\"/weeks/1/units/2\"]')")
        .await;
    let marks = browser
        .eval(
            "return [...document.querySelectorAll('.course .syllabus .done')]
               .map(mark => mark.parentElement.querySelector('a').getAttribute('href'));",
            json!([]),
        )
        .await;
    let marks = marks.as_array().unwrap();
    assert_eq!(marks.len(), 1, "{marks:?}");
    assert!(
        marks[0].as_str().unwrap().ends_with("/weeks/1/units/1"),
        "{marks:?}"
    );
    browser.close().await;
}

/// How many messages of `selector` the tutor's conversation shows.
async fn chat_count(browser: &Browser, selector: &str) -> u64 {
    browser
        .eval(
            "return document.querySelectorAll('#chat-log ' + arguments[0]).length;",
            json!([selector]),
        )
        .await
        .as_u64()
        .unwrap()
}

/// Presses the tutor's button `action` ("send" sends the box) and waits until a new reply of `kind`
/// is shown and the form is free again.
async fn ask_tutor(browser: &Browser, action: &str, kind: &str) {
    let before = chat_count(browser, &format!(".msg.by-tutor[data-kind={kind}]")).await;
    browser
        .click(&format!("#chat-form button[value={action}]"))
        .await;
    browser
        .wait_for(&format!(
            "(document.querySelectorAll('#chat-log .msg.by-tutor[data-kind={kind}]').length > {before} \
              || !document.getElementById('chat-failed').hidden) \
             && !document.getElementById('chat-form').hasAttribute('aria-busy')"
        ))
        .await;
    let now = chat_count(browser, &format!(".msg.by-tutor[data-kind={kind}]")).await;
    assert!(now > before, "{}", browser.text("#tutor").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learner_is_tested_by_the_tutor_and_finds_the_conversation_again_in_chromium() {
    let axe = axe_source();
    let dir = tempfile::tempdir().unwrap();
    let model = ScriptedModel::start().await;
    let env = scripted_env(&model);
    generate_tides(dir.path(), &env);
    let (_served, address) = spawn_serve(dir.path(), &env).await;
    let site = format!("http://{address}");
    let browser = Browser::start(1280, 900).await;
    let mut violations = Vec::new();

    // Signed out, the panel asks to sign in.
    browser.goto(&format!("{site}/courses")).await;
    browser.follow("main a[href^='/courses/']").await;
    let course = browser.url().await;
    browser.follow("a[href$='/weeks/1/units/1']").await;
    let unit = browser.url().await;
    assert!(browser.text("#tutor").await.contains("Sign in to chat"));

    sign_up_ada(&browser, &site).await;
    browser.goto(&unit).await;
    let panel = browser.text("#tutor").await;
    for button in ["Test me", "Practical exercise", "Further reading"] {
        assert!(panel.contains(button), "{panel}");
    }

    // Test me: a question, answered in the box, graded with the score; the reply came without
    // leaving the page.
    browser
        .eval("window.stayedOnThePage = true;", json!([]))
        .await;
    ask_tutor(&browser, "test", "question").await;
    let question = browser.text("#chat-log .msg.by-tutor:last-child").await;
    assert!(question.contains("Question 1 of 5."), "{question}");
    assert_eq!(browser.text("#chat-label").await, "Your answer");
    browser
        .fill("#chat-text", "It is Right answer 1, I believe")
        .await;
    ask_tutor(&browser, "send", "grade").await;
    let grade = browser
        .text("#chat-log .msg.by-tutor[data-kind=grade]")
        .await;
    assert!(grade.contains("Right."), "{grade}");
    assert!(grade.contains("Score: 1 of 1 right."), "{grade}");
    assert_eq!(
        browser.text("#chat-text").await,
        "",
        "the sent answer left the box"
    );
    assert_eq!(
        browser
            .eval("return window.stayedOnThePage === true;", json!([]))
            .await,
        json!(true)
    );

    // A practical exercise, its solution folded until asked for.
    ask_tutor(&browser, "exercise", "exercise").await;
    let folded = browser
        .eval(
            "const d = document.querySelector('#chat-log .msg[data-kind=exercise] details'); \
             return [d.open, d.querySelector('summary').textContent];",
            json!([]),
        )
        .await;
    assert_eq!(folded, json!([false, "Show solution"]));
    browser
        .click("#chat-log .msg[data-kind=exercise] summary")
        .await;

    // Further reading: links only to searches Lyceum built.
    ask_tutor(&browser, "reading", "reading").await;
    let hosts = browser
        .eval(
            "return [...document.querySelectorAll('#chat-log a')].map(a => new URL(a.href).host);",
            json!([]),
        )
        .await;
    let hosts: Vec<&str> = hosts
        .as_array()
        .unwrap()
        .iter()
        .map(|host| host.as_str().unwrap())
        .collect();
    assert!(!hosts.is_empty());
    assert!(
        hosts
            .iter()
            .all(|host| host.ends_with(".wikipedia.org") || *host == "openlibrary.org"),
        "{hosts:?}"
    );
    violations.extend(serious_violations(&browser, &axe, "unit with the tutor").await);
    browser.click("#theme-toggle").await;
    violations.extend(serious_violations(&browser, &axe, "unit with the tutor (dark)").await);
    browser.screenshot(&screenshot_path("tutor-dark")).await;
    browser.click("#theme-toggle").await;

    // Back later: the whole conversation is there.
    let messages = chat_count(&browser, ".msg").await;
    assert!(messages >= 8, "{messages}");
    browser.goto(&course).await;
    browser.goto(&unit).await;
    assert_eq!(chat_count(&browser, ".msg").await, messages);
    assert!(
        browser
            .text("#chat-log")
            .await
            .contains("Right answer 1, I believe")
    );

    browser.resize(390, 844).await;
    fits_the_width(&browser, "unit with the tutor").await;
    violations.extend(serious_violations(&browser, &axe, "unit with the tutor (390 px)").await);
    browser
        .eval(
            "document.getElementById('tutor').scrollIntoView();",
            json!([]),
        )
        .await;
    browser.screenshot(&screenshot_path("tutor-390")).await;
    browser.close().await;
    no_violations(&violations);
}
