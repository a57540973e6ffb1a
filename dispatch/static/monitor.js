/* Monitor charts: draws every [data-chart] from its JSON island with the vendored ECharts; nothing else is loaded.
 *
 * The contract, one <script type="application/json" id="…"> per chart, named by the canvas's data-chart:
 *   {"kind": "line" | "bar", "title": "…", "x": ["…", …], "unit": "%" | "小时" | "件",
 *    "horizontal": false, "series": [{"name": "…", "data": [number | null, …]}, …]}
 * null is "no data": a gap in a line, no bar, "无数据" in the tooltip; never drawn as zero.
 * The page always carries a table with the same numbers, so without ECharts this script does nothing.
 */
(function () {
  "use strict";

  var echarts = window.echarts;
  if (!echarts) return;  // the vendored file failed to load: the tables already say everything

  // Okabe–Ito, told apart by most colour-blind readers; its yellow is left out (1.1:1 against white).
  var PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];
  // Shape and dash carry the series too, so a grey printout or a colour-blind reader loses nothing.
  var SYMBOLS = ["circle", "rect", "triangle", "diamond", "emptyCircle", "emptyRect", "emptyTriangle",
                 "emptyDiamond", "pin", "arrow"];
  var DASHES = ["solid", [8, 4], [2, 3], [10, 3, 2, 3], [16, 4], [2, 3, 2, 3, 8, 3], [6, 2, 6, 2, 1, 2]];
  var END_LABELS_UP_TO = 6;  // more names than this at the right edge collide; the legend names them instead
  var INK = "#1f2933", MUTED = "#52606d", LINE = "#d3dae3";  // console.css's --ink, --muted and --line
  var UNITS = { "%": { suffix: "%", digits: 1 }, "小时": { suffix: " 小时", digits: 1 }, "件": { suffix: " 件", digits: 0 } };

  function unitOf(spec) {
    return UNITS[spec.unit] || { suffix: spec.unit ? " " + spec.unit : "", digits: 1 };
  }

  function isNumber(value) {
    return typeof value === "number" && isFinite(value);
  }

  // Values read as in the table and the CSV: a fixed number of decimals, rounded half up (四舍五入).
  function formatter(spec) {
    var unit = unitOf(spec), scale = Math.pow(10, unit.digits);
    return function (value) {
      if (!isNumber(value)) return "无数据";
      return (Math.round(value * scale) / scale).toFixed(unit.digits) + unit.suffix;
    };
  }

  // Axis ticks are round numbers already: no padding decimals.
  function tickFormatter(spec) {
    var suffix = unitOf(spec).suffix;
    return function (value) { return value + suffix; };
  }

  function longestName(series) {
    return series.reduce(function (most, s) { return Math.max(most, String(s.name || "").length); }, 0);
  }

  function lineSeries(spec) {
    var withEndLabels = spec.series.length <= END_LABELS_UP_TO;
    return spec.series.map(function (s, i) {
      return {
        type: "line", name: s.name, data: s.data, connectNulls: false,
        symbol: SYMBOLS[i % SYMBOLS.length], symbolSize: 9, showSymbol: true, showAllSymbol: true,
        lineStyle: { width: 2.5, type: DASHES[i % DASHES.length] },
        // Names at the line ends, pushed apart vertically where they would collide (the padding spaces them).
        endLabel: { show: withEndLabels, formatter: "{a}", distance: 8, fontSize: 13, padding: [2, 0] },
        labelLayout: { moveOverlap: "shiftY" },
        emphasis: { focus: "series" }
      };
    });
  }

  function barSeries(spec) {
    var fmt = formatter(spec);
    return spec.series.map(function (s) {
      return {
        type: "bar", name: s.name, data: s.data, barMaxWidth: 28,
        label: {
          show: true, position: spec.horizontal ? "right" : "top", color: INK, fontSize: 12,
          formatter: function (p) { return isNumber(p.value) ? fmt(p.value) : ""; }
        },
        emphasis: { focus: "series" }
      };
    });
  }

  function valueAxis(spec) {
    var axis = {
      type: "value", axisLabel: { color: MUTED, formatter: tickFormatter(spec) },
      splitLine: { lineStyle: { color: LINE } }
    };
    // A rate reads against 0–100 %; only a value above 100 widens the scale.
    if (spec.unit === "%") axis.max = function (extent) { return Math.max(100, Math.ceil(extent.max / 10) * 10); };
    return axis;
  }

  function emptyAt(spec, index) {
    return spec.series.every(function (s) { return !isNumber(s.data[index]); });
  }

  function categoryAxis(spec) {
    // A missing bar must not pass for a zero one: its category says so.
    var label = spec.kind === "bar"
      ? function (value, index) { return emptyAt(spec, index) ? value + "（无数据）" : value; }
      : null;
    // A ranking reads top-down: the first row of the data is the top bar.
    return {
      type: "category", data: spec.x, inverse: !!spec.horizontal, axisTick: { alignWithLabel: true },
      axisLabel: { color: MUTED, hideOverlap: true, formatter: label }, axisLine: { lineStyle: { color: MUTED } }
    };
  }

  function gridFor(spec, fontSize) {
    var endLabels = spec.kind === "line" && spec.series.length <= END_LABELS_UP_TO;
    var right = endLabels ? longestName(spec.series) * fontSize + 24 : (spec.horizontal ? 56 : 16);
    return { left: 8, right: right, top: spec.series.length > 1 ? 48 : 24, bottom: 8 };
  }

  function optionFor(spec, fontFamily) {
    var fmt = formatter(spec);
    var bar = spec.kind === "bar";
    return {
      animation: false,
      color: PALETTE,
      textStyle: { fontFamily: fontFamily, color: INK },
      title: { text: spec.title || "", show: false },  // the page's caption shows it
      aria: { enabled: true, decal: { show: bar }, label: { description: describe(spec) } },
      legend: { show: spec.series.length > 1, type: "scroll", top: 0, left: "center", textStyle: { color: INK } },
      tooltip: { trigger: "axis", axisPointer: { type: bar ? "shadow" : "line" }, valueFormatter: fmt },
      grid: gridFor(spec, 13),
      xAxis: spec.horizontal ? valueAxis(spec) : categoryAxis(spec),
      yAxis: spec.horizontal ? categoryAxis(spec) : valueAxis(spec),
      series: bar ? barSeries(spec) : lineSeries(spec)
    };
  }

  // ECharts' own description reads a gap as "NaN", counts series from 0 and repeats the category's index,
  // so the screen-reader text is written here, in the units and words of the page.
  var DESCRIBE_SERIES = 10, DESCRIBE_POINTS = 12;

  function describeSeries(spec, s, fmt) {
    var points = s.data.slice(0, DESCRIBE_POINTS).map(function (value, i) { return spec.x[i] + " " + fmt(value); });
    var more = s.data.length > DESCRIBE_POINTS ? "，等 " + s.data.length + " 项" : "";
    return (s.name ? s.name + "：" : "") + points.join("，") + more;
  }

  function describe(spec) {
    var fmt = formatter(spec);
    var kind = spec.kind === "bar" ? (spec.horizontal ? "条形图" : "柱状图") : "折线图";
    var head = (spec.title ? "“" + spec.title + "”" : "图表") + "，" + kind + "，共 " + spec.series.length + " 个系列。";
    var parts = spec.series.slice(0, DESCRIBE_SERIES).map(function (s) { return describeSeries(spec, s, fmt); });
    var more = spec.series.length > DESCRIBE_SERIES ? "。其余系列" : "。完整数据";
    return head + parts.join("；") + more + "见页面上的表格。";
  }

  function readSpec(canvas) {
    var island = document.getElementById(canvas.getAttribute("data-chart"));
    if (!island) return null;
    try {
      var spec = JSON.parse(island.textContent);
    } catch (e) {
      return null;  // a broken island costs its chart, not the page's other charts
    }
    var known = spec && (spec.kind === "line" || spec.kind === "bar");
    return known && Array.isArray(spec.x) && Array.isArray(spec.series) ? spec : null;
  }

  var BAR_ROW_PX = 26;  // a ranking of 65 communities gets a taller canvas instead of bars a pixel thick

  function draw(canvas, spec, fontFamily) {
    var needed = spec.horizontal ? spec.x.length * BAR_ROW_PX + 70 : 0;
    if (needed > canvas.clientHeight) canvas.style.height = needed + "px";
    // SVG: crisp when printed, and its text uses the page's own fonts.
    var chart = echarts.init(canvas, null, { renderer: "svg", locale: "ZH" });
    chart.setOption(optionFor(spec, fontFamily));
    return chart;
  }

  function followSize(charts) {
    var pending = false;
    function resizeAll() { charts.forEach(function (chart) { chart.resize(); }); }
    function resizeSoon() {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(function () { pending = false; resizeAll(); });
    }
    // A canvas can change width without the window doing so (a grid reflowing, a panel opening).
    if (typeof ResizeObserver === "function") {
      var observer = new ResizeObserver(resizeSoon);
      charts.forEach(function (chart) { observer.observe(chart.getDom()); });
    } else {
      window.addEventListener("resize", resizeSoon);
    }
    window.addEventListener("beforeprint", resizeAll);
    window.addEventListener("afterprint", resizeAll);
  }

  function drawAll() {
    var fontFamily = window.getComputedStyle(document.body).fontFamily;
    var found = [];
    document.querySelectorAll(".chart-canvas[data-chart]").forEach(function (canvas) {
      var spec = readSpec(canvas);
      var figure = canvas.closest("figure.chart");
      if (!spec) return;
      if (figure) figure.classList.add("is-drawn");  // monitor.css hides a figure until it has its chart
      found.push({ canvas: canvas, spec: spec });
    });
    // All figures are shown before the first is drawn, so each chart starts at its final width.
    var charts = found.map(function (item) { return draw(item.canvas, item.spec, fontFamily); });
    if (charts.length) followSize(charts);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
})();
