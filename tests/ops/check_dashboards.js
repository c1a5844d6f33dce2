#!/usr/bin/env node
// Checks of the Grafana dashboards. Usage: check_dashboards.js structure|up-to-date|promql
//   structure:  valid JSON, schemaVersion 39, core panel types only, the datasource variable
//               used by every panel and target, cluster/namespace/app/pod variables, every
//               aggregation by pod also by cluster, unique ids,
//               sane non-overlapping grid positions, descriptions, links to existing runbooks;
//   up-to-date: the committed JSON equals the output of grafana/generate-dashboards.js;
//   promql:     every target expression (Grafana variables substituted) parses, checked by
//               `promtool check rules` on a rule file that records each expression.
'use strict';

const fs = require('fs');
const path = require('path');
const lib = require('./lib');

const ALLOWED_PANELS = new Set(['timeseries', 'stat', 'gauge', 'table', 'heatmap', 'bargauge', 'text']);
const DS = { type: 'prometheus', uid: '${datasource}' };
const sameDs = (ds) => ds && ds.type === DS.type && ds.uid === DS.uid;

function structure() {
  const f = new lib.Failures('dashboard structure');
  const dashboards = lib.loadDashboards();
  f.check(dashboards.length >= 6, `expected at least 6 dashboards, found ${dashboards.length}`);
  const uids = new Set();
  const titles = new Set();
  for (const { file, json: d } of dashboards) {
    const where = path.basename(file);
    f.check(d.schemaVersion === 39, `${where}: schemaVersion ${d.schemaVersion}, want 39`);
    f.check(typeof d.uid === 'string' && d.uid.length > 0 && d.uid.length <= 40 && !uids.has(d.uid), `${where}: uid missing, too long or not unique`);
    f.check(!titles.has(d.title), `${where}: title not unique`);
    uids.add(d.uid); titles.add(d.title);
    f.check(d.id === null, `${where}: id must be null so Grafana assigns one`);
    f.check(!('__inputs' in d) && !('__requires' in d), `${where}: no __inputs/__requires in the provisioned copy`);
    const vars = Object.fromEntries(d.templating.list.map((v) => [v.name, v]));
    f.check(vars.datasource && vars.datasource.type === 'datasource' && vars.datasource.query === 'prometheus', `${where}: no datasource variable of type prometheus`);
    for (const name of ['cluster', 'namespace', 'app', 'pod']) {
      f.check(vars[name] && vars[name].type === 'query' && sameDs(vars[name].datasource), `${where}: variable ${name} missing or not on \${datasource}`);
      f.check(vars[name] && /^label_values\(beam_exporter_build_info\b/.test(vars[name].query), `${where}: variable ${name} must offer only beam_exporter's targets (label_values(beam_exporter_build_info...))`);
    }
    f.check(!Object.keys(vars).includes('node') && !Object.keys(vars).includes('instance'), `${where}: no node or instance variable: pods are told apart by namespace and pod`);
    // No hard-coded data source anywhere: every datasource reference is the variable.
    const walk = (node, trail) => {
      if (Array.isArray(node)) return node.forEach((x, i) => walk(x, `${trail}[${i}]`));
      if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === 'datasource' && typeof v === 'object') f.check(sameDs(v), `${where}: ${trail}.datasource is ${JSON.stringify(v)}`);
          if (k === 'datasource' && typeof v === 'string') f.check(false, `${where}: ${trail}.datasource is the string ${v}`);
          walk(v, `${trail}.${k}`);
        }
      }
    };
    walk(d, '$');
    f.check((d.links || []).some((l) => l.type === 'dashboards' && (l.tags || []).includes('beam_exporter')), `${where}: no link to the other beam_exporter dashboards`);
    f.check((d.tags || []).includes('beam_exporter'), `${where}: not tagged beam_exporter (the dashboard links rely on it)`);

    const ids = new Set();
    const boxes = [];
    for (const p of d.panels) {
      const pw = `${where} panel ${p.id} "${p.title}"`;
      f.check(ALLOWED_PANELS.has(p.type), `${pw}: panel type ${p.type} is not allowed`);
      f.check(Number.isInteger(p.id) && p.id > 0 && !ids.has(p.id), `${pw}: id not a unique positive integer`);
      ids.add(p.id);
      const g = p.gridPos || {};
      const sane = [g.x, g.y, g.w, g.h].every(Number.isInteger) && g.x >= 0 && g.y >= 0 && g.w >= 1 && g.h >= 2 && g.x + g.w <= 24;
      f.check(sane, `${pw}: gridPos ${JSON.stringify(g)} is not on the 24-column grid`);
      for (const b of boxes) {
        const overlap = g.x < b.x + b.w && b.x < g.x + g.w && g.y < b.y + b.h && b.y < g.y + g.h;
        f.check(!overlap, `${pw}: overlaps panel ${b.id}`);
      }
      boxes.push({ ...g, id: p.id });
      f.check(typeof p.description === 'string' && /\bBad\b/.test(p.description), `${pw}: description must say what bad looks like`);
      if (p.type === 'text') continue;
      f.check(sameDs(p.datasource), `${pw}: panel datasource is not \${datasource}`);
      f.check(Array.isArray(p.targets) && p.targets.length > 0, `${pw}: no targets`);
      const refIds = new Set();
      for (const t of p.targets || []) {
        f.check(sameDs(t.datasource), `${pw}: target ${t.refId} datasource is not \${datasource}`);
        f.check(typeof t.expr === 'string' && t.expr.trim().length > 0, `${pw}: target ${t.refId} has no expr`);
        f.check(!refIds.has(t.refId), `${pw}: duplicate refId ${t.refId}`);
        refIds.add(t.refId);
        f.check(!/\[\d+[smh]\]/.test(t.expr) || /\[(5m|1h|6h)\]/.test(t.expr), `${pw}: hard-coded range other than 5m/1h/6h; use $__rate_interval`);
        // Replicas share the node name app@127.0.0.1: aggregating by node merges them.
        f.check(!/\bby *\([^)]*\bnode\b/.test(t.expr) || /\bby *\([^)]*\bpod\b[^)]*\bnode\b/.test(t.expr), `${pw}: target ${t.refId} aggregates by node without pod`);
        // A global view (Thanos, Mimir) holds several clusters with the same namespaces and pods.
        for (const by of t.expr.match(/\bby *\([^)]*\)/g) || []) {
          f.check(!/\bpod\b/.test(by) || /\bcluster\b/.test(by), `${pw}: target ${t.refId} aggregates ${by} without cluster`);
        }
        // Generic metric names (up, process_*) exist for every target in Prometheus: they must be
        // joined with beam_exporter's own series.
        f.check(!/\b(up|process_[a-z_]+)\{/.test(t.expr) || /beam_exporter_build_info/.test(t.expr), `${pw}: target ${t.refId} reads a generic metric without restricting it to beam_exporter's targets`);
      }
      for (const link of p.links || []) {
        const m = /\/docs\/runbooks\/([A-Za-z]+)\.md$/.exec(link.url);
        f.check(m && fs.existsSync(path.join(lib.RUNBOOKS_DIR, `${m[1]}.md`)), `${pw}: link ${link.url} is not an existing runbook`);
      }
    }
  }
  f.finish();
}

