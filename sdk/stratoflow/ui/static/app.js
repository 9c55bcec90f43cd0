// stratoflow ui: plain JavaScript over the JSON API (/api/...), no framework and no build step.
// Views by address: #/ (runs list, ?workflow=&status=), #/runs/RUN and #/runs/RUN/NODE (node panel).
"use strict";

const POLL_MS = 1000;
const TERMINAL = new Set(["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "ABANDONED"]);
let timer = null; // the current view's poll; replaced on every navigation
let generation = 0; // bumped per navigation, so a late answer never paints an old view

function el(tag, attrs, ...children) {
  const node = tag.startsWith("svg:")
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path) {
  const response = await fetch(path, { cache: "no-store" });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `${path}: HTTP ${response.status}`);
  return body;
}

const when = (epoch) => (epoch == null ? "-" : new Date(epoch * 1000).toLocaleString());
const took = (seconds) => (seconds == null ? "-" : seconds < 60 ? `${seconds.toFixed(2)} s` : `${(seconds / 60).toFixed(1)} min`);
const badge = (status) => el("span", { class: `badge ${String(status).toLowerCase()}` }, String(status).toLowerCase());
const json = (value) => JSON.stringify(value, null, 2);

function poll(fn, keepGoing) {
  const mine = generation;
  const tick = async () => {
    if (mine !== generation) return;
    let again = true;
    try {
      again = await fn();
    } catch (error) {
      showError(error);
    }
    if (mine === generation && again !== false && keepGoing()) timer = setTimeout(tick, POLL_MS);
  };
  tick();
}

function showError(error) {
  let box = document.getElementById("load-error");
  if (!box) {
    box = el("p", { id: "load-error", class: "notice" });
    document.getElementById("view").prepend(box);
  }
  box.textContent = `could not load: ${error.message}`;
}

// ---- runs list --------------------------------------------------------------------------

function runsView(params) {
  const view = document.getElementById("view");
  const workflow = el("select", { id: "filter-workflow", onchange: () => refilter() }, el("option", { value: "" }, "all workflows"));
  const status = el(
    "select",
    { id: "filter-status", onchange: () => refilter() },
    ["", "RUNNING", "SUCCEEDED", "FAILED", "ABANDONED", "TIMED_OUT", "ABORTED"].map((s) => el("option", { value: s }, s ? s.toLowerCase() : "any status")),
  );
  status.value = params.get("status") || "";
  const body = el("tbody", { id: "runs" });
  view.replaceChildren(
    el("h1", {}, "Runs"),
    el("div", { class: "filters" }, el("label", {}, "Workflow ", workflow), el("label", {}, "Status ", status)),
    el("table", {}, el("thead", {}, el("tr", {}, ["Run", "Workflow", "Status", "Started", "Duration"].map((h) => el("th", {}, h)))), body),
  );
  const known = new Set();
  function refilter() {
    const query = new URLSearchParams();
    if (workflow.value) query.set("workflow", workflow.value);
    if (status.value) query.set("status", status.value);
    location.hash = `#/?${query}`;
  }
  poll(async () => {
    const query = new URLSearchParams();
    if (params.get("workflow")) query.set("workflow", params.get("workflow"));
    if (status.value) query.set("status", status.value);
    const { runs, workflows, source } = await api(`/api/runs?${query}`);
    document.getElementById("where").textContent = source;
    for (const name of workflows) {
      if (!known.has(name)) {
        known.add(name);
        workflow.append(el("option", { value: name }, name));
      }
    }
    workflow.value = params.get("workflow") || "";
    body.replaceChildren(
      ...runs.map((run) =>
        el(
          "tr",
          { class: "clickable run-row", "data-run": run.run_id, "data-status": run.status, onclick: () => (location.hash = `#/runs/${run.run_id}`) },
          el("td", {}, el("a", { href: `#/runs/${run.run_id}` }, el("code", {}, run.run_id.slice(0, 12)))),
          el("td", { class: "workflow" }, run.workflow, run.backend && run.backend !== "local" ? ` (${run.backend})` : ""),
          el("td", {}, badge(run.status)),
          el("td", {}, when(run.started)),
          el("td", {}, run.status === "RUNNING" && run.started ? `${took(Date.now() / 1000 - run.started)} so far` : took(run.duration)),
        ),
      ),
    );
    if (!runs.length) body.append(el("tr", {}, el("td", { colspan: 5, class: "empty" }, "No runs yet: `stratoflow run FILE WORKFLOW` records one.")));
    return true;
  }, () => true);
}

// ---- run page ---------------------------------------------------------------------------

function nodeStatus(records, id, skipped) {
  const own = records.find((r) => r.node === id && r.item == null);
  if (own) return own.status;
  return skipped.includes(id) ? "skipped" : "pending"; // the run says which cases were not taken
}

function drawGraph(spec, records, selected, open, skipped) {
  const graph = spec.graph;
  const { width: w, height: h } = graph.box;
  const at = Object.fromEntries(graph.nodes.map((n) => [n.id, n]));
  const svg = el("svg:svg", { width: graph.width, height: graph.height, viewBox: `0 0 ${graph.width} ${graph.height}`, id: "dag" });
  for (const edge of graph.edges) {
    const a = at[edge.source], b = at[edge.target];
    const x1 = a.x + w, y1 = a.y + h / 2, x2 = b.x, y2 = b.y + h / 2, mid = (x1 + x2) / 2;
    svg.append(el("svg:path", { class: "edge", d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}` }));
  }
  for (const box of graph.nodes) {
    const io = box.kind === "input" || box.kind === "output";
    const status = io ? "io" : nodeStatus(records, box.id, skipped);
    const group = el(
      "svg:g",
      {
        class: `node ${io ? "io" : status}${box.id === selected ? " selected" : ""}`,
        "data-node": box.id,
        "data-status": status,
        transform: `translate(${box.x},${box.y})`,
        onclick: io ? null : () => open(box.id),
      },
      el("svg:rect", { width: w, height: h, rx: io ? 14 : 6 }),
      el("svg:text", { x: 10, y: h / 2 + 4 }, box.label.length > 22 ? `${box.label.slice(0, 21)}…` : box.label),
      el("svg:title", {}, `${box.id} (${box.kind}): ${status}`),
    );
    svg.append(group);
  }
  return svg;
}

const MAX_ITEM_ROWS = 500; // a wide map's table shows its failures first, then the first items

function itemsTable(all, onPick) {
  const counts = {};
  for (const item of all) counts[item.status] = (counts[item.status] || 0) + 1;
  const failedFirst = [...all].sort((a, b) => (a.status === "failed" ? 0 : 1) - (b.status === "failed" ? 0 : 1) || a.item - b.item);
  const items = all.length > MAX_ITEM_ROWS ? failedFirst.slice(0, MAX_ITEM_ROWS) : all;
  return [
    el("h2", {}, `Items (${all.length}): `, Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(", ")),
    el("p", { class: "notice", hidden: all.length <= MAX_ITEM_ROWS }, `showing ${MAX_ITEM_ROWS} of ${all.length} (failed first)`),
    el(
      "table",
      { id: "items" },
      el("thead", {}, el("tr", {}, ["#", "Status", "Attempts", "Duration", "Error"].map((x) => el("th", {}, x)))),
      el(
        "tbody",
        {},
        items.map((item) =>
          el(
            "tr",
            { class: "clickable", "data-item": item.item, onclick: () => onPick(item) },
            el("td", {}, item.item),
            el("td", {}, badge(item.status)),
            el("td", {}, item.attempts),
            el("td", {}, took(item.duration)),
            el("td", {}, item.error || ""),
          ),
        ),
      ),
    ),
  ];
}

function recordDetails(record, prefix) {
  const rows = [
    ["Status", badge(record.status)],
    ["Attempts", record.attempts],
    ["Target", record.target],
    ["Started", when(record.started)],
    ["Duration", took(record.duration)],
    ["Cache", record.cache_key ? `${record.cache_hit ? "hit" : "miss"} · ${record.cache_key}` : "not cached"],
  ];
  const out = [el("dl", { class: "meta" }, rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]))];
  if (record.outputs) {
    out.push(el("h2", {}, "Outputs"), el("dl", { class: "meta", id: `${prefix}-outputs` }, Object.entries(record.outputs).flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, el("code", {}, v))])));
  }
  if (record.error) out.push(el("h2", {}, "Error"), el("pre", { class: "error", id: `${prefix}-error` }, record.error));
  if (record.traceback) out.push(el("h2", {}, "Traceback"), el("pre", { id: `${prefix}-traceback` }, record.traceback));
  return out;
}

async function logsBlock(runId, node, item) {
  const query = item == null ? "" : `?item=${item}`;
  const id = item == null ? "node-logs" : "item-logs";
  try {
    const logs = await api(`/api/runs/${runId}/nodes/${encodeURIComponent(node).replace(/%2F/g, "/")}/logs${query}`);
    if (logs.text != null) return [el("h2", {}, "Logs"), el("pre", { id }, logs.text || "(empty)")];
    if (logs.location && logs.location.kind === "cloudwatch")
      return [el("h2", {}, "Logs"), el("p", { class: "notice" }, `CloudWatch: ${logs.location.group} ${logs.location.stream || "(newest streams)"}`)];
    return [el("h2", {}, "Logs"), el("p", { class: "notice" }, "no log recorded")];
  } catch (error) {
    return [el("h2", {}, "Logs"), el("p", { class: "notice" }, error.message)];
  }
}

async function nodePanel(run, records, node) {
  const about = (run.spec && run.spec.nodes[node]) || {};
  const record = records.find((r) => r.node === node && r.item == null);
  const items = records.filter((r) => r.node === node && r.item != null).sort((a, b) => a.item - b.item);
  const panel = el("aside", { class: "panel", id: "node-panel", "data-node": node });
  const head = [el("h2", {}, about.task ? `${node} · ${about.task}` : node)];
  if (about.location) head.push(el("p", { class: "notice" }, about.location));
  if (about.inputs && Object.keys(about.inputs).length) {
    head.push(el("h2", {}, "Inputs"), el("dl", { class: "meta" }, Object.entries(about.inputs).flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, el("code", {}, v))])));
  }
  panel.append(...head);
  if (!record) {
    panel.append(el("p", { class: "notice" }, run.status === "RUNNING" ? "not started yet" : "no record of this node"));
    return panel;
  }
  panel.append(...recordDetails(record, "node"));
  const detail = el("div", { id: "item-detail" });
  if (items.length) {
    panel.append(
      ...itemsTable(items, async (item) => {
        detail.replaceChildren(el("h2", {}, `Item ${item.item}`), ...recordDetails(item, "item"), ...(await logsBlock(run.run_id, node, item.item)));
      }),
      detail,
    );
  }
  panel.append(...(await logsBlock(run.run_id, node, null)));
  return panel;
}

function runHeader(run) {
  const rows = [
    ["Workflow", run.workflow],
    ["Status", badge(run.status)],
    ["Started", when(run.started)],
    ["Duration", took(run.duration)],
  ];
  if (run.backend && run.backend !== "local") rows.push(["Ran in", run.backend]);
  if (run.console_url) rows.push(["Console", el("a", { href: run.console_url, target: "_blank", rel: "noopener", id: "console-link" }, "Step Functions console")]);
  if (run.skipped && run.skipped.length) rows.push(["Skipped", run.skipped.join(", ")]);
  const out = [el("h1", {}, `Run ${run.run_id.slice(0, 12)}`), el("dl", { class: "meta", id: "run-meta" }, rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]))];
  if (run.error) out.push(el("pre", { class: "error", id: "run-error" }, run.error));
  if (run.traceback) out.push(el("pre", { id: "run-traceback" }, run.traceback));
  if (run.outputs != null) out.push(el("h2", {}, "Outputs"), el("pre", { id: "run-outputs" }, json(run.outputs)));
  return out;
}

function runView(runId, selected) {
  const view = document.getElementById("view");
  view.replaceChildren(el("p", { class: "notice" }, "loading…"));
  let finished = false;
  let painted = "";
  const open = (node) => (location.hash = `#/runs/${runId}/${encodeURIComponent(node)}`);
  poll(async () => {
    const [run, { nodes }] = await Promise.all([api(`/api/runs/${runId}`), api(`/api/runs/${runId}/nodes`)]);
    finished = TERMINAL.has(run.status);
    const stamp = JSON.stringify([run.status, run.finished, nodes]);
    if (stamp === painted) return true; // nothing changed: keep the page (and its scroll) as it is
    painted = stamp;
    const graph = run.spec
      ? el("div", { class: "graph" }, drawGraph(run.spec, nodes, selected, open, run.skipped || []))
      : el("p", { class: "notice" }, "no graph: this run's workflow spec is not available");
    const legend = el("div", { class: "legend" }, ["pending", "running", "succeeded", "cached", "failed", "skipped"].map((s) => badge(s)));
    const layout = el("div", { class: "run-layout" }, graph);
    if (selected) layout.append(await nodePanel(run, nodes, selected));
    view.replaceChildren(el("p", {}, el("a", { href: "#/" }, "← runs")), ...runHeader(run), legend, layout);
    return true;
  }, () => !finished);
}

// ---- routing ----------------------------------------------------------------------------

function route() {
  generation += 1;
  clearTimeout(timer);
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, query] = hash.split("?");
  const parts = path.split("/").filter(Boolean);
  if (parts[0] === "runs" && parts[1]) {
    const node = parts.length > 2 ? decodeURIComponent(parts.slice(2).join("/")) : null;
    runView(parts[1], node);
  } else {
    runsView(new URLSearchParams(query || ""));
  }
}

window.addEventListener("hashchange", route);
route();
