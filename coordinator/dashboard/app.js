// The coordinator's dashboard (docs/coordinator.md, "Dashboard").
//
// Plain JavaScript, no dependencies, nothing loaded from elsewhere: the
// server sends Content-Security-Policy default-src 'self'. Every text that
// comes from the API is inserted with textContent or as an SVG text node,
// never as markup.
//
// Data flow: the REST API gives the state (agents, runs, one run in full);
// the live websocket says what changed. An event for a run refreshes the run
// list and, when it is the selected run, that run's detail; an agent message
// replaces that agent. After a reconnect everything is fetched again, since
// events may have been missed while the socket was down.
"use strict";

(() => {
  const TOKEN_KEY = "lifeboat.token";
  const SVG_NS = "http://www.w3.org/2000/svg";

  const state = {
    token: null,
    me: null,
    agents: new Map(),
    runs: [],
    selected: null, // {agent, run}
    detail: null, // the selected run as /runs/AGENT/RUN returned it
    socket: null,
    reconnectDelayMs: 500,
    reconnectTimer: null,
    connectedAt: 0,
    runsRefresh: null,
    detailRefresh: null,
    agentsRefresh: null,
    generation: 0, // bumped at sign-out: answers for an older session are dropped
    view: "runs", // "runs" | "comms"
    comms: null, // freshComms()
    commsRefresh: null,
  };

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- helpers

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svgElement(tag, attributes) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      node.setAttribute(name, String(value));
    }
    return node;
  }

  function parseTime(text) {
    if (typeof text !== "string" || text === "") return null;
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? null : ms;
  }

  // "2026-11-24 22:56:10 UTC": the agents' times are UTC, and so is this page.
  function formatTime(text) {
    const ms = parseTime(text);
    if (ms === null) return "–";
    return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  }

  function formatDuration(ms) {
    if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
    const sign = ms < 0 ? "-" : "";
    ms = Math.abs(ms);
    if (ms < 1000) return `${sign}${Math.round(ms)} ms`;
    if (ms < 60000) return `${sign}${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
    const seconds = Math.round(ms / 1000);
    if (seconds < 3600) {
      return `${sign}${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, "0")} s`;
    }
    const minutes = Math.round(seconds / 60);
    return `${sign}${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
  }

  function formatAgo(text) {
    const ms = parseTime(text);
    if (ms === null) return "never";
    const ago = Date.now() - ms;
    if (ago < 5000) return "just now";
    return `${formatDuration(ago)} ago`;
  }

  function runKey(agent, run) {
    return `${agent}\u0000${run}`;
  }

  function debounce(slot, delayMs, action) {
    if (state[slot]) return;
    state[slot] = setTimeout(() => {
      state[slot] = null;
      action();
    }, delayMs);
  }

  // ---------------------------------------------------------------- API

  class HttpError extends Error {
    constructor(status, message, reason) {
      super(message);
      this.status = status;
      this.reason = typeof reason === "string" ? reason : message; // the API's own words
    }
  }

  // options: {method, json (a body to send as JSON), text (answer is text)}.
  // A refused request throws HttpError with the API's own error text.
  async function api(path, options = {}) {
    const generation = state.generation;
    const headers = {
      Authorization: `Bearer ${state.token}`,
      Accept: options.text ? "text/markdown, text/plain" : "application/json",
    };
    const init = { method: options.method || "GET", headers, cache: "no-store" };
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.json);
    }
    const response = await fetch(path, init);
    let raw = "";
    try {
      raw = await response.text();
    } catch (_) {
      raw = "";
    }
    let body = null;
    if (!options.text || !response.ok) {
      try {
        body = JSON.parse(raw);
      } catch (_) {
        body = null;
      }
    }
    if (generation !== state.generation) throw new HttpError(0, "signed out");
    if (!response.ok) {
      const reason = body && typeof body.error === "string" ? body.error : response.statusText;
      throw new HttpError(response.status, `${response.status} ${reason}`.trim(), body && body.error);
    }
    return options.text ? raw : body;
  }

  function showBoardError(error) {
    if (error instanceof HttpError && error.status === 0) return;
    if (error instanceof HttpError && error.status === 401) {
      signOut("The coordinator no longer accepts this token (401 Unauthorized). Sign in again.");
      return;
    }
    $("board-error").textContent = `Could not load from the coordinator: ${error.message}`;
  }

  function clearBoardError() {
    $("board-error").textContent = "";
  }

  // ---------------------------------------------------------------- sign-in

  async function signIn(token) {
    state.token = token;
    const generation = ++state.generation;
    let me;
    try {
      me = await api("/api/v1/me");
    } catch (error) {
      if (generation !== state.generation) return;
      state.token = null;
      sessionStorage.removeItem(TOKEN_KEY);
      const message =
        error instanceof HttpError && error.status === 401
          ? "The coordinator refused this token (401 Unauthorized). Check it and try again."
          : `Could not reach the coordinator: ${error.message}`;
      showSignIn(message);
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    state.me = me;
    $("who-name").textContent = me.name;
    $("who-role").textContent = me.role;
    $("who").hidden = false;
    $("sign-out").hidden = false;
    $("sign-in").hidden = true;
    $("board").hidden = false;
    $("sign-in-error").textContent = "";
    await refreshAll();
    connectLive();
  }

  function showSignIn(message) {
    $("board").hidden = true;
    $("who").hidden = true;
    $("sign-out").hidden = true;
    $("sign-in").hidden = false;
    $("sign-in-error").textContent = message || "";
    setLive("offline", "offline");
    const input = $("token");
    input.value = "";
    input.setAttribute("aria-invalid", message ? "true" : "false");
    input.focus();
  }

  function signOut(message) {
    state.generation++;
    state.token = null;
    state.me = null;
    state.agents.clear();
    state.runs = [];
    state.selected = null;
    state.detail = null;
    state.comms = freshComms();
    sessionStorage.removeItem(TOKEN_KEY);
    closeLive();
    renderDetail();
    showSignIn(message);
  }

  // ---------------------------------------------------------------- live feed

  function setLive(stateName, text) {
    const indicator = $("live");
    indicator.dataset.state = stateName;
    indicator.textContent = text;
  }

  function closeLive() {
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
    if (state.socket) {
      const socket = state.socket;
      state.socket = null;
      socket.onclose = null;
      socket.close();
    }
  }

  function connectLive() {
    closeLive();
    if (!state.token) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const url = `${scheme}//${location.host}/api/v1/live?access_token=${encodeURIComponent(state.token)}`;
    setLive("connecting", "connecting…");
    const socket = new WebSocket(url);
    state.socket = socket;
    const generation = state.generation;
    socket.onopen = () => {
      state.connectedAt = Date.now();
      setLive("live", "live");
      // Whatever happened while the socket was down is in the API.
      if (state.reconnectDelayMs > 500) refreshAll();
    };
    socket.onmessage = (message) => {
      if (generation !== state.generation) return;
      let parsed;
      try {
        parsed = JSON.parse(message.data);
      } catch (_) {
        return;
      }
      onLiveMessage(parsed);
    };
    socket.onclose = () => {
      if (state.socket !== socket) return;
      state.socket = null;
      // A connection that lasted a minute was healthy: start the backoff over.
      if (state.connectedAt && Date.now() - state.connectedAt > 60000) state.reconnectDelayMs = 500;
      state.connectedAt = 0;
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    const jitter = 0.8 + Math.random() * 0.4;
    const delay = Math.round(state.reconnectDelayMs * jitter);
    state.reconnectDelayMs = Math.min(state.reconnectDelayMs * 2, 30000);
    setLive("reconnecting", `reconnecting in ${formatDuration(delay)}`);
    state.reconnectTimer = setTimeout(async () => {
      state.reconnectTimer = null;
      // The websocket cannot tell a refused token from a dead server; the
      // API can.
      try {
        await api("/api/v1/me");
      } catch (error) {
        if (error instanceof HttpError && error.status === 401) {
          showBoardError(error);
          return;
        }
      }
      connectLive();
    }, delay);
  }

  function onLiveMessage(message) {
    if (message.kind === "agent" && message.agent && typeof message.agent.name === "string") {
      state.agents.set(message.agent.name, message.agent);
      renderAgents();
      return;
    }
    if (message.kind !== "event" || !message.event) return;
    const event = message.event;
    commsEvent();
    const agent = state.agents.get(event.agent);
    if (agent) {
      // An event is a sign of life. Seen now, by this browser's clock: the
      // event's own ts is the agent's clock.
      agent.last_seen = new Date().toISOString();
      if (typeof event.seq === "number" && event.seq > (agent.last_seq || 0)) agent.last_seq = event.seq;
      agent.events = (agent.events || 0) + 1;
    } else {
      debounce("agentsRefresh", 300, loadAgents);
    }
    if (typeof event.run !== "string" || event.run === "") return;
    debounce("runsRefresh", 250, loadRuns);
    if (state.selected && state.selected.agent === event.agent && state.selected.run === event.run) {
      debounce("detailRefresh", 100, loadDetail);
    }
  }

  // ---------------------------------------------------------------- loading

  async function refreshAll() {
    await Promise.all([loadAgents(), loadRuns(), loadDetail(), loadComms()]);
  }

  async function loadAgents() {
    try {
      const body = await api("/api/v1/agents");
      state.agents = new Map((body.agents || []).map((agent) => [agent.name, agent]));
      clearBoardError();
      renderAgents();
    } catch (error) {
      showBoardError(error);
    }
  }

  async function loadRuns() {
    try {
      const body = await api("/api/v1/runs?limit=100");
      state.runs = body.runs || [];
      clearBoardError();
      renderRuns();
    } catch (error) {
      showBoardError(error);
    }
  }

  async function loadDetail() {
    const selected = state.selected;
    if (!selected) {
      renderDetail();
      return;
    }
    try {
      const path = `/api/v1/runs/${encodeURIComponent(selected.agent)}/${encodeURIComponent(selected.run)}`;
      const body = await api(path);
      if (state.selected !== selected) return;
      state.detail = body.run;
      clearBoardError();
    } catch (error) {
      if (state.selected !== selected) return;
      showBoardError(error);
    }
    renderDetail();
  }

  function selectRun(agent, run) {
    state.selected = { agent, run };
    state.detail = null;
    renderRuns();
    renderDetail();
    loadDetail().then(() => {
      const detail = $("run-detail");
      if (state.selected && state.selected.run === run) detail.focus({ preventScroll: true });
    });
  }

  // ---------------------------------------------------------------- agents

  function agentDetails(agent) {
    const parts = [];
    if (agent.hostname) parts.push(agent.hostname);
    if (agent.version) parts.push(`v${agent.version}`);
    parts.push(`last seen ${formatAgo(agent.last_seen)}`);
    return parts.join(" · ");
  }

  function renderAgents() {
    const list = $("agents");
    const agents = [...state.agents.values()].sort((a, b) => {
      if (a.online !== b.online) return a.online ? -1 : 1;
      return String(a.name).localeCompare(String(b.name));
    });
    list.replaceChildren(
      ...agents.map((agent) => {
        const item = element("li", "agent");
        item.dataset.agent = agent.name;
        item.dataset.online = agent.online ? "true" : "false";
        const status = element("span", `presence ${agent.online ? "online" : "offline"}`,
                               agent.online ? "online" : "offline");
        const name = element("span", "agent-name", agent.name);
        const details = element("span", "agent-details", agentDetails(agent));
        details.title = `last seen ${formatTime(agent.last_seen)}, first seen ${formatTime(agent.first_seen)}`;
        item.append(status, name, details);
        return item;
      }),
    );
    $("agents-empty").hidden = agents.length > 0;
  }

  // ---------------------------------------------------------------- runs

  // "met" | "breached" | "unknown" | "pending" | "none": what a badge says. An
  // objective that was not measured was not met, so "unknown" is no pass.
  function verdictOf(objective, live) {
    if (!objective || objective.target_ms === null || objective.target_ms === undefined) return "none";
    const verdict = objective.verdict;
    if (verdict === "met" || verdict === "breached" || verdict === "unknown") return verdict;
    return live ? "pending" : "unknown";
  }

  function verdictBadge(name, objective, live) {
    const verdict = verdictOf(objective, live);
    const label = name.toUpperCase();
    const words = {
      met: "met",
      breached: "breached",
      unknown: "unknown",
      pending: "pending",
      none: "no target",
    };
    const badge = element("span", `badge verdict verdict-${verdict}`, `${label} ${words[verdict]}`);
    badge.dataset.objective = name;
    badge.dataset.verdict = verdict;
    if (verdict === "unknown") badge.title = `${label} was not measured: not measured is not met`;
    else if (objective && objective.target_ms !== null && objective.target_ms !== undefined) {
      badge.title = `${label}: ${formatDuration(objective.value_ms)} of ${formatDuration(objective.target_ms)}`;
    }
    return badge;
  }

  function outcomeBadge(run) {
    if (run.live) return element("span", "badge outcome outcome-live", "running");
    const outcome = run.outcome || "unknown";
    const badge = element("span", `badge outcome outcome-${outcome}`, outcome);
    badge.dataset.outcome = outcome;
    return badge;
  }

  function drillBadge(run) {
    return run.drill ? element("span", "badge drill", "drill") : element("span", "badge real", "real");
  }

  function renderRuns() {
    const live = state.runs.filter((run) => run.live);
    const past = state.runs.filter((run) => !run.live);
    fillRunList($("runs-live"), live);
    fillRunList($("runs-past"), past);
    $("runs-live-empty").hidden = live.length > 0;
    $("runs-past-empty").hidden = past.length > 0;
  }

  function fillRunList(list, runs) {
    const focusedKey = document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.key
      : undefined;
    const items = runs.map((run) => {
      const key = runKey(run.agent, run.run);
      const item = element("li", "run");
      const button = element("button", "run-button");
      button.type = "button";
      button.dataset.key = key;
      button.dataset.agent = run.agent;
      button.dataset.run = run.run;
      const selected = state.selected && state.selected.agent === run.agent && state.selected.run === run.run;
      button.setAttribute("aria-pressed", selected ? "true" : "false");
      const title = element("span", "run-service", run.service || run.runbook_name || "(no service)");
      const meta = element("span", "run-meta", `${run.agent} · ${formatTime(run.started_at)}`);
      const id = element("span", "run-id", run.run);
      const badges = element("span", "badges");
      badges.append(drillBadge(run), outcomeBadge(run), verdictBadge("rto", run.rto, run.live),
                    verdictBadge("rpo", run.rpo, run.live));
      button.append(title, badges, meta, id);
      button.addEventListener("click", () => selectRun(run.agent, run.run));
      item.append(button);
      return item;
    });
    list.replaceChildren(...items);
    if (focusedKey) {
      const again = list.querySelector(`button[data-key="${CSS.escape(focusedKey)}"]`);
      if (again) again.focus();
    }
  }

  // ---------------------------------------------------------------- one run

  function renderDetail() {
    const detail = state.detail;
    const selected = state.selected;
    const body = $("run-body");
    if (!selected) {
      $("run-title").textContent = "No run selected";
      $("run-hint").hidden = false;
      body.hidden = true;
      return;
    }
    $("run-hint").hidden = true;
    if (!detail) {
      $("run-title").textContent = `Loading ${selected.run}…`;
      body.hidden = true;
      return;
    }
    $("run-title").textContent = `${detail.service || detail.runbook_name || "run"} — ${detail.run}`;
    body.hidden = false;
    body.dataset.agent = detail.agent;
    body.dataset.run = detail.run;

    const badges = $("run-badges");
    badges.replaceChildren(drillBadge(detail), outcomeBadge(detail),
                           verdictBadge("rto", detail.rto, detail.live),
                           verdictBadge("rpo", detail.rpo, detail.live));

    const facts = [
      ["Agent", detail.agent],
      ["Runbook", detail.runbook_name],
      ["Started", formatTime(detail.started_at)],
      ["Finished", detail.live ? "still running" : formatTime(detail.finished_at)],
      ["Outage start", formatTime(detail.outage_start)],
      ["RTO", objectiveText(detail.rto)],
      ["RPO", objectiveText(detail.rpo)],
      ["Events", detail.events],
    ];
    $("run-facts").replaceChildren(
      ...facts.flatMap(([term, value]) => [element("dt", null, term), element("dd", null, value ?? "–")]),
    );

    renderGantt(detail);
    renderStepsTable(detail);
    renderObjectives(detail);
    renderDecisions(detail);
    renderNotes(detail);
  }

  function objectiveText(objective) {
    if (!objective || objective.target_ms === null || objective.target_ms === undefined) return "no target";
    const value = objective.value_ms === null || objective.value_ms === undefined
      ? "not measured"
      : formatDuration(objective.value_ms);
    return `${value} of ${formatDuration(objective.target_ms)}${objective.verdict ? ` (${objective.verdict})` : ""}`;
  }

  function stepsInOrder(detail) {
    const steps = Array.isArray(detail.steps) ? detail.steps.slice() : [];
    // Waves in order; within a wave the plan's (file) order.
    return steps
      .map((step, index) => ({ step, index }))
      .sort((a, b) => (Number(a.step.wave) || 0) - (Number(b.step.wave) || 0) || a.index - b.index)
      .map(({ step }) => step);
  }

  // A step's phases (main, rollback, cleanup), each with its own times and
  // status; a coordinator that sends none gets one made of the step's fields.
  function phasesOf(step) {
    if (Array.isArray(step.phases)) return step.phases;
    if (parseTime(step.started_at) === null) return [];
    return [{
      phase: step.phase, status: step.status, attempts: step.attempts, started_at: step.started_at,
      finished_at: step.finished_at, duration_ms: step.duration_ms, error: step.error,
    }];
  }

  function stepRunning(step) {
    return phasesOf(step).some((phase) => parseTime(phase.started_at) !== null && parseTime(phase.finished_at) === null);
  }

  function stepStatus(step) {
    if (stepRunning(step)) return "running";
    return step.status || "pending";
  }

  function renderStepsTable(detail) {
    $("steps-table").replaceChildren(
      ...stepsInOrder(detail).map((step) => {
        const row = element("tr");
        const duration = stepRunning(step)
          ? Date.now() - parseTime(phasesOf(step).at(-1).started_at)
          : step.duration_ms;
        row.append(
          element("td", null, step.wave ?? "–"),
          element("th", null, step.name && step.name !== step.id ? `${step.id} (${step.name})` : step.id),
          element("td", null, step.phase || "main"),
          element("td", null, stepStatus(step)),
          element("td", null, formatTime(step.started_at)),
          element("td", null, formatDuration(duration)),
          element("td", null, step.attempts ?? "–"),
        );
        row.firstChild.nextSibling.setAttribute("scope", "row");
        return row;
      }),
    );
  }

  // objective.evaluated entries, and the measurements of an objective not
  // evaluated yet (a live run).
  function renderObjectives(detail) {
    const entries = (Array.isArray(detail.objectives) ? detail.objectives : [])
      .filter((entry) => entry && typeof entry.objective === "string");
    const evaluated = new Set(entries.filter((entry) => entry.type !== "objective.measured").map((entry) => entry.objective));
    const rows = entries
      .filter((entry) => entry.type !== "objective.measured" || !evaluated.has(entry.objective))
      .map((objective) => {
        const row = element("tr");
        const verdict = objective.type === "objective.measured" ? "measured" : objective.verdict || "unknown";
        const verdictCell = element("td");
        const badge = element("span", `badge verdict verdict-${verdict}`, verdict);
        badge.dataset.objective = objective.objective;
        badge.dataset.verdict = verdict;
        if (verdict === "unknown") badge.title = "not measured: not measured is not met";
        verdictCell.append(badge);
        const header = element("th", null, objective.objective.toUpperCase());
        header.setAttribute("scope", "row");
        row.append(
          header,
          element("td", null, formatDuration(objective.target_ms)),
          element("td", null, objective.value_ms === null || objective.value_ms === undefined
            ? "not measured"
            : formatDuration(objective.value_ms)),
          verdictCell,
          element("td", null, objective.source || objective.step || "–"),
        );
        return row;
      });
    if (rows.length === 0) {
      const row = element("tr");
      const cell = element("td", "empty", detail.live ? "Not evaluated yet." : "None recorded.");
      cell.colSpan = 5;
      row.append(cell);
      rows.push(row);
    }
    $("objectives").replaceChildren(...rows);
  }

  // {step, status, requested_at, request: decision.requested's data,
  //  made_at, made: decision.made's data}
  function renderDecisions(detail) {
    const decisions = Array.isArray(detail.decisions) ? detail.decisions : [];
    const items = decisions.map((decision) => {
      const request = decision.request || {};
      const made = decision.made || {};
      const item = element("li", "entry");
      item.dataset.status = decision.status || "";
      item.append(element("strong", null, [decision.step, request.question].filter(Boolean).join(": ") || "decision"));
      if (Array.isArray(request.options) && request.options.length) {
        const options = request.options.map((option) => option.label || option.id).filter(Boolean).join(" / ");
        item.append(element("span", "entry-meta", `options: ${options}`));
      }
      const parts = [];
      if (decision.made) {
        parts.push(`chose ${made.choice ?? "?"}`);
        if (made.by) parts.push(`by ${made.by}`);
        if (made.via) parts.push(`via ${made.via}`);
        parts.push(formatTime(decision.made_at));
      } else {
        parts.push(`waiting for an answer since ${formatTime(decision.requested_at)}`);
      }
      item.append(element("span", "entry-meta", parts.join(", ")));
      if (made.rationale) item.append(element("q", null, made.rationale));
      return item;
    });
    if (items.length === 0) items.push(element("li", "empty", "No decision points."));
    $("decisions").replaceChildren(...items);
  }

  function renderNotes(detail) {
    const notes = Array.isArray(detail.notes) ? detail.notes : [];
    const items = notes.map((note) => {
      const item = element("li", "entry");
      item.append(element("span", "entry-meta", `${formatTime(note.time)} · ${note.author || "?"}`),
                  element("p", null, note.text));
      return item;
    });
    if (items.length === 0) items.push(element("li", "empty", "No notes."));
    $("notes").replaceChildren(...items);
  }

  // ---------------------------------------------------------------- views

  function showView(view) {
    state.view = view;
    $("tab-runs").setAttribute("aria-pressed", view === "runs" ? "true" : "false");
    $("tab-comms").setAttribute("aria-pressed", view === "comms" ? "true" : "false");
    $("runs-view").hidden = view !== "runs";
    $("comms-view").hidden = view !== "comms";
    const skip = document.querySelector(".skip-link");
    skip.href = view === "comms" ? "#incident-detail" : "#run-detail";
    skip.textContent = view === "comms" ? "Skip to the selected incident" : "Skip to the selected run";
    if (view === "comms") loadComms();
  }

  // ---------------------------------------------------------------- communications
  //
  // The comms engine's incidents, messages and channels (docs/coordinator.md,
  // "Communications"). Loaded when the view opens, every few seconds while it
  // is open, and soon after live events (the engine reads stored events within
  // a second of their commit). A coordinator without [comms] answers 404.

  const COMMS_POLL_MS = 3000;
  const COMMS_AFTER_EVENT_MS = 1200;

  function freshComms() {
    return {
      configured: null, // null: not asked yet
      notConfiguredText: "",
      incidents: [],
      channels: [],
      selected: null, // incident key
      messages: [],
      messagesFor: null,
      summary: null, // {key, text} once asked for
      summaryOpen: false,
      forms: new Map(), // message id -> {kind: "edit"|"reject", node}
      errors: new Map(), // message id -> the API's refusal, as text
      busy: new Set(), // message ids with a request under way
      loading: false,
      again: false,
      drawn: "", // what the incident detail was drawn from
    };
  }

  // A coordinator without [comms] is asked again when the view opens or the
  // live feed reconnects (a restart may have added it), not on every event.
  function commsEvent() {
    if (!state.token || state.comms.configured === false) return;
    debounce("commsRefresh", COMMS_AFTER_EVENT_MS, loadComms);
  }

  async function loadComms() {
    const comms = state.comms;
    if (!state.token) return;
    if (comms.loading) {
      comms.again = true;
      return;
    }
    comms.loading = true;
    try {
      await loadCommsOnce(comms);
    } finally {
      comms.loading = false;
      if (comms.again && state.comms === comms) {
        comms.again = false;
        loadComms();
      }
    }
  }

  async function loadCommsOnce(comms) {
    let incidents;
    try {
      incidents = await api("/api/v1/incidents");
    } catch (error) {
      if (state.comms !== comms) return;
      if (error instanceof HttpError && error.status === 404) {
        comms.configured = false;
        comms.notConfiguredText = error.reason;
        renderComms();
        return;
      }
      if (error instanceof HttpError && (error.status === 0 || error.status === 401)) {
        showBoardError(error);
        return;
      }
      $("comms-error").textContent = `Could not load the incidents: ${error.message}`;
      return;
    }
    if (state.comms !== comms) return;
    comms.configured = true;
    comms.incidents = Array.isArray(incidents.incidents) ? incidents.incidents : [];
    const viewOpen = state.view === "comms";
    const wanted = comms.selected;
    const requests = [viewOpen ? api("/api/v1/channels") : null,
                      viewOpen && wanted ? api(`/api/v1/messages?incident=${encodeURIComponent(wanted)}`) : null,
                      viewOpen && wanted && comms.summaryOpen
                        ? api(`/api/v1/incidents/${encodeURIComponent(wanted)}/summary`, { text: true })
                        : null];
    const [channels, messages, summary] = await Promise.allSettled(requests.map((request) => request));
    if (state.comms !== comms) return;
    const problems = [];
    if (channels.status === "fulfilled" && channels.value) {
      comms.channels = Array.isArray(channels.value.channels) ? channels.value.channels : [];
    } else if (channels.status === "rejected") {
      problems.push(`channels: ${channels.reason.message}`);
    }
    if (comms.selected === wanted) {
      if (messages.status === "fulfilled" && messages.value) {
        comms.messages = Array.isArray(messages.value.messages) ? messages.value.messages : [];
        comms.messagesFor = wanted;
      } else if (messages.status === "rejected") {
        problems.push(`messages: ${messages.reason.message}`);
      }
      if (summary.status === "fulfilled" && typeof summary.value === "string") {
        comms.summary = { key: wanted, text: summary.value };
        $("summary-error").textContent = "";
      } else if (summary.status === "rejected") {
        $("summary-error").textContent = `Could not load the summary: ${summary.reason.message}`;
      }
    }
    $("comms-error").textContent = problems.length ? `Could not load ${problems.join("; ")}` : "";
    renderComms();
  }

  function awaitingCount(incident) {
    const counts = incident && incident.messages;
    return counts && Number.isFinite(counts.awaiting_approval) ? counts.awaiting_approval : 0;
  }

  function renderComms() {
    const comms = state.comms;
    const off = comms.configured === false;
    $("comms-off").hidden = !off;
    $("comms-off-detail").textContent = off ? `The coordinator said: ${comms.notConfiguredText}` : "";
    $("comms-side").hidden = off;
    $("incident-detail").hidden = off;
    const awaiting = comms.incidents.reduce((sum, incident) => sum + awaitingCount(incident), 0);
    const count = $("tab-comms-count");
    count.hidden = awaiting === 0;
    count.textContent = awaiting ? `${awaiting} awaiting approval` : "";
    if (off || state.view !== "comms") return;
    renderChannels();
    renderIncidents();
    renderIncident();
  }

  function renderChannels() {
    // Failing channels first: they are the ones to look at.
    const channels = state.comms.channels.slice().sort((a, b) =>
      (a.state === "failing" ? 0 : 1) - (b.state === "failing" ? 0 : 1) || String(a.name).localeCompare(String(b.name)));
    $("channels").replaceChildren(...channels.map((channel) => {
      const failing = channel.state === "failing";
      const item = element("li", `channel${failing ? " channel-failing" : ""}`);
      item.dataset.channel = channel.name;
      item.dataset.state = channel.state || "unknown";
      const head = element("span", "channel-head");
      head.append(element("strong", "channel-name", channel.name),
                  element("span", "channel-kind", channel.kind),
                  element("span", `badge channel-state channel-${failing ? "failing" : "ok"}`,
                          failing ? "failing" : "ok"));
      item.append(head);
      const counts = `sent ${channel.sent ?? 0} · pending ${channel.pending ?? 0} · failed ${channel.failed ?? 0}` +
        ` · last success ${channel.last_success_at ? formatTime(channel.last_success_at) : "never"}`;
      item.append(element("span", "entry-meta", counts));
      if (failing || channel.consecutive_failures > 0) {
        const problem = element("span", "channel-problem",
                                `${channel.consecutive_failures} failure(s) in a row, last at ` +
                                `${formatTime(channel.last_failure_at)}: ${channel.last_error || "no error text"}`);
        item.append(problem);
      }
      return item;
    }));
    $("channels-empty").hidden = channels.length > 0;
  }

  function renderIncidents() {
    const incidents = state.comms.incidents;
    const open = incidents.filter((incident) => incident.state !== "resolved");
    const past = incidents.filter((incident) => incident.state === "resolved");
    fillIncidentList($("incidents-open"), open);
    fillIncidentList($("incidents-past"), past);
    $("incidents-open-empty").hidden = open.length > 0;
    $("incidents-past-empty").hidden = past.length > 0;
  }

  function stateBadge(incident) {
    const words = { failing_over: "failing over", restored: "restored", failed: "failed", resolved: "resolved" };
    const value = incident.state || "unknown";
    const badge = element("span", `badge incident-state incident-${value}`, words[value] || value);
    badge.dataset.state = value;
    return badge;
  }

  function fillIncidentList(list, incidents) {
    const focused = document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.incident
      : undefined;
    list.replaceChildren(...incidents.map((incident) => {
      const item = element("li", "run");
      const button = element("button", "run-button");
      button.type = "button";
      button.dataset.incident = incident.key;
      button.setAttribute("aria-pressed", state.comms.selected === incident.key ? "true" : "false");
      const badges = element("span", "badges");
      badges.append(drillBadge(incident), stateBadge(incident));
      const awaiting = awaitingCount(incident);
      if (awaiting) {
        const badge = element("span", "badge awaiting", `${awaiting} awaiting approval`);
        badge.dataset.awaiting = String(awaiting);
        badges.append(badge);
      }
      const failed = incident.messages && incident.messages.failed;
      if (failed) badges.append(element("span", "badge failed-count", `${failed} failed`));
      button.append(element("span", "run-service", incident.service_name || incident.service || "(no service)"),
                    badges,
                    element("span", "run-meta", `${incident.agent || "?"} · opened ${formatTime(incident.opened_at)}`),
                    element("span", "run-id", incident.key));
      button.addEventListener("click", () => selectIncident(incident.key));
      item.append(button);
      return item;
    }));
    if (focused) {
      const again = list.querySelector(`button[data-incident="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
  }

  function selectIncident(key) {
    const comms = state.comms;
    if (comms.selected !== key) {
      comms.selected = key;
      comms.messages = [];
      comms.messagesFor = null;
      comms.summary = null;
      comms.summaryOpen = false;
      comms.forms.clear();
      comms.errors.clear();
      comms.drawn = "";
      $("summary-error").textContent = "";
    }
    renderIncidents();
    renderIncident();
    loadComms().then(() => {
      if (state.comms.selected === key) $("incident-detail").focus({ preventScroll: true });
    });
  }

  function renderIncident() {
    const comms = state.comms;
    const incident = comms.incidents.find((candidate) => candidate.key === comms.selected);
    const body = $("incident-body");
    if (!comms.selected) {
      $("incident-title").textContent = "No incident selected";
      $("incident-hint").hidden = false;
      body.hidden = true;
      return;
    }
    $("incident-hint").hidden = true;
    if (!incident) {
      $("incident-title").textContent = `Loading ${comms.selected}…`;
      body.hidden = true;
      return;
    }
    // A refresh that changed nothing redraws nothing (focus and text
    // selections stay); an open edit form keeps its own DOM node.
    const drawn = JSON.stringify([incident, comms.messagesFor === incident.key ? comms.messages : null,
                                  [...comms.errors], [...comms.forms.keys()], [...comms.busy],
                                  comms.summaryOpen, comms.summary]);
    if (drawn === comms.drawn && !body.hidden) return;
    const form = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest(".message-form")
      : null;
    if (form && body.contains(form) && comms.drawn !== "") {
      // Someone is typing in a form: redraw after they leave it.
      return;
    }
    comms.drawn = drawn;
    $("incident-title").textContent = `${incident.service_name || incident.service || "incident"} — ${incident.key}`;
    body.hidden = false;
    body.dataset.incident = incident.key;
    $("incident-badges").replaceChildren(drillBadge(incident), stateBadge(incident),
                                         verdictBadge("rto", incident.rto, incident.state === "failing_over"),
                                         verdictBadge("rpo", incident.rpo, incident.state === "failing_over"));
    const facts = [
      ["Agent", incident.agent],
      ["Run", incident.run],
      ["Runbook", incident.runbook],
      ["Opened", formatTime(incident.opened_at)],
      ["Outage start", formatTime(incident.outage_start)],
      ["Restored", formatTime(incident.restored_at)],
      ["Resolved", incident.resolved_at
        ? `${formatTime(incident.resolved_at)}${incident.resolved_by ? ` by ${incident.resolved_by}` : ""}`
        : "open"],
      ["Outcome", incident.outcome || "–"],
      ["RTO", objectiveText(incident.rto)],
      ["RPO", objectiveText(incident.rpo)],
    ];
    $("incident-facts").replaceChildren(
      ...facts.flatMap(([term, value]) => [element("dt", null, term), element("dd", null, value || "–")]),
    );
    renderCadence(incident);
    renderAudiences(incident);
    renderSummary(incident);
  }

  function renderCadence(incident) {
    const rows = (Array.isArray(incident.cadence) ? incident.cadence : []).map((entry) => {
      const row = element("tr");
      row.dataset.audience = entry.audience;
      const header = element("th", null, entry.audience);
      header.setAttribute("scope", "row");
      const missed = element("td", entry.missed > 0 ? "missed" : null, entry.missed ?? 0);
      row.append(header, element("td", null, formatDuration(entry.every_ms)), element("td", null, entry.updates ?? 0),
                 missed, element("td", null, entry.max_gap_ms ? formatDuration(entry.max_gap_ms) : "–"),
                 element("td", null, entry.next_due_at ? formatTime(entry.next_due_at) : "none (resolved)"));
      return row;
    });
    if (rows.length === 0) {
      const row = element("tr");
      const cell = element("td", "empty", "No audience of this incident has a cadence (every).");
      cell.colSpan = 6;
      row.append(cell);
      rows.push(row);
    }
    $("cadence").replaceChildren(...rows);
  }

  // What a message's state means, in words: the badge and the line under it.
  function messageStateText(message) {
    switch (message.state) {
      case "awaiting_approval":
        return ["awaiting approval", `waiting for the spokesperson since ${formatTime(message.created_at)}`];
      case "pending": {
        const next = message.next_attempt_at ? `next attempt ${formatTime(message.next_attempt_at)}` : "sending";
        return ["pending", `${message.attempts ?? 0} attempt(s) so far, ${next}` +
          (message.last_error ? `; last error: ${message.last_error}` : "")];
      }
      case "sent":
        return ["sent", `sent ${formatTime(message.sent_at)}` +
          (message.attempts > 1 ? ` after ${message.attempts} attempts` : "")];
      case "failed":
        return ["failed", `gave up after ${message.attempts ?? 0} attempt(s): ${message.last_error || "no error text"}`];
      case "held":
        return ["held", `drill: held, would have gone to ${message.would_go_to || message.channel}`];
      case "rejected":
        return ["rejected", `rejected by ${message.approved_by || "?"} ${formatTime(message.approved_at)}` +
          (message.last_error ? `: ${message.last_error}` : "")];
      default:
        return [message.state || "unknown", ""];
    }
  }

  function renderAudiences(incident) {
    const comms = state.comms;
    const messages = comms.messagesFor === incident.key ? comms.messages.slice() : [];
    messages.sort((a, b) => a.id - b.id);
    const groups = new Map();
    for (const message of messages) {
      if (!groups.has(message.audience)) groups.set(message.audience, []);
      groups.get(message.audience).push(message);
    }
    // Audiences by name; alerts to roles ("role:...") after them.
    const names = [...groups.keys()].sort((a, b) =>
      (a.startsWith("role:") ? 1 : 0) - (b.startsWith("role:") ? 1 : 0) || a.localeCompare(b));
    const sections = names.map((name) => {
      const section = element("section", "audience");
      section.dataset.audience = name;
      const title = name.startsWith("role:") ? `Alerts to ${name.slice(5)}` : name;
      section.append(element("h4", "audience-title", title));
      const list = element("ul", "message-list");
      list.append(...groups.get(name).map(renderMessage));
      section.append(list);
      return section;
    });
    if (sections.length === 0) {
      sections.push(element("p", "empty", comms.messagesFor === incident.key ? "No messages." : "Loading messages…"));
    }
    $("audiences").replaceChildren(...sections);
  }

  function renderMessage(message) {
    const comms = state.comms;
    const item = element("li", `message message-${message.state}`);
    item.dataset.message = String(message.id);
    item.dataset.state = message.state;
    item.dataset.channel = message.channel;
    const [word, detail] = messageStateText(message);
    const head = element("div", "message-head");
    head.append(element("strong", "message-channel", message.channel),
                element("span", `badge message-state state-${message.state}`, word),
                element("span", "badge message-trigger", message.trigger));
    if (message.drill) head.append(element("span", "badge drill", "drill"));
    if (message.edited) head.append(element("span", "badge edited", "edited"));
    item.append(head);
    item.append(element("p", "message-subject", message.subject));
    item.append(element("p", "message-body", message.body));
    const meta = [`made ${formatTime(message.created_at)}`];
    if (message.approved_by && message.state !== "rejected") {
      meta.push(`approved by ${message.approved_by} ${formatTime(message.approved_at)}`);
    }
    item.append(element("span", "entry-meta message-detail", detail));
    item.append(element("span", "entry-meta", meta.join(" · ")));
    const refusal = comms.errors.get(message.id);
    if (refusal) {
      const error = element("p", "error message-error", refusal);
      error.setAttribute("role", "alert");
      item.append(error);
    }
    if (message.state === "awaiting_approval") item.append(approvalControls(message));
    return item;
  }

  function approvalControls(message) {
    const comms = state.comms;
    const open = comms.forms.get(message.id);
    if (open) return open.node;
    const busy = comms.busy.has(message.id);
    const actions = element("div", "message-actions");
    const approve = element("button", "approve", "Approve");
    approve.type = "button";
    approve.disabled = busy;
    approve.addEventListener("click", () => decide(message, "approve", {}));
    const edit = element("button", "button-secondary edit", "Edit");
    edit.type = "button";
    edit.disabled = busy;
    edit.addEventListener("click", () => openForm(message, "edit"));
    const reject = element("button", "button-secondary reject", "Reject");
    reject.type = "button";
    reject.disabled = busy;
    reject.addEventListener("click", () => openForm(message, "reject"));
    actions.append(approve, edit, reject);
    return actions;
  }

  function openForm(message, kind) {
    const comms = state.comms;
    const form = element("form", "message-form");
    form.noValidate = true;
    form.dataset.kind = kind;
    const id = `message-${message.id}`;
    const field = (label, control, name) => {
      control.id = `${id}-${name}`;
      control.name = name;
      const wrapper = element("div", "field");
      const caption = element("label", null, label);
      caption.htmlFor = control.id;
      wrapper.append(caption, control);
      return wrapper;
    };
    let first;
    if (kind === "edit") {
      const subject = element("input");
      subject.type = "text";
      subject.value = message.subject || "";
      const body = element("textarea");
      body.rows = 7;
      body.value = message.body || "";
      form.append(field("Subject", subject, "subject"), field("Body", body, "body"));
      first = subject;
    } else {
      const reason = element("input");
      reason.type = "text";
      form.append(field("Reason for rejecting", reason, "reason"));
      first = reason;
    }
    const submit = element("button", kind === "edit" ? "approve-edited" : "reject-confirm",
                           kind === "edit" ? "Approve with these edits" : "Reject the message");
    submit.type = "submit";
    const cancel = element("button", "button-secondary cancel", "Cancel");
    cancel.type = "button";
    const buttons = element("div", "message-actions");
    buttons.append(submit, cancel);
    form.append(buttons);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (kind === "edit") {
        decide(message, "approve", { subject: form.elements.subject.value, body: form.elements.body.value });
      } else {
        decide(message, "reject", { reason: form.elements.reason.value });
      }
    });
    cancel.addEventListener("click", () => {
      comms.forms.delete(message.id);
      renderIncident();
    });
    comms.forms.set(message.id, { kind, node: form });
    comms.errors.delete(message.id);
    renderIncident();
    first.focus();
  }

  // POST approve/reject. A refusal (403 for a viewer or a token that is not
  // the plan's spokesperson, 409 when someone else decided first) is shown
  // on the message in the API's own words.
  async function decide(message, action, body) {
    const comms = state.comms;
    comms.busy.add(message.id);
    comms.errors.delete(message.id);
    for (const button of $("audiences").querySelectorAll(`li[data-message="${message.id}"] button`)) {
      button.disabled = true;
    }
    try {
      await api(`/api/v1/messages/${encodeURIComponent(message.id)}/${action}`, { method: "POST", json: body });
      if (state.comms !== comms) return;
      comms.forms.delete(message.id);
    } catch (error) {
      if (state.comms !== comms) return;
      if (error instanceof HttpError && error.status === 401) {
        showBoardError(error);
        return;
      }
      const verb = action === "approve" ? "approve" : "reject";
      comms.errors.set(message.id, `Could not ${verb}: ${error.message}`);
    } finally {
      comms.busy.delete(message.id);
    }
    if (document.activeElement && document.activeElement.closest && document.activeElement.closest(".message-form")) {
      document.activeElement.blur();
    }
    renderIncident();
    await loadComms();
  }

  function renderSummary(incident) {
    const comms = state.comms;
    const button = $("summary-button");
    button.textContent = comms.summaryOpen ? "Hide the summary" : "Show the summary";
    button.setAttribute("aria-expanded", comms.summaryOpen ? "true" : "false");
    const pre = $("summary");
    const text = comms.summary && comms.summary.key === incident.key ? comms.summary.text : null;
    pre.hidden = !comms.summaryOpen || text === null;
    if (text !== null && pre.textContent !== text) pre.textContent = text;
  }

  function toggleSummary() {
    const comms = state.comms;
    comms.summaryOpen = !comms.summaryOpen;
    renderIncident();
    if (comms.summaryOpen) loadComms();
  }

  // ---------------------------------------------------------------- Gantt

  const GANTT = {
    width: 820,
    labelWidth: 190,
    rightPad: 24,
    top: 34,
    rowHeight: 26,
    barHeight: 16,
    bottom: 30,
  };

  // A "nice" tick spacing for a span: 1, 2 or 5 times a power of ten ms.
  function tickStep(spanMs, wanted) {
    const raw = spanMs / wanted;
    const power = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1))));
    for (const factor of [1, 2, 5, 10]) {
      if (raw <= factor * power) return factor * power;
    }
    return 10 * power;
  }

  function renderGantt(detail) {
    const svg = $("gantt");
    const steps = stepsInOrder(detail);
    const now = Date.now();
    const outageStart = parseTime(detail.outage_start);
    const runStart = parseTime(detail.started_at);
    const rtoTarget = detail.rto && Number.isFinite(detail.rto.target_ms) ? detail.rto.target_ms : null;
    const origin = outageStart ?? runStart;
    const budgetEnd = origin !== null && rtoTarget !== null ? origin + rtoTarget : null;
    const restoredAt = origin !== null && detail.rto && Number.isFinite(detail.rto.value_ms)
      ? origin + detail.rto.value_ms
      : null;

    const times = [];
    for (const value of [outageStart, runStart, parseTime(detail.finished_at), budgetEnd, restoredAt]) {
      if (value !== null) times.push(value);
    }
    for (const step of steps) {
      for (const phase of phasesOf(step)) {
        const begin = parseTime(phase.started_at);
        const finish = parseTime(phase.finished_at);
        if (begin !== null) times.push(begin);
        if (finish !== null) times.push(finish);
        if (begin !== null && finish === null) times.push(Math.max(now, begin));
      }
    }
    const start = times.length ? Math.min(...times) : now;
    let end = times.length ? Math.max(...times) : now + 1000;
    if (end - start < 1000) end = start + 1000;
    const span = end - start;
    const plotWidth = GANTT.width - GANTT.labelWidth - GANTT.rightPad;
    const x = (time) => GANTT.labelWidth + ((time - start) / span) * plotWidth;
    const height = GANTT.top + Math.max(steps.length, 1) * GANTT.rowHeight + GANTT.bottom;

    svg.setAttribute("viewBox", `0 0 ${GANTT.width} ${height}`);
    svg.setAttribute("width", GANTT.width);
    svg.setAttribute("height", height);
    svg.dataset.start = String(start);
    svg.dataset.end = String(end);

    const title = svgElement("title", { id: "gantt-title" });
    title.textContent = `Step timeline of run ${detail.run}`;
    const desc = svgElement("desc", { id: "gantt-desc" });
    const ran = steps.filter((step) => parseTime(step.started_at) !== null).length;
    desc.textContent = `${ran} of ${steps.length} steps started` +
      (budgetEnd !== null ? `; the RTO budget ends ${formatDuration(budgetEnd - start)} into the chart` : "; no RTO target");

    const defs = svgElement("defs");
    const pattern = svgElement("pattern", {
      id: "over-budget-hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse",
      patternTransform: "rotate(45)",
    });
    // Stripes only: the bar's status colour stays visible between them.
    pattern.append(svgElement("rect", { width: 3, height: 6, class: "hatch-stripe" }));
    defs.append(pattern);

    const children = [title, desc, defs];

    // Wave bands: consecutive rows of one wave share a band; bands alternate.
    let bandStart = 0;
    let bandIndex = 0;
    for (let row = 0; row <= steps.length; row++) {
      const waveHere = row < steps.length ? steps[row].wave : Symbol("end");
      if (row > 0 && (row === steps.length || waveHere !== steps[row - 1].wave)) {
        const wave = steps[row - 1].wave;
        const phaseClass = steps[row - 1].phase === "cleanup" ? " band-cleanup" : "";
        children.push(svgElement("rect", {
          class: `wave-band band-${bandIndex % 2}${phaseClass}`,
          x: 0, y: GANTT.top + bandStart * GANTT.rowHeight,
          width: GANTT.width, height: (row - bandStart) * GANTT.rowHeight,
        }));
        const label = svgElement("text", {
          class: "wave-label", x: 6, y: GANTT.top + bandStart * GANTT.rowHeight + 17,
        });
        label.textContent = wave === null || wave === undefined ? "" : `W${wave}`;
        children.push(label);
        bandStart = row;
        bandIndex++;
      }
    }

    // Time axis: ticks relative to the origin (outage start, else run start).
    const axisOrigin = origin ?? start;
    const step = tickStep(span, 6);
    const firstTick = Math.ceil((start - axisOrigin) / step) * step;
    for (let offset = firstTick; axisOrigin + offset <= end; offset += step) {
      const tickX = x(axisOrigin + offset);
      children.push(svgElement("line", {
        class: "tick", x1: tickX, x2: tickX, y1: GANTT.top - 4, y2: height - GANTT.bottom,
      }));
      const label = svgElement("text", { class: "tick-label", x: tickX, y: height - GANTT.bottom + 16 });
      label.textContent = offset === 0 ? "0" : `${offset > 0 ? "+" : ""}${formatDuration(offset)}`;
      children.push(label);
    }

    steps.forEach((stepData, row) => {
      const y = GANTT.top + row * GANTT.rowHeight;
      const label = svgElement("text", { class: "step-label", x: 34, y: y + 17 });
      const name = String(stepData.id ?? "");
      label.textContent = name.length > 22 ? `${name.slice(0, 21)}…` : name;
      children.push(label);

      // One bar per phase that started: a step that was rolled back has its
      // main bar and, later in the same row, its rollback bar.
      const phases = phasesOf(stepData).filter((phase) => parseTime(phase.started_at) !== null);
      if (phases.length === 0) {
        const pending = svgElement("text", { class: "pending-label", x: GANTT.labelWidth + 4, y: y + 17 });
        pending.textContent = stepData.status === "skipped"
          ? `skipped${stepData.skip_reason ? `: ${stepData.skip_reason}` : ""}`
          : "not started";
        children.push(pending);
        return;
      }
      for (const phaseData of phases) {
        const started = parseTime(phaseData.started_at);
        const finished = parseTime(phaseData.finished_at);
        const running = finished === null;
        const barEnd = running ? Math.max(now, started) : finished;
        const status = running ? "running" : phaseData.status || "unknown";
        const phase = phaseData.phase || "main";
        const barX = x(started);
        const barWidth = Math.max(x(barEnd) - barX, 3);
        const barY = y + (GANTT.rowHeight - GANTT.barHeight) / 2;
        const bar = svgElement("rect", {
          class: `bar status-${status} phase-${phase}`,
          x: barX.toFixed(1), y: barY, width: barWidth.toFixed(1), height: GANTT.barHeight, rx: 2,
        });
        bar.dataset.step = name;
        bar.dataset.status = status;
        bar.dataset.phase = phase;
        const tooltip = svgElement("title");
        tooltip.textContent = `${name}: ${status}${phase !== "main" ? ` (${phase} phase)` : ""}, ` +
          `${formatDuration(barEnd - started)}` +
          (phaseData.attempts > 1 ? `, ${phaseData.attempts} attempts` : "") +
          (phaseData.error ? ` — ${phaseData.error}` : "");
        bar.append(tooltip);
        children.push(bar);
        if (budgetEnd !== null && barEnd > budgetEnd) {
          const overStart = Math.max(barX, x(budgetEnd));
          children.push(svgElement("rect", {
            class: "over-budget", fill: "url(#over-budget-hatch)",
            x: overStart.toFixed(1), y: barY, width: Math.max(barX + barWidth - overStart, 1).toFixed(1),
            height: GANTT.barHeight,
          }));
        }
      }
    });

    const bottom = height - GANTT.bottom;
    if (outageStart !== null) {
      children.push(svgElement("line", {
        class: "marker outage-line", x1: x(outageStart), x2: x(outageStart), y1: GANTT.top - 14, y2: bottom,
      }));
      const label = svgElement("text", { class: "marker-label", x: x(outageStart) + 3, y: GANTT.top - 16 });
      label.textContent = "outage";
      children.push(label);
    }
    if (restoredAt !== null) {
      children.push(svgElement("line", {
        class: "marker restored-line", x1: x(restoredAt), x2: x(restoredAt), y1: GANTT.top - 4, y2: bottom,
      }));
    }
    if (budgetEnd !== null) {
      const budgetX = x(budgetEnd);
      children.push(svgElement("line", {
        id: "rto-budget-line", class: "marker rto-line", x1: budgetX, x2: budgetX, y1: GANTT.top - 14, y2: bottom,
      }));
      const label = svgElement("text", {
        class: "marker-label rto-label", x: budgetX - 3, y: GANTT.top - 16, "text-anchor": "end",
      });
      label.textContent = `RTO budget ${formatDuration(rtoTarget)}`;
      children.push(label);
    }
    svg.replaceChildren(...children);
  }

  // Running bars grow between refreshes: re-drawing from the data we have
  // moves their end to now.
  function tick() {
    if (state.detail && state.detail.live && !$("run-body").hidden) {
      renderGantt(state.detail);
    }
    for (const item of $("agents").children) {
      const agent = state.agents.get(item.dataset.agent);
      const details = item.querySelector(".agent-details");
      if (agent && details) details.textContent = agentDetails(agent);
    }
  }

  // ---------------------------------------------------------------- start

  function start() {
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const token = $("token").value.trim();
      if (token === "") {
        $("sign-in-error").textContent = "Enter a token.";
        $("token").setAttribute("aria-invalid", "true");
        return;
      }
      signIn(token);
    });
    $("sign-out").addEventListener("click", () => signOut(""));
    $("tab-runs").addEventListener("click", () => showView("runs"));
    $("tab-comms").addEventListener("click", () => showView("comms"));
    $("summary-button").addEventListener("click", toggleSummary);
    state.comms = freshComms();
    setInterval(tick, 500);
    setInterval(() => {
      if (state.token && state.view === "comms" && !$("board").hidden) loadComms();
    }, COMMS_POLL_MS);
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) signIn(saved);
    else showSignIn("");
  }

  document.addEventListener("DOMContentLoaded", start);
})();