function upToDate() {
  const f = new lib.Failures('dashboards up to date');
  const tmp = lib.mkTmpDir('dashboards-');
  lib.run('node', [path.join(lib.ROOT, 'grafana', 'generate-dashboards.js'), '--out', tmp]);
  const generated = lib.listFiles(tmp, '.json').map((p) => path.basename(p));
  const committed = lib.listFiles(lib.DASHBOARDS_DIR, '.json').map((p) => path.basename(p));
  f.check(JSON.stringify(generated) === JSON.stringify(committed), `generated ${generated} but committed ${committed}`);
  for (const name of generated) {
    const same = fs.readFileSync(path.join(tmp, name), 'utf8') === fs.readFileSync(path.join(lib.DASHBOARDS_DIR, name), 'utf8');
    f.check(same, `grafana/dashboards/${name} differs from the generator's output: run node grafana/generate-dashboards.js`);
  }
  fs.rmSync(tmp, { recursive: true });
  f.finish();
}

function promql() {
  const f = new lib.Failures('dashboard PromQL');
  const targets = lib.dashboardTargets();
  const rules = targets.map((t, i) => ({ record: `dashboard_expression:check:${i}`, expr: lib.substituteGrafanaVariables(t.target.expr) }));
  for (const r of rules) f.check(!r.expr.includes('$'), `an unsubstituted Grafana variable remains in ${r.expr}`);
  // Variable queries (label_values(...)) are Grafana syntax; check the selector inside them.
  for (const { json } of lib.loadDashboards()) {
    for (const v of json.templating.list.filter((x) => x.type === 'query')) {
      const m = /^label_values\((.*), *[a-z_]+\)$/.exec(v.query);
      f.check(m, `${json.title}: variable ${v.name} query ${v.query} is not label_values(selector, label)`);
      if (m) rules.push({ record: `dashboard_variable:check:${rules.length}`, expr: lib.substituteGrafanaVariables(m[1]) });
    }
  }
  const tmp = lib.mkTmpDir('dashboard-promql-');
  const file = path.join(tmp, 'dashboard-expressions.yml');
  fs.writeFileSync(file, lib.yaml.dump({ groups: [{ name: 'dashboard-expressions', rules }] }));
  try {
    lib.run('promtool', ['check', 'rules', file]);
    f.check(true, '');
  } catch (e) {
    f.check(false, `promtool check rules rejected the dashboard expressions:\n${e.stdout}${e.stderr}`);
  }
  fs.rmSync(tmp, { recursive: true });
  console.log(`dashboard PromQL: ${rules.length} expressions parsed by promtool`);
  f.finish();
}

const mode = process.argv[2];
const modes = { structure, 'up-to-date': upToDate, promql };
if (!modes[mode]) { console.error('usage: check_dashboards.js structure|up-to-date|promql'); process.exit(2); }
modes[mode]();
