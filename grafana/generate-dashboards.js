#!/usr/bin/env node
// Generates grafana/dashboards/*.json, the Grafana dashboards of beam_exporter.
// The JSON files are committed; tests/ops/check_dashboards.js fails when they differ from this
// script's output, so edit this file and run `node grafana/generate-dashboards.js`.
//
// Conventions (checked by tests/ops/check_dashboards.js):
// - schemaVersion 39 (Grafana 10.4 / 11 import it and migrate upwards), core panels only;
// - a `datasource` variable of type prometheus; every panel and target uses "${datasource}";
// - `namespace`, `app` (job) and `pod` variables (multi-value, regex matchers) scoped to
//   beam_exporter's targets; every panel keeps the pod apart (tests/ops/live_dashboards.js);
// - every panel has a description that says what "bad" looks like;
// - dashboards link to each other (tag beam_exporter) and panels link to their runbooks.
'use strict';

const fs = require('fs');
const path = require('path');

// Where runbook links point; the same base as the runbook_url of the alert rules.
const DEFAULT_RUNBOOK_BASE = 'https://github.com/beam-exporter/beam_exporter/blob/main/docs/runbooks/';
const TAG = 'beam_exporter';
const DS = { type: 'prometheus', uid: '${datasource}' };

// Identity is the scrape target's: `namespace`, `job` (the app) and `pod`, as a PodMonitor or
// kubernetes_sd attaches them, and `cluster` where a global view (Thanos, Mimir) adds it. The
// Erlang `node` label does not tell replicas apart (every replica of the shipped layout is
// app@127.0.0.1), so panels aggregate by (cluster, namespace, pod) and never by node. VM (BEAM collector series) and APP (telemetry and self-metrics) are the same
// selector; the two names say which series a panel reads.
const VM = 'cluster=~"$cluster", namespace=~"$namespace", job=~"$app", pod=~"$pod"';
const APP = VM;
const RI = '$__rate_interval';

// The variables offer only the targets of beam_exporter (beam_exporter_build_info). Their All
// value `.*` also matches a missing label (a static scrape config without namespace or pod); it
// is safe because every panel reads our own metric names, and the generic ones (up, process_*)
// are joined with beam_exporter_build_info.
function variables() {
  const query = (name, label, q) => ({
    name, label, type: 'query', datasource: DS, query: q,
    refresh: 2, includeAll: true, multi: true, allValue: '.*', options: [],
    sort: 1, hide: 0, regex: '', skipUrlSync: false,
  });
  return [
    { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus',
      hide: 0, includeAll: false, multi: false, options: [], refresh: 1, regex: '', skipUrlSync: false },
    // Hidden while no target has a cluster label (one Prometheus per cluster, the usual case).
    { ...query('cluster', 'Cluster', 'label_values(beam_exporter_build_info, cluster)'), hide: 2 },
    query('namespace', 'Namespace', 'label_values(beam_exporter_build_info{cluster=~"$cluster"}, namespace)'),
    query('app', 'App (job)', 'label_values(beam_exporter_build_info{cluster=~"$cluster", namespace=~"$namespace"}, job)'),
    query('pod', 'Pod', 'label_values(beam_exporter_build_info{cluster=~"$cluster", namespace=~"$namespace", job=~"$app"}, pod)'),
  ];
}

// t(expr, legend, extra): one query target.
function t(expr, legendFormat = '', extra = {}) {
  return { expr, legendFormat, ...extra };
}

// A panel spec: {type, title, description, targets, unit, w, h, runbooks, min, max, ...}.
function buildPanel(spec, id, gridPos, runbookBase) {
  const targets = spec.targets.map((target, i) => {
    const instant = spec.type === 'table' || spec.type === 'bargauge' || target.instant === true;
    const out = {
      refId: String.fromCharCode(65 + i), datasource: DS, expr: target.expr,
      legendFormat: target.legendFormat, range: !instant, instant,
    };
    if (spec.type === 'table') out.format = 'table';
    if (spec.type === 'heatmap') out.format = 'heatmap';
    return out;
  });
  const defaults = { unit: spec.unit || 'short' };
  if (spec.min !== undefined) defaults.min = spec.min;
  if (spec.max !== undefined) defaults.max = spec.max;
  if (spec.thresholds) {
    defaults.thresholds = { mode: 'absolute', steps: [
      { color: spec.baseColor || 'green', value: null },
      ...spec.thresholds.map(([value, color]) => ({ color, value })),
    ] };
  }
  if (spec.mappings) defaults.mappings = spec.mappings;
  if (spec.noValue !== undefined) defaults.noValue = spec.noValue;
  if (spec.type === 'timeseries') {
    defaults.custom = { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never',
      spanNulls: false, stacking: { mode: spec.stack ? 'normal' : 'none', group: 'A' } };
  }
  const panel = {
    id, type: spec.type, title: spec.title, description: spec.description, datasource: DS, gridPos,
    fieldConfig: { defaults, overrides: [] }, options: panelOptions(spec), targets,
  };
  if (spec.type === 'table') {
    panel.transformations = [{ id: 'organize', options: { excludeByName: { Time: true, __name__: true }, renameByName: { Value: spec.valueName || 'Value' } } }];
  }
  if (spec.runbooks) {
    // Grafana reads title/url/targetBlank; the other keys complete the schema's DashboardLink.
    panel.links = spec.runbooks.map((alert) => ({ title: `Runbook: ${alert}`, type: 'link', url: `${runbookBase}${alert}.md`,
      targetBlank: true, asDropdown: false, icon: 'doc', includeVars: false, keepTime: false, tags: [], tooltip: `What ${alert} means and how to fix it` }));
  }
  return panel;
}

