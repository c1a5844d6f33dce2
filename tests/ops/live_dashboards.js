#!/usr/bin/env node
// The live test of the dashboards, on the fleet of tests/ops/fleet.js: a real Prometheus scrapes
// four real beam_exporters (three replicas of shop, one of billing, two namespaces, every node
// named app@127.0.0.1) through file_sd targets labelled as a PodMonitor labels them; the nodes send
// telemetry over UDP and one replica is broken (fleet.js). Then every query of every dashboard
// panel runs through Prometheus' HTTP API with the variables at All, and:
//   - every variable offers the fleet's namespaces, apps and pods (and nothing else's);
//   - every panel returns data;
//   - no panel merges pods: every series a panel returns carries `pod` (except the per-app
//     count of nodes up and the heatmaps, which show one distribution), and the panels on the
//     VM's own series show all four pods apart although their `node` label is the same;
//   - with the pod variable set to one pod, no panel returns another pod.
// Usage: live_dashboards.js <path of the beam_exporter binary>
'use strict';

const lib = require('./lib');
const { runOnFleet, FAULTY, REPLICAS, sleep } = require('./fleet');

const RATE_INTERVAL = '15s';
// Panels that aggregate over pods on purpose, by title.
const FLEET_LEVEL = new Set(['Nodes up']);
// Series every node has, whatever its traffic: a panel on them must show every pod.
const EVERY_POD = /\b(beam_up|erlang_vm_(memory_bytes|memory_total_bytes|memory_system_bytes|processes|process_limit|ports|port_limit|atoms|atom_limit|ets_tables|uptime_seconds|statistics_[a-z_]+|schedulers_online|scheduler_utilization|info))\{/;

async function main(fleet) {
  await fleet.up();
  fleet.breakFaulty();
  await sleep(15000);  // 15 s of traffic and faults

  const f = new lib.Failures('live dashboards');
  const query = async (expr) => {
    try { return { series: await fleet.query(expr) }; } catch (e) { return { error: e.message, series: [] }; }
  };
  const all = { interval: RATE_INTERVAL };

  // Variable queries: label_values(selector, label) offers exactly the fleet's values.
  // The fleet's targets have no cluster label (one Prometheus per cluster): the variable offers none.
  const expected = { cluster: [], namespace: [...new Set(REPLICAS.map((r) => r.namespace))], job: [...new Set(REPLICAS.map((r) => r.app))], pod: REPLICAS.map((r) => r.pod) };
  for (const { json } of lib.loadDashboards()) {
    for (const v of json.templating.list.filter((x) => x.type === 'query')) {
      const [, selector, label] = /^label_values\((.*), *([a-z_]+)\)$/.exec(v.query);
      const res = await query(`count by (${label}) (${lib.substituteGrafanaVariables(selector, all)})`);
      const values = res.series.map((s) => s.metric[label]).filter((v) => v !== undefined).sort();
      f.check(JSON.stringify(values) === JSON.stringify([...expected[label]].sort()), `${json.title}: variable ${v.name} offers ${JSON.stringify(values)}, want ${JSON.stringify(expected[label])}`);
    }
  }
  let panels = 0, targets = 0, everyPod = 0;
  const emptyTargets = [];
  for (const { json } of lib.loadDashboards()) {
    for (const panel of json.panels) {
      if (!panel.targets) continue;
      panels++;
      let panelHasData = false;
      const where = `${json.title} / ${panel.title}`;
      for (const t of panel.targets) {
        targets++;
        const expr = lib.substituteGrafanaVariables(t.expr, all);
        const r = await query(expr);
        f.check(!r.error, `${where}: query failed: ${r.error} (${expr})`);
        const finite = r.series.filter((s) => Number.isFinite(Number(s.value[1])));
        if (finite.length > 0) panelHasData = true; else emptyTargets.push(`${where} [${t.refId}]`);
        if (!FLEET_LEVEL.has(panel.title) && panel.type !== 'heatmap') {
          for (const s of r.series) f.check(s.metric.pod, `${where} [${t.refId}]: a series without pod: ${JSON.stringify(s.metric)} (${expr})`);
        }
        if (EVERY_POD.test(t.expr) && !/topk/.test(t.expr) && !FLEET_LEVEL.has(panel.title)) {
          everyPod++;
          const pods = [...new Set(r.series.map((s) => s.metric.pod))].sort();
          f.check(pods.length === REPLICAS.length, `${where} [${t.refId}]: shows pods ${JSON.stringify(pods)}, want all ${REPLICAS.length} apart`);
        }
        // One pod selected: only that pod.
        const one = await query(lib.substituteGrafanaVariables(t.expr, { ...all, namespace: FAULTY.namespace, app: FAULTY.app, pod: FAULTY.pod }));
        for (const s of one.series) f.check(!s.metric.pod || s.metric.pod === FAULTY.pod, `${where} [${t.refId}]: pod ${FAULTY.pod} selected, but it returns ${s.metric.pod}`);
      }
      f.check(panelHasData, `${where}: no data (${panel.targets.map((t) => lib.substituteGrafanaVariables(t.expr, all)).join(' ; ')})`);
    }
  }
  // Measured, not asserted: the exporters' footprint in this scenario (docs/kubernetes.md sizes the
  // sidecar's requests and limits from it).
  for (const q of ['max(process_resident_memory_bytes{container="beam-exporter"})', 'max(rate(process_cpu_seconds_total{container="beam-exporter"}[15s]))']) {
    const r = await query(q);
    console.log(`measured ${q} = ${r.series.map((s) => s.value[1]).join(', ')}`);
  }
  console.log(`live dashboards: ${panels} panels, ${targets} queries on ${REPLICAS.length} pods (${everyPod} of them must show every pod apart); queries without data in panels that have data: ${emptyTargets.length ? emptyTargets.join(', ') : 'none'}`);
  return f;
}

runOnFleet(main);
