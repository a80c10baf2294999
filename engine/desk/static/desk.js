// The desk's live parts, and nothing else: the pages work without it.
// - Countdowns: the server computes every deadline and says its own time (<body data-now>); the page only counts
//   down from there, so a browser whose clock is wrong still shows the server's answer.
// - The queue updates by itself: it listens to /desk/events and, on an incident event, fetches its rows again with
//   the same filters (/desk/queue-rows?...). When the stream drops it says so ("Not live: reconnecting…") and
//   reconnects by itself; after a reconnect it reads the rows afresh, since events may have been missed.
// - An approved reply's button puts the reply in its textarea (kept apart from any draft already typed).
// - A public reply is checked against the house rules as it is typed, by the server's own checker.
// - Keys on the queue: j / k move between incidents, Enter opens the one chosen; never while typing in a field.
// - Who else is here: an incident page tells the daemon it is open (POST /desk/presence: viewing when it opens and
//   every 20 s, drafting once something is typed in one of its forms, left when it goes); both pages draw who else
//   is on an incident from the stream's presence events, as _presence.html draws them.
// - On a phone the queue's rows are cards: each cell is given its column's name, which desk.css shows before it.
"use strict";

(function () {
  var serverOffset = 0; // server time minus browser time, in ms

  function syncClock(serverNow) {
    var parsed = Date.parse(serverNow || "");
    if (!isNaN(parsed)) serverOffset = parsed - Date.now();
  }

  function spell(ms) {
    var seconds = Math.floor(Math.abs(ms) / 1000);
    var days = Math.floor(seconds / 86400);
    var hours = Math.floor((seconds % 86400) / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var rest = seconds % 60;
    var parts = [];
    if (days) parts.push(days + "d");
    if (days || hours) parts.push(hours + "h");
    if (!days) parts.push(minutes + "m", rest + "s"); // seconds too: a clock visibly running is a live one
    return parts.join(" ");
  }

  function tick() {
    var now = Date.now() + serverOffset;
    var clocks = document.querySelectorAll(".countdown[data-due-at]");
    for (var i = 0; i < clocks.length; i++) {
      var clock = clocks[i];
      if (clock.dataset.label === undefined) {
        // What the server wrote before "due" names the clock ("first_response due 2026-…"): kept in front.
        var text = clock.textContent;
        var at = text.indexOf("due");
        clock.dataset.label = at > 0 ? text.slice(0, at).trim() + " " : "";
        clock.title = text.trim();
      }
      var left = Date.parse(clock.dataset.dueAt) - now;
      if (isNaN(left)) continue;
      clock.textContent = clock.dataset.label + (left >= 0 ? "due in " + spell(left) : "overdue by " + spell(left));
      clock.classList.toggle("overdue", left < 0);
    }
  }

  // --- the live queue ------------------------------------------------------------------------------------------

  function liveQueue(rows) {
    var banner = document.getElementById("live-status");
    var source = null;
    var fetching = false;
    var again = false;

    function showNotLive() {
      document.body.dataset.live = "no";
      if (!banner) return;
      banner.textContent = "Not live: reconnecting…";
      banner.hidden = false;
    }

    function showLive() {
      document.body.dataset.live = "yes"; // the stream is open: a change from now on reaches this page
      if (!banner) return;
      banner.hidden = true;
      banner.textContent = "";
    }

    function refresh() {
      if (fetching) {
        again = true; // one more fetch when this one is done: the rows then hold every change so far
        return;
      }
      fetching = true;
      fetch("/desk/queue-rows" + window.location.search, { credentials: "same-origin", cache: "no-store" })
        .then(function (answer) {
          if (answer.status === 401) {
            window.location.assign("/signin"); // the session ended (signed out, or taken off the roster)
            return null;
          }
          if (!answer.ok) return null;
          syncClock(answer.headers.get("X-Calmly-Now"));
          return answer.text();
        })
        .then(function (html) {
          if (html !== null && html !== undefined) {
            var chosen = selectedId();
            rows.innerHTML = html;
            labelCells(rows);
            choose(chosen);
            tick();
          }
        })
        .catch(showNotLive)
        .then(function () {
          fetching = false;
          if (again) {
            again = false;
            refresh();
          }
        });
    }

    function connect() {
      var opened = false;
      source = new EventSource("/desk/events");
      source.onopen = function () {
        showLive();
        if (opened || rows.dataset.reconnected) refresh();
        opened = true;
      };
      source.addEventListener("incident", refresh);
      source.addEventListener("presence", function (event) {
        var said = JSON.parse(event.data);
        var found = rows.querySelectorAll("tr.incident-row .presence-marker");
        for (var i = 0; i < found.length; i++) {
          if (found[i].closest("tr").dataset.incident === said.incident) presenceMarker(found[i], said.present);
        }
      });
      source.onerror = function () {
        showNotLive();
        rows.dataset.reconnected = "1";
        if (source.readyState === EventSource.CLOSED) {
          // The browser gave up (an answer that was not a stream): try again ourselves, a little later. Reading
          // the rows tells a page whose session ended to sign in again.
          source.close();
          refresh();
          window.setTimeout(connect, 3000);
        }
      };
    }

    window.addEventListener("pagehide", function () {
      if (source) source.close();
    });
    connect();
  }

  function labelCells(rows) {
    var names = Array.prototype.map.call(rows.closest("table").querySelectorAll("thead th"), function (name) {
      return name.textContent.trim();
    });
    Array.prototype.forEach.call(rows.querySelectorAll("tr.incident-row"), function (row) {
      Array.prototype.forEach.call(row.children, function (cell, at) {
        if (names[at]) cell.dataset.label = names[at];
      });
    });
  }

  // --- keys on the queue ---------------------------------------------------------------------------------------

  function incidentRows() {
    return Array.prototype.slice.call(document.querySelectorAll("#queue-rows tr.incident-row"));
  }

  function selectedId() {
    var row = document.querySelector("#queue-rows tr.incident-row.selected");
    return row ? row.dataset.incident : null;
  }

  function choose(id) {
    var all = incidentRows();
    for (var i = 0; i < all.length; i++) {
      var chosen = all[i].dataset.incident === id;
      all[i].classList.toggle("selected", chosen);
      if (chosen) all[i].setAttribute("aria-current", "true");
      else all[i].removeAttribute("aria-current");
    }
  }

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function keys(event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
    var all = incidentRows();
    if (!all.length) return;
    var at = all.findIndex(function (row) {
      return row.classList.contains("selected");
    });
    if (event.key === "j" || event.key === "k") {
      var next = event.key === "j" ? Math.min(at + 1, all.length - 1) : Math.max(at - 1, 0);
      choose(all[next].dataset.incident);
      var link = all[next].querySelector("a");
      if (link) link.focus(); // a focused link opens with Enter, as any link does
      event.preventDefault();
    } else if (event.key === "Enter" && at >= 0 && event.target === document.body) {
      var open = all[at].querySelector("a");
      if (open) window.location.assign(open.href);
    } else if (event.key === "t" && at >= 0) {
      var take = all[at].querySelector("form.take");
      if (take) {
        take.submit(); // the row's own Take form: its form token and the way back to this view
        event.preventDefault();
      }
    }
  }

  function takeKey(event) {
    // On an incident page, t presses "Take it" (never while typing in a field).
    if (event.key !== "t" || event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    if (typing(event.target)) return;
    var take = document.getElementById("take");
    if (take) {
      take.click();
      event.preventDefault();
    }
  }

  // --- approved replies ----------------------------------------------------------------------------------------

  function useReply(event) {
    var button = event.target.closest ? event.target.closest("button.use-reply") : null;
    if (!button) return;
    var field = document.getElementById(button.dataset.target);
    if (!field) return;
    var reply = button.dataset.reply || "";
    // A draft already typed is kept: the approved reply goes below it, for the person to choose.
    field.value = field.value.trim() ? field.value.replace(/\s+$/, "") + "\n\n" + reply : reply;
    field.dispatchEvent(new Event("input", { bubbles: true }));
    field.focus();
  }

  // --- house rules as you type ------------------------------------------------------------------------------

  // The draft goes to the server's own checker (nothing is sent or saved); its words appear under the field.
  function checkDrafts() {
    var fields = document.querySelectorAll("form.action textarea[name='public_reply']");
    Array.prototype.forEach.call(fields, function (field) {
      var form = field.form;
      var note = document.createElement("p");
      note.className = "draft-problem";
      note.id = field.id + "-problem";
      note.setAttribute("aria-live", "polite");
      field.insertAdjacentElement("afterend", note);
      field.setAttribute("aria-describedby", note.id);
      var waiting = null;
      var asked = 0;
      field.addEventListener("input", function () {
        window.clearTimeout(waiting);
        waiting = window.setTimeout(function () {
          var mine = ++asked;
          fetch(actionOf(form) + "/check", { method: "POST", body: new FormData(form), credentials: "same-origin" })
            .then(function (answer) {
              return answer.ok ? answer.json() : { problem: null };
            })
            .then(function (found) {
              if (mine !== asked) return; // an answer to an older draft
              note.textContent = found.problem || "";
              if (found.problem) field.setAttribute("aria-invalid", "true");
              else field.removeAttribute("aria-invalid");
            })
            .catch(function () {}); // checking is a help; the send is checked anyway
        }, 250);
      });
    });
  }

  // --- who else is here ---------------------------------------------------------------------------------------

  // The words and signs of _presence.html: change both together. The sign is decoration; the words say it all.
  function doing(someone) {
    if (someone.activity !== "drafting") return "is viewing this incident";
    return "is drafting" + (someone.trigger ? ": " + someone.trigger.replace(/_/g, " ") : "");
  }

  function sign(someone) {
    var mark = document.createElement("span");
    mark.setAttribute("aria-hidden", "true");
    mark.textContent = (someone.activity === "drafting" ? "\u270e" : "\ud83d\udc41") + " ";
    return mark;
  }

  function presenceLine(list, present) {
    var lines = present.map(function (someone) {
      var line = document.createElement("li");
      line.className = "presence-" + someone.activity;
      line.appendChild(sign(someone));
      line.appendChild(document.createTextNode(someone.name + " " + doing(someone)));
      return line;
    });
    var words = lines.map(function (line) { return line.textContent; }).join("");
    if (words === list.textContent) return; // unchanged: a live region redrawn the same is read out again
    list.textContent = "";
    lines.forEach(function (line) { list.appendChild(line); });
  }

  function presenceMarker(marker, present) {
    marker.textContent = "";
    present.forEach(function (someone, at) {
      if (at) marker.appendChild(document.createTextNode(", "));
      var item = document.createElement("span");
      item.className = "presence-" + someone.activity;
      item.title = someone.name + " " + doing(someone);
      item.appendChild(sign(someone));
      item.appendChild(document.createTextNode(someone.person + " " + someone.activity));
      if (someone.trigger) {
        var action = document.createElement("span");
        action.className = "visually-hidden";
        action.textContent = ": " + someone.trigger.replace(/_/g, " ");
        item.appendChild(action);
      }
      marker.appendChild(item);
    });
  }

  // A form that submits a draft for approval posts to .../actions/<trigger>/draft; its action is the trigger's.
  function actionOf(form) {
    return (form.getAttribute("action") || "").replace(/\/draft$/, "");
  }

  function triggerOf(form) {
    return actionOf(form).split("/actions/")[1] || "";
  }

  function hasDraft(form) {
    return Array.prototype.some.call(form.elements, function (field) {
      var skip = ["hidden", "checkbox", "radio", "submit", "button"].indexOf(field.type) >= 0;
      return !skip && typeof field.value === "string" && field.value.trim() !== "";
    });
  }

  // Drafting the action whose form was typed in last and still holds something, else any form that does (a
  // refused draft comes back filled in); viewing when every form is empty.
  function activityNow(typedIn) {
    var forms = Array.prototype.slice.call(document.querySelectorAll("form.action"));
    if (typedIn) forms.unshift(typedIn);
    for (var i = 0; i < forms.length; i++) {
      if (hasDraft(forms[i])) return { activity: "drafting", trigger: triggerOf(forms[i]) };
    }
    return { activity: "viewing", trigger: "" };
  }

  function presence(section) {
    var incident = section.dataset.incident;
    var list = document.getElementById("presence-list");
    var now = activityNow(null);
    // This page load's own name: the "left" it sends as it goes does not undo the next page's "viewing".
    var page = Date.now().toString(36) + Math.random().toString(36).slice(2, 10);

    function fields(activity, trigger) {
      var data = new FormData();
      data.append("csrf", section.dataset.csrf);
      data.append("incident", incident);
      data.append("activity", activity);
      data.append("trigger", trigger);
      data.append("page", page);
      return data;
    }

    function beat() {
      fetch("/desk/presence", { method: "POST", body: fields(now.activity, now.trigger), credentials: "same-origin" })
        .then(function (answer) {
          return answer.ok ? answer.json() : null;
        })
        .then(function (said) {
          if (said) presenceLine(list, said.present);
        })
        .catch(function () {}); // the next beat tries again; a draft is never lost to it
    }

    document.addEventListener("input", function (event) {
      var form = event.target.form;
      if (!form || !form.classList.contains("action")) return;
      var next = activityNow(form);
      if (next.activity === now.activity && next.trigger === now.trigger) return;
      now = next;
      beat();
    });

    function told(event) {
      var said = JSON.parse(event.data);
      if (said.incident === incident) presenceLine(list, said.present);
    }

    var source = null;
    function listen() {
      var opened = false;
      source = new EventSource("/desk/events");
      source.onopen = function () {
        if (opened) beat(); // reconnected: events may have been missed, and the beat's answer says who is here
        opened = true;
      };
      source.addEventListener("presence", told);
    }

    window.addEventListener("pagehide", function () {
      navigator.sendBeacon("/desk/presence", fields("left", ""));
      source.close();
    });
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted) return; // back from the browser's page cache, after saying it left
      listen();
      beat();
    });
    listen();
    beat();
    window.setInterval(beat, 20000);
  }

  function start() {
    syncClock(document.body.dataset.now);
    tick();
    window.setInterval(tick, 1000);
    document.addEventListener("click", useReply);
    checkDrafts();
    var here = document.querySelector("section.presence[data-incident]");
    if (here) presence(here);
    var rows = document.getElementById("queue-rows");
    if (rows) {
      document.addEventListener("keydown", keys);
      labelCells(rows);
      liveQueue(rows);
    } else {
      document.addEventListener("keydown", takeKey);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