function panelOptions(spec) {
  const reduce = { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } };
  switch (spec.type) {
    case 'timeseries':
      return { legend: { displayMode: 'table', placement: 'bottom', showLegend: true, calcs: ['lastNotNull', 'max'] },
        tooltip: { mode: 'multi', sort: 'desc' } };
    case 'stat':
      return { ...reduce, colorMode: 'value', graphMode: 'area', justifyMode: 'auto', orientation: 'auto', textMode: 'auto' };
    case 'gauge':
      return { ...reduce, showThresholdLabels: false, showThresholdMarkers: true };
    case 'bargauge':
      return { ...reduce, reduceOptions: { calcs: ['lastNotNull'], fields: '', values: true }, displayMode: 'gradient', orientation: 'horizontal', showUnfilled: true };
    case 'table':
      return { showHeader: true, cellHeight: 'sm', sortBy: [{ displayName: spec.valueName || 'Value', desc: true }] };
    case 'heatmap':
      return { calculate: false, cellGap: 1, color: { mode: 'scheme', scheme: 'Oranges', steps: 64 },
        yAxis: { unit: spec.yUnit || 'short' }, tooltip: { mode: 'single', yHistogram: true }, legend: { show: true } };
    default:
      throw new Error(`no options for panel type ${spec.type}`);
  }
}

// Places panels left to right on Grafana's 24-column grid, wrapping to a new row.
function layout(specs, runbookBase) {
  let x = 0, y = 0, rowHeight = 0;
  return specs.map((spec, i) => {
    const w = spec.w || 12, h = spec.h || 8;
    if (x + w > 24) { x = 0; y += rowHeight; rowHeight = 0; }
    const panel = buildPanel(spec, i + 1, { h, w, x, y }, runbookBase);
    x += w; rowHeight = Math.max(rowHeight, h);
    return panel;
  });
}

function dashboard({ uid, title, description, panels }, runbookBase) {
  return {
    description,
    editable: true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    id: null,
    links: [{ title: 'beam_exporter dashboards', type: 'dashboards', tags: [TAG], asDropdown: true,
      includeVars: true, keepTime: true, icon: 'external link', targetBlank: false, tooltip: '', url: '' },
    { title: 'Runbooks', type: 'link', url: runbookBase, icon: 'doc', asDropdown: false, includeVars: false,
      keepTime: false, targetBlank: true, tags: [], tooltip: 'What each alert means and how to fix it' }],
    panels: layout(panels, runbookBase),
    refresh: '30s',
    schemaVersion: 39,
    tags: [TAG],
    templating: { list: variables() },
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    timezone: '',
    title,
    uid,
    version: 1,
    weekStart: '',
  };
}

