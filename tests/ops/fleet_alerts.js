#!/usr/bin/env node
// The alert rules on a fleet (tests/ops/fleet.js): three replicas of shop and one of billing, in
// two namespaces, every node named app@127.0.0.1, scraped by a real Prometheus that runs the
// bundled rules (every `for:` cut to 2 s). One shop replica is broken in every way the rules can
// see. Asserts:
//   - every rule expression evaluates, and every series it returns carries namespace and pod;
//   - each alert the faults should raise fires for exactly the faulty pod and its namespace;
//   - no alert fires for any other pod (the quiet billing app's rare slow and failed requests
//     stay under the rate guards, although their ratio and percentile are over the thresholds).
// Usage: fleet_alerts.js <path of the beam_exporter binary>
'use strict';

const lib = require('./lib');
const { runOnFleet, FAULTY, QUIET, waitFor, sleep } = require('./fleet');

// The alerts the faulty replica's faults raise (fleet.js breakFaulty and FAULT_TRAFFIC).
const EXPECTED = [
  'BeamProcessMailboxBacklog', 'BeamProcessMemoryHigh', 'BeamProcessesNearLimit',
  'PhoenixHttpErrorRateHigh', 'PhoenixHttpLatencyHigh', 'PhoenixSocketDisconnectSpike',
  'PhoenixLiveViewExceptions', 'PhoenixLiveViewSlow', 'EctoQuerySlow', 'EctoQueueTimeHigh',
  'ObanJobFailuresHigh', 'BeamGenServerCallTimeouts', 'BeamSupervisorRestartStorm',
  'BeamExporterTelemetryLoss', 'BeamExporterSeriesLimitHit',
];

async function main(fleet) {
  const f = new lib.Failures('fleet alerts');
  const started = Date.now();
  await fleet.up();
  console.log(`fleet up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await sleep(3000);  // a few scrapes of healthy traffic, so every counter has a baseline sample
  fleet.breakFaulty();

  const firing = async () => (await fleet.alerts()).filter((a) => a.state === 'firing');
  const firingFor = (alerts, name) => alerts.filter((a) => a.labels.alertname === name);
  try {
    await waitFor('every expected alert firing', async () => {
      const alerts = await firing();
      return EXPECTED.every((name) => firingFor(alerts, name).length > 0);
    }, 120000);  // returns as soon as they all fire; the margin is for a loaded CI machine (sanitizer build)
  } catch (e) {
    // Reported per alert below.
  }
  console.log(`alerts checked ${((Date.now() - started) / 1000).toFixed(1)} s after start`);
  const alerts = await firing();
  for (const name of EXPECTED) {
    const mine = firingFor(alerts, name);
    f.check(mine.length > 0, `${name} does not fire for the faulty pod ${FAULTY.namespace}/${FAULTY.pod}`);
    for (const a of mine) {
      f.check(a.annotations.description.includes(`${FAULTY.namespace}/${FAULTY.pod}`), `${name}: the description does not name the pod: ${a.annotations.description}`);
    }
  }
  for (const a of alerts) {
    const l = a.labels;
    f.check(l.namespace === FAULTY.namespace && l.pod === FAULTY.pod && l.job === FAULTY.app,
      `${l.alertname} fires for namespace=${l.namespace} pod=${l.pod} job=${l.job}, not only for the faulty pod ${FAULTY.namespace}/${FAULTY.pod}`);
  }
  const byName = {};
  for (const a of alerts) byName[a.labels.alertname] = (byName[a.labels.alertname] || 0) + 1;
  console.log(`firing: ${Object.entries(byName).map(([k, v]) => `${k}×${v}`).join(', ')}`);

  // Every expression of every rule, on the fleet: it must run, and keep namespace and pod.
  let rulesEvaluated = 0, withData = 0;
  for (const { rule } of lib.ruleFileRules()) {
    const name = rule.alert || rule.record;
    let result = [];
    try { result = await fleet.query(rule.expr); } catch (e) { f.check(false, `${name}: ${e.message}`); continue; }
    rulesEvaluated++;
    if (result.length) withData++;
    for (const s of result) {
      f.check(s.metric.namespace && s.metric.pod, `${name} returns a series without namespace or pod: ${JSON.stringify(s.metric)}`);
    }
  }
  console.log(`rule expressions evaluated on the fleet: ${rulesEvaluated}, returning series: ${withData}`);

  // The quiet app is over the ratio and percentile thresholds; only the guards keep it silent.
  const quiet = `namespace="${QUIET.namespace}", pod="${QUIET.pod}"`;
  for (const [what, expr] of [
    ['5xx ratio over 5 %', `pod:phoenix_http_server_errors:ratio_rate5m{${quiet}} > 0.05`],
    ['p99 latency over 2 s', `pod:phoenix_http_request_duration_seconds:p99_5m{${quiet}} > 2`],
  ]) {
    const r = await fleet.query(expr);
    f.check(r.length > 0, `the quiet pod should have its ${what} (so that the guard is what keeps it silent); ${expr} is empty`);
  }
  return f;
}

runOnFleet(main);
