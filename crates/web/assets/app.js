// Lyceum's script. The light/dark theme follows the system until the person chooses, then remembers
// the choice in this browser; loaded in <head> so the page never flashes the wrong theme. A unit being
// written shows its text as it grows, from the server's live stream of sanitised HTML, then reloads
// into the stored version; a course page keeps its progress and syllabus current the same way. On
// narrow screens the syllabus starts folded. Deleting a course asks first. Passkey buttons run the
// browser's WebAuthn ceremony with the server's JSON steps. The tutor panel sends its form in the
// background and shows the reply as it is written, from the server's event stream of sanitised HTML.
// Ctrl-K or ⌘K (or the Search link) opens the search palette: results as one types, from /api/search.
(function () {
  "use strict";
  var root = document.documentElement;
  var stored = null;
  try { stored = localStorage.getItem("theme"); } catch (e) { /* storage may be blocked */ }
  if (stored === "light" || stored === "dark") { root.dataset.theme = stored; }

  function current() {
    if (root.dataset.theme) { return root.dataset.theme; }
    return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function label(button) {
    var next = current() === "dark" ? "light" : "dark";
    button.textContent = next === "dark" ? "Dark theme" : "Light theme";
    button.setAttribute("aria-label", "Switch to the " + next + " theme");
  }

  function follow(article) {
    var status = document.getElementById("live-status");
    var stream = new EventSource(article.dataset.live);
    stream.addEventListener("html", function (event) {
      // Sanitised on the server (only harmless tags and attributes), like the stored article.
      article.innerHTML = event.data;
    });
    stream.addEventListener("done", function () {
      stream.close();
      window.location.reload();
    });
    stream.addEventListener("reload", function () {
      stream.close();
      window.location.reload();
    });
    stream.addEventListener("failed", function (event) {
      stream.close();
      if (status) {
        status.textContent = "Writing this unit failed: " + event.data +
          ". Reload the page to ask for it again.";
      }
    });
  }

  // A course being written: its progress and syllabus, replaced whenever a unit starts or is written.
  function followCourse(progress) {
    var stream = new EventSource(progress.dataset.courseLive);
    stream.addEventListener("html", function (event) {
      // The stream is every reader's, so it marks nobody's units: keep this learner's marks ("done",
      // their best quiz score), as the page came with them, on the syllabus that replaces it.
      var marks = {};
      progress.querySelectorAll(".syllabus li").forEach(function (item) {
        var link = item.querySelector("a");
        var own = item.querySelectorAll(":scope > .done, :scope > .best");
        if (link && own.length) { marks[link.getAttribute("href")] = own; }
      });
      // Rendered on the server from the stored titles, escaped like the page itself.
      progress.innerHTML = event.data;
      progress.querySelectorAll(".syllabus li").forEach(function (item) {
        var link = item.querySelector("a");
        var own = link && marks[link.getAttribute("href")];
        if (!own) { return; }
        own.forEach(function (mark) {
          item.appendChild(document.createTextNode(" "));
          item.appendChild(mark);
        });
      });
    });
    stream.addEventListener("done", function () { stream.close(); });
  }

  // A draft's outline as it is written; the page reloads to offer confirming it.
  function followDraft(outline) {
    var stream = new EventSource(outline.dataset.draftLive);
    stream.addEventListener("html", function (event) {
      outline.innerHTML = event.data;
    });
    ["done", "failed"].forEach(function (name) {
      stream.addEventListener(name, function () {
        stream.close();
        window.location.reload();
      });
    });
  }

  // Reads a response's Server-Sent Events, calling `handle(name, data)` for each.
  function readEvents(response, handle) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) { return; }
        buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n");
        var end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          var block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          var name = "message";
          var data = [];
          block.split("\n").forEach(function (line) {
            if (line.indexOf("event:") === 0) { name = line.slice(6).trim(); }
            if (line.indexOf("data:") === 0) { data.push(line.slice(5).replace(/^ /, "")); }
          });
          if (data.length) { handle(name, data.join("\n")); }
        }
        return pump();
      });
    }
    return pump();
  }

  // The tutor panel: messages and buttons are sent without leaving the page, and the reply grows as
  // it is written. What the learner typed stays in the box until the server has stored it.
  function tutor(form) {
    var log = document.getElementById("chat-log");
    var box = document.getElementById("chat-text");
    var label = document.getElementById("chat-label");
    var failed = document.getElementById("chat-failed");
    var failedText = document.getElementById("chat-failed-text");
    var buttons = form.querySelectorAll("button");
    var busy = false;
    var warmed = false;

    // Preparing the tutor (its prompt decoded while the learner writes) makes the reply start sooner.
    function warm() {
      if (warmed) { return; }
      warmed = true;
      var body = new URLSearchParams();
      body.append("csrf", form.elements.csrf.value);
      fetch(form.dataset.warm, { method: "POST", credentials: "same-origin", body: body }).catch(function () {});
    }
    box.addEventListener("focus", warm);
    form.querySelectorAll(".chat-buttons button").forEach(function (button) {
      button.addEventListener("pointerenter", warm);
      button.addEventListener("focus", warm);
    });

    function bubble(role, kind) {
      var item = document.createElement("li");
      item.className = "msg by-" + role;
      item.dataset.kind = kind;
      var who = document.createElement("p");
      who.className = "who";
      who.textContent = role === "learner" ? "You" : "Tutor";
      var inner = document.createElement("div");
      inner.className = "bubble";
      item.appendChild(who);
      item.appendChild(inner);
      return item;
    }

    function show(item) {
      if (item.parentNode !== log) { log.appendChild(item); }
      item.scrollIntoView({ block: "nearest" });
    }

    function fail(why) {
      failedText.textContent = why;
      failed.hidden = false;
    }

    function settle(state) {
      form.querySelector("[data-test=start]").hidden = state.test_open;
      form.querySelector("[data-test=stop]").hidden = !state.test_open;
      label.textContent = state.awaiting_answer ? "Your answer" : "Ask the tutor";
      if (!state.unanswered) { failed.hidden = true; }
    }

    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit(form.querySelector("button[value=send]"));
      }
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var action = event.submitter ? event.submitter.value : "send";
      if (busy || (action === "send" && !box.value.trim())) { return; }
      var body = new URLSearchParams();
      body.append("csrf", form.elements.csrf.value);
      body.append("action", action);
      if (action === "send") { body.append("text", box.value); }
      busy = true;
      form.setAttribute("aria-busy", "true");
      buttons.forEach(function (button) { button.disabled = true; });
      failed.hidden = true;
      var writing = null;
      var ended = false;
      // Not `form.action`: the buttons named "action" shadow it.
      fetch(form.getAttribute("action"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Accept": "text/event-stream" },
        body: body
      }).then(function (response) {
        if (!response.ok) {
          return response.json().catch(function () { return {}; }).then(function (answer) {
            throw new Error(answer.error || "the server answered " + response.status);
          });
        }
        return readEvents(response, function (name, data) {
          var said = JSON.parse(data);
          if (name === "message") {
            var item = said.role === "tutor" && writing ? writing : bubble(said.role, said.kind);
            item.classList.remove("writing");
            item.dataset.kind = said.kind;
            // Sanitised on the server, like the article; a learner's words come escaped.
            item.querySelector(".bubble").innerHTML = said.html;
            show(item);
            if (said.role === "learner") { box.value = ""; } else { writing = null; }
          } else if (name === "partial") {
            if (!writing) {
              writing = bubble("tutor", "reply");
              writing.classList.add("writing");
            }
            writing.querySelector(".bubble").innerHTML = said.html;
            show(writing);
          } else if (name === "failed") {
            if (writing) { log.removeChild(writing); writing = null; }
            fail("The tutor could not answer: " + said.error + ".");
          } else if (name === "end") {
            ended = true;
            settle(said);
          }
        }).then(function () {
          if (!ended) { throw new Error("the connection was lost before the reply ended"); }
        });
      }).catch(function (problem) {
        if (writing && writing.parentNode) { log.removeChild(writing); }
        fail("Not sent: " + problem.message + ". What you typed is still in the box.");
      }).then(function () {
        busy = false;
        form.removeAttribute("aria-busy");
        buttons.forEach(function (button) { button.disabled = false; });
      });
    });
  }

  // Bytes as WebAuthn's JSON writes them (base64url, unpadded), both ways.
  function bytesOf(text) {
    var binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function textOf(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // POSTs JSON; the answer, or an Error with what the server said was wrong.
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (response.ok) { return answer; }
        var problems = (answer.problems || []).map(function (problem) { return problem.message; });
        throw new Error(problems.length ? problems.join("; ") : (answer.error ||
          "the server could not be reached (" + response.status + "); please try again"));
      });
    });
  }

  // What the browser made or signed, as the server reads it.
  function answerOf(credential) {
    var response = credential.response;
    var fields = { clientDataJSON: textOf(response.clientDataJSON) };
    if (response.attestationObject) {
      fields.attestationObject = textOf(response.attestationObject);
    } else {
      fields.authenticatorData = textOf(response.authenticatorData);
      fields.signature = textOf(response.signature);
      fields.userHandle = response.userHandle ? textOf(response.userHandle) : null;
    }
    return {
      id: credential.id,
      rawId: textOf(credential.rawId),
      type: credential.type,
      extensions: credential.getClientExtensionResults(),
      response: fields
    };
  }

  // A passkey button: "sign-up", "sign-in" or "add" (its data-passkey). Start, let the browser make or
  // use a passkey, finish, then go where the server says.
  function passkey(button, error) {
    var kind = button.dataset.passkey;
    var steps = "/account/passkeys/" + kind;
    var start = { token: button.dataset.token };
    if (kind === "sign-up") {
      start.name = document.getElementById("name").value;
      start.email = document.getElementById("email").value;
    }
    button.disabled = true;
    error.hidden = true;
    post(steps + "/start", start).then(function (challenge) {
      var options = challenge.options.publicKey;
      options.challenge = bytesOf(options.challenge);
      var asked;
      if (kind === "sign-in") {
        (options.allowCredentials || []).forEach(function (key) { key.id = bytesOf(key.id); });
        asked = navigator.credentials.get({ publicKey: options });
      } else {
        options.user.id = bytesOf(options.user.id);
        (options.excludeCredentials || []).forEach(function (key) { key.id = bytesOf(key.id); });
        asked = navigator.credentials.create({ publicKey: options });
      }
      return asked.then(function (credential) {
        return post(steps + "/finish", {
          token: start.token,
          ceremony: challenge.ceremony,
          credential: answerOf(credential)
        });
      });
    }).then(function (done) {
      window.location.assign(done.location);
    }).catch(function (problem) {
      button.disabled = false;
      error.textContent = problem.name === "NotAllowedError"
        ? "No passkey was used: the request was cancelled or timed out. Try again when ready."
        : problem.name === "InvalidStateError"
          ? "This device has a passkey for this account already."
          : "That did not work: " + problem.message + ".";
      error.hidden = false;
    });
  }


  // The search palette: a modal dialog with a combobox and its listbox of results. Typing asks
  // /api/search after a pause (an older answer never replaces a newer one), arrows choose, Enter
  // opens, Escape closes (the dialog's own), and focus goes back where it was.
  function palette(dialog, opener) {
    var input = dialog.querySelector("#palette-input");
    var list = dialog.querySelector("#palette-results");
    var status = dialog.querySelector("#palette-status");
    var results = [];
    var active = -1;
    var timer = null;
    var asked = 0;
    var returnTo = null;

    function choose(index) {
      active = index;
      list.querySelectorAll("[role=option]").forEach(function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0) {
        var option = document.getElementById("palette-option-" + index);
        input.setAttribute("aria-activedescendant", option.id);
        option.scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function show(answer, query) {
      results = answer.courses.map(function (hit) {
        return { url: hit.url, title: hit.title, context: "Course", snippet: hit.snippet_html };
      }).concat(answer.units.map(function (hit) {
        return {
          url: hit.url, title: hit.title,
          context: hit.course_title + " · week " + hit.week + ", unit " + hit.unit,
          snippet: hit.snippet_html
        };
      }));
      list.textContent = "";
      results.forEach(function (result, i) {
        var option = document.createElement("li");
        option.id = "palette-option-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        var title = document.createElement("span");
        title.className = "palette-title";
        title.textContent = result.title;
        var context = document.createElement("span");
        context.className = "palette-context";
        context.textContent = result.context;
        var snippet = document.createElement("span");
        snippet.className = "palette-snippet";
        // Escaped text with only Lyceum's <mark> elements (see /api/search).
        snippet.innerHTML = result.snippet;
        option.append(title, context, snippet);
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });
        option.addEventListener("click", function () { window.location.assign(result.url); });
        list.appendChild(option);
      });
      input.setAttribute("aria-expanded", results.length ? "true" : "false");
      status.textContent = query === "" ? "" : results.length === 0
        ? "Nothing found for \u201c" + query + "\u201d."
        : results.length + (results.length === 1 ? " result." : " results.");
      choose(results.length ? 0 : -1);
    }

    function ask() {
      var query = input.value.trim();
      var mine = ++asked;
      if (query === "") { show({ courses: [], units: [] }, ""); return; }
      fetch("/api/search?q=" + encodeURIComponent(query), { headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("search answered " + response.status); }
          return response.json();
        })
        .then(function (answer) { if (mine === asked) { show(answer, query); } })
        .catch(function () {
          if (mine === asked) { status.textContent = "Search failed; press Enter for the results page."; }
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, 150);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && results.length) {
        event.preventDefault();
        choose((active + 1) % results.length);
      } else if (event.key === "ArrowUp" && results.length) {
        event.preventDefault();
        choose(active <= 0 ? results.length - 1 : active - 1);
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        window.location.assign(results[active].url);
      }
      // Enter with nothing chosen sends the form: the results page.
    });
    dialog.addEventListener("close", function () {
      if (returnTo && returnTo.focus) { returnTo.focus(); }
    });
    dialog.addEventListener("click", function (event) {
      // A click on the backdrop (the dialog element itself, outside its box) closes it.
      if (event.target === dialog) { dialog.close(); }
    });

    function open() {
      if (dialog.open) { input.select(); return; }
      returnTo = document.activeElement;
      dialog.showModal();
      input.focus();
      input.select();
    }
    opener.setAttribute("aria-haspopup", "dialog");
    opener.addEventListener("click", function (event) {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) { return; }
      event.preventDefault();
      open();
    });
    document.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "k") {
        event.preventDefault();
        open();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var searchDialog = document.getElementById("palette");
    var searchOpener = document.getElementById("search-open");
    if (searchDialog && searchOpener && searchDialog.showModal && window.fetch) {
      palette(searchDialog, searchOpener);
    }
    // Passkey buttons show only where the browser can use passkeys.
    var box = document.querySelector("[data-passkey-box]");
    if (box && window.PublicKeyCredential && window.fetch) {
      box.hidden = false;
      var button = box.querySelector("[data-passkey]");
      var error = box.querySelector("#passkey-error");
      button.addEventListener("click", function () { passkey(button, error); });
    }
    // On a phone the syllabus sits above the article: fold it, so the article comes first.
    var sidebar = document.querySelector("details.sidebar");
    if (sidebar && window.matchMedia("(max-width: 56rem)").matches) { sidebar.open = false; }
    var article = document.querySelector("[data-live]");
    if (article && window.EventSource) { follow(article); }
    var progress = document.querySelector("[data-course-live]");
    if (progress && window.EventSource) { followCourse(progress); }
    var outline = document.querySelector("[data-draft-live]");
    if (outline && window.EventSource) { followDraft(outline); }
    // The email form's time zone starts as the browser's own, which the reader can still change.
    document.querySelectorAll("[data-time-zone]").forEach(function (zone) {
      var own = window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (own && zone.value === "UTC") { zone.value = own; }
    });
    var chatForm = document.getElementById("chat-form");
    if (chatForm && window.fetch && window.ReadableStream && window.TextDecoder) { tutor(chatForm); }
    // A button that deletes something asks first (its data-confirm is the question).
    document.addEventListener("submit", function (event) {
      var asking = event.submitter && event.submitter.dataset.confirm;
      if (asking && !window.confirm(asking)) { event.preventDefault(); }
    });
    var toggle = document.getElementById("theme-toggle");
    if (!toggle) { return; }
    toggle.hidden = false;
    label(toggle);
    toggle.addEventListener("click", function () {
      var next = current() === "dark" ? "light" : "dark";
      root.dataset.theme = next;
      try { localStorage.setItem("theme", next); } catch (e) { /* the choice lasts this page only */ }
      label(toggle);
    });
  });
})();