const DASHBOARDS = [
  {
    file: 'beam-overview.json', uid: 'beam-exporter-overview', title: 'BEAM / Overview',
    description: 'Health of Erlang/Elixir nodes watched by beam_exporter: reachability, limits, load and memory at a glance.',
    panels: [
      { type: 'stat', w: 4, h: 4, title: 'Node reachable', unit: 'none',
        description: 'Whether the beam_exporter of each pod reaches its node over Erlang distribution (1 = yes). Bad: 0 for more than a few minutes outside a deploy; see the exporter dashboard for the connect error reason.',
        targets: [t(`min by (cluster, namespace, pod) (beam_up{${VM}})`, '{{namespace}}/{{pod}}')], baseColor: 'red', thresholds: [[1, 'green']], mappings: [{ type: 'value', options: { 0: { text: 'DOWN', color: 'red' }, 1: { text: 'UP', color: 'green' } } }],
        runbooks: ['BeamNodeDown'] },
      { type: 'stat', w: 4, h: 4, title: 'Uptime', unit: 's',
        description: 'Time since the VM started. Bad: keeps dropping back to minutes (crash loop after a bad deploy or a missing runtime.exs setting).',
        targets: [t(`min by (cluster, namespace, pod) (erlang_vm_uptime_seconds{${VM}})`, '{{namespace}}/{{pod}}')], runbooks: ['BeamNodeCrashLooping'] },
      { type: 'stat', w: 4, h: 4, title: 'Nodes up', unit: 'none',
        description: 'Number of nodes (pods) reached, per app. Bad: fewer than the replicas the app runs.',
        targets: [t(`sum by (namespace, job) (beam_up{${VM}})`, '{{namespace}}/{{job}}')] },
      { type: 'stat', w: 4, h: 4, title: 'VM memory', unit: 'bytes',
        description: 'Memory allocated by the Erlang VM (erlang:memory(total)). Bad: close to the container memory limit, or only ever growing.',
        targets: [t(`sum by (cluster, namespace, pod) (erlang_vm_memory_total_bytes{${VM}})`, '{{namespace}}/{{pod}}')], runbooks: ['BeamMemoryGrowthPredicted'] },
      { type: 'stat', w: 4, h: 4, title: 'Processes', unit: 'short',
        description: 'Live Erlang processes. Bad: steady growth that never comes back down (leaked processes).',
        targets: [t(`sum by (cluster, namespace, pod) (erlang_vm_processes{${VM}})`, '{{namespace}}/{{pod}}')] },
      { type: 'stat', w: 4, h: 4, title: 'Run queue per scheduler', unit: 'short',
        description: 'Runnable processes waiting per online scheduler. Bad: above 1 for minutes means more work than CPU.',
        targets: [t(`max by (cluster, namespace, pod) (erlang_vm_statistics_run_queues_length{${VM}} / erlang_vm_schedulers_online{${VM}})`, '{{namespace}}/{{pod}}')], thresholds: [[1, 'orange'], [2, 'red']],
        runbooks: ['BeamRunQueueHigh'] },
      { type: 'bargauge', w: 12, h: 8, title: 'Limit usage', unit: 'percentunit', min: 0, max: 1,
        description: 'Share of each VM limit in use (processes +P, ports +Q, atoms +t), per pod. ETS tables have no limit since OTP 21 (only memory). Bad: above 80%; the VM refuses new processes and ports at 100% and aborts when the atom table is full.',
        targets: [
          t(`max by (cluster, namespace, pod) (erlang_vm_processes{${VM}} / erlang_vm_process_limit{${VM}})`, 'processes {{namespace}}/{{pod}}'),
          t(`max by (cluster, namespace, pod) (erlang_vm_ports{${VM}} / erlang_vm_port_limit{${VM}})`, 'ports {{namespace}}/{{pod}}'),
          t(`max by (cluster, namespace, pod) (erlang_vm_atoms{${VM}} / erlang_vm_atom_limit{${VM}})`, 'atoms {{namespace}}/{{pod}}'),
        ], thresholds: [[0.8, 'orange'], [0.9, 'red']],
        runbooks: ['BeamProcessesNearLimit', 'BeamPortsNearLimit', 'BeamAtomsNearLimit'] },
      { type: 'table', w: 12, h: 8, title: 'Nodes', valueName: 'up',
        description: 'Every pod with its node name, OTP release and ERTS version. Bad: a pod missing from the list, or replicas on different releases after a deploy finished.',
        targets: [t(`max by (cluster, namespace, job, pod, node, otp_release, erts_version) (erlang_vm_info{${VM}})`)] },
      { type: 'timeseries', title: 'Scheduler utilization', unit: 'percentunit', min: 0, max: 1,
        description: 'Share of time the schedulers are busy, by scheduler type. Bad: normal schedulers above 90% for long periods (CPU-bound); dirty schedulers near 100% (long NIFs or blocking file I/O).',
        targets: [t(`avg by (cluster, namespace, pod, type) (erlang_vm_scheduler_utilization{${VM}})`, '{{namespace}}/{{pod}} {{type}}')], runbooks: ['BeamSchedulersSaturated'] },
      { type: 'timeseries', title: 'Run queues vs schedulers', unit: 'short',
        description: 'Runnable processes waiting for a scheduler, against the number of online schedulers. Bad: the run queue staying above the scheduler count (overload: latency grows for every process).',
        targets: [
          t(`sum by (cluster, namespace, pod) (erlang_vm_statistics_run_queues_length{${VM}})`, 'run queue {{namespace}}/{{pod}}'),
          t(`sum by (cluster, namespace, pod) (erlang_vm_statistics_dirty_cpu_run_queue_length{${VM}})`, 'dirty CPU run queue {{namespace}}/{{pod}}'),
          t(`sum by (cluster, namespace, pod) (erlang_vm_schedulers_online{${VM}})`, 'schedulers {{namespace}}/{{pod}}'),
        ], runbooks: ['BeamRunQueueHigh'] },
      { type: 'timeseries', title: 'Memory by kind', unit: 'bytes', stack: true,
        description: 'VM memory split into process heaps and system memory (binaries, ETS, code, atoms). Bad: one kind climbing without bound; see Memory & ETS.',
        targets: [t(`sum by (cluster, namespace, pod, kind) (erlang_vm_memory_bytes{${VM}})`, '{{namespace}}/{{pod}} {{kind}}')], runbooks: ['BeamMemoryGrowthPredicted'] },
      { type: 'timeseries', title: 'Reductions per second', unit: 'short',
        description: 'Work done by the VM (function calls). Bad: a sudden drop with traffic unchanged (processes blocked), or a jump with no more traffic (busy loop).',
        targets: [t(`sum by (cluster, namespace, pod) (rate(erlang_vm_statistics_reductions_total{${VM}}[${RI}]))`, '{{namespace}}/{{pod}}')] },
      { type: 'timeseries', title: 'Garbage collections per second', unit: 'short',
        description: 'Garbage collections. Bad: a rise together with memory churn (large binaries or big process heaps being copied).',
        targets: [t(`sum by (cluster, namespace, pod) (rate(erlang_vm_statistics_garbage_collection_number_of_gcs_total{${VM}}[${RI}]))`, '{{namespace}}/{{pod}}')] },
      { type: 'timeseries', title: 'Port I/O', unit: 'Bps',
        description: 'Bytes received and sent through ports (sockets, files). Bad: output stalling while input keeps arriving.',
        targets: [
          t(`sum by (cluster, namespace, pod) (rate(erlang_vm_statistics_bytes_received_total{${VM}}[${RI}]))`, 'in {{namespace}}/{{pod}}'),
          t(`sum by (cluster, namespace, pod) (rate(erlang_vm_statistics_bytes_output_total{${VM}}[${RI}]))`, 'out {{namespace}}/{{pod}}'),
        ] },
    ],
  },
  {
    file: 'beam-processes.json', uid: 'beam-exporter-processes', title: 'BEAM / Processes & mailboxes',
    description: 'Which processes fall behind: mailbox lengths, message queue distribution, process groups, crashes and restarts.',
    panels: [
      { type: 'timeseries', title: 'Processes vs limit', unit: 'short',
        description: 'Live processes and the process limit (+P). Bad: processes approaching the limit, or growing without bound (leak: processes spawned and never exiting).',
        targets: [t(`sum by (cluster, namespace, pod) (erlang_vm_processes{${VM}})`, 'processes {{namespace}}/{{pod}}'), t(`sum by (cluster, namespace, pod) (erlang_vm_process_limit{${VM}})`, 'limit {{namespace}}/{{pod}}')],
        runbooks: ['BeamProcessesNearLimit'] },
      { type: 'timeseries', title: 'Messages queued in all mailboxes', unit: 'short',
        description: 'Sum of message_queue_len over all processes. Bad: a total that keeps growing (some process cannot keep up; it will eventually use all memory).',
        targets: [t(`sum by (cluster, namespace, pod) (erlang_vm_process_message_queue_length_sum{${VM}})`, '{{namespace}}/{{pod}}')], runbooks: ['BeamProcessMailboxBacklog'] },
      { type: 'table', w: 12, h: 9, title: 'Longest mailboxes', valueName: 'messages',
        description: 'The processes with the most messages waiting. Bad: a registered process (GenServer) with thousands of messages that does not drain: a slow consumer or a blocking call inside handle_call/handle_info.',
        targets: [t(`topk(10, max by (cluster, namespace, pod, process, pid) (erlang_vm_top_process_message_queue_length{${VM}}))`)],
        runbooks: ['BeamProcessMailboxBacklog'] },
      { type: 'timeseries', w: 12, h: 9, title: 'Longest mailboxes over time', unit: 'short',
        description: 'Mailbox length of the top processes over time. Bad: a line that only climbs.',
        targets: [t(`topk(5, max by (cluster, namespace, pod, process) (erlang_vm_top_process_message_queue_length{${VM}}))`, '{{namespace}}/{{pod}} {{process}}')],
        runbooks: ['BeamProcessMailboxBacklog'] },
      { type: 'heatmap', w: 12, h: 8, title: 'Mailbox length distribution', yUnit: 'short',
        description: 'How many processes have mailboxes of each size (histogram buckets). Bad: processes moving into the high buckets and staying there.',
        targets: [t(`sum by (cluster, namespace, pod, le) (max_over_time(erlang_vm_process_message_queue_length_bucket{${VM}}[${RI}]))`, '{{le}}')] },
      { type: 'table', w: 12, h: 8, title: 'Memory of the processes with the longest mailboxes', unit: 'bytes', valueName: 'memory',
        description: 'Memory held by the processes with the longest mailboxes: queued messages live on the process heap. Bad: hundreds of MiB on a single mailbox.',
        targets: [t(`topk(10, max by (cluster, namespace, pod, process, pid) (erlang_vm_top_mailbox_process_memory_bytes{${VM}}))`)],
        runbooks: ['BeamProcessMailboxBacklog'] },
      { type: 'timeseries', title: 'Process group members', unit: 'short',
        description: 'Live processes in each configured process group (by default joined Phoenix channels, connected LiveViews, Cowboy WebSockets), from the group pass, which runs as often as cpu_budget allows: every collection on small nodes, minutes apart on big ones (its age: beam_exporter_beam_last_scan_timestamp_seconds{scan=\"groups\"}). Bad: a sudden drop: sockets or channel processes disconnected en masse.',
        targets: [t(`sum by (cluster, namespace, pod, group) (erlang_vm_process_group_processes{${VM}})`, '{{namespace}}/{{pod}} {{group}}')], runbooks: ['BeamProcessGroupMembersDropped'] },
      { type: 'timeseries', title: 'Supervisor restarts', unit: 'short',
        description: 'Child restarts reported by supervisors, per minute. Bad: the same child restarting again and again (restart storm), which ends with the supervisor itself giving up.',
        targets: [t(`sum by (cluster, namespace, pod, supervisor, child) (increase(beam_supervisor_restarts_total{${APP}}[${RI}]))`, '{{supervisor}} / {{child}}')],
        runbooks: ['BeamSupervisorRestartStorm'] },
      { type: 'timeseries', title: 'Crash reports by reason', unit: 'short',
        description: 'Process crashes reported by the logger, by exit reason and, for call timeouts, the called server (timeout MyApp.Cache = a GenServer.call to MyApp.Cache timed out). Bad: a steady stream of timeouts: that GenServer is blocked or overloaded.',
        targets: [t(`sum by (cluster, namespace, pod, reason, server) (increase(beam_crash_reports_total{${APP}}[${RI}]))`, '{{reason}} {{server}}')],
        runbooks: ['BeamGenServerCallTimeouts'] },
      { type: 'timeseries', title: 'Logger messages by level', unit: 'short',
        description: 'Log messages per level. Bad: error and critical lines rising together with crash reports.',
        targets: [t(`sum by (cluster, namespace, pod, level) (increase(beam_logger_messages_total{${APP}}[${RI}]))`, '{{level}}')] },
    ],
  },
  {
    file: 'beam-memory.json', uid: 'beam-exporter-memory', title: 'BEAM / Memory & ETS',
    description: 'Where the memory goes: kinds, trend, the largest processes and ETS tables, atoms and ports.',
    panels: [
      { type: 'timeseries', title: 'Memory by kind', unit: 'bytes', stack: true,
        description: 'Process heaps against system memory. Bad: processes growing (state kept in GenServers, long mailboxes) or system growing (binaries, ETS).',
        targets: [t(`sum by (cluster, namespace, pod, kind) (erlang_vm_memory_bytes{${VM}})`, '{{namespace}}/{{pod}} {{kind}}')] },
      { type: 'timeseries', title: 'System memory by usage', unit: 'bytes', stack: true,
        description: 'System memory split into atoms, binaries, code, ETS and other. Bad: binary growing (refc binaries held by idle processes) or ETS growing (unbounded cache).',
        targets: [t(`sum by (cluster, namespace, pod, usage) (erlang_vm_memory_system_bytes{${VM}})`, '{{namespace}}/{{pod}} {{usage}}')] },
      { type: 'timeseries', w: 24, title: 'Total memory and 24 h forecast', unit: 'bytes',
        description: 'Total VM memory with a linear forecast 24 hours ahead from the last 6 hours. Bad: the forecast far above today (a leak): compare with the container memory limit.',
        targets: [
          t(`sum by (cluster, namespace, pod) (erlang_vm_memory_total_bytes{${VM}})`, 'total {{namespace}}/{{pod}}'),
          t(`sum by (cluster, namespace, pod) (predict_linear(erlang_vm_memory_total_bytes{${VM}}[6h], 86400))`, 'forecast +24h {{namespace}}/{{pod}}'),
        ], runbooks: ['BeamMemoryGrowthPredicted'] },
      { type: 'bargauge', title: 'Largest processes', unit: 'bytes',
        description: 'Processes holding the most memory (heap, stack, mailbox). Bad: a single GenServer with hundreds of MiB: state that only grows.',
        targets: [t(`topk(10, max by (cluster, namespace, pod, process, pid) (erlang_vm_top_process_memory_bytes{${VM}}))`, '{{namespace}}/{{pod}} {{process}} {{pid}}')],
        runbooks: ['BeamProcessMemoryHigh'] },
      { type: 'table', title: 'Largest ETS tables', unit: 'bytes', valueName: 'memory',
        description: 'ETS tables by memory, with owner, type and protection (_other sums the rest). Bad: a cache table growing every day: entries never expire.',
        targets: [t(`topk(15, max by (cluster, namespace, pod, table, owner, type, protection) (erlang_vm_ets_table_memory_bytes{${VM}}))`)],
        runbooks: ['BeamEtsTableLarge', 'BeamEtsTableGrowing'] },
      { type: 'timeseries', title: 'ETS table memory over time', unit: 'bytes',
        description: 'Memory of the largest ETS tables over time. Bad: a line that only climbs.',
        targets: [t(`topk(5, max by (cluster, namespace, pod, table) (erlang_vm_ets_table_memory_bytes{${VM}, table!="_other"}))`, '{{namespace}}/{{pod}} {{table}}')],
        runbooks: ['BeamEtsTableGrowing'] },
      { type: 'timeseries', title: 'ETS table rows', unit: 'short',
        description: 'Objects stored in the largest ETS tables. Bad: rows growing in step with traffic and never shrinking.',
        targets: [t(`topk(5, max by (cluster, namespace, pod, table) (erlang_vm_ets_table_size{${VM}, table!="_other"}))`, '{{namespace}}/{{pod}} {{table}}')] },
      { type: 'timeseries', title: 'ETS tables', unit: 'short',
        description: 'Number of ETS tables per pod. Since OTP 21 there is no table limit (erlang_vm_ets_limit is informational), so no alert; each table costs memory. Bad: growing with traffic (a table created per request or per process and never deleted).',
        targets: [t(`sum by (cluster, namespace, pod) (erlang_vm_ets_tables{${VM}})`, '{{namespace}}/{{pod}}')],
        runbooks: ['BeamEtsTableGrowing'] },
      { type: 'timeseries', title: 'Atoms vs limit', unit: 'short',
        description: 'Atoms in the atom table against the limit; atoms are never garbage collected. Bad: any steady growth after start-up (String.to_atom on user input).',
        targets: [t(`sum by (cluster, namespace, pod) (erlang_vm_atoms{${VM}})`, 'atoms {{namespace}}/{{pod}}'), t(`sum by (cluster, namespace, pod) (erlang_vm_atom_limit{${VM}})`, 'limit {{namespace}}/{{pod}}')],
        runbooks: ['BeamAtomsNearLimit', 'BeamAtomExhaustionPredicted'] },
      { type: 'timeseries', title: 'Ports vs limit', unit: 'short',
        description: 'Open ports (sockets, files, external programs) against the limit. Bad: growing with no more connections (sockets or files never closed).',
        targets: [t(`sum by (cluster, namespace, pod) (erlang_vm_ports{${VM}})`, 'ports {{namespace}}/{{pod}}'), t(`sum by (cluster, namespace, pod) (erlang_vm_port_limit{${VM}})`, 'limit {{namespace}}/{{pod}}')],
        runbooks: ['BeamPortsNearLimit'] },
    ],
  },
  {
    file: 'phoenix.json', uid: 'beam-exporter-phoenix', title: 'BEAM / Phoenix & LiveView',
    description: 'Phoenix HTTP traffic, sockets, channels and LiveView, from the :telemetry events forwarded to beam_exporter.',
    panels: [
      { type: 'stat', w: 6, h: 4, title: 'Requests per second', unit: 'reqps',
        description: 'HTTP requests handled per second. Bad: a sudden drop to zero (nothing reaches the app) or a spike (retry storm).',
        targets: [t(`sum by (cluster, namespace, pod) (rate(phoenix_http_request_duration_seconds_count{${APP}}[${RI}]))`, '{{namespace}}/{{pod}}')] },
      { type: 'stat', w: 6, h: 4, title: '5xx ratio', unit: 'percentunit',
        description: 'Share of requests answered with a 5xx status. Bad: above 5% for more than a few minutes.',
        targets: [t(`sum by (cluster, namespace, pod) (rate(phoenix_http_request_duration_seconds_count{${APP}, status=~"5.."}[${RI}])) / sum by (cluster, namespace, pod) (rate(phoenix_http_request_duration_seconds_count{${APP}}[${RI}]))`, '{{namespace}}/{{pod}}')],
        thresholds: [[0.01, 'orange'], [0.05, 'red']], runbooks: ['PhoenixHttpErrorRateHigh'] },
      { type: 'stat', w: 6, h: 4, title: 'p99 latency', unit: 's',
        description: '99th percentile request duration. Bad: above 2 s for long periods.',
        targets: [t(`histogram_quantile(0.99, sum by (cluster, namespace, pod, le) (rate(phoenix_http_request_duration_seconds_bucket{${APP}}[${RI}])))`, '{{namespace}}/{{pod}}')],
        thresholds: [[1, 'orange'], [2, 'red']], runbooks: ['PhoenixHttpLatencyHigh'] },
      { type: 'stat', w: 6, h: 4, title: 'LiveView exceptions (1h)', unit: 'short', noValue: '0',
        description: 'LiveView exceptions in the last hour. Bad: anything but 0 for a view users rely on.',
        targets: [t(`sum by (cluster, namespace, pod) (increase(phoenix_live_view_exceptions_total{${APP}}[1h]))`, '{{namespace}}/{{pod}}')],
        thresholds: [[1, 'orange'], [10, 'red']], runbooks: ['PhoenixLiveViewExceptions'] },
      { type: 'timeseries', title: 'Requests by status', unit: 'reqps', stack: true,
        description: 'Request rate by status code. Bad: 5xx bands growing; 4xx jumping after a deploy (broken routes or CSRF).',
        targets: [t(`sum by (cluster, namespace, pod, status) (rate(phoenix_http_request_duration_seconds_count{${APP}}[${RI}]))`, '{{status}}')], runbooks: ['PhoenixHttpErrorRateHigh'] },
      { type: 'timeseries', title: 'Controller exceptions by route', unit: 'reqps',
        description: 'Requests whose controller raised, exited or threw, by route, kind and exception (forwarder only; they are also 5xx in the panels above). Bad: any steady line: a bug on that route, or a GenServer call timing out (kind exit, reason timeout).',
        targets: [t(`sum by (cluster, namespace, pod, route, kind, reason) (rate(phoenix_http_request_exceptions_total{${APP}}[${RI}]))`, '{{namespace}}/{{pod}} {{route}} {{kind}} {{reason}}')], runbooks: ['PhoenixHttpErrorRateHigh'] },
      { type: 'timeseries', title: 'Request latency', unit: 's',
        description: 'Median, 95th and 99th percentile request duration. Bad: p99 climbing while traffic is flat (blocking calls, slow queries, pool waits).',
        targets: [0.5, 0.95, 0.99].map((q) => t(`histogram_quantile(${q}, sum by (cluster, namespace, pod, le) (rate(phoenix_http_request_duration_seconds_bucket{${APP}}[${RI}])))`, `p${Math.round(q * 100)}`)),
        runbooks: ['PhoenixHttpLatencyHigh'] },
      { type: 'table', title: 'Slowest routes (p99)', unit: 's', valueName: 'p99',
        description: 'Routes by 99th percentile duration over the last 5 minutes. Bad: an interactive route above a second.',
        targets: [t(`topk(10, histogram_quantile(0.99, sum by (cluster, namespace, pod, method, route, le) (rate(phoenix_http_request_duration_seconds_bucket{${APP}}[5m]))))`)] },
      { type: 'heatmap', title: 'Request duration distribution', yUnit: 's',
        description: 'Requests per duration bucket over time. Bad: a second band of slow requests appearing (timeouts at a fixed duration show as a line).',
        targets: [t(`sum by (cluster, namespace, pod, le) (increase(phoenix_http_request_duration_seconds_bucket{${APP}}[${RI}]))`, '{{le}}')] },
      { type: 'timeseries', title: 'Endpoint latency p99', unit: 's',
        description: '99th percentile duration of the whole endpoint pipeline, by status. Bad: far above the router latency (slow plugs before the router).',
        targets: [t(`histogram_quantile(0.99, sum by (cluster, namespace, pod, status, le) (rate(phoenix_endpoint_request_duration_seconds_bucket{${APP}}[${RI}])))`, '{{status}}')] },
      { type: 'timeseries', title: 'Socket connects and disconnects', unit: 'ops',
        description: 'Socket connections opened (by result) and closed (by reason) per second. Bad: disconnects jumping together with reconnects (missing heartbeats, idle timeouts, a proxy cutting WebSockets).',
        targets: [
          t(`sum by (cluster, namespace, pod, transport, result) (rate(phoenix_socket_connected_total{${APP}}[${RI}]))`, 'connect {{transport}} {{result}}'),
          t(`sum by (cluster, namespace, pod, transport, reason) (rate(phoenix_socket_disconnected_total{${APP}}[${RI}]))`, 'disconnect {{transport}} {{reason}}'),
        ], runbooks: ['PhoenixSocketDisconnectSpike'] },
      { type: 'timeseries', title: 'Channel joins by result', unit: 'ops',
        description: 'Channel joins per second by result. Bad: error results growing (join callbacks crashing or refusing).',
        targets: [t(`sum by (cluster, namespace, pod, channel, result) (rate(phoenix_channel_joined_total{${APP}}[${RI}]))`, '{{channel}} {{result}}')] },
      { type: 'timeseries', title: 'Channel handle_in p99', unit: 's',
        description: '99th percentile duration of channel handle_in by event. Bad: above a second: the channel process blocks and its mailbox grows.',
        targets: [t(`histogram_quantile(0.99, sum by (cluster, namespace, pod, channel, event, le) (rate(phoenix_channel_handled_in_duration_seconds_bucket{${APP}}[${RI}])))`, '{{channel}} {{event}}')] },
      { type: 'timeseries', title: 'LiveView mount p99', unit: 's',
        description: '99th percentile LiveView mount duration by view. Bad: above 2 s (users see a blank page; slow queries in mount).',
        targets: [t(`histogram_quantile(0.99, sum by (cluster, namespace, pod, view, le) (rate(phoenix_live_view_mount_duration_seconds_bucket{${APP}}[${RI}])))`, '{{view}}')], runbooks: ['PhoenixLiveViewSlow'] },
      { type: 'timeseries', title: 'LiveView handle_event p99', unit: 's',
        description: '99th percentile LiveView handle_event duration by view and event. Bad: above 1 s (the UI feels frozen).',
        targets: [t(`histogram_quantile(0.99, sum by (cluster, namespace, pod, view, event, le) (rate(phoenix_live_view_handle_event_duration_seconds_bucket{${APP}}[${RI}])))`, '{{view}} {{event}}')], runbooks: ['PhoenixLiveViewSlow'] },
      { type: 'timeseries', title: 'LiveView render p99', unit: 's',
        description: '99th percentile LiveView render duration by view. Bad: above 100 ms (large assigns re-rendered on every change).',
        targets: [t(`histogram_quantile(0.99, sum by (cluster, namespace, pod, view, le) (rate(phoenix_live_view_render_duration_seconds_bucket{${APP}}[${RI}])))`, '{{view}}')] },
      { type: 'timeseries', title: 'LiveView exceptions', unit: 'short',
        description: 'LiveView exceptions by view, stage and kind. Bad: any steady rate: each one crashes a user\'s LiveView process.',
        targets: [t(`sum by (cluster, namespace, pod, view, stage, kind) (increase(phoenix_live_view_exceptions_total{${APP}}[${RI}]))`, '{{view}} {{stage}} {{kind}}')], runbooks: ['PhoenixLiveViewExceptions'] },
    ],
  },
  {
    file: 'ecto-oban.json', uid: 'beam-exporter-ecto-oban', title: 'BEAM / Ecto & Oban',
    description: 'Database queries and connection pool waits (Ecto), background jobs (Oban).',
    panels: [
      { type: 'timeseries', title: 'Queries per second by source', unit: 'ops',
        description: 'Query rate by repo and source table. Bad: a jump with no more traffic (N+1 queries after a deploy).',
        targets: [t(`sum by (cluster, namespace, pod, repo, source) (rate(ecto_repo_query_duration_seconds_count{${APP}}[${RI}]))`, '{{repo}} {{source}}')] },
      { type: 'timeseries', title: 'Query duration p99 by source', unit: 's',
        description: '99th percentile query duration by table. Bad: above 1 s (missing index, lock contention).',
        targets: [t(`histogram_quantile(0.99, sum by (cluster, namespace, pod, repo, source, le) (rate(ecto_repo_query_duration_seconds_bucket{${APP}}[${RI}])))`, '{{repo}} {{source}}')], runbooks: ['EctoQuerySlow'] },
      { type: 'timeseries', title: 'Pool queue time p95', unit: 's',
        description: '95th percentile time a query waits for a pool connection. Bad: above 100 ms: the pool is exhausted (pool_size too small, or long transactions hold connections).',
        targets: [t(`histogram_quantile(0.95, sum by (cluster, namespace, pod, repo, le) (rate(ecto_repo_query_queue_time_seconds_bucket{${APP}}[${RI}])))`, '{{repo}}')], runbooks: ['EctoQueueTimeHigh'] },
      { type: 'table', title: 'Slowest sources (p99)', unit: 's', valueName: 'p99',
        description: 'Tables by 99th percentile query duration over the last 5 minutes, by command. Bad: selects above 100 ms on hot paths.',
        targets: [t(`topk(10, histogram_quantile(0.99, sum by (cluster, namespace, pod, repo, source, command, le) (rate(ecto_repo_query_duration_seconds_bucket{${APP}}[5m]))))`)], runbooks: ['EctoQuerySlow'] },
      { type: 'timeseries', title: 'Oban jobs by state', unit: 'ops', stack: true,
        description: 'Finished jobs per second by final state. Bad: failure or discard bands growing.',
        targets: [t(`sum by (cluster, namespace, pod, queue, state) (rate(oban_job_duration_seconds_count{${APP}}[${RI}]))`, '{{queue}} {{state}}')], runbooks: ['ObanJobFailuresHigh'] },
      { type: 'timeseries', title: 'Oban job duration p95', unit: 's',
        description: '95th percentile job duration by worker. Bad: jobs approaching their timeout.',
        targets: [t(`histogram_quantile(0.95, sum by (cluster, namespace, pod, worker, le) (rate(oban_job_duration_seconds_bucket{${APP}}[${RI}])))`, '{{worker}}')] },
      { type: 'timeseries', w: 24, title: 'Oban job exceptions', unit: 'short',
        description: 'Job exceptions by queue, worker and kind. Bad: one worker failing on every attempt (bad payload, unreachable dependency).',
        targets: [t(`sum by (cluster, namespace, pod, queue, worker, kind) (increase(oban_job_exceptions_total{${APP}}[${RI}]))`, '{{queue}} {{worker}} {{kind}}')], runbooks: ['ObanJobFailuresHigh'] },
    ],
  },
  {
    file: 'exporter.json', uid: 'beam-exporter-self', title: 'BEAM / beam_exporter',
    description: 'Health of beam_exporter itself: collectors, scrape duration, telemetry intake and its losses.',
    panels: [
      { type: 'table', w: 8, h: 6, title: 'Build', valueName: 'info',
        description: 'Version, revision and compiler of each beam_exporter. Bad: replicas on different versions after a rollout finished.',
        targets: [t(`max by (cluster, namespace, job, pod, instance, version, revision, compiler) (beam_exporter_build_info{${APP}})`)] },
      { type: 'stat', w: 4, h: 6, title: 'Scrape targets up', unit: 'short',
        description: 'Whether Prometheus scrapes the beam_exporter of each pod (up; only targets that served beam_exporter in the last hour). Bad: 0: the exporter is down or unreachable and its node is invisible.',
        targets: [t(`min by (cluster, namespace, pod) (up{${APP}} and on(job, instance) last_over_time(beam_exporter_build_info{${APP}}[1h]))`, '{{namespace}}/{{pod}}')], baseColor: 'red', thresholds: [[0.99, 'green']], runbooks: ['BeamExporterDown'] },
      { type: 'stat', w: 6, h: 6, title: 'Config reload', unit: 'none',
        description: 'Whether the last configuration load or reload succeeded. Bad: 0: the new file was rejected and the old one is still in use (see the exporter log).',
        targets: [t(`min by (cluster, namespace, pod) (beam_exporter_config_last_reload_successful{${APP}})`, '{{namespace}}/{{pod}}')],
        mappings: [{ type: 'value', options: { 0: { text: 'FAILED', color: 'red' }, 1: { text: 'OK', color: 'green' } } }],
        runbooks: ['BeamExporterConfigReloadFailed'] },
      { type: 'stat', w: 6, h: 6, title: 'Collectors failing', unit: 'short',
        description: 'Collectors whose last run failed. Bad: anything above 0 for more than a scrape or two.',
        targets: [t(`count by (cluster, namespace, pod) (beam_exporter_collector_success{${APP}} == 0) or sum by (cluster, namespace, pod) (0 * beam_exporter_collector_success{${APP}})`, '{{namespace}}/{{pod}}')], thresholds: [[1, 'red']],
        runbooks: ['BeamExporterCollectorFailing'] },
      { type: 'timeseries', title: 'Collector success', unit: 'none', min: 0, max: 1,
        description: 'Whether each collector succeeded in the last scrape. Bad: a collector stuck at 0 (the beam collector is 0 while the node is unreachable).',
        targets: [t(`min by (cluster, namespace, pod, collector) (beam_exporter_collector_success{${APP}})`, '{{namespace}}/{{pod}} {{collector}}')], runbooks: ['BeamExporterCollectorFailing'] },
      { type: 'timeseries', title: 'Collector duration', unit: 's',
        description: 'Time each collector took in the last scrape. Bad: close to the scrape timeout: scrapes start failing.',
        targets: [t(`max by (cluster, namespace, pod, collector) (beam_exporter_collector_duration_seconds{${APP}})`, '{{namespace}}/{{pod}} {{collector}}')], runbooks: ['BeamExporterScrapeSlow'] },
      { type: 'timeseries', title: 'Scrape duration p90', unit: 's',
        description: '90th percentile time to build a /metrics answer. Bad: above 0.5 s (too many series, or a collector waiting on the node).',
        targets: [t(`histogram_quantile(0.9, sum by (cluster, namespace, pod, le) (rate(beam_exporter_scrape_duration_seconds_bucket{${APP}}[${RI}])))`, '{{namespace}}/{{pod}}')], runbooks: ['BeamExporterScrapeSlow'] },
      { type: 'timeseries', title: 'Node connect errors', unit: 'short',
        description: 'Failed attempts to connect to the node, by reason. Bad: cookie_rejected (wrong cookie), epmd_unreachable/node_not_registered (node not started or wrong name), timeout (node overloaded).',
        targets: [t(`sum by (cluster, namespace, pod, reason) (increase(beam_exporter_beam_connect_errors_total{${VM}}[${RI}]))`, '{{namespace}}/{{pod}} {{reason}}')], runbooks: ['BeamNodeDown'] },
      { type: 'timeseries', title: 'Telemetry intake', unit: 'ops',
        description: 'Telemetry packets and lines received per second. Bad: zero while the app serves traffic (forwarder not started, wrong port).',
        targets: [
          t(`sum by (cluster, namespace, pod) (rate(beam_exporter_telemetry_packets_total{${APP}}[${RI}]))`, 'packets {{namespace}}/{{pod}}'),
          t(`sum by (cluster, namespace, pod) (rate(beam_exporter_telemetry_lines_total{${APP}}[${RI}]))`, 'lines {{namespace}}/{{pod}}'),
        ] },
      { type: 'timeseries', title: 'Telemetry losses', unit: 'ops',
        description: 'Dropped packets and rejected lines per second, by reason. Bad: anything steady above 0: dashboards undercount.',
        targets: [
          t(`sum by (cluster, namespace, pod, reason) (rate(beam_exporter_telemetry_packets_dropped_total{${APP}}[${RI}]))`, 'dropped packets: {{reason}}'),
          t(`sum by (cluster, namespace, pod, reason) (rate(beam_exporter_telemetry_line_errors_total{${APP}}[${RI}]))`, 'line errors: {{reason}}'),
        ], runbooks: ['BeamExporterTelemetryLoss'] },
      { type: 'timeseries', title: 'Forwarder drops', unit: 'short',
        description: 'Events or observations the app-side forwarder did not deliver, by reason (overload, oversize, extractor_failed, series_limit ...), from its own counters. Bad: any: /metrics undercounts what the app did.',
        targets: [t(`sum by (cluster, namespace, pod, forwarder, reason) (increase(beam_exporter_forwarder_dropped_total{${APP}}[${RI}]))`, '{{namespace}}/{{pod}} {{forwarder}} {{reason}}')], runbooks: ['BeamForwarderDroppingEvents'] },
      { type: 'timeseries', title: 'Series dropped by the series limit', unit: 'short',
        description: 'New series refused because a metric reached its series limit (series_limit) or the exporter its series budget (global_series_limit), by metric. Bad: any: a label with unbounded values (ids, raw paths) is being sent.',
        targets: [t(`sum by (cluster, namespace, pod, metric, reason) (increase(beam_exporter_telemetry_series_dropped_total{${APP}}[${RI}]))`, '{{metric}} {{reason}}')], runbooks: ['BeamExporterSeriesLimitHit', 'BeamExporterSeriesBudgetExhausted'] },
      { type: 'timeseries', title: 'Exporter memory', unit: 'bytes',
        description: 'Resident memory of the beam_exporter process. Bad: growth without end (too many series) or near the container limit.',
        targets: [t(`max by (cluster, namespace, pod) (process_resident_memory_bytes{${APP}} and on(job, instance) beam_exporter_build_info{${APP}})`, '{{namespace}}/{{pod}}')] },
      { type: 'timeseries', title: 'Exporter CPU', unit: 'percentunit',
        description: 'CPU used by beam_exporter (1 = one core). Bad: above its CPU limit (throttling delays scrapes and drops telemetry).',
        targets: [t(`max by (cluster, namespace, pod) (rate(process_cpu_seconds_total{${APP}}[${RI}]) and on(job, instance) beam_exporter_build_info{${APP}})`, '{{namespace}}/{{pod}}')] },
    ],
  },
];

function main() {
  const args = process.argv.slice(2);
  let outDir = path.join(__dirname, 'dashboards');
  let runbookBase = DEFAULT_RUNBOOK_BASE;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--out') outDir = args[++i];
    else if (args[i] === '--runbook-base') runbookBase = args[++i];
    else throw new Error(`unknown argument ${args[i]} (usage: generate-dashboards.js [--out DIR] [--runbook-base URL])`);
  }
  fs.mkdirSync(outDir, { recursive: true });
  for (const d of DASHBOARDS) {
    fs.writeFileSync(path.join(outDir, d.file), JSON.stringify(dashboard(d, runbookBase), null, 2) + '\n');
  }
}

module.exports = { DASHBOARDS, DEFAULT_RUNBOOK_BASE };
if (require.main === module) main();
