/* 支部通 workbench: the only script of the pages besides Chart.js. Page data
   comes from <script type="application/json"> blocks (never executed) and
   data- attributes; nothing inline, so the CSP can forbid inline script. */
(function () {
  "use strict";

  // Buttons that change something ask first: <form data-confirm="确认退回？">
  document.addEventListener("submit", function (event) {
    var form = event.target, question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });

  function pageData(id) {
    var block = document.getElementById(id);
    return block ? JSON.parse(block.textContent) : null;
  }

  var RED = "#a61b1b", GOLD = "#d48806", GREY = "#c9ced6";
  var narrow = window.matchMedia && window.matchMedia("(max-width: 700px)").matches;

  function percentAxis() {
    return { min: 0, max: 100, ticks: { callback: function (v) { return v + "%"; } } };
  }

  function tooltip(rows) {
    return { callbacks: { label: function (ctx) {
      var r = rows[ctx.dataIndex];
      return r.rate === null ? "无任务" : r.rate + "%（" + r.done + "/" + r.due + "）";
    } } };
  }

  function bars(canvas, rows) {
    var horizontal = rows.length > 6 || narrow;
    return new window.Chart(canvas, {
      type: "bar",
      data: { labels: rows.map(function (r) { return r.label; }),
              datasets: [{ label: "完成率", data: rows.map(function (r) { return r.rate; }),
                           backgroundColor: rows.map(function (r) { return r.rate !== null && r.rate < 60 ? GOLD : RED; }) }] },
      options: { indexAxis: horizontal ? "y" : "x", maintainAspectRatio: false, animation: false,
                 scales: horizontal ? { x: percentAxis() } : { y: percentAxis() },
                 plugins: { legend: { display: false }, tooltip: tooltip(rows) } }
    });
  }

  function line(canvas, rows) {
    return new window.Chart(canvas, {
      type: "line",
      data: { labels: rows.map(function (r) { return r.label; }),
              datasets: [{ label: "完成率", data: rows.map(function (r) { return r.rate; }), borderColor: RED,
                           backgroundColor: RED, spanGaps: true, tension: 0.2 }] },
      options: { maintainAspectRatio: false, animation: false, scales: { y: percentAxis() },
                 plugins: { legend: { display: false }, tooltip: tooltip(rows) } }
    });
  }

  function drawCharts() {
    var data = pageData("overview-data");
    if (!data || !window.Chart) { return; }
    window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    window.Chart.defaults.color = "#1f2328";
    window.Chart.defaults.borderColor = GREY;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var name = canvas.getAttribute("data-chart"), rows = data[name] || [];
      (name === "trend" ? line : bars)(canvas, rows);
      // What was drawn, for people checking the page (and the browser test).
      canvas.setAttribute("data-points", String(rows.filter(function (r) { return r.rate !== null; }).length));
    });
  }

  // The task matrix: rows of cells from the page's JSON block (storage.matrix.grid):
  // 0 = not aimed, ["o"] / ["x"] = open / overdue, ["a", "MM-DD HH:MM"] = 收到, else
  // [state, "MM-DD HH:MM", note, evidence, marks(, reason)]. A click opens the report.
  var STATE_NAMES = { r: "已上报", b: "被退回", a: "已收到", o: "未上报", x: "逾期未报" };
  var SYMBOLS = { r: "✓", b: "退", a: "收", o: "·", x: "✗" };
  // One character per mark in the data (storage.matrix); some read better as a word.
  var MARK_WORDS = { "录": "补记录" };

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function cellHtml(cell, href) {
    if (!cell) { return '<td class="n"></td>'; }
    var state = cell[0], tip = [STATE_NAMES[state]], extra = "";
    if (state === "a") {
      tip.push("收到 " + cell[1]);
      extra = "<small>" + cell[1].slice(0, 5) + "</small>";
    } else if (cell.length > 1) {
      tip.push("上报 " + cell[1]);
      if (cell[2]) { tip.push(cell[2]); }
      if (cell[5]) { tip.push("退回原因：" + cell[5]); }
      extra = "<small>" + cell[1].slice(0, 5) + "</small>";
      for (var m = 0; m < cell[4].length; m++) { extra += "<i>" + (MARK_WORDS[cell[4][m]] || cell[4][m]) + "</i>"; }
      if (cell[3]) { extra += "<em>证" + cell[3] + "</em>"; }
    }
    return '<td class="' + state + '" data-href="' + href + '" title="' + escapeHtml(tip.join(" · ")) + '"><a href="' +
      href + '">' + SYMBOLS[state] + "</a>" + extra + "</td>";
  }

  function drawMatrix() {
    var data = pageData("matrix-data"), table = document.getElementById("matrix");
    if (!data || !table) { return; }
    var tasks = data.tasks, done = tasks.map(function () { return 0; }), html = [];
    data.cells.forEach(function (row, r) {
      var code = escapeHtml(data.branches[r][0]), mine = 0, due = 0, cells = [];
      row.forEach(function (cell, i) {
        if (cell) { due++; }
        if (cell && cell[0] === "r") { mine++; done[i]++; }
        cells.push(cellHtml(cell, "tasks/" + tasks[i][0] + "/" + code));
      });
      html.push('<tr><th scope="row"><a href="branches/' + code + '">' + escapeHtml(data.branches[r][1]) +
        "</a><small>" + code + '</small></th><td class="sum">' + mine + "/" + due + "</td>" + cells.join("") + "</tr>");
    });
    table.tBodies[0].innerHTML = html.join("");
    var sums = table.tFoot.rows[0].cells;
    done.forEach(function (n, i) { sums[i + 2].textContent = String(n); });
    table.setAttribute("data-drawn", String(data.cells.length));
    table.addEventListener("click", function (event) {
      var cell = event.target.closest("td[data-href]");
      if (cell && event.target.tagName !== "A") { window.location.href = cell.getAttribute("data-href"); }
    });
  }

  // The publish form: show only the part of "发给" that is chosen.
  function publishTargets() {
    var form = document.getElementById("publish-form");
    if (!form) { return; }
    document.documentElement.classList.add("js");
    function update() {
      var chosen = form.querySelector("input[name=target]:checked");
      form.querySelectorAll(".sub[data-for]").forEach(function (part) {
        part.classList.toggle("hidden", !chosen || part.getAttribute("data-for") !== chosen.value);
      });
    }
    form.addEventListener("change", update);
    update();
  }

  drawCharts();
  drawMatrix();
  publishTargets();
})();
