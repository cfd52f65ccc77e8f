// Lyceum's script. The light/dark theme follows the system until the person chooses, then remembers
// the choice in this browser; loaded in <head> so the page never flashes the wrong theme. A unit being
// written shows its text as it grows, from the server's live stream of sanitised HTML, then reloads
// into the stored version; a course page keeps its progress and syllabus current the same way. On
// narrow screens the syllabus starts folded.
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
      // Rendered on the server from the stored titles, escaped like the page itself.
      progress.innerHTML = event.data;
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

  document.addEventListener("DOMContentLoaded", function () {
    // On a phone the syllabus sits above the article: fold it, so the article comes first.
    var sidebar = document.querySelector("details.sidebar");
    if (sidebar && window.matchMedia("(max-width: 56rem)").matches) { sidebar.open = false; }
    var article = document.querySelector("[data-live]");
    if (article && window.EventSource) { follow(article); }
    var progress = document.querySelector("[data-course-live]");
    if (progress && window.EventSource) { followCourse(progress); }
    var outline = document.querySelector("[data-draft-live]");
    if (outline && window.EventSource) { followDraft(outline); }
    var button = document.getElementById("theme-toggle");
    if (!button) { return; }
    button.hidden = false;
    label(button);
    button.addEventListener("click", function () {
      var next = current() === "dark" ? "light" : "dark";
      root.dataset.theme = next;
      try { localStorage.setItem("theme", next); } catch (e) { /* the choice lasts this page only */ }
      label(button);
    });
  });
})();
