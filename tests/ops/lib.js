// Shared helpers of the ops checks: paths, YAML loading, alert discovery, Grafana variable
// substitution and running promtool. The checks run from ctest (label `ops`).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

let yaml;
try {
  yaml = require('js-yaml');
} catch (e) {
  throw new Error('js-yaml is missing: run `npm ci --prefix tests/ops` (see tests/ops/package.json)');
}

const ROOT = path.resolve(__dirname, '..', '..');
const RULES_DIR = path.join(ROOT, 'deploy', 'prometheus', 'rules');
const RULE_TESTS_DIR = path.join(ROOT, 'deploy', 'prometheus', 'tests');
const DASHBOARDS_DIR = path.join(ROOT, 'grafana', 'dashboards');
const RUNBOOKS_DIR = path.join(ROOT, 'docs', 'runbooks');

function listFiles(dir, suffix) {
  return fs.readdirSync(dir).filter((f) => f.endsWith(suffix)).sort().map((f) => path.join(dir, f));
}

function loadYaml(file) {
  return yaml.load(fs.readFileSync(file, 'utf8'));
}

function loadAllYaml(text) {
  return yaml.loadAll(text).filter((doc) => doc !== null && doc !== undefined);
}

// Every rule of every plain rule file, with the file it came from.
function ruleFileRules() {
  const out = [];
  for (const file of listFiles(RULES_DIR, '.yml')) {
    for (const group of loadYaml(file).groups) {
      for (const rule of group.rules) out.push({ file, group: group.name, rule });
    }
  }
  return out;
}

function alertNames() {
  return [...new Set(ruleFileRules().filter((r) => r.rule.alert).map((r) => r.rule.alert))].sort();
}

function loadDashboards() {
  return listFiles(DASHBOARDS_DIR, '.json').map((file) => ({ file, json: JSON.parse(fs.readFileSync(file, 'utf8')) }));
}

// Replaces Grafana's built-in and dashboard variables so that an expression can be parsed (or
// run) by Prometheus: a multi-value variable left unset becomes its All value `.*` (as the
// dashboards' allValue).
function substituteGrafanaVariables(expr, values = {}) {
  return expr
    .replace(/\$__rate_interval|\$__interval|\$\{__rate_interval\}|\$\{__interval\}/g, values.interval || '1m')
    .replace(/\$__range|\$\{__range\}/g, values.range || '1h')
    .replace(/\$\{?(cluster|namespace|app|pod)\}?/g, (m, name) => (values[name] !== undefined ? values[name] : '.*'));
}

function dashboardTargets() {
  const out = [];
  for (const { file, json } of loadDashboards()) {
    for (const panel of json.panels) {
      for (const target of panel.targets || []) out.push({ file, dashboard: json.title, panel, target });
    }
  }
  return out;
}

function mkTmpDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function run(cmd, args, options = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

// Collects failures and exits non-zero with all of them listed; a check never stops at the first.
class Failures {
  constructor(name) { this.name = name; this.list = []; this.checked = 0; }
  check(ok, message) { this.checked++; if (!ok) this.list.push(message); }
  finish() {
    if (this.list.length) {
      console.error(`${this.name}: ${this.list.length} problem(s) in ${this.checked} checks:`);
      for (const m of this.list) console.error(`  - ${m}`);
      process.exit(1);
    }
    if (this.checked === 0) { console.error(`${this.name}: nothing was checked`); process.exit(1); }
    console.log(`${this.name}: ${this.checked} checks passed`);
  }
}

module.exports = {
  ROOT, RULES_DIR, RULE_TESTS_DIR, DASHBOARDS_DIR, RUNBOOKS_DIR, yaml, listFiles, loadYaml, loadAllYaml,
  ruleFileRules, alertNames, loadDashboards, substituteGrafanaVariables, dashboardTargets, mkTmpDir, run, Failures,
};
