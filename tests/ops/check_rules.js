#!/usr/bin/env node
// Conventions of the alert rules that promtool does not check: every alert has a severity,
// summary, description and a runbook_url that points at an existing docs/runbooks/<alert>.md,
// is listed in docs/alerts.md, has promtool unit tests that expect it to fire and to stay silent
// (the boundary of its `for:`), and has a dashboard panel
// linking to its runbook; every runbook belongs to an alert, has the five sections, and the
// dashboards and panels its Confirm section names exist.
'use strict';

const fs = require('fs');
const path = require('path');
const lib = require('./lib');
const { DEFAULT_RUNBOOK_BASE } = require(path.join(lib.ROOT, 'grafana', 'generate-dashboards.js'));

const f = new lib.Failures('rule conventions');
const rules = lib.ruleFileRules();
const alerts = rules.filter((r) => r.rule.alert);
f.check(alerts.length > 0, 'no alerts found');

// For every alert name: the evaluations that expect it to fire and those that expect silence;
// every expected alert must carry the pod and namespace it fired for.
const firing = new Set();
const silent = new Set();
for (const file of lib.listFiles(lib.RULE_TESTS_DIR, '.yml')) {
  for (const test of lib.loadYaml(file).tests || []) {
    for (const t of test.alert_rule_test || []) {
      (t.exp_alerts && t.exp_alerts.length ? firing : silent).add(t.alertname);
      for (const a of t.exp_alerts || []) {
        const l = a.exp_labels || {};
        f.check(l.namespace && l.pod, `${path.basename(file)}: ${t.alertname} at ${t.eval_time} expects an alert without namespace and pod labels`);
      }
    }
  }
}
const alertsDoc = fs.readFileSync(path.join(lib.ROOT, 'docs', 'alerts.md'), 'utf8');
const panelRunbookLinks = new Set();
for (const { json } of lib.loadDashboards()) {
  for (const panel of json.panels) for (const link of panel.links || []) panelRunbookLinks.add(link.url);
}

// Identity: every aggregation of a rule keeps the namespace and the pod (a PodMonitor's target
// labels), so that replicas are never merged and Alertmanager can group by namespace.
for (const { file, rule } of rules) {
  for (const m of rule.expr.matchAll(/\bby *\(([^)]*)\)/g)) {
    const labels = m[1].split(',').map((x) => x.trim());
    f.check(labels.includes('namespace') && labels.includes('pod'), `${path.basename(file)}: ${rule.alert || rule.record}: "${m[0]}" drops namespace or pod`);
  }
}

for (const { file, rule } of alerts) {
  const where = `${path.basename(file)}: ${rule.alert}`;
  f.check(/\$labels\.namespace *\}\}\/\{\{ *\$labels\.pod\b/.test((rule.annotations || {}).description || ''), `${where}: the description must name the pod as {{ $labels.namespace }}/{{ $labels.pod }}`);
  f.check(/^[A-Z][A-Za-z0-9]+$/.test(rule.alert), `${where}: alert names are CamelCase`);
  f.check(['warning', 'critical'].includes(rule.labels && rule.labels.severity), `${where}: severity must be warning or critical`);
  const a = rule.annotations || {};
  f.check(a.summary && a.summary.length > 10, `${where}: missing summary`);
  f.check(a.description && /\{\{ *\$(value|labels)/.test(a.description), `${where}: description must show the value or the identity labels`);
  const expectedUrl = `${DEFAULT_RUNBOOK_BASE}${rule.alert}.md`;
  f.check(a.runbook_url === expectedUrl, `${where}: runbook_url must be ${expectedUrl}, is ${a.runbook_url}`);
  f.check(fs.existsSync(path.join(lib.RUNBOOKS_DIR, `${rule.alert}.md`)), `${where}: docs/runbooks/${rule.alert}.md is missing`);
  f.check(firing.has(rule.alert) && silent.has(rule.alert), `${where}: needs promtool unit tests where it fires and where it stays silent`);
  f.check(alertsDoc.includes(`[${rule.alert}]`), `${where}: not in the table of docs/alerts.md`);
  f.check(panelRunbookLinks.has(expectedUrl), `${where}: no dashboard panel links to its runbook`);
}
for (const { file, rule } of rules.filter((r) => r.rule.record)) {
  f.check(/^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$/.test(rule.record), `${path.basename(file)}: recording rule ${rule.record} is not level:metric:operations`);
}
// The dashboards (**bold**) and panels (*italic*) a runbook's Confirm section sends you to exist.
const dashboardTitles = new Set();
const panelTitles = new Set();
for (const { json } of lib.loadDashboards()) {
  dashboardTitles.add(json.title);
  for (const panel of json.panels) panelTitles.add(panel.title);
}
const names = new Set(alerts.map((r) => r.rule.alert));
for (const runbook of lib.listFiles(lib.RUNBOOKS_DIR, '.md')) {
  const name = path.basename(runbook, '.md');
  if (name === 'README') continue;
  f.check(names.has(name), `docs/runbooks/${name}.md belongs to no alert`);
  const text = fs.readFileSync(runbook, 'utf8');
  for (const section of ['## Meaning', '## Confirm', '## Likely causes', '## Fix', '## Threshold']) {
    f.check(text.includes(section), `docs/runbooks/${name}.md has no "${section}" section`);
  }
  const confirm = (/## Confirm\n([\s\S]*?)\n## /.exec(text) || [])[1] || '';
  for (const m of confirm.matchAll(/\*\*([^*]+)\*\*/g)) {
    const title = m[1].replace(/\s+/g, ' ');
    f.check(dashboardTitles.has(title), `docs/runbooks/${name}.md names dashboard "${title}", which does not exist`);
  }
  for (const m of confirm.matchAll(/(?<![*\w])\*([^*\n]+)\*(?!\*)/g)) {
    f.check(panelTitles.has(m[1]), `docs/runbooks/${name}.md names panel "${m[1]}", which does not exist`);
  }
}
f.finish();
